"""Sync one GitLab project's history into the raw layer, incrementally.

Each entity keeps a cursor in ``raw.sync_state`` (source, scope = the project's path with namespace,
entity). Rows land page by page, each page in its own transaction; the cursor moves in the
transaction of the last page, so a sync killed between pages is redone from the old cursor and the
upserts on (source, natural_key) make that harmless. Merge requests, pipelines and deployments are
listed ``order_by=updated_at&sort=asc`` with ``updated_after`` = cursor minus an overlap (items
change after they are created: a pipeline finishes, a deployment succeeds); default-branch commits
with ``since``; environments, releases and tags are small and re-read whole. The first run of a
project goes back ``backfill_days``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import duckdb

from pipelines.github.sync import iso, parse_time
from pipelines.gitlab.client import GitLabClient, KeysetUnsupported, Page, project_ref
from pipelines.warehouse import RawRecord, get_sync_state, set_cursor, transaction, upsert_raw

log = logging.getLogger(__name__)

ENTITIES = (
    "merge_requests",
    "commits",
    "pipelines",
    "deployments",
    "environments",
    "releases",
    "tags",
)
RAW_TABLES = (
    "gitlab_projects",
    "gitlab_merge_requests",
    "gitlab_merge_request_approvals",
    "gitlab_merge_request_commits",
    "gitlab_commits",
    "gitlab_pipelines",
    "gitlab_jobs",
    "gitlab_deployments",
    "gitlab_environments",
    "gitlab_releases",
    "gitlab_tags",
)
RESYNC_OVERLAP = dt.timedelta(days=2)


@dataclass
class EntityReport:
    items: int = 0
    pages: int = 0
    requests: int = 0
    retries: int = 0
    rate_limit_waits: int = 0
    waited_seconds: float = 0.0

    def as_dict(self) -> dict[str, float | int]:
        return dataclasses.asdict(self)


@dataclass
class ProjectSyncReport:
    project: str
    entities: dict[str, EntityReport] = field(default_factory=dict)

    def items(self) -> int:
        return sum(e.items for e in self.entities.values())


def _later(a: str | None, b: str | None) -> str | None:
    if not a or not b:
        return a or b
    return a if parse_time(a) >= parse_time(b) else b


class ProjectSync:
    """Syncs every entity of one project through ``client`` into ``con``.

    ``project`` is what the configuration or the group listing names (path or id); the scope of
    every row and cursor is the project's ``path_with_namespace`` as GitLab answers it.
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        client: GitLabClient,
        *,
        source: str,
        project: str | int,
        backfill_days: int,
        now: dt.datetime | None = None,
        jobs: bool = True,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.con = con
        self.client = client
        self.source = source
        self.project = str(project)
        self.now = now or dt.datetime.now(dt.UTC)
        self.backfill_start = self.now - dt.timedelta(days=backfill_days)
        self.jobs = jobs
        self._progress = progress or (lambda message: log.info(message))
        self.scope = self.project
        self.project_id: str = project_ref(project)
        self.default_branch: str | None = None
        self.report = ProjectSyncReport(self.project)

    # --- driver -------------------------------------------------------------------------------
    def run(self, entities: Iterable[str] = ENTITIES) -> ProjectSyncReport:
        self._measured("project", self.sync_project)
        for entity in entities:
            self._measured(entity, getattr(self, f"sync_{entity}"))
        return self.report

    def _measured(self, entity: str, step: Callable[[], None]) -> None:
        before = dataclasses.replace(self.client.stats)
        step()
        r = self._entity(entity)
        after = self.client.stats
        r.requests += after.requests - before.requests
        r.retries += after.retries - before.retries
        r.rate_limit_waits += after.rate_limit_waits - before.rate_limit_waits
        r.waited_seconds += after.waited_seconds - before.waited_seconds
        self._progress(
            f"{self.scope}: {entity}: {r.items} items in {r.pages} pages, {r.requests} requests"
        )

    def _entity(self, entity: str) -> EntityReport:
        return self.report.entities.setdefault(entity, EntityReport())

    def _since(self, entity: str) -> dt.datetime:
        state = get_sync_state(self.con, self.source, self.scope, entity)
        cursor = parse_time(state.cursor) if state and state.cursor else None
        return max(cursor - RESYNC_OVERLAP, self.backfill_start) if cursor else self.backfill_start

    def _land(
        self,
        entity: str,
        primary: str,
        batches: dict[str, list[RawRecord]],
        *,
        final: bool,
        cursor: str | None,
    ) -> None:
        """Write one page's rows; on the final page also move the cursor, in the same transaction."""
        with transaction(self.con):
            written = 0
            for table, records in batches.items():
                n = upsert_raw(self.con, table, self.source, records)
                written += n if table == primary else 0
            if final:
                set_cursor(
                    self.con,
                    self.source,
                    self.scope,
                    entity,
                    cursor=cursor,
                    items_added=self._entity(entity).items + written,
                )
        report = self._entity(entity)
        report.items += written
        report.pages += 1

    def _listing(
        self,
        entity: str,
        primary: str,
        pages: Iterator[Page],
        rows: Callable[[dict[str, Any]], dict[str, list[RawRecord]]],
        *,
        cursor_field: str | None,
        cursor: str | None = None,
    ) -> None:
        """Land every page of a listing; the cursor (the newest ``cursor_field``) moves with the
        last page (``paginate`` always yields the first page, empty or not)."""
        newest = cursor
        for page in pages:
            batches: dict[str, list[RawRecord]] = {primary: []}
            for item in page.items:
                for table, records in rows(item).items():
                    batches.setdefault(table, []).extend(records)
                if cursor_field:
                    newest = _later(newest, item.get(cursor_field))
            self._land(entity, primary, batches, final=page.is_last, cursor=newest)

    def _cursor(self, entity: str) -> str | None:
        state = get_sync_state(self.con, self.source, self.scope, entity)
        return state.cursor if state else None

    def _path(self, suffix: str = "") -> str:
        return f"/projects/{self.project_id}{suffix}"

    # --- entities -----------------------------------------------------------------------------
    def sync_project(self) -> None:
        payload = self.client.object(self._path())
        self.scope = payload.get("path_with_namespace") or self.project
        # Numeric ids from here on: they survive a project being renamed or moved mid-sync.
        if payload.get("id") is not None:
            self.project_id = str(payload["id"])
        self.default_branch = payload.get("default_branch")
        record = RawRecord(self.scope, self.scope, payload, payload.get("last_activity_at"))
        self._land(
            "project",
            "gitlab_projects",
            {"gitlab_projects": [record]},
            final=True,
            cursor=payload.get("last_activity_at"),
        )

    def _updated_listing(self, entity: str, suffix: str, params: dict[str, Any] | None = None):
        return self.client.paginate(
            self._path(suffix),
            {
                "updated_after": iso(self._since(entity)),
                "order_by": "updated_at",
                "sort": "asc",
                **(params or {}),
            },
        )

    def sync_merge_requests(self) -> None:
        """Merge requests updated since the cursor, each with its approvals and its commits."""
        entity = "merge_requests"

        def rows(mr: dict[str, Any]) -> dict[str, list[RawRecord]]:
            key = f"{self.scope}!{mr['iid']}"
            approvals = self.client.object(self._path(f"/merge_requests/{mr['iid']}/approvals"))
            commits = [
                RawRecord(f"{key}@{c['id']}", self.scope, c, c.get("committed_date"), key)
                for page in self.client.paginate(self._path(f"/merge_requests/{mr['iid']}/commits"))
                for c in page.items
            ]
            return {
                "gitlab_merge_requests": [RawRecord(key, self.scope, mr, mr.get("updated_at"))],
                "gitlab_merge_request_approvals": [
                    RawRecord(
                        f"{key}/approvals",
                        self.scope,
                        approvals,
                        approvals.get("updated_at") or mr.get("updated_at"),
                        key,
                    )
                ],
                "gitlab_merge_request_commits": commits,
            }

        self._listing(
            entity,
            "gitlab_merge_requests",
            self._updated_listing(entity, "/merge_requests", {"state": "all", "scope": "all"}),
            rows,
            cursor_field="updated_at",
            cursor=self._cursor(entity),
        )

    def sync_commits(self) -> None:
        """Default-branch commits since the cursor (committed date), with their parents."""
        entity = "commits"
        params: dict[str, Any] = {"since": iso(self._since(entity))}
        if self.default_branch:
            params["ref_name"] = self.default_branch
        self._listing(
            entity,
            "gitlab_commits",
            self.client.paginate(self._path("/repository/commits"), params),
            lambda c: {
                "gitlab_commits": [
                    RawRecord(f"{self.scope}@{c['id']}", self.scope, c, c.get("committed_date"))
                ]
            },
            cursor_field="committed_date",
            cursor=self._cursor(entity),
        )

    def sync_pipelines(self) -> None:
        """Pipelines updated since the cursor: each one's details (start, finish, duration) and,
        with ``jobs``, its jobs including retried ones."""
        entity = "pipelines"

        def rows(item: dict[str, Any]) -> dict[str, list[RawRecord]]:
            pipeline = self.client.object(self._path(f"/pipelines/{item['id']}"))
            key = f"{self.scope}/pipeline/{item['id']}"
            out = {
                "gitlab_pipelines": [
                    RawRecord(key, self.scope, pipeline, pipeline.get("updated_at"))
                ]
            }
            if self.jobs:
                out["gitlab_jobs"] = [
                    RawRecord(
                        f"{self.scope}/job/{job['id']}",
                        self.scope,
                        job,
                        job.get("finished_at") or job.get("created_at"),
                        key,
                    )
                    for page in self.client.paginate(
                        self._path(f"/pipelines/{item['id']}/jobs"), {"include_retried": "true"}
                    )
                    for job in page.items
                ]
            return out

        self._listing(
            entity,
            "gitlab_pipelines",
            self._updated_listing(entity, "/pipelines"),
            rows,
            cursor_field="updated_at",
            cursor=self._cursor(entity),
        )

    def sync_deployments(self) -> None:
        entity = "deployments"
        self._listing(
            entity,
            "gitlab_deployments",
            self._updated_listing(entity, "/deployments"),
            lambda d: {
                "gitlab_deployments": [
                    RawRecord(
                        f"{self.scope}/deployment/{d['id']}", self.scope, d, d.get("updated_at")
                    )
                ]
            },
            cursor_field="updated_at",
            cursor=self._cursor(entity),
        )

    def _whole(
        self,
        entity: str,
        table: str,
        suffix: str,
        key: Callable[[dict[str, Any]], str],
        updated: str | None,
    ) -> None:
        self._listing(
            entity,
            table,
            self.client.paginate(self._path(suffix)),
            lambda item: {
                table: [
                    RawRecord(
                        f"{self.scope}/{key(item)}",
                        self.scope,
                        item,
                        item.get(updated) if updated else None,
                    )
                ]
            },
            cursor_field=None,
        )

    def sync_environments(self) -> None:
        self._whole(
            "environments",
            "gitlab_environments",
            "/environments",
            lambda e: f"environment/{e['id']}",
            "updated_at",
        )

    def sync_releases(self) -> None:
        self._whole(
            "releases",
            "gitlab_releases",
            "/releases",
            lambda r: f"release/{r['tag_name']}",
            "released_at",
        )

    def sync_tags(self) -> None:
        self._whole("tags", "gitlab_tags", "/repository/tags", lambda t: f"tag/{t['name']}", None)


def group_projects(
    client: GitLabClient, group: str, *, include_subgroups: bool, include_archived: bool
) -> list[str]:
    """The projects of ``group`` (path with namespace), listed with keyset pagination, or with
    offset pagination where the server answers 405 to keyset (older self-managed versions)."""
    params: dict[str, Any] = {
        "order_by": "id",
        "sort": "asc",
        "include_subgroups": "true" if include_subgroups else "false",
        "simple": "true",
    }
    if not include_archived:
        params["archived"] = "false"
    path = f"/groups/{project_ref(group)}/projects"
    try:
        pages = list(client.paginate(path, {"pagination": "keyset", **params}))
    except KeysetUnsupported:
        log.info("GitLab group %s: no keyset pagination; listing its projects by offset", group)
        pages = list(client.paginate(path, params))
    return [p["path_with_namespace"] for page in pages for p in page.items]
