"""Sync one GitHub repository's history into the raw layer, incrementally.

Each entity keeps a cursor in ``raw.sync_state`` (scope = repository). Rows land page by page, each
page in its own transaction; the cursor moves in the transaction of the last page, so a sync killed
between pages is simply redone from the old cursor (upserts make that harmless). The first run of a
repository goes back ``backfill_days``.

With ``api="graphql"`` pull requests (with reviews, commits, labels) and deployments (with
statuses) come from GitHub's GraphQL API, many per query (``pipelines/github/graphql.py``), after a
free conditional REST probe says something changed; their nodes are translated to the REST item
shape before landing, so the raw rows are the same whichever API fetched them (ADR 0008).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import duckdb

from pipelines.errors import SourceError, SourceNotFoundError
from pipelines.github import graphql as gql
from pipelines.github.client import GitHubClient, Page
from pipelines.github.listings import RepositoryListing
from pipelines.http import RequestStats
from pipelines.warehouse import (
    RawRecord,
    SyncCoverage,
    ensure_raw_table,
    get_coverage,
    get_sync_state,
    gone_keys,
    mark_gone,
    set_coverage,
    set_cursor,
    transaction,
    upsert_raw,
)

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
# Entities with a time axis: their first sync reads the newest window only, later runs walk back
# (progressive backfill, ``raw.sync_coverage``). Repository and tags have none: read whole.
WINDOWED = ("pull_requests", "commits", "releases", "deployments", "workflow_runs", "issues")
# Items change after they are created (a run completes, a deployment gets its success status, a
# late commit date): re-read this much before the cursor so those changes are picked up.
RESYNC_OVERLAP = dt.timedelta(days=2)
# GitHub answers at most 1,000 runs per query: split the created= window until each fits.
RUNS_QUERY_CAP = 1000
MIN_RUN_WINDOW = dt.timedelta(minutes=1)
# Jobs of this many runs land per transaction (a kill loses at most these requests).
JOBS_PER_TRANSACTION = 50


@dataclass(frozen=True)
class JobSelection:
    """Which completed workflow runs get their jobs read: one request each, the biggest cost.

    Runs of a workflow that can hold a deployment (``deployment_workflows``: regexes on the run's
    workflow name, given when a deployment ``job_regex`` needs jobs) always do. Of the others, at
    most ``sample_per_week`` per repository and ISO week (of ``created_at``) are read, those with
    the smallest hash of their id: deterministic, so a re-read picks the same runs, and unrelated to
    how long a run queued or ran. ``sample_per_week=None`` reads every run's jobs.
    """

    deployment_workflows: tuple[str, ...] = ()
    sample_per_week: int | None = None
    # With the GraphQL path (jobs as check runs, no queued-at time): runs per week and kind whose
    # jobs are read again by REST for their queue times, among runs created in the newest
    # ``queue_sample_days`` (None: any age).
    queue_sample_per_week: int = 0
    queue_sample_days: int | None = None

    def is_deployment(self, run: dict[str, Any]) -> bool:
        name = run.get("name") or ""
        return any(re.search(pattern, name) for pattern in self.deployment_workflows)


@dataclass(frozen=True)
class StoredRun:
    """What the warehouse holds of a run: its ``updated_at``, whether its jobs were read, whether
    any of them has a queue time (``created_at``: read by REST), its ISO week and kind, and its
    ``created_at``."""

    updated_at: str | None
    has_jobs: bool
    has_queue: bool
    week: tuple[int, int] | None
    deployment: bool
    created_at: str | None = None


def job_selection(source: Any, metrics: Any) -> JobSelection:
    """The :class:`JobSelection` of a GitHub source under the config's deployment definitions.

    Deployments come from jobs only where a ``job_regex`` is set (organisation-wide or for a
    service) and Actions is a deployment source; then the runs of the matching workflows need
    their jobs. Each service's own workflow regex counts (a superset: the exclude regex is left to
    dbt, so nothing it would keep is missing).
    """
    org = metrics.deployment
    patterns: set[str] = set()
    for override in [None, *metrics.services.values()]:
        d = override.deployment if override is not None else None
        job_regex = (d.job_regex if d and d.job_regex is not None else None) or org.job_regex
        sources = (d.sources if d and d.sources is not None else None) or org.sources
        if job_regex and "actions" in sources:
            patterns.add(
                (d.workflow_regex if d and d.workflow_regex else None) or org.workflow_regex
            )
    return JobSelection(
        tuple(sorted(patterns)),
        source.workflow_jobs_sample_per_week,
        queue_sample_per_week=source.workflow_jobs_queue_sample_per_week,
        queue_sample_days=source.workflow_jobs_queue_sample_days,
    )


def _sample_rank(run_id: Any) -> bytes:
    return hashlib.sha256(str(run_id).encode()).digest()


def _iso_week(timestamp: str | None) -> tuple[int, int] | None:
    moment = parse_time(timestamp)
    return moment.isocalendar()[:2] if moment else None


API_CHOICES = ("graphql", "rest")


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
    graphql_queries: int = 0
    graphql_points: int = 0
    # Progressive backfill: items landed by this run's step back, and how far back the entity is
    # fully synced after the run (ISO instant; empty for entities without a time axis).
    backfill_items: int = 0
    synced_from: str = ""

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
        jobs: JobSelection | None = None,
        api: str = "rest",
        initial_window_days: int | None = None,
        backfill_step_days: int | None = None,
        listing: RepositoryListing | None = None,
    ) -> None:
        if api not in API_CHOICES:
            raise ValueError(f"api must be one of {API_CHOICES}, not {api!r}")
        self.api = api
        self.con = con
        self.client = client
        self.source = source
        self.repo = repository
        self.now = now or dt.datetime.now(dt.UTC)
        self.backfill_start = self.now - dt.timedelta(days=backfill_days)
        # Progressive: the first sync of an entity reads back to here; later runs step back to
        # backfill_start. Not progressive (no initial window): everything on the first sync.
        self.progressive = initial_window_days is not None and initial_window_days < backfill_days
        self.initial_start = max(
            self.now - dt.timedelta(days=initial_window_days or backfill_days), self.backfill_start
        )
        self.backfill_step = dt.timedelta(days=backfill_step_days or backfill_days)
        self._floors: dict[str, dt.datetime] = {}
        # Entities whose increment this run skips: a progressive first sync (see _start_entity).
        self._skipped: set[str] = set()
        # Keys of runs whose REST jobs answered 404 (deleted on GitHub), in this run or an earlier
        # one (raw.sync_gone, read when first needed): not asked again.
        self._gone_runs: set[str] | None = None
        self.report = RepositorySyncReport(repository)
        self._progress = progress or (lambda message: log.info(message))
        self.default_branch = "main"
        # When given, default-branch commits come from a bare partial clone instead of the API.
        self._commits_from_git = commits_from_git
        self.jobs = jobs or JobSelection()
        # The repository, its tags and newest releases as a batched GraphQL query read them
        # (pipelines/github/listings.py): landed instead of asking REST, where complete.
        self.listing = listing

    # --- driver -----------------------------------------------------------------------------
    def run(self, entities: Iterable[str] = ENTITIES) -> RepositorySyncReport:
        for entity in entities:
            before = dataclasses.replace(self.client.stats)
            r = self._entity(entity)
            try:
                self._start_entity(entity)
                if entity in self._skipped:
                    with transaction(self.con):
                        self._mark_synced(entity)
                else:
                    getattr(self, f"sync_{entity}")()
                if not self._reads_all(entity):
                    self._backfill_step(entity)
            finally:
                _add_cost(r, before, self.client.stats)
                coverage = self._coverage(entity) if entity in WINDOWED else None
                r.synced_from = iso(coverage.synced_from) if coverage else ""
            self._progress(
                f"{self.repo}: {entity}: {r.items} items in {r.pages} pages, "
                f"{r.requests} requests ({r.not_modified} not modified)"
                + (
                    f", {r.graphql_queries} GraphQL queries ({r.graphql_points} points)"
                    if r.graphql_queries
                    else ""
                )
                + (" (unchanged)" if r.unchanged else "")
                + (f", {r.backfill_items} of them backfilled" if r.backfill_items else "")
                + _coverage_note(coverage, self.backfill_start)
            )
        return self.report

    def _state(self, entity: str):
        return get_sync_state(self.con, self.source, self.repo, entity)

    def _since(self, entity: str, overlap: dt.timedelta = RESYNC_OVERLAP) -> dt.datetime:
        cursor = self._cursor_time(entity)
        floor = self._floor(entity)
        return max(cursor - overlap, floor) if cursor else floor

    def _cursor_time(self, entity: str) -> dt.datetime | None:
        """The entity's cursor; without one (nothing seen yet), the end of its coverage minus the
        overlap: a first sync's window was read by the walk back, which moves no cursor."""
        state = self._state(entity)
        if state and state.cursor:
            return parse_time(state.cursor)
        coverage = self._coverage(entity) if entity in WINDOWED else None
        return coverage.synced_to - RESYNC_OVERLAP if coverage else None

    # --- progressive backfill ------------------------------------------------------------------
    def _coverage(self, entity: str) -> SyncCoverage | None:
        return get_coverage(self.con, self.source, self.repo, entity)

    def _reads_all(self, entity: str) -> bool:
        """Entities read whole every time: no time axis, or commits from a git clone."""
        return entity not in WINDOWED or (
            entity == "commits" and self._commits_from_git is not None
        )

    def _start_entity(self, entity: str) -> None:
        """Fix how far back this run's increment of ``entity`` reads.

        With coverage: back to what is already fully synced (older spans are the backfill's). A
        first sync, progressive (no coverage, no cursor): no increment at all. Its floor would be
        now, so it could only find nothing and store the probe's ETag, at a request or query per
        entity; instead the coverage opens empty at now (synced_from = synced_to = now, no
        request) and the walk back reads the newest window, page by page, resumable. The next
        run's increment reads from that coverage's end (``_cursor_time``). Where the walk's first
        page is the very request the next increment makes (REST pull requests, releases and
        deployments: the same URL and parameters), its ETag is stored as the entity's, so an
        unchanged next run still gets a free 304; elsewhere (commits, issues, workflow runs, and
        pull requests and deployments through GraphQL, whose probes are other requests) the next
        run's probe is unconditional once, and it reads the overlap since the coverage's end.
        Not progressive: back to ``backfill_days`` at once. An entity synced before coverage
        existed (a cursor, no coverage row) was read back to ``backfill_days``: complete.
        """
        coverage = self._coverage(entity) if entity in WINDOWED else None
        if self._reads_all(entity):
            floor = self.backfill_start
        elif coverage is not None:
            floor = max(coverage.synced_from, self.backfill_start)
        elif self._state(entity) is not None or not self.progressive:
            floor = self.backfill_start
        else:
            floor = self.now
            self._skipped.add(entity)
        self._floors[entity] = floor

    def _floor(self, entity: str) -> dt.datetime:
        return self._floors.get(entity, self.backfill_start)

    def _mark_synced(self, entity: str) -> None:
        """The increment of ``entity`` finished (or, on a progressive first sync, was skipped: the
        coverage opens empty at now): its coverage reaches now. Inside its transaction."""
        if entity not in WINDOWED:
            return
        coverage = self._coverage(entity)
        floor = self._floor(entity)
        set_coverage(
            self.con,
            self.source,
            self.repo,
            entity,
            synced_from=min(coverage.synced_from, floor) if coverage else floor,
            synced_to=self.now,
            target_from=self.backfill_start,
            resume_at=coverage.resume_at if coverage else None,
        )

    def _backfill_step(self, entity: str) -> None:
        """Read one window older than the entity's coverage: the rest of the newest
        ``initial_window_days`` while they are not covered (a first sync), else
        ``backfill_step_days`` further back.

        Pages land each in its own transaction with the position of the next page to read
        (``resume_at``); ``synced_from`` moves back only with the window's last page. A run killed
        or stopped at the budget reserve continues from that page next time: no gap (coverage moves
        last) and no duplicate (rows upsert).
        """
        coverage = self._coverage(entity)
        if coverage is None or coverage.synced_from <= self.backfill_start:
            return
        upper = coverage.synced_from
        if upper > self.initial_start:
            lower = self.initial_start
        else:
            lower = max(upper - self.backfill_step, self.backfill_start)
        getattr(self, f"_backfill_{entity}")(lower, upper, coverage.resume_at)

    def _land_window(
        self,
        entity: str,
        batches: dict[str, list[RawRecord]],
        *,
        resume_at: str | None,
        synced_from: dt.datetime | None,
        etag: str | None = None,
    ) -> None:
        """Write one backfill page's rows and the walk's position; with ``synced_from`` (the
        window's last page) also move the coverage back, in the same transaction. ``etag``: the
        entity's probe ETag (see ``_walk_back``), stored with the page it came with."""
        with transaction(self.con):
            written = self._upsert_batches(entity, batches)
            # The cursor stays; items_total and last_synced_at count the backfill too.
            set_cursor(
                self.con,
                self.source,
                self.repo,
                entity,
                cursor=None,
                etag=etag,
                items_added=written,
            )
            coverage = self._coverage(entity)
            if coverage is None:
                raise SourceError(f"{self.source}: {self.repo}: {entity}: coverage vanished")
            set_coverage(
                self.con,
                self.source,
                self.repo,
                entity,
                synced_from=synced_from or coverage.synced_from,
                synced_to=coverage.synced_to,
                target_from=self.backfill_start,
                resume_at=resume_at,
            )
        report = self._entity(entity)
        report.items += written
        report.backfill_items += written
        report.pages += 1

    def _walk_back(
        self,
        entity: str,
        pages: Iterable[tuple[list[dict[str, Any]], str | None, bool, str | None]],
        stamp: Callable[[dict[str, Any]], str | None],
        lower: dt.datetime,
        upper: dt.datetime,
        to_batches: Callable[[list[dict[str, Any]]], dict[str, list[RawRecord]]],
        *,
        bounded: bool = False,
        carry_position: bool = True,
        probe: bool = False,
    ) -> None:
        """Land the items of a newest-first listing stamped within [lower, upper].

        ``pages`` yields (items, position of the next page, last page?, the page's ETag). An item moved by an update goes to the top, so positions only shift towards
        the end: a stored position re-reads, never skips. The window ends at the first item older
        than ``lower``, or at the listing's end, which (unless the query is ``bounded`` by dates)
        means nothing older exists: the entity is then fully synced. With ``carry_position`` (one
        listing walked further down window by window) the page that crosses ``lower`` lands whole,
        its older items too (down to ``backfill_start``), and the next window starts after it: no
        page is read twice. Without it (a listing bounded by the window's dates) the next window
        is a new query.

        On a first sync whose increment was skipped (``_start_entity``) the walk starts at the
        listing's top and keeps items newer than ``upper`` too (the increment would have); with
        ``probe`` (the listing's first page is the request the next run's increment makes) that
        page's ETag is stored as the entity's, with the page, so an unchanged listing answers the
        next run 304: everything that page showed is landed.
        """
        skipped = entity in self._skipped
        first = True
        for items, following, last, etag in pages:
            # The last page of an unbounded listing: nothing older exists, keep all of it.
            floor = self.backfill_start if last and not bounded else lower
            times = [parse_time(stamp(item)) for item in items]
            older = any(t is not None and t < lower for t in times)
            # The page crossing the window's start, in a listing the next window walks on from:
            # its older items are the next window's first, so land them now rather than re-read.
            keep_from = self.backfill_start if older and carry_position else floor
            kept = [
                i
                for i, t in zip(items, times, strict=True)
                if t and keep_from <= t and (skipped or t <= upper)
            ]
            reached = floor if (older or last) else None
            resume = following if carry_position or not reached else None
            self._land_window(
                entity,
                to_batches(kept),
                resume_at=resume,
                synced_from=reached,
                etag=etag if skipped and probe and first else None,
            )
            first = False
            if reached:
                return
        self._land_window(
            entity, {}, resume_at=None, synced_from=lower if bounded else self.backfill_start
        )

    def _rest_positions(
        self, path: str, params: dict[str, Any], resume: str | None, items_key: str | None = None
    ):
        """Pages of a REST listing from page ``resume`` on, as (items, next page, last?, ETag)."""
        start = int(resume) if resume and resume.isdigit() else 1
        query = {**params, "page": start} if start > 1 else params
        for page in self.client.paginate(path, query, items_key=items_key):
            number = start + page.number - 1
            yield page.items, str(number + 1), page.is_last, page.etag

    def _graphql_positions(
        self, query: str, path: tuple[str, ...], page_size: int, resume: str | None
    ):
        """Pages of a GraphQL connection from cursor ``resume`` on, as (nodes, the cursor that
        reads the next page, last?, no ETag)."""
        operation = query.split("(")[0].split()[-1]
        after = resume
        while True:
            data = self._graphql(
                query, {"first": page_size, "after": after, "nested": gql.NESTED_PAGE}, operation
            )
            connection = self._connection(data, path, operation)
            nodes = [n for n in connection["nodes"] if n]
            info = connection.get("pageInfo") or {}
            self._check_progress(info, nodes, operation)
            last = not info.get("hasNextPage")
            yield nodes, info.get("endCursor"), last, None
            if last:
                return
            after = info.get("endCursor")

    def _backfill_pull_requests(self, lower: dt.datetime, upper: dt.datetime, resume: str | None):
        if self.api == "graphql":
            pages = self._graphql_positions(
                gql.PULL_REQUESTS, ("repository", "pullRequests"), gql.PULL_REQUEST_PAGE, resume
            )
            self._walk_back(
                "pull_requests",
                pages,
                lambda n: n.get("updatedAt"),
                lower,
                upper,
                self._pull_request_batches,
            )
            return
        pages = self._rest_positions(
            f"/repos/{self.repo}/pulls",
            {"state": "all", "sort": "updated", "direction": "desc"},
            resume,
        )
        self._walk_back(
            "pull_requests",
            pages,
            lambda pr: pr.get("updated_at"),
            lower,
            upper,
            self._pull_request_rest_batches,
            probe=True,
        )

    def _backfill_deployments(self, lower: dt.datetime, upper: dt.datetime, resume: str | None):
        if self.api == "graphql":
            pages = self._graphql_positions(
                gql.DEPLOYMENTS, ("repository", "deployments"), gql.DEPLOYMENT_PAGE, resume
            )
            self._walk_back(
                "deployments",
                pages,
                lambda n: n.get("createdAt"),
                lower,
                upper,
                self._deployment_batches,
            )
            return
        pages = self._rest_positions(f"/repos/{self.repo}/deployments", {}, resume)
        self._walk_back(
            "deployments",
            pages,
            lambda d: d.get("created_at"),
            lower,
            upper,
            self._deployment_rest_batches,
            probe=True,
        )

    def _backfill_releases(self, lower: dt.datetime, upper: dt.datetime, resume: str | None):
        path = f"/repos/{self.repo}/releases"
        if self.listing is not None and (resume or "1") == "1":
            listing = self.listing

            def listed_first():
                # The listing stands for REST's page 1; REST reads on from page 2 if needed.
                yield listing.releases, "2", listing.releases_complete, None
                if not listing.releases_complete:
                    yield from self._rest_positions(path, {}, "2")

            pages = listed_first()
        else:
            pages = self._rest_positions(path, {}, resume)
        self._walk_back(
            "releases",
            pages,
            lambda r: r.get("created_at"),
            lower,
            upper,
            lambda items: {"github_releases": [self._release_record(r) for r in items]},
            probe=True,
        )

    def _backfill_issues(self, lower: dt.datetime, upper: dt.datetime, resume: str | None):
        # One newest-updated listing walked down window by window, as pull requests are (no
        # since=: a window bounded below would end on a short page the next window reads again).
        pages = self._rest_positions(
            f"/repos/{self.repo}/issues",
            {"state": "all", "sort": "updated", "direction": "desc"},
            resume,
        )
        self._walk_back(
            "issues",
            pages,
            lambda i: i.get("updated_at"),
            lower,
            upper,
            lambda items: {
                "github_issues": [self._issue_record(i) for i in items if "pull_request" not in i]
            },
        )

    def _backfill_commits(self, lower: dt.datetime, upper: dt.datetime, resume: str | None):
        # since/until bound the window itself: a position is only good within one window.
        pages = self._rest_positions(
            f"/repos/{self.repo}/commits",
            {"sha": self.default_branch, "since": iso(lower), "until": iso(upper)},
            resume,
        )
        self._walk_back(
            "commits",
            pages,
            _commit_date,
            lower,
            upper,
            lambda items: {"github_commits": [self._commit_record(c) for c in items]},
            bounded=True,
            carry_position=False,
        )

    def _backfill_workflow_runs(self, lower: dt.datetime, upper: dt.datetime, resume: str | None):
        """Walk the unfiltered run listing (newest created first) down to ``lower``, as pull
        requests are walked (:meth:`_walk_back`).

        GitHub caps a run listing at 1,000 runs only when it is filtered (``created=`` among
        them), so the unfiltered one needs no window splitting, and each window ends on the page
        that crosses its start: that page lands whole (its older runs too, down to
        ``backfill_start``) and the next window starts after it, so no page is read twice. A
        run's ``created_at`` never changes (a re-run updates it in place), so the order is fixed;
        new runs push the walk's position down (a page is re-read, never skipped). The position
        and the coverage move with the last jobs of the window, in one transaction: a window cut
        short (a crash, the budget reserve) is read again from its first page, which costs its
        run pages but not the jobs already stored.
        """
        entity = "workflow_runs"
        skipped = entity in self._skipped
        walk: dict[str, Any] = {"next": resume, "reached": lower, "etag": None}

        def pages() -> Iterator[list[dict[str, Any]]]:
            listing = self._rest_positions(
                f"/repos/{self.repo}/actions/runs", {}, resume, items_key="workflow_runs"
            )
            for n, (runs, following, last, etag) in enumerate(listing):
                times = [parse_time(r.get("created_at")) for r in runs]
                older = any(t is not None and t < lower for t in times)
                # The first page of a first sync is the request the next run's probe makes.
                if skipped and n == 0 and not resume:
                    walk["etag"] = etag
                walk["next"] = None if last else following
                if last:
                    walk["reached"] = self.backfill_start
                yield [
                    r
                    for r, t in zip(runs, times, strict=True)
                    if t and self.backfill_start <= t and (skipped or t <= upper)
                ]
                if older or last:
                    return

        def finish() -> None:
            coverage = self._coverage(entity)
            if walk["etag"]:
                set_cursor(self.con, self.source, self.repo, entity, cursor=None, etag=walk["etag"])
            set_coverage(
                self.con,
                self.source,
                self.repo,
                entity,
                synced_from=walk["reached"],
                synced_to=coverage.synced_to if coverage else self.now,
                target_from=self.backfill_start,
                resume_at=walk["next"],
            )

        before = self._entity(entity).items
        for _ in self._land_runs(pages(), finish):
            pass
        report = self._entity(entity)
        report.backfill_items += report.items - before

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
            written = self._upsert_batches(entity, batches)
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
                self._mark_synced(entity)
        report = self._entity(entity)
        report.items += written
        report.pages += 1

    def _land_listed(
        self, entity: str, records: list[RawRecord], cursor: str | None = None
    ) -> None:
        """Land a listing's rows that differ from what is stored: the listing is read whole on
        every run, so an unchanged one writes nothing (and leaves incremental models alone).
        Without sync state (a first sync, or a resync that forgot it) everything lands."""
        table = _PRIMARY_TABLE[entity]
        qualified = ensure_raw_table(self.con, table)
        if self._state(entity) is None:
            self._land(entity, {table: records}, final=True, cursor=cursor)
            return
        stored = dict(
            self.con.execute(
                f"SELECT natural_key, payload FROM {qualified} "
                "WHERE source = ? AND natural_key IN (SELECT unnest(?::VARCHAR[]))",
                [self.source, [r.natural_key for r in records]],
            ).fetchall()
        )
        fresh = [
            r
            for r in records
            if r.natural_key not in stored or json.loads(stored[r.natural_key]) != r.payload
        ]
        if not fresh:
            self._finish_unchanged(entity)
            return
        self._land(entity, {table: fresh}, final=True, cursor=cursor)

    def _upsert_batches(self, entity: str, batches: dict[str, list[RawRecord]]) -> int:
        """Upsert one page's rows; returns how many went to the entity's own table."""
        written = 0
        for table, records in batches.items():
            n = upsert_raw(self.con, table, self.source, records)
            written += n if table == _PRIMARY_TABLE[entity] else 0
        return written

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
            self._mark_synced(entity)

    # --- entities -----------------------------------------------------------------------------
    def sync_repository(self) -> None:
        if self.listing is not None:
            payload = self.listing.repository
            self.default_branch = payload.get("default_branch") or "main"
            self._land_listed(
                "repository",
                [RawRecord(self.repo, self.repo, payload, payload.get("updated_at"))],
                cursor=payload.get("updated_at"),
            )
            return
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
        if self.api == "graphql":
            self._pull_requests_graphql()
            return
        entity = "pull_requests"
        state = self._state(entity)
        stop_at = self._cursor_time(entity) or self._floor(entity)
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
            batches = self._pull_request_rest_batches(fresh)
            self._land(entity, batches, final=done, cursor=newest, etag=etag)
            landed_any = True
            if done:
                break
        if not landed_any:
            self._finish_unchanged(entity)

    def _pull_request_rest_batches(self, pulls: list[dict[str, Any]]) -> dict[str, list[RawRecord]]:
        """Pull requests of a REST page with their reviews and commits (2 requests each)."""
        batches: dict[str, list[RawRecord]] = {
            "github_pull_requests": [],
            "github_pull_request_reviews": [],
            "github_pull_request_commits": [],
        }
        for pr in pulls:
            key = f"{self.repo}#{pr['number']}"
            batches["github_pull_requests"].append(RawRecord(key, self.repo, pr, pr["updated_at"]))
            batches["github_pull_request_reviews"].extend(self._reviews(pr["number"], key))
            batches["github_pull_request_commits"].extend(self._pr_commits(pr["number"], key))
        return batches

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
            self._commit_record,
            table="github_commits",
            cursor_of=_commit_date,
            previous_cursor=newest,
            etag=etag,
        )

    def _commit_record(self, commit: dict[str, Any]) -> RawRecord:
        return RawRecord(f"{self.repo}@{commit['sha']}", self.repo, commit, _commit_date(commit))

    def _release_record(self, release: dict[str, Any]) -> RawRecord:
        return RawRecord(
            f"{self.repo}/release/{release['id']}",
            self.repo,
            release,
            release.get("published_at") or release.get("created_at"),
        )

    def _issue_record(self, issue: dict[str, Any]) -> RawRecord:
        return RawRecord(
            f"{self.repo}!{issue['number']}", self.repo, issue, issue.get("updated_at")
        )

    def sync_tags(self) -> None:
        if self.listing is not None and self.listing.tags_complete:
            self._land_listed("tags", [self._tag_record(t) for t in self.listing.tags])
            return
        # Tags carry no dates and no "since": the ETag of the first page makes an unchanged list free.
        state = self._state("tags")
        self._paged_entity(
            "tags",
            self.client.paginate(f"/repos/{self.repo}/tags", etag=state.etag if state else None),
            self._tag_record,
            table="github_tags",
        )

    def _tag_record(self, tag: dict[str, Any]) -> RawRecord:
        return RawRecord(f"{self.repo}/tag/{tag['name']}", self.repo, tag)

    def sync_releases(self) -> None:
        if self.listing is not None:
            # The listing is REST's first page in the same order (newest created first): enough
            # when it holds the whole list or reaches below the window's floor.
            floor = self._floor("releases")
            listed = self.listing.releases
            kept = [r for r in listed if (parse_time(r.get("created_at")) or floor) >= floor]
            if self.listing.releases_complete or len(kept) < len(listed):
                stamps = [r["created_at"] for r in kept if r.get("created_at")]
                self._land_listed(
                    "releases",
                    [self._release_record(r) for r in kept],
                    cursor=max(stamps) if stamps else None,
                )
                return
        state = self._state("releases")
        self._paged_entity(
            "releases",
            self.client.paginate(
                f"/repos/{self.repo}/releases", etag=state.etag if state else None
            ),
            self._release_record,
            table="github_releases",
            cursor_of=lambda r: r.get("created_at"),
            stop_before=self._floor("releases"),
        )

    def sync_deployments(self) -> None:
        """Deployments newest first back to the cursor (minus overlap), each with its statuses."""
        if self.api == "graphql":
            self._deployments_graphql()
            return
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
            self._land(
                entity,
                self._deployment_rest_batches(fresh),
                final=done,
                cursor=newest,
                etag=etag,
            )
            landed_any = True
            if done:
                break
        if not landed_any:
            self._finish_unchanged(entity)

    def _deployment_rest_batches(
        self, deployments: list[dict[str, Any]]
    ) -> dict[str, list[RawRecord]]:
        """Deployments of a REST page with their statuses (1 request each)."""
        records, statuses = [], []
        for deployment in deployments:
            key = f"{self.repo}/deployment/{deployment['id']}"
            records.append(RawRecord(key, self.repo, deployment, deployment.get("created_at")))
            for spage in self.client.paginate(
                f"/repos/{self.repo}/deployments/{deployment['id']}/statuses"
            ):
                statuses.extend(
                    RawRecord(f"{key}/status/{s['id']}", self.repo, s, s.get("created_at"), key)
                    for s in spage.items
                )
        return {"github_deployments": records, "github_deployment_statuses": statuses}

    # --- GraphQL bulk path (pull requests, deployments) --------------------------------------------
    def _graphql(
        self,
        query: str,
        variables: dict[str, Any],
        operation: str,
        *,
        missing_nodes: bool = False,
    ) -> dict[str, Any]:
        """Run one query for this repository; any error is one line naming the source, the
        repository and the credential that signed it (never its secret). With ``missing_nodes``,
        ``NOT_FOUND`` errors of single ``nodes(ids:)`` entries (deleted objects) are not errors:
        those nodes come back null."""
        owner, name = self.repo.split("/", 1)
        if "$owner" in query:
            variables = {"owner": owner, "name": name, **variables}
        try:
            data = self.client.graphql(
                query,
                variables,
                operation=operation,
                tolerate=_missing_node if missing_nodes else None,
            )
        except gql.GraphQLError as exc:
            hint = (
                "; the credential cannot read this repository through GraphQL "
                "(set 'api: rest' for this source)"
                if {"NOT_FOUND", "FORBIDDEN"} & set(exc.types)
                else ""
            )
            raise SourceError(
                f"{self.source}: {self.repo}: {exc}{self._credential_note()}{hint}"
            ) from None
        except SourceError as exc:
            # HTTP-level failures (401/403 credentials, retries spent) name only the /graphql URL.
            raise type(exc)(f"{self.source}: {self.repo}: {exc}") from None
        if not {"node", "nodes"} & data.keys() and not isinstance(data.get("repository"), dict):
            raise SourceError(
                f"{self.source}: {self.repo}: GitHub GraphQL {operation} returned no repository"
                f"{self._credential_note()}; the credential cannot read it through GraphQL "
                "(set 'api: rest' for this source)"
            )
        return data

    def _credential_note(self) -> str:
        """`` (github token 2)``: the label of the credential that signed the last request."""
        pool = getattr(self.client, "credentials", None)
        used = pool.last_used if pool is not None else None
        return f" ({used.label})" if used is not None else ""

    def _connection(self, data: dict[str, Any], path: tuple[str, ...], operation: str):
        found: Any = data
        for key in path:
            found = found.get(key) if isinstance(found, dict) else None
        if not isinstance(found, dict) or not isinstance(found.get("nodes"), list):
            raise SourceError(
                f"{self.source}: {self.repo}: GitHub GraphQL {operation} sent no "
                f"{'.'.join(path)} connection"
            )
        return found

    def _all_nodes(
        self,
        connection: dict[str, Any],
        query: str,
        variables: dict[str, Any],
        operation: str,
        path: tuple[str, ...],
    ) -> list[dict[str, Any]]:
        """A nested connection's nodes; only one that overflows its page costs further queries."""
        nodes = [n for n in connection.get("nodes") or [] if n]
        info = connection.get("pageInfo") or {}
        while info.get("hasNextPage"):
            data = self._graphql(query, {**variables, "after": info.get("endCursor")}, operation)
            more = self._connection(data, path, operation)
            page = [n for n in more["nodes"] if n]
            info = more.get("pageInfo") or {}
            self._check_progress(info, page, operation)
            nodes.extend(page)
        return nodes

    def _check_progress(
        self, info: dict[str, Any], nodes: list[dict[str, Any]], operation: str
    ) -> None:
        """A page that promises more but is empty, or has no cursor, would never end (or end
        early and move the cursor past what never arrived): stop with the cursor unmoved."""
        if info.get("hasNextPage") and (not nodes or not info.get("endCursor")):
            raise SourceError(
                f"{self.source}: {self.repo}: GitHub GraphQL {operation} said more pages follow "
                "but sent an empty page or no cursor; the cursor did not move (re-run)"
            )

    def _graphql_crawl(
        self,
        entity: str,
        query: str,
        path: tuple[str, ...],
        page_size: int,
        *,
        fresh: Callable[[dict[str, Any]], bool],
        stamp: str,
        to_batches: Callable[[list[dict[str, Any]]], dict[str, list[RawRecord]]],
        etag: str | None,
    ) -> None:
        """Land pages of a connection read newest first, until a node is no longer ``fresh``;
        the cursor (the newest ``stamp``) moves with the last page, as on the REST path."""
        operation = query.split("(")[0].split()[-1]
        state = self._state(entity)
        newest: str | None = state.cursor if state else None
        after: str | None = None
        while True:
            data = self._graphql(
                query, {"first": page_size, "after": after, "nested": gql.NESTED_PAGE}, operation
            )
            connection = self._connection(data, path, operation)
            nodes = [n for n in connection["nodes"] if n]
            kept = [n for n in nodes if fresh(n)]
            if kept:
                newest = max([n[stamp] for n in kept] + ([newest] if newest else []))
            info = connection.get("pageInfo") or {}
            self._check_progress(info, nodes, operation)
            done = not info.get("hasNextPage") or len(kept) < len(nodes)
            self._land(entity, to_batches(kept), final=done, cursor=newest, etag=etag)
            if done:
                return
            after = info.get("endCursor")

    def _pull_requests_graphql(self) -> None:
        entity = "pull_requests"
        # A conditional REST request for the newest-updated pull request is free when nothing
        # changed (304); any new or updated pull request, review or push changes it.
        changed, etag = self._probe(
            entity,
            f"/repos/{self.repo}/pulls",
            {"state": "all", "sort": "updated", "direction": "desc"},
        )
        if not changed:
            self._finish_unchanged(entity)
            return
        stop_at = self._cursor_time(entity) or self._floor(entity)
        self._graphql_crawl(
            entity,
            gql.PULL_REQUESTS,
            ("repository", "pullRequests"),
            gql.PULL_REQUEST_PAGE,
            fresh=lambda n: parse_time(n["updatedAt"]) > stop_at,
            stamp="updatedAt",
            to_batches=self._pull_request_batches,
            etag=etag,
        )

    def _pull_request_batches(self, nodes: list[dict[str, Any]]) -> dict[str, list[RawRecord]]:
        batches: dict[str, list[RawRecord]] = {
            "github_pull_requests": [],
            "github_pull_request_reviews": [],
            "github_pull_request_commits": [],
        }
        for node in nodes:
            pr = gql.pull_request_item(node)
            key = f"{self.repo}#{pr['number']}"
            nested = {"number": pr["number"]}
            batches["github_pull_requests"].append(RawRecord(key, self.repo, pr, pr["updated_at"]))
            for review in self._all_nodes(
                node.get("reviews") or {},
                gql.PULL_REQUEST_REVIEWS,
                nested,
                "PullRequestReviews",
                ("repository", "pullRequest", "reviews"),
            ):
                item = gql.review_item(review)
                batches["github_pull_request_reviews"].append(
                    RawRecord(
                        f"{key}/review/{item['id']}", self.repo, item, item.get("submitted_at"), key
                    )
                )
            for commit in self._all_nodes(
                node.get("commits") or {},
                gql.PULL_REQUEST_COMMITS,
                nested,
                "PullRequestCommits",
                ("repository", "pullRequest", "commits"),
            ):
                item = gql.commit_item(commit)
                batches["github_pull_request_commits"].append(
                    RawRecord(f"{key}@{item['sha']}", self.repo, item, _commit_date(item), key)
                )
        return batches

    def _deployments_graphql(self) -> None:
        entity = "deployments"
        # The REST list's first page, conditional: 304 (free) while no deployment or status changed.
        changed, etag = self._probe(
            entity, f"/repos/{self.repo}/deployments", per_page=self.client.per_page
        )
        if not changed:
            self._finish_unchanged(entity)
            return
        since = self._since(entity)
        self._graphql_crawl(
            entity,
            gql.DEPLOYMENTS,
            ("repository", "deployments"),
            gql.DEPLOYMENT_PAGE,
            fresh=lambda n: parse_time(n["createdAt"]) >= since,
            stamp="createdAt",
            to_batches=self._deployment_batches,
            etag=etag,
        )

    def _deployment_batches(self, nodes: list[dict[str, Any]]) -> dict[str, list[RawRecord]]:
        deployments, statuses = [], []
        for node in nodes:
            deployment = gql.deployment_item(node)
            key = f"{self.repo}/deployment/{deployment['id']}"
            deployments.append(RawRecord(key, self.repo, deployment, deployment.get("created_at")))
            for status in self._all_nodes(
                node.get("statuses") or {},
                gql.DEPLOYMENT_STATUSES,
                {"id": node["id"]},
                "DeploymentStatuses",
                ("node", "statuses"),
            ):
                item = gql.status_item(status)
                statuses.append(
                    RawRecord(
                        f"{key}/status/{item['id'] or item['node_id']}",
                        self.repo,
                        item,
                        item.get("created_at"),
                        key,
                    )
                )
        return {"github_deployments": deployments, "github_deployment_statuses": statuses}

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
        state = self._state(entity)
        newest: str | None = state.cursor if state else None

        def finish() -> None:
            set_cursor(
                self.con,
                self.source,
                self.repo,
                entity,
                cursor=newest,
                etag=etag,
                items_added=self._entity(entity).items,
            )
            self._mark_synced(entity)

        for latest in self._runs_between(self._since(entity), self.now, finish):
            newest = max(latest, newest) if newest else latest

    def _runs_between(
        self, since: dt.datetime, until: dt.datetime, finish: Callable[[], None]
    ) -> Iterator[str]:
        """Land the runs created in [since, until] and the chosen runs' jobs (see
        :meth:`_land_runs`), querying by ``created=`` windows split under GitHub's 1,000-run cap."""
        windows = list(self._run_windows(since, until))

        def pages() -> Iterator[list[dict[str, Any]]]:
            for start, end, first_page in windows:
                path = f"/repos/{self.repo}/actions/runs"
                for page in self._continue_pages(first_page, path, start, end):
                    yield page.items

        yield from self._land_runs(pages(), finish)

    def _land_runs(
        self, pages: Iterable[list[dict[str, Any]]], finish: Callable[[], None]
    ) -> Iterator[str]:
        """Land the runs of ``pages`` and the chosen runs' jobs; yields each page's newest
        ``created_at`` as it lands; ``finish`` runs in the transaction of the last jobs."""
        entity = "workflow_runs"
        known, week_counts = self._stored_run_jobs()
        completed: list[dict[str, Any]] = []
        # Runs first, page by page, the cursor unmoved; then the jobs of the runs chosen among
        # all of them (so the sample does not depend on page boundaries); the cursor moves with
        # the last jobs. A sync killed in between re-reads the runs and reads the jobs still missing.
        for runs in pages:
            if runs:
                yield max(r["created_at"] for r in runs)
            completed.extend(r for r in runs if r.get("status") == "completed")
            records = [
                RawRecord(f"{self.repo}/run/{r['id']}", self.repo, r, r.get("updated_at"))
                for r in runs
            ]
            self._land(entity, {"github_workflow_runs": records}, final=False, cursor=None)
        chosen = self._runs_needing_jobs(completed, known, week_counts)
        steps: list[Callable[[], list[RawRecord]]] = []
        if self.api == "graphql":
            by_graphql = [r for r in chosen if r.get("node_id")]
            # Runs without a node id (not seen on GitHub; a hand-made listing) are read by REST.
            rest_runs = [r for r in chosen if not r.get("node_id")]
            steps += [
                functools.partial(self._graphql_jobs, by_graphql[i : i + gql.RUNS_PER_JOBS_QUERY])
                for i in range(0, len(by_graphql), gql.RUNS_PER_JOBS_QUERY)
            ]
            # A progressive first sync defers the queue-time sample to the runs that follow:
            # the next one that reads runs picks it among the stored runs (see below).
            if entity not in self._skipped:
                rest_runs += self._runs_needing_queue_times(completed, known, by_graphql)
        else:
            rest_runs = chosen
        steps += [
            functools.partial(self._rest_jobs, rest_runs[i : i + JOBS_PER_TRANSACTION])
            for i in range(0, len(rest_runs), JOBS_PER_TRANSACTION)
        ]
        # Each step's jobs land in their own transaction; the cursor moves with the last.
        for n, step in enumerate(steps or [list], 1):
            jobs = step()
            with transaction(self.con):
                upsert_raw(self.con, "github_workflow_jobs", self.source, jobs)
                if n == max(len(steps), 1):
                    finish()

    def _rest_jobs(self, runs: list[dict[str, Any]]) -> list[RawRecord]:
        """The jobs of ``runs``, one REST listing each (with ``created_at``: queue times).

        A run deleted on GitHub since it was stored (a queue-time sample chosen among the stored
        runs, see ``_runs_needing_queue_times``) answers 404: it has no jobs to read, and is not
        chosen again, in this run or any later one (``raw.sync_gone`` remembers it), so the next
        read of runs fills its stratum with another run, if there is one."""
        jobs: list[RawRecord] = []
        for run in runs:
            run_key = f"{self.repo}/run/{run['id']}"
            try:
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
            except SourceNotFoundError:
                log.info("%s: run %s is gone from GitHub; no jobs to read", self.repo, run["id"])
                self._gone().add(run_key)
                with transaction(self.con):
                    mark_gone(self.con, self.source, self.repo, run_key)
        return jobs

    def _graphql_jobs(self, runs: list[dict[str, Any]]) -> list[RawRecord]:
        """The jobs of up to 100 runs in one ``WorkflowJobs`` query (1 point), each as REST's job.

        A run whose node is gone (deleted since it was listed: GitHub answers ``NOT_FOUND`` for
        its id and ``null`` for its node) has no jobs to read; a run with more than
        ``JOBS_PER_RUN`` jobs is read on by itself.
        """
        data = self._graphql(
            gql.WORKFLOW_JOBS,
            {"ids": [r["node_id"] for r in runs], "jobs": gql.JOBS_PER_RUN},
            "WorkflowJobs",
            missing_nodes=True,
        )
        nodes = data.get("nodes")
        if not isinstance(nodes, list) or len(nodes) != len(runs):
            raise SourceError(
                f"{self.source}: {self.repo}: GitHub GraphQL WorkflowJobs sent "
                f"{len(nodes) if isinstance(nodes, list) else 'no'} nodes for {len(runs)} runs"
                f"{self._credential_note()}; nothing of them was written (re-run)"
            )
        jobs: list[RawRecord] = []
        for run, node in zip(runs, nodes, strict=True):
            if node is None:
                log.info("%s: run %s is gone from GitHub; no jobs to read", self.repo, run["id"])
                continue
            suite = node.get("checkSuite") or {}
            run_key = f"{self.repo}/run/{run['id']}"
            for check_run in self._all_nodes(
                suite.get("checkRuns") or {},
                gql.WORKFLOW_RUN_JOBS,
                {"id": node.get("id") or run["node_id"]},
                "WorkflowRunJobs",
                ("node", "checkSuite", "checkRuns"),
            ):
                item = gql.job_item(check_run, run)
                jobs.append(
                    RawRecord(
                        f"{self.repo}/job/{item['id']}",
                        self.repo,
                        item,
                        item.get("completed_at"),
                        run_key,
                    )
                )
        return jobs

    def _runs_needing_queue_times(
        self,
        runs: list[dict[str, Any]],
        known: dict[str, StoredRun],
        reread: list[dict[str, Any]],
    ) -> list[dict[str, Any]]:
        """Runs whose jobs are read again by REST, for their queue times (GraphQL has no job
        ``created_at``): at most ``queue_sample_per_week`` per repository, ISO week and kind
        (deployment workflow or not) among the runs whose jobs are read, created in the newest
        ``queue_sample_days``; those with the smallest hash of their id, as the job sample.

        The candidates are the runs listed now and the stored runs with jobs but no queue time:
        so a sample a progressive first sync deferred (or a run killed before its REST jobs)
        is read by the next run that reads runs; a full stratum is never read again."""
        limit = self.jobs.queue_sample_per_week
        if not limit:
            return []
        days = self.jobs.queue_sample_days
        since = self.now - dt.timedelta(days=days) if days is not None else None
        fresh = {r["id"] for r in reread}
        counts: dict[Any, int] = {}
        for key, stored in known.items():
            if stored.has_queue and int(key.rsplit("/", 1)[1]) not in fresh:
                counts[(stored.week, stored.deployment)] = (
                    counts.get((stored.week, stored.deployment), 0) + 1
                )
        candidates = []
        for run in runs:
            stored = known.get(f"{self.repo}/run/{run['id']}")
            has_jobs = run["id"] in fresh or (stored is not None and stored.has_jobs)
            has_queue = stored is not None and stored.has_queue and run["id"] not in fresh
            created = parse_time(run.get("created_at"))
            if has_jobs and not has_queue and created and (since is None or created >= since):
                stratum = (_iso_week(run.get("created_at")), self.jobs.is_deployment(run))
                candidates.append((run, stratum))
        listed = {f"{self.repo}/run/{r['id']}" for r in runs}
        for key, stored in known.items():
            created = parse_time(stored.created_at)
            if (
                key not in listed
                and stored.has_jobs
                and not stored.has_queue
                and created
                and (since is None or created >= since)
            ):
                run_id = key.rsplit("/", 1)[1]
                run = {"id": int(run_id) if run_id.isdigit() else run_id}
                candidates.append((run, (stored.week, stored.deployment)))
        chosen = []
        for run, stratum in sorted(candidates, key=lambda c: _sample_rank(c[0]["id"])):
            gone = f"{self.repo}/run/{run['id']}" in self._gone()
            if not gone and counts.get(stratum, 0) < limit:
                counts[stratum] = counts.get(stratum, 0) + 1
                chosen.append(run)
        return chosen

    def _gone(self) -> set[str]:
        """Keys of this repository's stored objects known to be deleted on GitHub."""
        if self._gone_runs is None:
            self._gone_runs = gone_keys(self.con, self.source, self.repo)
        return self._gone_runs

    def _stored_run_jobs(self) -> tuple[dict[str, StoredRun], dict[Any, int]]:
        """Stored runs by key (see :class:`StoredRun`); and sampled (non-deployment) runs per week."""
        ensure_raw_table(self.con, "github_workflow_runs")
        ensure_raw_table(self.con, "github_workflow_jobs")
        rows = self.con.execute(
            """
            SELECT r.natural_key, r.payload ->> '$.updated_at', r.payload ->> '$.created_at',
                   r.payload ->> '$.name', count(j.natural_key) > 0,
                   count(j.natural_key) FILTER (WHERE j.payload ->> '$.created_at' IS NOT NULL) > 0
            FROM raw.github_workflow_runs AS r
            LEFT JOIN raw.github_workflow_jobs AS j
                ON j.source = r.source AND j.parent_key = r.natural_key
            WHERE r.source = ? AND r.scope = ?
            GROUP BY ALL
            """,
            [self.source, self.repo],
        ).fetchall()
        known: dict[str, StoredRun] = {}
        week_counts: dict[Any, int] = {}
        for key, updated_at, created_at, name, has_jobs, has_queue in rows:
            week = _iso_week(created_at)
            deployment = self.jobs.is_deployment({"name": name})
            known[key] = StoredRun(
                updated_at, bool(has_jobs), bool(has_queue), week, deployment, created_at
            )
            if has_jobs and not deployment:
                week_counts[week] = week_counts.get(week, 0) + 1
        return known, week_counts

    def _runs_needing_jobs(
        self,
        runs: list[dict[str, Any]],
        known: dict[str, StoredRun],
        week_counts: dict[Any, int],
    ) -> list[dict[str, Any]]:
        """The completed runs of a page whose jobs are read (see :class:`JobSelection`).

        A run whose jobs are stored and which has not changed since (same ``updated_at``) is not
        read again: jobs of a completed run only change when it is re-run, which updates the run.
        """
        chosen, candidates = [], []
        for run in runs:
            if run.get("status") != "completed":
                continue
            stored = known.get(f"{self.repo}/run/{run['id']}")
            has_jobs = stored is not None and stored.has_jobs
            if has_jobs and stored.updated_at == run.get("updated_at"):
                continue
            if has_jobs or self.jobs.sample_per_week is None or self.jobs.is_deployment(run):
                chosen.append(run)
            else:
                candidates.append(run)
        limit = self.jobs.sample_per_week or 0
        for run in sorted(candidates, key=lambda r: _sample_rank(r["id"])):
            week = _iso_week(run.get("created_at"))
            if week_counts.get(week, 0) < limit:
                week_counts[week] = week_counts.get(week, 0) + 1
                chosen.append(run)
        return chosen

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
        # The client checks each link's origin, empty linked pages and total_count.
        return self.client.pages_from(first, items_key="workflow_runs")

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
            self._issue_record,
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
    report.graphql_queries += after.graphql_queries - before.graphql_queries
    report.graphql_points += after.graphql_points - before.graphql_points


