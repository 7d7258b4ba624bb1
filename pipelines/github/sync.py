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
import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import duckdb

from pipelines.errors import SourceError
from pipelines.github import graphql as gql
from pipelines.github.client import GitHubClient, Page
from pipelines.http import RequestStats
from pipelines.warehouse import (
    RawRecord,
    ensure_raw_table,
    get_sync_state,
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

    def is_deployment(self, run: dict[str, Any]) -> bool:
        name = run.get("name") or ""
        return any(re.search(pattern, name) for pattern in self.deployment_workflows)


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
    return JobSelection(tuple(sorted(patterns)), source.workflow_jobs_sample_per_week)


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
        self.report = RepositorySyncReport(repository)
        self._progress = progress or (lambda message: log.info(message))
        self.default_branch = "main"
        # When given, default-branch commits come from a bare partial clone instead of the API.
        self._commits_from_git = commits_from_git
        self.jobs = jobs or JobSelection()

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
                + (
                    f", {r.graphql_queries} GraphQL queries ({r.graphql_points} points)"
                    if r.graphql_queries
                    else ""
                )
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
        if self.api == "graphql":
            self._pull_requests_graphql()
            return
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

    # --- GraphQL bulk path (pull requests, deployments) --------------------------------------------
    def _graphql(self, query: str, variables: dict[str, Any], operation: str) -> dict[str, Any]:
        owner, name = self.repo.split("/", 1)
        if "$owner" in query:
            variables = {"owner": owner, "name": name, **variables}
        try:
            data = self.client.graphql(query, variables, operation=operation)
        except gql.GraphQLError as exc:
            hint = (
                "; the credential cannot read this repository through GraphQL "
                "(set 'api: rest' for this source)"
                if {"NOT_FOUND", "FORBIDDEN"} & set(exc.types)
                else ""
            )
            raise SourceError(f"{self.source}: {self.repo}: {exc}{hint}") from None
        except SourceError as exc:
            # HTTP-level failures (401/403 credentials, retries spent) name only the /graphql URL.
            raise type(exc)(f"{self.source}: {self.repo}: {exc}") from None
        if "node" not in data and not isinstance(data.get("repository"), dict):
            raise SourceError(
                f"{self.source}: {self.repo}: GitHub GraphQL {operation} returned no repository; "
                "the credential cannot read it through GraphQL (set 'api: rest' for this source)"
            )
        return data

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
        state = self._state(entity)
        stop_at = parse_time(state.cursor) if state and state.cursor else self.backfill_start
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
        since = self._since(entity)
        state = self._state(entity)
        newest = state.cursor if state else None
        windows = list(self._run_windows(since, self.now))
        known, week_counts = self._stored_run_jobs()
        completed: list[dict[str, Any]] = []
        # Runs first, page by page, the cursor unmoved; then the jobs of the runs chosen among
        # all of them (so the sample does not depend on page boundaries); the cursor moves with
        # the last jobs. A sync killed in between re-reads the runs and reads the jobs still missing.
        for start, end, first_page in windows:
            pages = self._continue_pages(first_page, f"/repos/{self.repo}/actions/runs", start, end)
            for page in pages:
                runs = page.items
                if runs:
                    latest = max(r["created_at"] for r in runs)
                    newest = max(latest, newest) if newest else latest
                completed.extend(r for r in runs if r.get("status") == "completed")
                records = [
                    RawRecord(f"{self.repo}/run/{r['id']}", self.repo, r, r.get("updated_at"))
                    for r in runs
                ]
                self._land(entity, {"github_workflow_runs": records}, final=False, cursor=None)
        chosen = self._runs_needing_jobs(completed, known, week_counts)
        chunks = [
            chosen[i : i + JOBS_PER_TRANSACTION]
            for i in range(0, len(chosen), JOBS_PER_TRANSACTION)
        ]
        for n, chunk in enumerate(chunks or [[]], 1):
            jobs: list[RawRecord] = []
            for run in chunk:
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
            with transaction(self.con):
                upsert_raw(self.con, "github_workflow_jobs", self.source, jobs)
                if n == max(len(chunks), 1):
                    set_cursor(
                        self.con,
                        self.source,
                        self.repo,
                        entity,
                        cursor=newest,
                        etag=etag,
                        items_added=self._entity(entity).items,
                    )

    def _stored_run_jobs(self) -> tuple[dict[str, tuple[str | None, bool]], dict[Any, int]]:
        """Stored runs: key -> (updated_at, jobs read?); and sampled (non-deployment) runs per week."""
        ensure_raw_table(self.con, "github_workflow_runs")
        ensure_raw_table(self.con, "github_workflow_jobs")
        rows = self.con.execute(
            """
            SELECT r.natural_key, r.payload ->> '$.updated_at', r.payload ->> '$.created_at',
                   r.payload ->> '$.name',
                   EXISTS (
                       SELECT 1 FROM raw.github_workflow_jobs AS j
                       WHERE j.source = r.source AND j.parent_key = r.natural_key
                   )
            FROM raw.github_workflow_runs AS r
            WHERE r.source = ? AND r.scope = ?
            """,
            [self.source, self.repo],
        ).fetchall()
        known: dict[str, tuple[str | None, bool]] = {}
        week_counts: dict[Any, int] = {}
        for key, updated_at, created_at, name, has_jobs in rows:
            known[key] = (updated_at, bool(has_jobs))
            if has_jobs and not self.jobs.is_deployment({"name": name}):
                week = _iso_week(created_at)
                week_counts[week] = week_counts.get(week, 0) + 1
        return known, week_counts

    def _runs_needing_jobs(
        self,
        runs: list[dict[str, Any]],
        known: dict[str, tuple[str | None, bool]],
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
            stored_updated_at, has_jobs = known.get(f"{self.repo}/run/{run['id']}", (None, False))
            if has_jobs and stored_updated_at == run.get("updated_at"):
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
    report.graphql_queries += after.graphql_queries - before.graphql_queries
    report.graphql_points += after.graphql_points - before.graphql_points


def _commit_date(commit: dict[str, Any]) -> str | None:
    inner = commit.get("commit") or {}
    return (inner.get("committer") or {}).get("date") or (inner.get("author") or {}).get("date")
