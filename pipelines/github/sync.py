"""Sync one GitHub repository's history into the raw layer, incrementally.

Each entity keeps a cursor in ``raw.sync_state`` (scope = repository). Rows land page by page, each
page in its own transaction; the cursor moves in the transaction of the last page, so a sync killed
between pages is simply redone from the old cursor (upserts make that harmless). The first run of a
repository goes back ``backfill_days``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import duckdb

from pipelines.errors import SourceError
from pipelines.github.client import GitHubClient, Page
from pipelines.http import RequestStats
from pipelines.warehouse import RawRecord, get_sync_state, set_cursor, transaction, upsert_raw

log = logging.getLogger(__name__)

ENTITIES = (
    "repository",
    "pull_requests",
    "commits",
    "tags",
    "releases",
    "deployments",
    "workflow_runs",
    "issues",
)
RAW_TABLES = (
    "github_repositories",
    "github_pull_requests",
    "github_pull_request_reviews",
    "github_pull_request_commits",
    "github_commits",
    "github_tags",
    "github_releases",
    "github_deployments",
    "github_deployment_statuses",
    "github_workflow_runs",
    "github_workflow_jobs",
    "github_issues",
)
# Items change after they are created (a run completes, a deployment gets its success status, a
# late commit date): re-read this much before the cursor so those changes are picked up.
RESYNC_OVERLAP = dt.timedelta(days=2)
# GitHub answers at most 1,000 runs per query: split the created= window until each fits.
RUNS_QUERY_CAP = 1000
MIN_RUN_WINDOW = dt.timedelta(minutes=1)


@dataclass
class EntityReport:
    items: int = 0
    pages: int = 0
    unchanged: bool = False
    # What the entity cost, from the client's RequestStats (shown as Dagster run metadata).
    requests: int = 0
    not_modified: int = 0
    retries: int = 0
    rate_limit_waits: int = 0
    waited_seconds: float = 0.0

    def as_dict(self) -> dict[str, float | int | bool]:
        return dataclasses.asdict(self)


@dataclass
class RepositorySyncReport:
    repository: str
    entities: dict[str, EntityReport] = field(default_factory=dict)

    def items(self) -> int:
        return sum(e.items for e in self.entities.values())

    def requests(self) -> int:
        return sum(e.requests for e in self.entities.values())


def parse_time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class RepositorySync:
    """Syncs every entity of one repository through ``client`` into ``con``."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        client: GitHubClient,
        *,
        source: str,
        repository: str,
        backfill_days: int,
        now: dt.datetime | None = None,
        progress: Callable[[str], None] | None = None,
        commits_from_git: Callable[[RepositorySync], None] | None = None,
    ) -> None:
        self.con = con
        self.client = client
        self.source = source
        self.repo = repository
        self.now = now or dt.datetime.now(dt.UTC)
        self.backfill_start = self.now - dt.timedelta(days=backfill_days)
        self.report = RepositorySyncReport(repository)
        self._progress = progress or (lambda message: log.info(message))
        self.default_branch = "main"
        # When given, default-branch commits come from a bare partial clone instead of the API.
        self._commits_from_git = commits_from_git

    # --- driver -----------------------------------------------------------------------------
    def run(self, entities: Iterable[str] = ENTITIES) -> RepositorySyncReport:
        for entity in entities:
            before = dataclasses.replace(self.client.stats)
            getattr(self, f"sync_{entity}")()
            r = self._entity(entity)
            _add_cost(r, before, self.client.stats)
            self._progress(
                f"{self.repo}: {entity}: {r.items} items in {r.pages} pages, "
                f"{r.requests} requests ({r.not_modified} not modified)"
                + (" (unchanged)" if r.unchanged else "")
            )
        return self.report

    def _state(self, entity: str):
        return get_sync_state(self.con, self.source, self.repo, entity)

    def _since(self, entity: str, overlap: dt.timedelta = RESYNC_OVERLAP) -> dt.datetime:
        state = self._state(entity)
        cursor = parse_time(state.cursor) if state and state.cursor else None
        return max(cursor - overlap, self.backfill_start) if cursor else self.backfill_start

    def _entity(self, entity: str) -> EntityReport:
        return self.report.entities.setdefault(entity, EntityReport())

    def _land(
        self,
        entity: str,
        batches: dict[str, list[RawRecord]],
        *,
        final: bool,
        cursor: str | None,
        etag: str | None = None,
    ) -> None:
        """Write one page's rows; on the final page also move the cursor, in the same transaction."""
        with transaction(self.con):
            written = 0
            for table, records in batches.items():
                n = upsert_raw(self.con, table, self.source, records)
                written += n if table == _PRIMARY_TABLE[entity] else 0
            if final:
                set_cursor(
                    self.con,
                    self.source,
                    self.repo,
                    entity,
                    cursor=cursor,
                    etag=etag,
                    items_added=self._entity(entity).items + written,
                )
        report = self._entity(entity)
        report.items += written
        report.pages += 1

    def _probe(
        self, entity: str, path: str, params: dict[str, Any] | None = None, *, per_page: int = 1
    ) -> tuple[bool, str | None]:
        """Has ``entity`` changed since its last complete sync? One conditional request.

        The probe is the first page of a query that depends on neither the cursor nor the clock, so
        it is the same URL on every run: its ETag (stored with the cursor, in the same transaction)
        answers 304, at no quota, while nothing changed. Returns (changed, the probe's ETag).
        """
        state = self._state(entity)
        etag = state.etag if state else None
        response = self.client.get(
            path,
            {"per_page": per_page, **(params or {})},
            headers={"If-None-Match": etag} if etag else None,
        )
        if response.status_code == 304:
            return False, etag
        return True, response.headers.get("ETag")

    def _finish_unchanged(self, entity: str) -> None:
        self._entity(entity).unchanged = True
        with transaction(self.con):
            set_cursor(self.con, self.source, self.repo, entity, cursor=None)

    # --- entities -----------------------------------------------------------------------------
    def sync_repository(self) -> None:
        state = self._state("repository")
        stored = self._stored_repository() if state and state.etag else None
        response = self.client.get(
            f"/repos/{self.repo}",
            headers={"If-None-Match": state.etag} if stored is not None else None,
        )
        if response.status_code == 304 and stored is not None:
            self.default_branch = stored.get("default_branch") or "main"
            self._finish_unchanged("repository")
            return
        payload = response.data
        if not isinstance(payload, dict):
            raise SourceError(
                f"GitHub sent {type(payload).__name__} for {response.url}; expected an object"
            )
        self.default_branch = payload.get("default_branch") or "main"
        record = RawRecord(self.repo, self.repo, payload, payload.get("updated_at"))
        self._land(
            "repository",
            {"github_repositories": [record]},
            final=True,
            cursor=payload.get("updated_at"),
            etag=response.headers.get("ETag"),
        )

    def _stored_repository(self) -> dict[str, Any] | None:
        row = self.con.execute(
            "SELECT payload FROM raw.github_repositories WHERE source = ? AND natural_key = ?",
            [self.source, self.repo],
        ).fetchone()
        return json.loads(row[0]) if row else None

    def sync_pull_requests(self) -> None:
        """Pull requests newest-updated first, stopping at the cursor; reviews and commits of each."""
        entity = "pull_requests"
        state = self._state(entity)
        stop_at = parse_time(state.cursor) if state and state.cursor else self.backfill_start
        newest: str | None = state.cursor if state else None
        pages = self.client.paginate(
            f"/repos/{self.repo}/pulls",
            {"state": "all", "sort": "updated", "direction": "desc"},
            etag=state.etag if state else None,
        )
        etag = None
        landed_any = False
        for page in pages:
            if page.number == 1:
                etag = page.etag
            fresh = [pr for pr in page.items if parse_time(pr["updated_at"]) > stop_at]
            if page.number == 1 and fresh:
                newest = max(pr["updated_at"] for pr in fresh)
            done = page.is_last or len(fresh) < len(page.items)
            batches: dict[str, list[RawRecord]] = {
                "github_pull_requests": [],
                "github_pull_request_reviews": [],
                "github_pull_request_commits": [],
            }
            for pr in fresh:
                key = f"{self.repo}#{pr['number']}"
                batches["github_pull_requests"].append(
                    RawRecord(key, self.repo, pr, pr["updated_at"])
                )
                batches["github_pull_request_reviews"].extend(self._reviews(pr["number"], key))
                batches["github_pull_request_commits"].extend(self._pr_commits(pr["number"], key))
            self._land(entity, batches, final=done, cursor=newest, etag=etag)
            landed_any = True
            if done:
                break
        if not landed_any:
            self._finish_unchanged(entity)

    def _reviews(self, number: int, pr_key: str) -> list[RawRecord]:
        return [
            RawRecord(
                f"{pr_key}/review/{review['id']}",
                self.repo,
                review,
                review.get("submitted_at"),
                pr_key,
            )
            for page in self.client.paginate(f"/repos/{self.repo}/pulls/{number}/reviews")
            for review in page.items
        ]

    def _pr_commits(self, number: int, pr_key: str) -> list[RawRecord]:
        return [
            RawRecord(f"{pr_key}@{commit['sha']}", self.repo, commit, _commit_date(commit), pr_key)
            for page in self.client.paginate(f"/repos/{self.repo}/pulls/{number}/commits")
            for commit in page.items
        ]

    def sync_commits(self) -> None:
        """Default-branch history since the cursor (commit date), with parents.

        A probe of the branch's newest commit (stable URL, ETag) makes an unchanged branch cost one
        304; the ``since=`` query runs only when the branch moved.
        """
        if self._commits_from_git is not None:
            self._commits_from_git(self)
            return
        entity = "commits"
        changed, etag = self._probe(
            entity, f"/repos/{self.repo}/commits", {"sha": self.default_branch}
        )
        if not changed:
            self._finish_unchanged(entity)
            return
        since = self._since(entity)
        newest = self._state(entity).cursor if self._state(entity) else None
        self._paged_entity(
            entity,
            self.client.paginate(
                f"/repos/{self.repo}/commits", {"sha": self.default_branch, "since": iso(since)}
            ),
            lambda c: RawRecord(f"{self.repo}@{c['sha']}", self.repo, c, _commit_date(c)),
            table="github_commits",
            cursor_of=_commit_date,
            previous_cursor=newest,
            etag=etag,
        )

    def sync_tags(self) -> None:
        # Tags carry no dates and no "since": the ETag of the first page makes an unchanged list free.
        state = self._state("tags")
        self._paged_entity(
            "tags",
            self.client.paginate(f"/repos/{self.repo}/tags", etag=state.etag if state else None),
            lambda t: RawRecord(f"{self.repo}/tag/{t['name']}", self.repo, t),
            table="github_tags",
        )

    def sync_releases(self) -> None:
        state = self._state("releases")
        self._paged_entity(
            "releases",
            self.client.paginate(
                f"/repos/{self.repo}/releases", etag=state.etag if state else None
            ),
            lambda r: RawRecord(
                f"{self.repo}/release/{r['id']}",
                self.repo,
                r,
                r.get("published_at") or r.get("created_at"),
            ),
            table="github_releases",
            cursor_of=lambda r: r.get("created_at"),
            stop_before=self.backfill_start,
        )

    def sync_deployments(self) -> None:
        """Deployments newest first back to the cursor (minus overlap), each with its statuses."""
        entity = "deployments"
        since = self._since(entity)
        state = self._state(entity)
        newest = state.cursor if state else None
        # The list itself is the stable query: its first page's ETag answers 304 while unchanged
        # (a new deployment, or a new status of a recent one, changes that page).
        etag = None
        landed_any = False
        for page in self.client.paginate(
            f"/repos/{self.repo}/deployments", etag=state.etag if state else None
        ):
            if page.number == 1:
                etag = page.etag
            fresh = [d for d in page.items if parse_time(d["created_at"]) >= since]
            if page.number == 1 and fresh:
                newest = max([d["created_at"] for d in fresh] + ([newest] if newest else []))
            done = page.is_last or len(fresh) < len(page.items)
            deployments, statuses = [], []
            for deployment in fresh:
                key = f"{self.repo}/deployment/{deployment['id']}"
                deployments.append(
                    RawRecord(key, self.repo, deployment, deployment.get("created_at"))
                )
                for spage in self.client.paginate(
                    f"/repos/{self.repo}/deployments/{deployment['id']}/statuses"
                ):
                    statuses.extend(
                        RawRecord(f"{key}/status/{s['id']}", self.repo, s, s.get("created_at"), key)
                        for s in spage.items
                    )
            self._land(
                entity,
                {"github_deployments": deployments, "github_deployment_statuses": statuses},
                final=done,
                cursor=newest,
                etag=etag,
            )
            landed_any = True
            if done:
                break
        if not landed_any:
            self._finish_unchanged(entity)

    def sync_workflow_runs(self) -> None:
        """Actions runs created since the cursor, with the jobs of completed runs."""
        entity = "workflow_runs"
        # The newest page of all runs changes when a run is created or a recent one moves on
        # (queued -> completed): one full page as the probe.
        changed, etag = self._probe(
            entity, f"/repos/{self.repo}/actions/runs", per_page=self.client.per_page
        )
        if not changed:
            self._finish_unchanged(entity)
            return
        since = self._since(entity)
        state = self._state(entity)
        newest = state.cursor if state else None
        windows = list(self._run_windows(since, self.now))
        for i, (start, end, first_page) in enumerate(windows):
            pages = self._continue_pages(first_page, f"/repos/{self.repo}/actions/runs", start, end)
            for page in pages:
                runs = page.items
                if runs:
                    latest = max(r["created_at"] for r in runs)
                    newest = max(latest, newest) if newest else latest
                done = page.is_last and i == len(windows) - 1
                jobs: list[RawRecord] = []
                for run in runs:
                    if run.get("status") != "completed":
                        continue
                    run_key = f"{self.repo}/run/{run['id']}"
                    for jpage in self.client.paginate(
                        f"/repos/{self.repo}/actions/runs/{run['id']}/jobs", items_key="jobs"
                    ):
                        jobs.extend(
                            RawRecord(
                                f"{self.repo}/job/{j['id']}",
                                self.repo,
                                j,
                                j.get("completed_at"),
                                run_key,
                            )
                            for j in jpage.items
                        )
                records = [
                    RawRecord(f"{self.repo}/run/{r['id']}", self.repo, r, r.get("updated_at"))
                    for r in runs
                ]
                self._land(
                    entity,
                    {"github_workflow_runs": records, "github_workflow_jobs": jobs},
                    final=done,
                    cursor=newest,
                    etag=etag,
                )

    def _run_windows(self, start: dt.datetime, end: dt.datetime):
        """Yield (start, end, first page) windows each holding at most 1,000 runs."""
        first = next(
            self.client.paginate(
                f"/repos/{self.repo}/actions/runs",
                {"created": f"{iso(start)}..{iso(end)}"},
                items_key="workflow_runs",
            )
        )
        total = first.total_count or 0
        if total > RUNS_QUERY_CAP and end - start > MIN_RUN_WINDOW:
            middle = start + (end - start) / 2
            yield from self._run_windows(start, middle)
            yield from self._run_windows(middle + dt.timedelta(seconds=1), end)
        else:
            yield start, end, first

    def _continue_pages(self, first: Page, path: str, start: dt.datetime, end: dt.datetime):
        yield first
        url = first.response.next_url
        number = 2
        while url:
            response = self.client.get(url)
            page = Page(response.data.get("workflow_runs", []), response, number)
            yield page
            url = response.next_url
            number += 1

    def sync_issues(self) -> None:
        """Issues (not pull requests) updated since the cursor; incident detection reads their labels."""
        entity = "issues"
        # Any change to an issue (or pull request) makes it the most recently updated one.
        changed, etag = self._probe(
            entity,
            f"/repos/{self.repo}/issues",
            {"state": "all", "sort": "updated", "direction": "desc"},
        )
        if not changed:
            self._finish_unchanged(entity)
            return
        since = self._since(entity, overlap=dt.timedelta(0))
        state = self._state(entity)
        self._paged_entity(
            entity,
            self.client.paginate(
                f"/repos/{self.repo}/issues",
                {"state": "all", "since": iso(since), "sort": "updated", "direction": "desc"},
            ),
            lambda i: RawRecord(f"{self.repo}!{i['number']}", self.repo, i, i.get("updated_at")),
            table="github_issues",
            keep=lambda i: "pull_request" not in i,
            cursor_of=lambda i: i.get("updated_at"),
            previous_cursor=state.cursor if state else None,
            etag=etag,
        )

    def _paged_entity(
        self,
        entity: str,
        pages: Iterable[Page],
        to_record: Callable[[dict[str, Any]], RawRecord],
        *,
        table: str,
        keep: Callable[[dict[str, Any]], bool] = lambda item: True,
        cursor_of: Callable[[dict[str, Any]], str | None] | None = None,
        previous_cursor: str | None = None,
        stop_before: dt.datetime | None = None,
        etag: str | None = None,
    ) -> None:
        """Land pages of one entity; ``etag`` (a probe's) replaces the first page's as the stored one."""
        newest = previous_cursor
        landed_any = False
        first_etag = etag
        for page in pages:
            if page.number == 1 and etag is None:
                first_etag = page.etag
            items = [item for item in page.items if keep(item)]
            if stop_before is not None and cursor_of is not None:
                items = [
                    i for i in items if (parse_time(cursor_of(i)) or stop_before) >= stop_before
                ]
            if cursor_of is not None:
                stamps = [c for c in map(cursor_of, items) if c]
                if stamps:
                    newest = max([*stamps, newest] if newest else stamps)
            done = page.is_last or (stop_before is not None and len(items) < len(page.items))
            self._land(
                entity,
                {table: [to_record(item) for item in items]},
                final=done,
                cursor=newest,
                etag=first_etag,
            )
            landed_any = True
            if done:
                break
        if not landed_any:
            self._finish_unchanged(entity)


_PRIMARY_TABLE = {
    "repository": "github_repositories",
    "pull_requests": "github_pull_requests",
    "commits": "github_commits",
    "tags": "github_tags",
    "releases": "github_releases",
    "deployments": "github_deployments",
    "workflow_runs": "github_workflow_runs",
    "issues": "github_issues",
}


def _add_cost(report: EntityReport, before: RequestStats, after: RequestStats) -> None:
    report.requests += after.requests - before.requests
    report.not_modified += after.not_modified - before.not_modified
    report.retries += after.retries - before.retries
    report.rate_limit_waits += after.rate_limit_waits - before.rate_limit_waits
    report.waited_seconds += round(after.waited_seconds - before.waited_seconds, 3)


def _commit_date(commit: dict[str, Any]) -> str | None:
    inner = commit.get("commit") or {}
    return (inner.get("committer") or {}).get("date") or (inner.get("author") or {}).get("date")
