"""``platform-metrics plan``: what a first sync will cost, from a few cheap calls, before spending it.

For each repository of each GitHub source, about nine requests count what the sync would read
in the backfill window: search counts for pull requests and issues
(``search/issues?q=repo:X+is:pr+updated:>=DATE``), the Actions runs' ``total_count``, and one
one-item page of deployments, commits, tags and releases whose ``Link: rel="last"`` page number is
the count; one more finds the oldest run, so the weekly job sample spans the weeks that have
runs. When the first run's window (``initial_window_days``) is shorter than ``backfill_days``,
five or six more count the same from the window's start. From the counts it estimates, per
repository and entity, the first run's cost and the whole history's: the REST requests the REST
path makes, and the GraphQL path's points and remaining REST requests (pull requests,
deployments and workflow jobs in bulk), and token-hours at GitHub's 5,000 an hour. The
assumptions are printed with the table.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pipelines.github import graphql as gql
from pipelines.github.client import GitHubClient
from pipelines.github.sync import RUNS_QUERY_CAP, JobSelection, iso

TOKEN_BUDGET_PER_HOUR = 5000
# The bulk path's page sizes (GitHub's node limits): 50 pull requests with their first 100
# reviews and commits, 100 deployments with their first 100 statuses, per query.
GRAPHQL_PULLS_PER_QUERY = 50
GRAPHQL_DEPLOYMENTS_PER_QUERY = 100
GRAPHQL_RUNS_PER_JOBS_QUERY = gql.RUNS_PER_JOBS_QUERY
# Points per query of each bulk query as the sync sends it (GitHub's formula, graphql.query_cost).
PULLS_QUERY_POINTS = gql.query_cost(
    gql.PULL_REQUESTS, {"first": gql.PULL_REQUEST_PAGE, "nested": gql.NESTED_PAGE}
)
DEPLOYMENTS_QUERY_POINTS = gql.query_cost(
    gql.DEPLOYMENTS, {"first": gql.DEPLOYMENT_PAGE, "nested": gql.NESTED_PAGE}
)

ASSUMPTIONS = (
    "counts are for the window (deployments, tags and releases: all of them, an upper bound; "
    "deployments of the first run's window: all of them times the window's share of the runs)",
    "REST: one list request per page of per_page items; one reviews and one commits request per "
    "pull request; one statuses request per deployment; one jobs request per workflow run read "
    "(the weekly sample plus deployment-workflow runs, counted as one per deployment); a probe per "
    "entity, except in a progressive first run's window (that run skips the increment, probe and "
    "all)",
    "GraphQL points by GitHub's formula (connections requested / 100, at least 1 per query): "
    f"{GRAPHQL_PULLS_PER_QUERY} pull requests with their labels, reviews and commits cost "
    f"{PULLS_QUERY_POINTS} points a query, {GRAPHQL_DEPLOYMENTS_PER_QUERY} deployments with "
    f"their statuses {DEPLOYMENTS_QUERY_POINTS}, the jobs of {GRAPHQL_RUNS_PER_JOBS_QUERY} "
    "workflow runs 1 (overflowing nested connections not counted); the GraphQL path still "
    "sends the conditional REST probe of each entity (none in a progressive first run), lists "
    "the runs by REST, and reads the queue-time sample of jobs by REST "
    "(workflow_jobs_queue_sample_per_week per week and kind, for the newest "
    "workflow_jobs_queue_sample_days; in the whole history only: a progressive first run "
    "defers it to the runs that follow)",
    "conditional requests answered 304 are free; a first sync has none",
    f"one token, and each App installation, spends {TOKEN_BUDGET_PER_HOUR:,} an hour "
    "(REST requests and GraphQL points are separate budgets; token-hours add them up)",
)


@dataclass
class EntityEstimate:
    repository: str
    entity: str
    items: int
    rest_requests: int
    graphql_points: int | None = None  # the bulk path's points instead, where there is one
    # REST requests the GraphQL path still makes (probes, run listings, the queue-time sample);
    # None: the entity has no bulk path and costs rest_requests either way.
    graphql_rest_requests: int | None = None

    def cost(self, api: str) -> int:
        """What GitHub bills for this entity on ``api``: REST requests plus GraphQL points."""
        if api == "rest" or self.graphql_points is None:
            return self.rest_requests
        return self.graphql_points + (self.graphql_rest_requests or 0)


@dataclass
class SourcePlan:
    source: str
    repositories: int
    credentials: int
    since: str
    rows: list[EntityEstimate] = field(default_factory=list)
    probe_requests: int = 0
    api: str = "graphql"
    # The first run: the newest initial_window_days (progressive backfill); same as rows when the
    # window covers backfill_days.
    window_since: str = ""
    initial_window_days: int | None = None
    window_rows: list[EntityEstimate] = field(default_factory=list)

    @property
    def listing_points(self) -> int:
        """The batched repository listings of the GraphQL path, paid on every run."""
        return math.ceil(self.repositories / gql.LISTINGS_PER_QUERY)

    def _listings(self) -> int:
        return self.listing_points if self.api == "graphql" else 0

    @property
    def rest_requests(self) -> int:
        return sum(r.rest_requests for r in self.rows)

    @property
    def cost_with_graphql(self) -> int:
        """The whole history with the GraphQL bulk path (pull requests, deployments, jobs)."""
        return sum(r.cost("graphql") for r in self.rows) + self.listing_points

    @property
    def history_cost(self) -> int:
        """The whole backfill with the source's configured ``api``."""
        return sum(r.cost(self.api) for r in self.rows) + self._listings()

    @property
    def first_run_cost(self) -> int:
        """The first run (the newest ``initial_window_days``) with the configured ``api``."""
        return sum(r.cost(self.api) for r in self.window_rows or self.rows) + self._listings()

    def token_hours(self, cost: int) -> float:
        return cost / TOKEN_BUDGET_PER_HOUR

    def as_dict(self) -> dict[str, Any]:
        n = max(self.credentials, 1)
        return {
            "source": self.source,
            "repositories": self.repositories,
            "credentials": self.credentials,
            "api": self.api,
            "since": self.since,
            "window_since": self.window_since or self.since,
            "initial_window_days": self.initial_window_days,
            "probe_requests": self.probe_requests,
            "rest_requests": self.rest_requests,
            "cost_with_graphql": self.cost_with_graphql,
            "listing_points": self.listing_points,
            "token_hours_rest": round(self.token_hours(self.rest_requests), 2),
            "token_hours_with_graphql": round(self.token_hours(self.cost_with_graphql), 2),
            "first_run_cost": self.first_run_cost,
            "first_run_token_hours": round(self.token_hours(self.first_run_cost), 2),
            "first_run_hours_with_all_credentials": round(
                self.token_hours(self.first_run_cost) / n, 2
            ),
            "history_cost": self.history_cost,
            "history_token_hours": round(self.token_hours(self.history_cost), 2),
            "history_hours_with_all_credentials": round(self.token_hours(self.history_cost) / n, 2),
            "rows": [asdict(r) for r in self.rows],
            "window_rows": [asdict(r) for r in self.window_rows or self.rows],
            "assumptions": list(ASSUMPTIONS),
        }