def _missing_node(error: dict[str, Any]) -> bool:
    """A ``NOT_FOUND`` error of one entry of ``nodes(ids:)``: that object is gone (deleted)."""
    path = error.get("path") or []
    return error.get("type") == "NOT_FOUND" and len(path) == 2 and path[0] == "nodes"


def _commit_date(commit: dict[str, Any]) -> str | None:
    inner = commit.get("commit") or {}
    return (inner.get("committer") or {}).get("date") or (inner.get("author") or {}).get("date")


def _coverage_note(coverage: SyncCoverage | None, target: dt.datetime) -> str:
    """``; synced back to D, backfilling to T`` while an entity's backfill is under way."""
    if coverage is None or coverage.synced_from <= target:
        return ""
    return f"; synced back to {coverage.synced_from:%Y-%m-%d}, backfilling to {target:%Y-%m-%d}"


def coverage_line(
    con: duckdb.DuckDBPyConnection, source: str, scopes: Iterable[str] | None = None
) -> str:
    """``GitHub synced back to D; backfilling to T`` while any of ``scopes`` (repositories; all
    when None) is still being backfilled: D is the earliest instant from which every entity of
    every one of them is fully synced. Empty when all are complete or nothing is recorded."""
    wanted = None if scopes is None else list(scopes)
    if wanted == []:
        return ""
    row = con.execute(
        "SELECT max(synced_from), max(target_from), bool_and(synced_from <= target_from) "
        "FROM raw.sync_coverage WHERE source = ? AND (? IS NULL OR list_contains(?, scope))",
        [source, wanted, wanted],
    ).fetchone()
    if row is None or row[0] is None or row[2]:
        return ""
    name = "GitHub" if source == "github" else f"GitHub ({source})"
    return f"{name} synced back to {row[0]:%Y-%m-%d}; backfilling to {row[1]:%Y-%m-%d}"
