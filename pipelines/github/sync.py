"""Sync one GitHub repository's history into the raw layer, incrementally.

Each entity keeps a cursor in ``raw.sync_state`` (scope = repository). Rows land page by page, each
page in its own transaction; the cursor moves in the transaction of the last page, so a sync killed
between pages is simply redone from the old cursor (upserts make that harmless). The first run of a
repository goes back ``backfill_days``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import duckdb

from pipelines.github.client import GitHubClient, Page
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


@dataclass
class RepositorySyncReport:
    repository: str
    entities: dict[str, EntityReport] = field(default_factory=dict)

    def items(self) -> int:
        return sum(e.items for e in self.entities.values())


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

    # --- driver -----------------------------------------------------------------------------
    def run(self, entities: Iterable[str] = ENTITIES) -> RepositorySyncReport:
        for entity in entities:
            getattr(self, f"sync_{entity}")()
            r = self.report.entities.get(entity, EntityReport())
            self._progress(
                f"{self.repo}: {entity}: {r.items} items in {r.pages} pages"
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

    def _finish_unchanged(self, entity: str) -> None:
        self._entity(entity).unchanged = True
        with transaction(self.con):
            set_cursor(self.con, self.source, self.repo, entity, cursor=None)

    # --- entities -----------------------------------------------------------------------------
    def sync_repository(self) -> None:
        payload = self.client.get_object(f"/repos/{self.repo}")
        self.default_branch = payload.get("default_branch") or "main"
        record = RawRecord(self.repo, self.repo, payload, payload.get("updated_at"))
        self._land(
            "repository",
            {"github_repositories": [record]},
            final=True,
            cursor=payload.get("updated_at"),
        )

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
        """Default-branch history since the cursor (commit date), with parents."""
        entity = "commits"
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
        for page in self.client.paginate(f"/repos/{self.repo}/deployments"):
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
            )
            if done:
                break

    def sync_workflow_runs(self) -> None:
        """Actions runs created since the cursor, with the jobs of completed runs."""
        entity = "workflow_runs"
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
    ) -> None:
        newest = previous_cursor
        landed_any = False
        first_etag = None
        for page in pages:
            if page.number == 1:
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


def _commit_date(commit: dict[str, Any]) -> str | None:
    inner = commit.get("commit") or {}
    return (inner.get("committer") or {}).get("date") or (inner.get("author") or {}).get("date")


def list_repositories(
    client: GitHubClient, organisations: Iterable[str], explicit: Iterable[str]
) -> list[str]:
    """Every non-archived repository of the organisations plus the explicit list, sorted, unique."""
    names = set(explicit)
    for org in organisations:
        for page in client.paginate(f"/orgs/{org}/repos", {"type": "all"}):
            names.update(r["full_name"] for r in page.items if not r.get("archived"))
    return sorted(names)