def _pages(items: int, per_page: int) -> int:
    return max(1, math.ceil(items / per_page))


def _last_page_count(client: GitHubClient, path: str, params: dict[str, Any] | None = None) -> int:
    """Items of a list, from one one-item page: the ``last`` link's page number, else the page."""
    response = client.get(path, {"per_page": 1, **(params or {})})
    last = response.links.get("last")
    if last:
        page = parse_qs(urlsplit(last).query).get("page", ["1"])[0]
        return int(page)
    data = response.data
    return len(data) if isinstance(data, list) else 0


def _total_count(client: GitHubClient, path: str, params: dict[str, Any]) -> int:
    data = client.get(path, {"per_page": 1, **params}).data
    return int(data.get("total_count") or 0) if isinstance(data, dict) else 0


def _run_weeks(
    client: GitHubClient, repository: str, runs: int, since: dt.datetime, now: dt.datetime
) -> int:
    """ISO weeks the runs span: from the oldest run in the window (one more one-item page)."""
    start = since
    if runs:
        page = min(runs, RUNS_QUERY_CAP)
        data = client.get(
            f"/repos/{repository}/actions/runs",
            {"created": f">={iso(since)}", "per_page": 1, "page": page},
        ).data
        oldest = (
            (data.get("workflow_runs") or [{}])[-1].get("created_at")
            if isinstance(data, dict)
            else None
        )
        if oldest:
            start = max(since, dt.datetime.fromisoformat(oldest.replace("Z", "+00:00")))
    return max(1, math.ceil((now - start).days / 7) + 1)


