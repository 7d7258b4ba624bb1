"""A GitLab REST v4 API in GitLab's shape, served in process by the demo (pipelines/demo/fake_api.py) and over
127.0.0.1 by the tests (tests/http_server.py).

It answers what ``pipelines/gitlab`` asks: ``/api/v4/projects/<id or url-encoded path>`` and its
merge requests (+ approvals, commits), repository commits, pipelines (+ jobs), deployments,
environments, releases and tags, and ``/groups/<group>/projects`` with keyset pagination. Listings
page with ``page``/``per_page`` and a ``Link: rel="next"`` header, as GitLab does; ``updated_after``
and ``since`` filter. ``PRIVATE-TOKEN`` must match ``token`` (else 401). ``fault(path, headers)``
may answer a request instead (rate limits, 5xx). Every request is recorded by the server.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from pipelines.demo.fake_http import Reply


def _time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _updated(item: dict[str, Any]) -> str:
    # A recorded deployment without updated_at (DevLake's hand-made "undeployed") sorts by creation.
    return item.get("updated_at") or item["created_at"]


@dataclass
class FakeProject:
    payload: dict[str, Any]
    merge_requests: list[dict[str, Any]] = field(default_factory=list)
    approvals: dict[int, dict[str, Any]] = field(default_factory=dict)
    mr_commits: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    commits: list[dict[str, Any]] = field(default_factory=list)
    pipelines: list[dict[str, Any]] = field(default_factory=list)  # the details payloads
    jobs: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    deployments: list[dict[str, Any]] = field(default_factory=list)
    environments: list[dict[str, Any]] = field(default_factory=list)
    releases: list[dict[str, Any]] = field(default_factory=list)
    tags: list[dict[str, Any]] = field(default_factory=list)


Fault = Callable[[str, dict[str, str]], Reply | None]

# What each listing filters and sorts on (updated_after / since), as GitLab does.
_UPDATED = {"merge_requests": "updated_at", "pipelines": "updated_at", "deployments": "updated_at"}


class FakeGitLab:
    def __init__(
        self,
        projects: list[FakeProject],
        *,
        groups: dict[str, list[int]] | None = None,
        token: str | None = None,
        scheme: str = "http",
    ) -> None:
        self.projects = {p.payload["id"]: p for p in projects}
        self.scheme = scheme  # of the next-page links (the client keeps to its origin)
        self.groups = groups or {}
        self.token = token
        self.fault: Fault | None = None
        # False: answer keyset pagination of group projects with 405, as older servers do.
        self.keyset_groups = True

    def project(self, ref: str) -> FakeProject | None:
        ref = unquote(ref)
        for project in self.projects.values():
            if ref in (str(project.payload["id"]), project.payload["path_with_namespace"]):
                return project
        return None

    def __call__(self, path: str, headers: dict[str, str]) -> Reply:
        if self.fault is not None:
            reply = self.fault(path, headers)
            if reply is not None:
                return reply
        if self.token is not None and headers.get("PRIVATE-TOKEN") != self.token:
            return Reply(401, {"message": "401 Unauthorized"})
        url = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        # Split before decoding, so an encoded path (group%2Fproject) stays one segment.
        parts = [unquote(p) for p in url.path.split("/") if p]
        if parts[:2] != ["api", "v4"]:
            return Reply(404, {"message": "404 Not Found"})
        parts = parts[2:]
        if parts[0] == "groups" and len(parts) == 3 and parts[2] == "projects":
            return self._group_projects(parts[1], query, headers, url.path)
        if parts[0] != "projects" or len(parts) < 2:
            return Reply(404, {"message": "404 Not Found"})
        project = self.project(parts[1])
        if project is None:
            return Reply(404, {"message": "404 Project Not Found"})
        rest = parts[2:]
        if not rest:
            return Reply(body=project.payload)
        listing = self._listing(project, rest, query)
        if isinstance(listing, Reply):
            return listing
        return self._page(listing, query, headers, url.path)

    def _listing(self, project: FakeProject, rest: list[str], query: dict[str, str]):
        name = rest[0]
        if name == "merge_requests" and len(rest) == 3:
            iid = int(rest[1])
            if rest[2] == "approvals":
                return Reply(body=project.approvals.get(iid, {"approved_by": []}))
            return project.mr_commits.get(iid, [])
        if name == "pipelines" and len(rest) == 2:
            found = [p for p in project.pipelines if str(p["id"]) == rest[1]]
            return Reply(body=found[0]) if found else Reply(404, {"message": "404 Not found"})
        if name == "pipelines" and len(rest) == 3 and rest[2] == "jobs":
            return project.jobs.get(int(rest[1]), [])
        if name == "repository" and rest[1:] == ["commits"]:
            since = _time(query.get("since"))
            items = [c for c in project.commits if not since or _time(c["committed_date"]) >= since]
            return sorted(items, key=lambda c: c["committed_date"], reverse=True)
        if name == "repository" and rest[1:] == ["tags"]:
            return project.tags
        if name in ("environments", "releases") and len(rest) == 1:
            return getattr(project, name)
        if name in _UPDATED and len(rest) == 1:
            after = _time(query.get("updated_after"))
            items = [i for i in getattr(project, name) if not after or _time(_updated(i)) >= after]
            return sorted(items, key=lambda i: (_updated(i), i["id"]))
        return Reply(404, {"message": "404 Not Found"})

    def _page(
        self, items: list, query: dict[str, str], headers: dict[str, str], path: str
    ) -> Reply:
        page, per_page = int(query.get("page", 1)), int(query.get("per_page", 20))
        chunk = items[(page - 1) * per_page : page * per_page]
        answer = {"X-Page": str(page), "X-Per-Page": str(per_page)}
        if page * per_page < len(items):
            nxt = {**query, "page": str(page + 1)}
            answer["Link"] = (
                f'<{self.scheme}://{headers["Host"]}{path}?{urlencode(nxt)}>; rel="next"'
            )
            answer["X-Next-Page"] = str(page + 1)
        return Reply(body=chunk, headers=answer)

    def _group_projects(self, group: str, query: dict[str, str], headers, path: str) -> Reply:
        """Keyset pagination (``pagination=keyset&order_by=id``): the next link carries
        ``id_after`` instead of a page number; offset is refused as GitLab does past its cap."""
        if group not in self.groups:
            return Reply(404, {"message": "404 Group Not Found"})
        keyset = query.get("pagination") == "keyset"
        if keyset and not self.keyset_groups:
            return Reply(405, {"message": "405 Method Not Allowed"})
        if not keyset:
            if self.keyset_groups:
                return Reply(400, {"message": "this fake pages group projects by keyset"})
            ids = sorted(self.groups[group])
            return self._page([self.projects[i].payload for i in ids], query, headers, path)
        after = int(query.get("id_after", 0))
        per_page = int(query.get("per_page", 20))
        ids = sorted(i for i in self.groups[group] if i > after)
        chunk = [self.projects[i].payload for i in ids[:per_page]]
        if query.get("archived") == "false":
            chunk = [p for p in chunk if not p.get("archived")]
        answer = {}
        if len(ids) > per_page:
            nxt = {**query, "id_after": str(ids[per_page - 1])}
            answer["Link"] = (
                f'<{self.scheme}://{headers["Host"]}{path}?{urlencode(nxt)}>; rel="next"'
            )
        return Reply(body=chunk, headers=answer)
