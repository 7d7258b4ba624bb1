"""An in-process fake of GitHub REST, PagerDuty REST v2 and Prometheus, over the demo organisation;
GitLab (``/api/v4/...``), Jenkins (``.../api/json``) and Argo CD (``/api/v1/applications``) requests
go to their fakes (pipelines/demo/fake_gitlab.py, fake_jenkins.py, fake_argocd.py) over the mixed
organisation's services (pipelines/demo/mixed.py).

``demo_transport(org)`` returns an ``httpx.MockTransport``; give it to any httpx client with any base
URL (routing is by path only, so ``https://api.github.com``, ``https://ghe.example/api/v3``,
``https://api.pagerduty.com`` and ``http://prometheus:9090`` all work).

GitHub (JSON shapes, pagination and headers as on api.github.com):
  ``GET /orgs/{org}/repos``, ``/repos/{o}/{r}``, ``/repos/{o}/{r}/pulls`` (state, sort, direction,
  base), ``.../pulls/{n}``, ``.../pulls/{n}/reviews``, ``.../pulls/{n}/commits``, ``.../commits``
  (sha = branch, tag or SHA; since, until, author), ``.../commits/{ref}``, ``.../tags``,
  ``.../releases``, ``.../deployments`` (sha, ref, task, environment), ``.../deployments/{id}``,
  ``.../deployments/{id}/statuses``, ``.../actions/workflows``, ``.../actions/runs`` and
  ``.../actions/workflows/{id|file}/runs`` (created, branch, event, status, actor, head_sha; with any of
  those filters at most 1,000 results reachable per query, as on GitHub), ``.../actions/runs/{id}``,
  ``.../actions/runs/{id}/jobs``, ``.../issues`` (issues only; state, since, labels, sort,
  direction), ``/rate_limit``; ``POST /graphql`` (and Enterprise's ``/api/graphql``) answers the
  client's fixed query set, matched by operation name (``PullRequests``, ``PullRequestReviews``,
  ``PullRequestCommits``, ``Deployments``, ``DeploymentStatuses``, ``WorkflowJobs`` (runs' jobs as
  check runs by the runs' node ids; an unknown id is a ``null`` node with a ``NOT_FOUND`` error, as
  on GitHub), ``WorkflowRunJobs``; see pipelines/github/graphql.py),
  with nodes made from the same REST items, ``pageInfo`` cursors, the ``rateLimit`` object, and
  ``X-RateLimit-*`` headers of the ``graphql`` resource; each query is billed
  ``pipelines.github.graphql.query_cost`` points (GitHub's formula) from its own 5,000-point bucket.
  Every credential (a fingerprint of the ``Authorization`` header, never the token) has its own
  REST and GraphQL buckets, as on GitHub, and ``stats.by_credential`` counts its REST requests and
  GraphQL points. ``realistic_payloads=True`` grows each item of the pull request, run, job,
  issue, review and commit listings to the size of a real one (``REAL_PAYLOAD_BYTES``).
  Lists take ``per_page`` (default 30, max 100) and ``page`` and answer with a ``Link`` header
  (first/prev/next/last). Every answer carries ``X-RateLimit-*`` headers; ``ETag`` is
  ``W/"<sha1 of body>"`` and ``If-None-Match`` gets a 304 that costs no rate limit. By default the
  limit never bites (the window refills before reaching 0); ``enforce_rate_limit=True`` answers
  403 "API rate limit exceeded" at 0 until ``X-RateLimit-Reset``.
PagerDuty:
  ``GET /incidents`` (since, until, date_range=all, offset, limit <= 100, total, service_ids[],
  statuses[], urgencies[]; created_at in [since, until); a range over 6 months is a 400 with code
  2001; default range is the last month), ``/incidents/{id}``, ``/services``.
Prometheus:
  ``GET|POST /api/v1/query_range`` (start/end as epoch seconds or RFC 3339, step as seconds or a
  duration such as ``1h``; at most 11,000 points per series) for exactly these query forms, on
  ``critical`` services (other services give an empty result)::

      sum(increase(http_requests_total{service="S"}[1h]))               total requests
      sum(increase(http_requests_total{service="S",code!~"5.."}[1h]))   good requests

      histogram_quantile(0.99, sum by (le) (rate(
          http_request_duration_seconds_bucket{service="S"}[1h])))      p99 latency, seconds

  The value at timestamp t is the count (or latency) for the hour ending at t (the hourly bucket
  before it).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import math
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from graphql import GraphQLSyntaxError

from pipelines.demo import mixed
from pipelines.demo._common import DAY, add_months, iso, parse_time
from pipelines.demo.generator import Organisation
from pipelines.demo.render import RepoData
from pipelines.github.graphql import encode_node_id, node_id_numbers, query_cost

GITHUB_DOCS = "https://docs.github.com/rest"
MAX_RUN_RESULTS = 1000
RUN_CAPPED_FILTERS = ("actor", "branch", "check_suite_id", "created", "event", "head_sha", "status")
PROMETHEUS_MAX_POINTS = 11_000


# Median size in bytes of one item of these REST listings as GitHub sends them, from the real
# recordings in shared/fixtures/real (devlake-e2e github raw tables: panjf2000/ants, 2022):
# the demo's items are a fraction of that (a pull request 1.6 KB of 15 KB).
REAL_PAYLOAD_BYTES = {
    "pulls": 15_222,
    "runs": 11_563,
    "workflow runs": 11_563,
    "jobs": 1_799,
    "issues": 3_886,
    "reviews": 1_542,
    "pull commits": 3_219,
    "commits": 3_219,
}


def _fingerprint(request: httpx.Request) -> str:
    """A credential's name in the fake's counters: a hash of its header, never the token."""
    auth = request.headers.get("Authorization", "")
    return hashlib.sha256(auth.encode()).hexdigest()[:12] if auth else "anonymous"


class HTTPError(Exception):
    def __init__(self, status: int, body: Any):
        self.status, self.body = status, body


@dataclass
class TransportStats:
    """Counts of what the fake API served (for benchmarks and tests)."""

    requests: int = 0
    not_modified: int = 0
    rate_limited: int = 0
    by_source: Counter = field(default_factory=Counter)
    by_route: Counter = field(default_factory=Counter)
    by_status: Counter = field(default_factory=Counter)
    bytes_sent: int = 0
    graphql_queries: int = 0
    graphql_points: int = 0
    # credential fingerprint -> {"requests": REST requests billed, "graphql_points": points}
    by_credential: dict[str, Counter] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "not_modified": self.not_modified,
            "rate_limited": self.rate_limited,
            "bytes_sent": self.bytes_sent,
            "graphql_queries": self.graphql_queries,
            "graphql_points": self.graphql_points,
            "by_credential": {k: dict(v) for k, v in self.by_credential.items()},
            "by_source": dict(self.by_source),
            "by_route": dict(self.by_route),
            "by_status": {str(k): v for k, v in self.by_status.items()},
        }


class DemoTransport(httpx.MockTransport):
    """``httpx.MockTransport`` serving the demo organisation; ``stats`` counts what it served."""

    def __init__(
        self,
        org: Organisation,
        *,
        rate_limit: int = 5000,
        enforce_rate_limit: bool = False,
        clock: Callable[[], float] = time.time,
        realistic_payloads: bool = False,
    ):
        self.org = org
        self.stats = TransportStats()
        self.rate_limit = rate_limit
        self.enforce_rate_limit = enforce_rate_limit
        self._clock = clock
        # Each credential (a fingerprint of its Authorization header) has its own budget per
        # resource, as on GitHub: [remaining, reset].
        self._buckets: dict[tuple[str, str], list[int]] = {}
        self.payload_bytes = dict(REAL_PAYLOAD_BYTES) if realistic_payloads else {}
        self._lock = threading.Lock()
        self._run_nodes: dict[str, tuple[RepoData, dict[str, Any]]] | None = None
        self._servers: dict[str, Callable[[str, dict[str, str]], Any]] = {}
        self._routes: list[tuple[re.Pattern[str], str, Callable[..., Any]]] = [
            (re.compile(p), name, fn)
            for p, name, fn in self._github_routes() + self._search_routes()
        ]
        super().__init__(self._handle)

    @property
    def _remaining(self) -> int:
        """REST requests left to the most spent credential (one credential: its budget)."""
        core = [b[0] for (_, resource), b in self._buckets.items() if resource == "core"]
        return min(core, default=self.rate_limit)

    @property
    def transport_stats(self) -> dict[str, Any]:
        return self.stats.as_dict()

    # --- dispatch ------------------------------------------------------------------------------
    def _handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.rstrip("/") or "/"
        if path.startswith("/api/v4/"):
            return self._served(request, "gitlab", mixed.gitlab_server)
        if path == "/api/v1/applications":
            return self._served(request, "argocd", mixed.argocd_server)
        if path == "/api/json" or (path.endswith("/api/json") and path.startswith("/job/")):
            return self._served(request, "jenkins", mixed.jenkins_server)
        if path.startswith("/api/v1/"):
            return self._plain(request, "prometheus", path, self._prometheus)
        if path == "/incidents" or path.startswith("/incidents/") or path == "/services":
            return self._plain(request, "pagerduty", path, self._pagerduty)
        if request.method == "POST" and path in ("/graphql", "/api/graphql"):
            return self._graphql(request)
        return self._github(request, path.removeprefix("/api/v3"))

    def _served(self, request: httpx.Request, source: str, build) -> httpx.Response:
        """GitLab, Jenkins and Argo CD: their fakes (pipelines/demo/fake_*.py) over the demo
        organisation, built on their first request."""
        with self._lock:
            server = self._servers.get(source)
            if server is None:
                server = self._servers[source] = build(self.org)
        target = request.url.raw_path.decode("ascii")
        reply = server(target, {**request.headers, "Host": request.url.netloc.decode("ascii")})
        content = reply.body if isinstance(reply.body, bytes) else _dumps(reply.body)
        self._count(source, f"{source} {request.url.path}", reply.status, len(content))
        headers = {"Content-Type": "application/json", **reply.headers}
        return httpx.Response(reply.status, content=content, headers=headers)

    def _count(self, source: str, route: str, status: int, size: int) -> None:
        with self._lock:
            self.stats.requests += 1
            self.stats.by_source[source] += 1
            self.stats.by_route[route] += 1
            self.stats.by_status[status] += 1
            self.stats.bytes_sent += size

    def _plain(self, request, source, path, fn) -> httpx.Response:
        try:
            route, body = fn(request, path)
            status = 200
        except HTTPError as exc:
            route, status, body = f"{source} error", exc.status, exc.body
        content = _dumps(body)
        self._count(source, route, status, len(content))
        return httpx.Response(status, content=content, headers={"Content-Type": "application/json"})

    # --- GitHub --------------------------------------------------------------------------------
    def _github(self, request: httpx.Request, path: str) -> httpx.Response:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-GitHub-Media-Type": "github.v3; format=json",
            "X-RateLimit-Resource": "core",
        }
        route = "github unknown"
        if request.method not in ("GET", "HEAD"):
            status, body, extra = 404, _not_found(), {}
        else:
            status, body, extra = 404, _not_found(), {}
            for pattern, name, fn in self._routes:
                m = pattern.fullmatch(path)
                if m:
                    route = f"github {name}"
                    try:
                        body, extra = fn(request, *m.groups())
                        body = self._padded(name, body)
                        status = 200
                    except HTTPError as exc:
                        status, body, extra = exc.status, exc.body, {}
                    break
        content = _dumps(body)
        etag = f'W/"{hashlib.sha1(content).hexdigest()}"'
        headers.update(extra)
        if status == 200:
            headers["ETag"] = etag
            headers["Cache-Control"] = "private, max-age=60, s-maxage=60"
        inm = request.headers.get("If-None-Match")
        with self._lock:
            now = self._clock()
            bucket = self._bucket(request, "core", now)
            if route == "github rate_limit":
                pass
            elif status == 200 and inm and _etag_matches(inm, etag):
                status, content = 304, b""
                self.stats.not_modified += 1
            elif self.enforce_rate_limit and bucket[0] <= 0:
                status = 403
                content = _dumps(
                    {
                        "message": "API rate limit exceeded for user ID 1. If you reach "
                        "out to GitHub Support for help, please include the request ID.",
                        "documentation_url": f"{GITHUB_DOCS}/overview/rate-limits-for-the-rest-api",
                        "status": "403",
                    }
                )
                headers.pop("ETag", None)
                self.stats.rate_limited += 1
            else:
                if not self.enforce_rate_limit and bucket[0] <= 1:
                    bucket[:] = [self.rate_limit, int(now) + 3600]
                bucket[0] -= 1
                self._credential(request)["requests"] += 1
            headers.update(
                {
                    "X-RateLimit-Limit": str(self.rate_limit),
                    "X-RateLimit-Remaining": str(max(bucket[0], 0)),
                    "X-RateLimit-Reset": str(bucket[1]),
                    "X-RateLimit-Used": str(self.rate_limit - max(bucket[0], 0)),
                }
            )
        self._count("github", route, status, len(content))
        return httpx.Response(status, content=content, headers=headers)

    def _padded(self, route: str, body: Any) -> Any:
        """With ``realistic_payloads``, each listed item of ``route`` grown to the size of a real
        one (REAL_PAYLOAD_BYTES) by a ``fake_api_padding`` string: what GitHub sends beyond the
        demo's fields (nested repository objects, URL templates) costs transfer, parse and storage
        but no reader looks at it."""
        target = self.payload_bytes.get(route)
        if not target:
            return body
        items = body if isinstance(body, list) else None
        if isinstance(body, dict):
            items = next((v for v in body.values() if isinstance(v, list)), None)
        for i, item in enumerate(items or []):
            if isinstance(item, dict):
                missing = target - len(_dumps(item)) - len(',"fake_api_padding":""')
                if missing > 0:
                    items[i] = {**item, "fake_api_padding": "x" * missing}
        return body

    def _credential(self, request: httpx.Request) -> Counter:
        return self.stats.by_credential.setdefault(_fingerprint(request), Counter())

    def _bucket(self, request: httpx.Request, resource: str, now: float) -> list[int]:
        """The [remaining, reset] of the request's credential for ``resource`` (under the lock)."""
        bucket = self._buckets.setdefault(
            (_fingerprint(request), resource), [self.rate_limit, int(now) + 3600]
        )
        if now >= bucket[1]:
            bucket[:] = [self.rate_limit, int(now) + 3600]
        return bucket

    # --- GitHub GraphQL ------------------------------------------------------------------------
    def _graphql(self, request: httpx.Request) -> httpx.Response:
        try:
            body = json.loads(request.content or b"{}")
            query, variables = body["query"], body.get("variables") or {}
            match = re.search(r"query\s+(\w+)", query)
            operation = match.group(1) if match else ""
            cost = query_cost(query, variables)
        except (ValueError, KeyError, TypeError, GraphQLSyntaxError) as exc:
            content = _dumps({"errors": [{"message": f"Problems parsing JSON or query: {exc}"}]})
            self._count("github", "github graphql error", 400, len(content))
            return httpx.Response(400, content=content)
        with self._lock:
            now = self._clock()
            bucket = self._bucket(request, "graphql", now)
            limited = self.enforce_rate_limit and bucket[0] < cost
            if not limited:
                if not self.enforce_rate_limit and bucket[0] < cost:
                    bucket[:] = [self.rate_limit, int(now) + 3600]
                bucket[0] -= cost
                self.stats.graphql_queries += 1
                self.stats.graphql_points += cost
                self._credential(request)["graphql_points"] += cost
            remaining, reset = bucket
        rate = {
            "cost": 0 if limited else cost,
            "remaining": max(remaining, 0),
            "resetAt": dt.datetime.fromtimestamp(reset, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if limited:
            self.stats.rate_limited += 1
            answer: dict[str, Any] = {
                "errors": [
                    {
                        "type": "RATE_LIMITED",
                        "message": "API rate limit exceeded for user ID 1.",
                    }
                ]
            }
        else:
            try:
                resolved = (
                    self._listings(query, variables)
                    if operation == "RepositoryListings"
                    else self._resolve(operation, variables)
                )
                answer = {"data": {"rateLimit": rate, **resolved}}
            except HTTPError as exc:
                partial = exc.body.get("data")
                answer = {
                    "data": {"rateLimit": rate, **partial} if partial is not None else None,
                    "errors": exc.body["errors"],
                }
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-RateLimit-Resource": "graphql",
            "X-RateLimit-Limit": str(self.rate_limit),
            "X-RateLimit-Remaining": str(max(remaining, 0)),
            "X-RateLimit-Reset": str(reset),
            "X-RateLimit-Used": str(self.rate_limit - max(remaining, 0)),
        }
        content = _dumps(answer)
        self._count("github", f"github graphql {operation}", 200, len(content))
        return httpx.Response(200, content=content, headers=headers)

    def _listings(self, query: str, v: dict[str, Any]) -> dict[str, Any]:
        """``RepositoryListings``: each alias ``r{i}`` is repository ``owner{i}/name{i}`` with
        its topics, tags and newest releases (``first`` as the query's literal says); one not
        on GitHub is null with a NOT_FOUND error under its alias, the others answer."""
        size = re.search(r'refs\(refPrefix: "refs/tags/", first: (\d+)\)', query)
        page = int(size.group(1)) if size else 100
        out: dict[str, Any] = {}
        errors = []
        i = 0
        while f"owner{i}" in v:
            full_name = f"{v[f'owner{i}']}/{v[f'name{i}']}"
            data = self.org.repo(full_name) if full_name in self.org.repositories else None
            if data is None:
                out[f"r{i}"] = None
                errors.append(
                    {
                        "type": "NOT_FOUND",
                        "path": [f"r{i}"],
                        "message": f"Could not resolve to a Repository with the name "
                        f"'{full_name}'.",
                    }
                )
            else:
                out[f"r{i}"] = _gql_listing(self.org.repo_meta(full_name), data, page)
            i += 1
        if errors:
            raise HTTPError(200, {"data": out, "errors": errors})
        return out

    def _resolve(self, operation: str, v: dict[str, Any]) -> dict[str, Any]:
        if operation == "WorkflowJobs":
            ids = v.get("ids") or []
            if len(ids) > 100:
                raise HTTPError(
                    200,
                    {
                        "data": None,
                        "errors": [
                            {
                                "type": "EXCESSIVE_PAGINATION",
                                "message": f"You may not request more than 100 ids ({len(ids)})",
                            }
                        ],
                    },
                )
            nodes: list[Any] = []
            errors = []
            for i, node in enumerate(ids):
                found = self._run_of(str(node))
                if found is None:
                    nodes.append(None)
                    errors.append(_node_not_found(str(node), ["nodes", i]))
                    continue
                data, run = found
                jobs = [_gql_check_run(j) for j in data.jobs.get(run["id"], [])]
                nodes.append(
                    {
                        "id": run["node_id"],
                        "databaseId": run["id"],
                        "checkSuite": {
                            "checkRuns": _connection(jobs, int(v.get("jobs") or 0), None)
                        },
                    }
                )
            if errors:
                raise HTTPError(200, {"data": {"nodes": nodes}, "errors": errors})
            return {"nodes": nodes}
        if operation == "WorkflowRunJobs":
            found = self._run_of(str(v.get("id")))
            if found is None:
                raise HTTPError(
                    200,
                    {
                        "data": {"node": None},
                        "errors": [_node_not_found(str(v.get("id")), ["node"])],
                    },
                )
            data, run = found
            jobs = [_gql_check_run(j) for j in data.jobs.get(run["id"], [])]
            return {"node": {"checkSuite": {"checkRuns": _connection(jobs, 100, v.get("after"))}}}
        if operation == "DeploymentStatuses":
            full_name, did = self._deployment_of(str(v.get("id")))
            data = self.org.repo(full_name)
            rid = self.org.repo_meta(full_name)["id"]
            nodes = [_gql_status(s, rid) for s in data.statuses.get(did, [])]
            return {"node": {"statuses": _connection(nodes, 100, v.get("after"))}}
        full_name = f"{v.get('owner')}/{v.get('name')}"
        data = self.org.repo(full_name) if full_name in self.org.repositories else None
        if data is None:
            raise HTTPError(
                200,
                {
                    "data": {"repository": None},
                    "errors": [
                        {
                            "type": "NOT_FOUND",
                            "path": ["repository"],
                            "message": f"Could not resolve to a Repository with the name "
                            f"'{full_name}'.",
                        }
                    ],
                },
            )
        rid = self.org.repo_meta(full_name)["id"]
        first, nested, after = int(v.get("first") or 0), int(v.get("nested") or 0), v.get("after")
        if operation == "PullRequests":
            key = ("pulls", "all", "updated", "desc")
            if key not in data.views:
                data.views[key] = sorted(
                    data.pulls, key=lambda p: (p["updated_at"], p["number"]), reverse=True
                )
            page = _connection(data.views[key], first, after)
            page["nodes"] = [_gql_pull(p, data, nested) for p in page["nodes"]]
            return {"repository": {"pullRequests": page}}
        if operation in ("PullRequestReviews", "PullRequestCommits"):
            number = int(v.get("number") or 0)
            self._find_pull(data, str(number))
            if operation == "PullRequestReviews":
                items = [_gql_review(r) for r in data.reviews.get(number, [])]
                return {"repository": {"pullRequest": {"reviews": _connection(items, 100, after)}}}
            items = [_gql_commit(c) for c in data.pr_commits.get(number, [])[:250]]
            return {"repository": {"pullRequest": {"commits": _connection(items, 100, after)}}}
        if operation == "Deployments":
            page = _connection(data.deployments, first, after)
            page["nodes"] = [_gql_deployment(d, data, rid, nested) for d in page["nodes"]]
            return {"repository": {"deployments": page}}
        raise HTTPError(
            200,
            {
                "data": None,
                "errors": [
                    {"message": f"the demo API does not answer the operation {operation!r}"}
                ],
            },
        )

    def _run_of(self, node: str) -> tuple[RepoData, dict[str, Any]] | None:
        """The repository data and run of a workflow run's node id (None: no such run)."""
        with self._lock:
            if self._run_nodes is None:
                self._run_nodes = {}
                for full_name in self.org.repositories:
                    data = self.org.repo(full_name)
                    for run in data.runs:
                        self._run_nodes[run["node_id"]] = (data, run)
        return self._run_nodes.get(node)

    def _deployment_of(self, node: str) -> tuple[str, int]:
        ids = node_id_numbers(node)
        for full_name in self.org.repositories:
            if ids and self.org.repo_meta(full_name)["id"] == ids[0]:
                return full_name, ids[1]
        raise HTTPError(
            200,
            {
                "data": {"node": None},
                "errors": [
                    {
                        "type": "NOT_FOUND",
                        "path": ["node"],
                        "message": f"Could not resolve to a node with the global id of '{node}'",
                    }
                ],
            },
        )

    def _github_routes(self):
        r = r"/repos/([^/]+)/([^/]+)"
        return [
            (r"/rate_limit", "rate_limit", self._rate_limit),
            (r"/orgs/([^/]+)/repos", "org repos", self._org_repos),
            (r, "repo", self._repo),
            (r + r"/pulls", "pulls", self._pulls),
            (r + r"/pulls/(\d+)", "pull", self._pull),
            (r + r"/pulls/(\d+)/reviews", "reviews", self._reviews),
            (r + r"/pulls/(\d+)/commits", "pull commits", self._pull_commits),
            (r + r"/commits", "commits", self._commits),
            (r + r"/commits/([^/]+)", "commit", self._commit),
            (r + r"/tags", "tags", self._simple("tags")),
            (r + r"/releases", "releases", self._simple("releases")),
            (r + r"/deployments", "deployments", self._deployments),
            (r + r"/deployments/(\d+)", "deployment", self._deployment),
            (r + r"/deployments/(\d+)/statuses", "deployment statuses", self._statuses),
            (r + r"/actions/workflows", "workflows", self._workflows),
            (r + r"/actions/workflows/([^/]+)/runs", "workflow runs", self._workflow_runs),
            (r + r"/actions/runs", "runs", self._runs),
            (r + r"/actions/runs/(\d+)", "run", self._run),
            (r + r"/actions/runs/(\d+)/jobs", "jobs", self._jobs),
            (r + r"/issues", "issues", self._issues),
        ]

    def _data(self, owner: str, name: str) -> RepoData:
        if f"{owner}/{name}" not in self.org.repositories:  # not on GitHub (GitLab's)
            raise HTTPError(404, _not_found())
        data = self.org.repo(f"{owner}/{name}")
        if data is None:
            raise HTTPError(404, _not_found())
        return data

    def _rate_limit(self, request):
        with self._lock:
            remaining, reset = self._bucket(request, "core", self._clock())
        core = {
            "limit": self.rate_limit,
            "remaining": remaining,
            "reset": reset,
            "used": self.rate_limit - remaining,
            "resource": "core",
        }
        return {"resources": {"core": core}, "rate": core}, {}

    def _org_repos(self, request, org):
        repos = [r for r in self.org.repositories if r.split("/")[0].lower() == org.lower()]
        if not repos:
            raise HTTPError(404, _not_found())
        metas = [self._meta(r) for r in repos]
        sort = request.url.params.get("sort", "created")
        key = {"full_name": "full_name", "updated": "updated_at", "pushed": "pushed_at"}.get(
            sort, "created_at"
        )
        default = "asc" if sort == "full_name" else "desc"
        desc = request.url.params.get("direction", default) == "desc"
        metas.sort(key=lambda m: (m[key], m["id"]), reverse=desc)
        return _page(request, metas)

    def _meta(self, full_name: str) -> dict[str, Any]:
        return self.org.repo_meta(full_name)

    def _repo(self, request, owner, name):
        if f"{owner}/{name}" not in self.org.repositories:
            raise HTTPError(404, _not_found())
        return self.org.repo_meta(f"{owner}/{name}"), {}

    def _pulls(self, request, owner, name):
        data = self._data(owner, name)
        q = request.url.params
        state = q.get("state", "open")
        sort = q.get("sort", "created")
        direction = q.get("direction", "desc" if sort == "created" else "asc")
        if state not in ("open", "closed", "all") or direction not in ("asc", "desc"):
            raise HTTPError(422, _validation_failed())
        key = ("pulls", state, sort, direction)
        items = data.views.get(key)
        if items is None:
            items = [p for p in data.pulls if state == "all" or p["state"] == state]
            field_ = {"updated": "updated_at", "created": "created_at"}.get(sort, "created_at")
            items = sorted(
                items, key=lambda p: (p[field_], p["number"]), reverse=direction == "desc"
            )
            data.views[key] = items
        base = q.get("base")
        if base is not None:
            items = [p for p in items if p["base"]["ref"] == base]
        head = q.get("head")
        if head is not None:
            items = [p for p in items if p["head"]["label"] == head]
        return _page(request, items)

    def _find_pull(self, data: RepoData, number: str) -> dict[str, Any]:
        n = int(number)
        for p in data.pulls:
            if p["number"] == n:
                return p
        raise HTTPError(404, _not_found())

    def _pull(self, request, owner, name, number):
        data = self._data(owner, name)
        p = dict(self._find_pull(data, number))
        p["merged"] = p["merged_at"] is not None
        p["commits"] = len(data.pr_commits.get(p["number"], []))
        p["review_comments"] = 0
        return p, {}

    def _reviews(self, request, owner, name, number):
        data = self._data(owner, name)
        self._find_pull(data, number)
        return _page(request, data.reviews.get(int(number), []))

    def _pull_commits(self, request, owner, name, number):
        data = self._data(owner, name)
        self._find_pull(data, number)
        return _page(request, data.pr_commits.get(int(number), []), max_items=250)

    def _commits(self, request, owner, name):
        data = self._data(owner, name)
        q = request.url.params
        ref = q.get("sha", "main")
        items = self._history_from(data, ref)
        since, until = q.get("since"), q.get("until")
        if since or until:
            lo = iso(_time_param(since)) if since else ""
            hi = iso(_time_param(until)) if until else "~"
            items = [c for c in items if lo <= c["commit"]["committer"]["date"] <= hi]
        author = q.get("author")
        if author:
            items = [
                c
                for c in items
                if (c["author"] or {}).get("login") == author
                or c["commit"]["author"]["email"] == author
            ]
        return _page(request, items)

    def _history_from(self, data: RepoData, ref: str) -> list[dict[str, Any]]:
        if ref in ("main", "HEAD", "refs/heads/main"):
            return data.history
        sha = ref
        for tag in data.tags:
            if tag["name"] == ref:
                sha = tag["commit"]["sha"]
        if sha not in data.commit_index:
            raise HTTPError(
                404,
                {
                    "message": f"No commit found for SHA: {ref}",
                    "documentation_url": f"{GITHUB_DOCS}/commits/commits",
                },
            )
        key = ("ancestors", sha)
        if key not in data.views:
            seen, stack = {sha}, [sha]
            while stack:
                for parent in data.commit_index[stack.pop()]["parents"]:
                    if parent["sha"] not in seen and parent["sha"] in data.commit_index:
                        seen.add(parent["sha"])
                        stack.append(parent["sha"])
            data.views[key] = [c for c in data.history if c["sha"] in seen]
        return data.views[key]

    def _commit(self, request, owner, name, ref):
        data = self._data(owner, name)
        if ref in data.commit_index:
            return data.commit_index[ref], {}
        for commits in data.pr_commits.values():
            for c in commits:
                if c["sha"] == ref:
                    return c, {}
        items = self._history_from(data, ref)
        return items[0], {}

    def _simple(self, attr: str):
        def handler(request, owner, name):
            return _page(request, getattr(self._data(owner, name), attr))

        return handler

    def _deployments(self, request, owner, name):
        data = self._data(owner, name)
        items = data.deployments
        for param in ("sha", "ref", "task", "environment"):
            value = request.url.params.get(param)
            if value is not None:
                items = [d for d in items if d[param] == value]
        return _page(request, items)

    def _find_deployment(self, data: RepoData, dep_id: str) -> dict[str, Any]:
        did = int(dep_id)
        if did not in data.statuses:
            raise HTTPError(404, _not_found())
        return next(d for d in data.deployments if d["id"] == did)

    def _deployment(self, request, owner, name, dep_id):
        return self._find_deployment(self._data(owner, name), dep_id), {}

    def _statuses(self, request, owner, name, dep_id):
        data = self._data(owner, name)
        self._find_deployment(data, dep_id)
        return _page(request, data.statuses[int(dep_id)])

    def _workflows(self, request, owner, name):
        data = self._data(owner, name)
        return _page(request, data.workflows, wrap="workflows")

    def _workflow_runs(self, request, owner, name, workflow):
        data = self._data(owner, name)
        wf = next(
            (
                w
                for w in data.workflows
                if str(w["id"]) == workflow or w["path"].rsplit("/", 1)[-1] == workflow
            ),
            None,
        )
        if wf is None:
            raise HTTPError(404, _not_found())
        return self._filter_runs(
            request, data, [r for r in data.runs if r["workflow_id"] == wf["id"]]
        )

    def _runs(self, request, owner, name):
        data = self._data(owner, name)
        return self._filter_runs(request, data, data.runs)

    def _filter_runs(self, request, data: RepoData, items: list[dict[str, Any]]):
        q = request.url.params
        created = q.get("created")
        if created:
            lo, hi = _created_range(created)
            items = [r for r in items if lo <= r["created_at"] < hi]
        for param, key in (("branch", "head_branch"), ("event", "event"), ("head_sha", "head_sha")):
            value = q.get(param)
            if value is not None:
                items = [r for r in items if r[key] == value]
        actor = q.get("actor")
        if actor is not None:
            items = [r for r in items if r["actor"]["login"] == actor]
        status = q.get("status")
        if status is not None:
            items = [r for r in items if status in (r["status"], r["conclusion"])]
        total = len(items)
        # GitHub caps a listing at 1,000 runs only when one of these filters is given; the
        # unfiltered listing pages through every run.
        if any(q.get(param) is not None for param in RUN_CAPPED_FILTERS):
            items = items[:MAX_RUN_RESULTS]
        return _page(request, items, wrap="workflow_runs", total=total)

    def _run(self, request, owner, name, run_id):
        data = self._data(owner, name)
        rid = int(run_id)
        if rid not in data.jobs:
            raise HTTPError(404, _not_found())
        return next(r for r in data.runs if r["id"] == rid), {}

    def _jobs(self, request, owner, name, run_id):
        data = self._data(owner, name)
        rid = int(run_id)
        if rid not in data.jobs:
            raise HTTPError(404, _not_found())
        return _page(request, data.jobs[rid], wrap="jobs")

    def _issues(self, request, owner, name):
        data = self._data(owner, name)
        q = request.url.params
        state = q.get("state", "open")
        items = [i for i in data.issues if state == "all" or i["state"] == state]
        since = q.get("since")
        if since:
            lo = iso(_time_param(since))
            items = [i for i in items if i["updated_at"] >= lo]
        labels = [x.strip() for x in q.get("labels", "").split(",") if x.strip()]
        if labels:
            items = [i for i in items if set(labels) <= {lab["name"] for lab in i["labels"]}]
        sort = q.get("sort", "created")
        key = "updated_at" if sort == "updated" else "created_at"
        desc = q.get("direction", "desc") == "desc"
        items = sorted(items, key=lambda i: (i[key], i["number"]), reverse=desc)
        return _page(request, items)

    # --- GitHub search counts (for `platform-metrics plan`) -------------------------------------
    # Only what the plan asks: /search/issues with repo:, is:pr / is:issue and updated:>=DATE (or
    # created:>=DATE) qualifiers, answering total_count and the first page like GitHub.
    def _search_routes(self):
        return [(r"/search/issues", "search issues", self._search_issues)]

    def _search_issues(self, request):
        terms = request.url.params.get("q", "").split()
        repo = next((t.removeprefix("repo:") for t in terms if t.startswith("repo:")), None)
        if repo is None or "/" not in repo:
            raise HTTPError(422, _validation_failed())
        data = self._data(*repo.split("/", 1))
        items = data.pulls if "is:pr" in terms else data.issues if "is:issue" in terms else []
        for term in terms:
            for qualifier, key in (("updated:>=", "updated_at"), ("created:>=", "created_at")):
                if term.startswith(qualifier):
                    lo = iso(_time_param(term.removeprefix(qualifier)))
                    items = [i for i in items if i[key] >= lo]
        body, headers = _page(request, items, wrap="items", max_items=MAX_RUN_RESULTS)
        body["total_count"] = len(items)
        body["incomplete_results"] = False
        return body, headers

    # --- PagerDuty -----------------------------------------------------------------------------
    def _pagerduty(self, request: httpx.Request, path: str):
        q = request.url.params
        if path == "/services":
            offset, limit = _pd_paging(q)
            items = self.org.pagerduty_services
            return "pagerduty services", _pd_page(items, offset, limit, q)
        if path.startswith("/incidents/") and path.endswith("/log_entries"):
            iid = path.split("/")[2]
            for inc in self.org.incidents:
                if inc["id"] == iid:
                    return "pagerduty log entries", {
                        "log_entries": _pd_log_entries(inc),
                        "offset": 0,
                        "limit": 100,
                        "more": False,
                    }
            raise HTTPError(404, {"error": {"message": "Not Found", "code": 2100}})
        if path.startswith("/incidents/"):
            iid = path.split("/")[2]
            for inc in self.org.incidents:
                if inc["id"] == iid or str(inc["incident_number"]) == iid:
                    return "pagerduty incident", {"incident": inc}
            raise HTTPError(404, {"error": {"message": "Not Found", "code": 2100}})
        offset, limit = _pd_paging(q)
        items = self.org.incidents
        if q.get("date_range") != "all":
            try:
                until = _time_param(q["until"]) if q.get("until") else self.org.horizon
                since = _time_param(q["since"]) if q.get("since") else _months_before(until, 1)
            except ValueError:
                raise HTTPError(400, _pd_invalid("Invalid date")) from None
            if until < since:
                raise HTTPError(400, _pd_invalid("Until must be after since"))
            if _months_after(since, 6) < until:
                raise HTTPError(400, _pd_invalid("Date range is greater than 6 months"))
            lo, hi = iso(since), iso(until)
            items = [i for i in items if lo <= i["created_at"] < hi]
        for param, key in (
            ("service_ids[]", "service"),
            ("statuses[]", "status"),
            ("urgencies[]", "urgency"),
        ):
            wanted = q.get_list(param)
            if wanted:
                if key == "service":
                    items = [i for i in items if i["service"]["id"] in wanted]
                else:
                    items = [i for i in items if i[key] in wanted]
        return "pagerduty incidents", _pd_page(items, offset, limit, q, wrap="incidents")

    # --- Prometheus ----------------------------------------------------------------------------
    def _prometheus(self, request: httpx.Request, path: str):
        if path != "/api/v1/query_range":
            raise HTTPError(
                404,
                {
                    "status": "error",
                    "errorType": "not_found",
                    "error": f"unsupported endpoint {path} in the demo",
                },
            )
        params = dict(request.url.params)
        if request.method == "POST" and request.content:
            params.update(dict(httpx.QueryParams(request.content.decode())))
        try:
            query = params["query"]
            start = _prom_time(params["start"])
            end = _prom_time(params["end"])
            step = _prom_duration(params["step"])
        except (KeyError, ValueError) as exc:
            raise HTTPError(400, _prom_error(f"invalid parameter: {exc}")) from None
        if step <= 0:
            raise HTTPError(
                400,
                _prom_error(
                    "zero or negative query resolution step widths are "
                    "not accepted. Try a positive integer"
                ),
            )
        if end < start:
            raise HTTPError(400, _prom_error("end timestamp must not be before start time"))
        if (end - start) / step > PROMETHEUS_MAX_POINTS:
            raise HTTPError(
                400,
                _prom_error(
                    "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing "
                    "the query resolution (?step=XX)"
                ),
            )
        latency = _LATENCY_QUERY.fullmatch(query)
        if latency:
            service, good = latency.group("service"), None
        else:
            service, good = _parse_query(query)
        series = self.org.sli_series(service)
        result = []
        if series is not None:
            values = []
            if good is None:
                values_of = series.latency_p99()
            else:
                values_of = series.good if good else series.total
            n = math.floor((end - start) / step + 1e-9)
            for k in range(n + 1):
                t = start + k * step
                h = series.bucket_ending_at(t)
                if h is not None:
                    values.append([int(t) if float(t).is_integer() else t, f"{values_of[h]:.15g}"])
            if values:
                result.append({"metric": {}, "values": values})
        return "prometheus query_range", {
            "status": "success",
            "data": {"resultType": "matrix", "result": result},
        }


def demo_transport(org: Organisation, **options: Any) -> DemoTransport:
    """An ``httpx.MockTransport`` serving ``org`` (see the module docstring for what it speaks)."""
    return DemoTransport(org, **options)


# --- helpers ---------------------------------------------------------------------------------------


def _connection(items: list[Any], first: int, after: str | None) -> dict[str, Any]:
    """A page of a GraphQL connection; cursors are opaque (base64 of the offset), as on GitHub."""
    if not 1 <= first <= 100:
        raise HTTPError(
            200,
            {
                "data": None,
                "errors": [
                    {
                        "type": "MAX_NODE_LIMIT_EXCEEDED" if first > 100 else "INVALID_ARGUMENTS",
                        "message": f"Requesting {first} records on the connection exceeds the "
                        "`first` limit of 100 records.",
                    }
                ],
            },
        )
    start = int(base64.b64decode(after).decode().split(":")[1]) if after else 0
    chunk = items[start : start + first]
    end = start + len(chunk)
    return {
        "pageInfo": {
            "hasNextPage": end < len(items),
            "endCursor": base64.b64encode(f"cursor:{end}".encode()).decode() if chunk else None,
        },
        "nodes": chunk,
    }


def _node_not_found(node: str, path: list[Any]) -> dict[str, Any]:
    return {
        "type": "NOT_FOUND",
        "path": path,
        "locations": [{"line": 4, "column": 3}],
        "message": f"Could not resolve to a node with the global id of '{node}'",
    }


def _gql_check_run(job: dict[str, Any]) -> dict[str, Any]:
    """A workflow job as GitHub's GraphQL ``CheckRun`` (same id; no queued-at time)."""
    return {
        "id": job["node_id"],
        "databaseId": job["id"],
        "name": job["name"],
        "status": (job.get("status") or "").upper(),
        "conclusion": (job.get("conclusion") or "").upper() or None,
        "startedAt": job.get("started_at"),
        "completedAt": job.get("completed_at"),
    }


def _gql_listing(meta: dict[str, Any], data: RepoData, page: int) -> dict[str, Any]:
    tags, releases = data.tags, data.releases  # newest first, as REST lists them
    return {
        "id": meta["node_id"],
        "databaseId": meta["id"],
        "name": meta["name"],
        "nameWithOwner": meta["full_name"],
        "url": meta["html_url"],
        "isPrivate": meta["private"],
        "isArchived": meta["archived"],
        "createdAt": meta["created_at"],
        "pushedAt": meta["pushed_at"],
        "updatedAt": meta["updated_at"],
        "owner": {"login": meta["owner"]["login"]},
        "defaultBranchRef": {"name": meta["default_branch"]},
        "repositoryTopics": {"nodes": [{"topic": {"name": t}} for t in meta["topics"]]},
        "refs": {
            "pageInfo": {"hasNextPage": len(tags) > page},
            "nodes": [
                {"name": t["name"], "target": {"__typename": "Commit", "oid": t["commit"]["sha"]}}
                for t in tags[:page]
            ],
        },
        "releases": {
            "pageInfo": {"hasNextPage": len(releases) > page},
            "nodes": [
                {
                    "databaseId": r["id"],
                    "tagName": r["tag_name"],
                    "name": r["name"],
                    "isDraft": r["draft"],
                    "isPrerelease": r["prerelease"],
                    "createdAt": r["created_at"],
                    "publishedAt": r["published_at"],
                    "url": r["html_url"],
                    "author": _gql_actor(r["author"]),
                }
                for r in releases[:page]
            ],
        },
    }


def _gql_actor(user: dict[str, Any] | None) -> dict[str, Any] | None:
    if not user:
        return None
    login = user["login"]
    kind = user.get("type") or "User"
    return {"__typename": kind, "login": login.removesuffix("[bot]") if kind == "Bot" else login}


def _gql_review(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "databaseId": r["id"],
        "state": r["state"],
        "submittedAt": r.get("submitted_at"),
        "author": _gql_actor(r.get("user")),
        "commit": {"oid": r["commit_id"]} if r.get("commit_id") else None,
    }


def _gql_commit(c: dict[str, Any]) -> dict[str, Any]:
    inner = c["commit"]
    user = c.get("author")
    return {
        "commit": {
            "oid": c["sha"],
            "message": inner["message"],
            "author": {**inner["author"], "user": {"login": user["login"]} if user else None},
            "committer": dict(inner["committer"]),
        }
    }


def _gql_pull(p: dict[str, Any], data: RepoData, nested: int) -> dict[str, Any]:
    merged = p.get("merged_at") is not None
    reviews = [_gql_review(r) for r in data.reviews.get(p["number"], [])]
    commits = [_gql_commit(c) for c in data.pr_commits.get(p["number"], [])[:250]]
    sha = p.get("merge_commit_sha")
    return {
        "databaseId": p["id"],
        "number": p["number"],
        "title": p["title"],
        "url": p.get("html_url"),
        "body": p["body"],
        "state": "MERGED" if merged else p["state"].upper(),
        "isDraft": p["draft"],
        "createdAt": p["created_at"],
        "updatedAt": p["updated_at"],
        "closedAt": p["closed_at"],
        "mergedAt": p["merged_at"],
        "author": _gql_actor(p.get("user")),
        "headRefName": p["head"]["ref"],
        "headRefOid": p["head"]["sha"],
        "baseRefName": p["base"]["ref"],
        "mergeCommit": {"oid": sha} if merged and sha else None,
        "potentialMergeCommit": {"oid": sha} if not merged and sha else None,
        "labels": {"nodes": [{"name": label["name"]} for label in p["labels"]]},
        "reviews": _connection(reviews, nested, None),
        "commits": _connection(commits, nested, None),
    }


def _gql_status(s: dict[str, Any], repository_id: int) -> dict[str, Any]:
    return {
        "id": encode_node_id("DES", repository_id, s["id"]),
        "state": s["state"].upper(),
        "description": s.get("description"),
        "environment": s.get("environment"),
        "logUrl": s.get("log_url") or s.get("target_url"),
        "environmentUrl": s.get("environment_url"),
        "createdAt": s["created_at"],
        "updatedAt": s["updated_at"],
        "creator": _gql_actor(s.get("creator")),
    }


def _gql_deployment(
    d: dict[str, Any], data: RepoData, repository_id: int, nested: int
) -> dict[str, Any]:
    statuses = [_gql_status(s, repository_id) for s in data.statuses.get(d["id"], [])]
    return {
        "id": encode_node_id("DE", repository_id, d["id"]),
        "databaseId": d["id"],
        "task": d["task"],
        "environment": d["environment"],
        "originalEnvironment": d["original_environment"],
        "description": d["description"],
        "createdAt": d["created_at"],
        "updatedAt": d["updated_at"],
        "commitOid": d["sha"],
        "ref": {"name": d["ref"]},
        "creator": _gql_actor(d.get("creator")),
        "statuses": _connection(statuses, nested, None),
    }


def _dumps(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def _not_found() -> dict[str, str]:
    return {"message": "Not Found", "documentation_url": GITHUB_DOCS, "status": "404"}


def _validation_failed() -> dict[str, str]:
    return {"message": "Validation Failed", "documentation_url": GITHUB_DOCS, "status": "422"}


def _etag_matches(header: str, etag: str) -> bool:
    strip = etag.removeprefix("W/")
    return any(t.strip() == "*" or t.strip().removeprefix("W/") == strip for t in header.split(","))


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _page(
    request: httpx.Request,
    items: list[Any],
    *,
    wrap: str | None = None,
    total: int | None = None,
    max_items: int | None = None,
):
    q = request.url.params
    per_page = max(1, min(100, _int(q.get("per_page"), 30)))
    page = max(1, _int(q.get("page"), 1))
    if max_items is not None:
        items = items[:max_items]
    chunk = items[(page - 1) * per_page : page * per_page]
    last = max(1, math.ceil(len(items) / per_page))
    links = []

    def link(p: int, rel: str) -> str:
        return f'<{request.url.copy_set_param("page", str(p))}>; rel="{rel}"'

    if page > 1:
        links += [link(min(page - 1, last), "prev"), link(1, "first")]
    if page < last:
        links += [link(page + 1, "next"), link(last, "last")]
    headers = {"Link": ", ".join(links)} if links else {}
    if wrap is not None:
        return {"total_count": len(items) if total is None else total, wrap: chunk}, headers
    return chunk, headers


def _time_param(value: str) -> dt.datetime:
    try:
        return parse_time(value)
    except ValueError:
        raise HTTPError(422, _validation_failed()) from None


def _created_range(spec: str) -> tuple[str, str]:
    """GitHub's ``created`` qualifier as a half-open range of ISO strings ``[lo, hi)``."""

    def bound(text: str, upper: bool, inclusive: bool) -> str:
        if text == "*":
            return "~" if upper else ""
        t = _time_param(text)
        date_only = len(text.strip()) == 10
        if date_only and upper and inclusive:
            t += DAY
        elif (not date_only and upper and inclusive) or (
            not date_only and not upper and not inclusive
        ):
            t += dt.timedelta(seconds=1)
        elif date_only and not upper and not inclusive:
            t += DAY
        return iso(t)

    spec = spec.strip()
    if ".." in spec:
        a, b = spec.split("..", 1)
        return bound(a, False, True), bound(b, True, True)
    for op in (">=", "<=", ">", "<"):
        if spec.startswith(op):
            value = spec[len(op) :]
            if op[0] == ">":
                return bound(value, False, op == ">="), "~"
            return "", bound(value, True, op == "<=")
    return bound(spec, False, True), bound(spec, True, True)


def _months_after(t: dt.datetime, months: int) -> dt.datetime:
    return dt.datetime.combine(add_months(t.date(), months), t.timetz())


def _months_before(t: dt.datetime, months: int) -> dt.datetime:
    return dt.datetime.combine(add_months(t.date(), -months), t.timetz())


def _pd_invalid(message: str) -> dict[str, Any]:
    return {"error": {"message": "Invalid Input Provided", "code": 2001, "errors": [message]}}


def _pd_paging(q: httpx.QueryParams) -> tuple[int, int]:
    try:
        offset = int(q.get("offset", 0))
        limit = int(q.get("limit", 25))
    except ValueError:
        raise HTTPError(400, _pd_invalid("Offset and limit must be integers")) from None
    if offset < 0 or limit < 1:
        raise HTTPError(400, _pd_invalid("Offset must be >= 0 and limit >= 1"))
    return offset, min(limit, 100)


def _pd_page(items, offset, limit, q, wrap: str = "services") -> dict[str, Any]:
    chunk = items[offset : offset + limit]
    return {
        wrap: chunk,
        "limit": limit,
        "offset": offset,
        "more": offset + limit < len(items),
        "total": len(items) if q.get("total") == "true" else None,
    }


def _prom_error(message: str) -> dict[str, str]:
    return {"status": "error", "errorType": "bad_data", "error": message}


def _prom_time(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return parse_time(value).timestamp()


_DURATION = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def _prom_duration(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        parts = _DURATION.findall(value)
        if not parts or "".join(a + b for a, b in parts) != value:
            raise ValueError(f"cannot parse {value!r} to a valid duration") from None
        return sum(int(a) * _UNITS[b] for a, b in parts)


_QUERY = re.compile(
    r"\s*sum\s*\(\s*increase\s*\(\s*http_requests_total\s*\{(?P<labels>[^}]*)\}\s*\[\s*1h\s*\]"
    r"\s*\)\s*\)\s*"
)
_LABEL = re.compile(r'\s*([a-zA-Z_]\w*)\s*(=|!=|=~|!~)\s*"([^"]*)"\s*')


_LATENCY_QUERY = re.compile(
    r"\s*histogram_quantile\s*\(\s*0\.99\s*,\s*sum\s+by\s*\(\s*le\s*\)\s*\(\s*rate\s*\(\s*"
    r'http_request_duration_seconds_bucket\s*\{\s*service\s*=\s*"(?P<service>[^"]*)"\s*\}'
    r"\s*\[\s*1h\s*\]\s*\)\s*\)\s*\)\s*"
)


def _parse_query(query: str) -> tuple[str, bool]:
    """(service, good?) for the two supported query forms, else a Prometheus-style 400."""
    m = _QUERY.fullmatch(query)
    if m:
        labels = [x for x in m.group("labels").split(",") if x.strip()]
        parsed = [_LABEL.fullmatch(x) for x in labels]
        if all(parsed):
            matchers = {(p.group(1), p.group(2)): p.group(3) for p in parsed}
            service = matchers.pop(("service", "="), None)
            good = matchers.pop(("code", "!~"), None)
            if service is not None and not matchers and good in (None, "5.."):
                return service, good is not None
    raise HTTPError(
        400,
        _prom_error(
            f"unsupported query in the demo Prometheus: {query!r} (supported: "
            'sum(increase(http_requests_total{service="S"}[1h])) and the same with code!~"5..")'
        ),
    )


def _pd_log_entries(incident: dict[str, Any]) -> list[dict[str, Any]]:
    """Overview log entries of a demo incident: trigger, acknowledge, resolve."""
    entries = [{"type": "trigger_log_entry", "created_at": incident["created_at"]}]
    for ack in incident.get("acknowledgements") or []:
        entries.append({"type": "acknowledge_log_entry", "created_at": ack["at"]})
    if incident.get("resolved_at"):
        entries.append({"type": "resolve_log_entry", "created_at": incident["resolved_at"]})
    return [{"id": f"{incident['id']}-{i}", **e} for i, e in enumerate(entries)]