@dataclass
class _Counts:
    prs: int
    issues: int
    runs: int
    commits: int
    weeks: int
    deployments: int = 0
    tags: int = 0
    releases: int = 0


def _windowed_counts(
    client: GitHubClient,
    repository: str,
    since: dt.datetime,
    now: dt.datetime,
    commits_from_git: bool,
) -> _Counts:
    """What has a time axis, counted from ``since``: five or six one-item requests."""
    day = since.strftime("%Y-%m-%d")
    prs = _total_count(client, "/search/issues", {"q": f"repo:{repository} is:pr updated:>={day}"})
    issues = _total_count(
        client, "/search/issues", {"q": f"repo:{repository} is:issue updated:>={day}"}
    )
    runs = _total_count(client, f"/repos/{repository}/actions/runs", {"created": f">={iso(since)}"})
    commits = (
        0
        if commits_from_git
        else _last_page_count(client, f"/repos/{repository}/commits", {"since": iso(since)})
    )
    return _Counts(prs, issues, runs, commits, _run_weeks(client, repository, runs, since, now))


def _rows(
    repository: str,
    counts: _Counts,
    *,
    per_page: int,
    jobs: JobSelection,
    commits_from_git: bool,
    days: float,
    probes: bool = True,
    queue_sample: bool = True,
) -> list[EntityEstimate]:
    """Per entity: items, REST requests, and the GraphQL path's points and REST requests.

    ``probes``: each windowed entity's conditional probe is counted (a first sync that reads
    everything at once makes it); a progressive first run skips the increment, probe and all.
    ``queue_sample``: the GraphQL path's REST queue-time sample is counted; a progressive first
    run defers it to the runs that follow (the whole history's estimate counts it).
    """
    c = counts
    probe = 1 if probes else 0
    sampled = (
        c.runs if jobs.sample_per_week is None else min(c.runs, jobs.sample_per_week * c.weeks)
    )
    deployment_runs = min(c.deployments, c.runs) if jobs.deployment_workflows else 0
    run_jobs = min(c.runs, sampled + deployment_runs)
    windows = max(1, math.ceil(c.runs / RUNS_QUERY_CAP))
    run_listing = probe + windows + _pages(c.runs, per_page) - 1
    # The GraphQL path reads some runs' jobs again by REST for their queue times: the newest
    # queue_sample_days of the window, per week and kind (deployment workflow or not).
    queue_days = min(days, jobs.queue_sample_days or days)
    kinds = 2 if jobs.deployment_workflows else 1
    queue_runs = min(run_jobs, jobs.queue_sample_per_week * kinds * (math.ceil(queue_days / 7) + 1))
    queue_runs = queue_runs if queue_sample else 0
    return [
        # api: graphql reads these three for 25 repositories a point (SourcePlan.listing_points);
        # REST only where the first page overflows: every tag page, releases from page 2.
        EntityEstimate(repository, "repository", 1, 1, 0, 0),
        EntityEstimate(
            repository,
            "pull_requests",
            c.prs,
            _pages(c.prs, per_page) + 2 * c.prs,
            PULLS_QUERY_POINTS * max(1, math.ceil(c.prs / GRAPHQL_PULLS_PER_QUERY)),
            probe,
        ),
        EntityEstimate(
            repository,
            "commits",
            c.commits,
            0 if commits_from_git else probe + _pages(c.commits, per_page),
        ),
        EntityEstimate(
            repository,
            "tags",
            c.tags,
            _pages(c.tags, per_page),
            0,
            _pages(c.tags, per_page) if c.tags > per_page else 0,
        ),
        EntityEstimate(
            repository,
            "releases",
            c.releases,
            _pages(c.releases, per_page),
            0,
            max(0, _pages(c.releases, per_page) - 1),
        ),
        EntityEstimate(
            repository,
            "deployments",
            c.deployments,
            _pages(c.deployments, per_page) + c.deployments,
            DEPLOYMENTS_QUERY_POINTS
            * max(1, math.ceil(c.deployments / GRAPHQL_DEPLOYMENTS_PER_QUERY)),
            probe,
        ),
        EntityEstimate(
            repository,
            "workflow_runs",
            c.runs,
            run_listing + run_jobs,
            math.ceil(run_jobs / GRAPHQL_RUNS_PER_JOBS_QUERY),
            run_listing + queue_runs,
        ),
        # The issues list returns pull requests too: its pages hold both.
        EntityEstimate(repository, "issues", c.issues, probe + _pages(c.issues + c.prs, per_page)),
    ]


