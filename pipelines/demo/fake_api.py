"""An in-process fake of GitHub REST, PagerDuty REST v2 and Prometheus, over the demo organisation.

``demo_transport(org)`` returns an ``httpx.MockTransport``; give it to any httpx client with any base
URL (routing is by path only, so ``https://api.github.com``, ``https://ghe.example/api/v3``,
``https://api.pagerduty.com`` and ``http://prometheus:9090`` all work).

GitHub (JSON shapes, pagination and headers as on api.github.com):
  ``GET /orgs/{org}/repos``, ``/repos/{o}/{r}``, ``/repos/{o}/{r}/pulls`` (state, sort, direction,
  base), ``.../pulls/{n}``, ``.../pulls/{n}/reviews``, ``.../pulls/{n}/commits``, ``.../commits``
  (sha = branch, tag or SHA; since, until, author), ``.../commits/{ref}``, ``.../tags``,
  ``.../releases``, ``.../deployments`` (sha, ref, task, environment), ``.../deployments/{id}``,
  ``.../deployments/{id}/statuses``, ``.../actions/workflows``, ``.../actions/runs`` and
  ``.../actions/workflows/{id|file}/runs`` (created, branch, event, status, actor, head_sha; at most
  1,000 results reachable per query, as on GitHub), ``.../actions/runs/{id}``,
  ``.../actions/runs/{id}/jobs``, ``.../issues`` (issues only; state, since, labels, sort,
  direction), ``/rate_limit``.
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

from pipelines.demo._common import DAY, add_months, iso, parse_time
from pipelines.demo.generator import Organisation
from pipelines.demo.render import RepoData

GITHUB_DOCS = "https://docs.github.com/rest"
MAX_RUN_RESULTS = 1000
PROMETHEUS_MAX_POINTS = 11_000


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

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "not_modified": self.not_modified,
            "rate_limited": self.rate_limited,
            "bytes_sent": self.bytes_sent,
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
    ):
        self.org = org
        self.stats = TransportStats()
        self.rate_limit = rate_limit
        self.enforce_rate_limit = enforce_rate_limit
        self._clock = clock
        self._remaining = rate_limit
        self._reset = int(clock()) + 3600
        self._lock = threading.Lock()
        self._routes: list[tuple[re.Pattern[str], str, Callable[..., Any]]] = [
            (re.compile(p), name, fn) for p, name, fn in self._github_routes()
        ]
        super().__init__(self._handle)

    @property
    def transport_stats(self) -> dict[str, Any]:
        return self.stats.as_dict()

    # --- dispatch ------------------------------------------------------------------------------
    def _handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.rstrip("/") or "/"
        if path.startswith("/api/v1/"):
            return self._plain(request, "prometheus", path, self._prometheus)
        if path == "/incidents" or path.startswith("/incidents/") or path == "/services":
            return self._plain(request, "pagerduty", path, self._pagerduty)
        return self._github(request, path.removeprefix("/api/v3"))

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
            if now >= self._reset:
                self._remaining, self._reset = self.rate_limit, int(now) + 3600
            if route == "github rate_limit":
                pass
            elif status == 200 and inm and _etag_matches(inm, etag):
                status, content = 304, b""
                self.stats.not_modified += 1
            elif self.enforce_rate_limit and self._remaining <= 0:
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
                if not self.enforce_rate_limit and self._remaining <= 1:
                    self._remaining, self._reset = self.rate_limit, int(now) + 3600
                self._remaining -= 1
            headers.update(
                {
                    "X-RateLimit-Limit": str(self.rate_limit),
                    "X-RateLimit-Remaining": str(max(self._remaining, 0)),
                    "X-RateLimit-Reset": str(self._reset),
                    "X-RateLimit-Used": str(self.rate_limit - max(self._remaining, 0)),
                }
            )
        self._count("github", route, status, len(content))
        return httpx.Response(status, content=content, headers=headers)

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
        data = self.org.repo(f"{owner}/{name}")
        if data is None:
            raise HTTPError(404, _not_found())
        return data

    def _rate_limit(self, request):
        core = {
            "limit": self.rate_limit,
            "remaining": self._remaining,
            "reset": self._reset,
            "used": self.rate_limit - self._remaining,
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
        return _page(request, items[:MAX_RUN_RESULTS], wrap="workflow_runs", total=total)

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