def estimate_repository(
    client: GitHubClient,
    repository: str,
    *,
    since: dt.datetime,
    now: dt.datetime,
    jobs: JobSelection,
    commits_from_git: bool = False,
    window_since: dt.datetime | None = None,
) -> tuple[list[EntityEstimate], list[EntityEstimate]]:
    """(the whole history's rows, the first run's rows): about nine requests, five or six more
    when the first run's window is shorter than the history."""
    counts = _windowed_counts(client, repository, since, now, commits_from_git)
    counts.deployments = _last_page_count(client, f"/repos/{repository}/deployments")
    counts.tags = _last_page_count(client, f"/repos/{repository}/tags")
    counts.releases = _last_page_count(client, f"/repos/{repository}/releases")
    options = {"per_page": client.per_page, "jobs": jobs, "commits_from_git": commits_from_git}
    history = _rows(repository, counts, days=(now - since).days, **options)
    if window_since is None or window_since <= since:
        return history, history
    window = _windowed_counts(client, repository, window_since, now, commits_from_git)
    share = window.runs / counts.runs if counts.runs else (now - window_since) / (now - since)
    window.deployments = math.ceil(counts.deployments * min(share, 1.0))
    window.tags, window.releases = counts.tags, counts.releases
    # The progressive first run skips each entity's increment (and so its probe) and defers the
    # queue-time sample to the runs that follow.
    return history, _rows(
        repository,
        window,
        days=(now - window_since).days,
        probes=False,
        queue_sample=False,
        **options,
    )


def plan_source(
    client: GitHubClient,
    source: Any,
    repositories: Iterable[str],
    *,
    now: dt.datetime,
    jobs: JobSelection,
    credentials: int,
) -> SourcePlan:
    since = now - dt.timedelta(days=source.backfill_days)
    window_days = getattr(source, "initial_window_days", None)
    window_since = (
        now - dt.timedelta(days=window_days)
        if window_days and window_days < source.backfill_days
        else since
    )
    repos = list(repositories)
    result = SourcePlan(
        source.name,
        len(repos),
        credentials,
        iso(since),
        api=getattr(source, "api", "graphql"),
        window_since=iso(window_since),
        initial_window_days=min(window_days or source.backfill_days, source.backfill_days),
    )
    before = client.stats.requests
    for repo in repos:
        history, window = estimate_repository(
            client,
            repo,
            since=since,
            now=now,
            jobs=jobs,
            commits_from_git=source.clones_commits(repo),
            window_since=window_since,
        )
        result.rows.extend(history)
        result.window_rows.extend(window)
    result.probe_requests = client.stats.requests - before
    return result


def format_plan(plans: list[SourcePlan]) -> str:
    """The table a person reads: per repository and entity, the first run's and the whole
    history's items and cost (with the source's ``api``), totals in token-hours, the assumptions."""
    lines = []
    header = (
        f"{'repository':<40} {'entity':<14} {'first-run items':>15} {'first-run cost':>14} "
        f"{'items':>8} {'REST requests':>14} {'GraphQL path':>13}"
    )
    for plan in plans:
        lines.append(
            f"source {plan.source} (api: {plan.api}): {plan.repositories} repositories since "
            f"{plan.since}, first run since {plan.window_since or plan.since} (newest "
            f"{plan.initial_window_days} days), {plan.credentials} credential(s)"
        )
        lines.append(header)
        lines.append("-" * len(header))
        window_rows = plan.window_rows or plan.rows
        for row, first in zip(plan.rows, window_rows, strict=True):
            lines.append(
                f"{row.repository:<40} {row.entity:<14} {first.items:>15,} "
                f"{first.cost(plan.api):>14,} {row.items:>8,} {row.rest_requests:>14,} "
                f"{row.cost('graphql'):>13,}"
            )
        by_entity: dict[str, list[int]] = {}
        for row, first in zip(plan.rows, window_rows, strict=True):
            totals = by_entity.setdefault(row.entity, [0, 0, 0, 0, 0])
            totals[0] += first.items
            totals[1] += first.cost(plan.api)
            totals[2] += row.items
            totals[3] += row.rest_requests
            totals[4] += row.cost("graphql")
        lines.append("-" * len(header))
        for entity, (f_items, f_cost, items, rest, mixed) in by_entity.items():
            lines.append(
                f"{'total':<40} {entity:<14} {f_items:>15,} {f_cost:>14,} {items:>8,} "
                f"{rest:>14,} {mixed:>13,}"
            )
        lines.append(
            f"{'all repositories':<40} {'listings':<14} {'':>15} "
            f"{plan.listing_points if plan.api == 'graphql' else 0:>14,} {'':>8} {0:>14,} "
            f"{plan.listing_points:>13,}"
            "   (repository, tags and releases, "
            f"{gql.LISTINGS_PER_QUERY} repositories a GraphQL point, on every run)"
        )
        n = max(plan.credentials, 1)
        first, history = plan.first_run_cost, plan.history_cost
        lines.append(
            f"first run (newest {plan.initial_window_days} days): {first:,} = "
            f"{plan.token_hours(first):.2f} token-hours ({plan.token_hours(first) / n:.2f} h with "
            f"{n} credential(s), {60 * plan.token_hours(first) / n:.0f} min)"
        )
        rest, mixed = plan.rest_requests, plan.cost_with_graphql
        lines.append(
            f"total: whole history {history:,} = {plan.token_hours(history):.1f} token-hours "
            f"({plan.token_hours(history) / n:.1f} h with {n} credential(s)); all REST: {rest:,} "
            f"REST requests = {plan.token_hours(rest):.1f} token-hours; with GraphQL for pull "
            f"requests, deployments, jobs and listings: {mixed:,} = {plan.token_hours(mixed):.1f} "
            f"token-hours; this plan cost {plan.probe_requests} requests"
        )
        lines.append("")
    lines.append("assumptions:")
    lines.extend(f"  - {a}" for a in ASSUMPTIONS)
    return "\n".join(lines)


def plan_organisation(config: Any) -> list[SourcePlan]:
    """Discover every GitHub source's repositories and estimate each; nothing is written."""
    from pipelines.github.source import discover_github_repositories, github_client
    from pipelines.github.sync import job_selection
    from pipelines.ingest import SourceClients

    clients = SourceClients(config)
    found = discover_github_repositories(clients)
    plans = []
    for source in config.sources.github:
        with github_client(clients, source) as client:
            plans.append(
                plan_source(
                    client,
                    source,
                    found.get(source.name, []),
                    now=clients.now(),
                    jobs=job_selection(source, config.metrics),
                    credentials=len(client.credentials.credentials) if client.credentials else 1,
                )
            )
    return plans
