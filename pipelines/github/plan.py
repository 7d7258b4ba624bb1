"""``platform-metrics plan``: what a first sync will cost, from a few cheap calls, before spending it.

For each repository of each GitHub source, about nine requests count what the sync would read
in the backfill window: search counts for pull requests and issues
(``search/issues?q=repo:X+is:pr+updated:>=DATE``), the Actions runs' ``total_count``, and one
one-item page of deployments, commits, tags and releases whose ``Link: rel="last"`` page number is
the count; one more finds the oldest run, so the weekly job sample spans the weeks that have
runs. From the counts it estimates, per repository and entity, the REST requests the sync
makes, the GraphQL points the bulk path would cost instead for pull requests and deployments, and
token-hours at GitHub's 5,000 an hour. The assumptions are printed with the table.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pipelines.github.client import GitHubClient
from pipelines.github.sync import RUNS_QUERY_CAP, JobSelection, iso

TOKEN_BUDGET_PER_HOUR = 5000
# The bulk path's page sizes (GitHub's node limits): 50 pull requests with their first 100
# reviews and commits, 100 deployments with their first 100 statuses, per query.
GRAPHQL_PULLS_PER_QUERY = 50
GRAPHQL_DEPLOYMENTS_PER_QUERY = 100

ASSUMPTIONS = (
    "counts are for the backfill window (deployments, tags and releases: all of them, an upper "
    "bound)",
    "REST: one list request per page of per_page items; one reviews and one commits request per "
    "pull request; one statuses request per deployment; one jobs request per workflow run read "
    "(the weekly sample plus deployment-workflow runs, counted as one per deployment); a probe per "
    "entity",
    "GraphQL points by GitHub's formula (connections requested / 100, at least 1 per query): "
    f"{GRAPHQL_PULLS_PER_QUERY} pull requests with 100 reviews and 100 commits each, or "
    f"{GRAPHQL_DEPLOYMENTS_PER_QUERY} deployments with 100 statuses each, cost 1 point a query",
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
    graphql_points: int | None = None  # the bulk path's cost instead, where there is one


@dataclass
class SourcePlan:
    source: str
    repositories: int
    credentials: int
    since: str
    rows: list[EntityEstimate] = field(default_factory=list)
    probe_requests: int = 0

    @property
    def rest_requests(self) -> int:
        return sum(r.rest_requests for r in self.rows)

    @property
    def cost_with_graphql(self) -> int:
        """REST for the rest, GraphQL points for pull requests and deployments."""
        return sum(
            r.graphql_points if r.graphql_points is not None else r.rest_requests for r in self.rows
        )

    def token_hours(self, cost: int) -> float:
        return cost / TOKEN_BUDGET_PER_HOUR

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "repositories": self.repositories,
            "credentials": self.credentials,
            "since": self.since,
            "probe_requests": self.probe_requests,
            "rest_requests": self.rest_requests,
            "cost_with_graphql": self.cost_with_graphql,
            "token_hours_rest": round(self.token_hours(self.rest_requests), 2),
            "token_hours_with_graphql": round(self.token_hours(self.cost_with_graphql), 2),
            "rows": [asdict(r) for r in self.rows],
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


def estimate_repository(
    client: GitHubClient,
    repository: str,
    *,
    since: dt.datetime,
    now: dt.datetime,
    jobs: JobSelection,
    commits_from_git: bool = False,
) -> list[EntityEstimate]:
    per_page = client.per_page
    day = since.strftime("%Y-%m-%d")
    prs = _total_count(client, "/search/issues", {"q": f"repo:{repository} is:pr updated:>={day}"})
    issues = _total_count(
        client, "/search/issues", {"q": f"repo:{repository} is:issue updated:>={day}"}
    )
    runs = _total_count(client, f"/repos/{repository}/actions/runs", {"created": f">={iso(since)}"})
    deployments = _last_page_count(client, f"/repos/{repository}/deployments")
    commits = (
        0
        if commits_from_git
        else _last_page_count(client, f"/repos/{repository}/commits", {"since": iso(since)})
    )
    tags = _last_page_count(client, f"/repos/{repository}/tags")
    releases = _last_page_count(client, f"/repos/{repository}/releases")

    weeks = _run_weeks(client, repository, runs, since, now)
    sampled = runs if jobs.sample_per_week is None else min(runs, jobs.sample_per_week * weeks)
    deployment_runs = min(deployments, runs) if jobs.deployment_workflows else 0
    run_jobs = min(runs, sampled + deployment_runs)
    windows = max(1, math.ceil(runs / RUNS_QUERY_CAP))
    rows = [
        EntityEstimate(repository, "repository", 1, 1),
        EntityEstimate(
            repository,
            "pull_requests",
            prs,
            _pages(prs, per_page) + 2 * prs,
            max(1, math.ceil(prs / GRAPHQL_PULLS_PER_QUERY)),
        ),
        EntityEstimate(
            repository, "commits", commits, 0 if commits_from_git else 1 + _pages(commits, per_page)
        ),
        EntityEstimate(repository, "tags", tags, _pages(tags, per_page)),
        EntityEstimate(repository, "releases", releases, _pages(releases, per_page)),
        EntityEstimate(
            repository,
            "deployments",
            deployments,
            _pages(deployments, per_page) + deployments,
            max(1, math.ceil(deployments / GRAPHQL_DEPLOYMENTS_PER_QUERY)),
        ),
        EntityEstimate(
            repository,
            "workflow_runs",
            runs,
            1 + windows + _pages(runs, per_page) - 1 + run_jobs,
        ),
        # The issues list returns pull requests too: its pages hold both.
        EntityEstimate(repository, "issues", issues, 1 + _pages(issues + prs, per_page)),
    ]
    return rows


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
    repos = list(repositories)
    result = SourcePlan(source.name, len(repos), credentials, iso(since))
    before = client.stats.requests
    for repo in repos:
        result.rows.extend(
            estimate_repository(
                client,
                repo,
                since=since,
                now=now,
                jobs=jobs,
                commits_from_git=source.clones_commits(repo),
            )
        )
    result.probe_requests = client.stats.requests - before
    return result


def format_plan(plans: list[SourcePlan]) -> str:
    """The table a person reads: per repository and entity, a total, and the assumptions."""
    lines = []
    header = f"{'repository':<40} {'entity':<14} {'items':>8} {'REST requests':>14} {'GraphQL points':>15}"
    for plan in plans:
        lines.append(
            f"source {plan.source}: {plan.repositories} repositories since {plan.since}, "
            f"{plan.credentials} credential(s)"
        )
        lines.append(header)
        lines.append("-" * len(header))
        for row in plan.rows:
            points = "" if row.graphql_points is None else f"{row.graphql_points:,}"
            lines.append(
                f"{row.repository:<40} {row.entity:<14} {row.items:>8,} "
                f"{row.rest_requests:>14,} {points:>15}"
            )
        by_entity: dict[str, list[int]] = {}
        for row in plan.rows:
            totals = by_entity.setdefault(row.entity, [0, 0])
            totals[0] += row.items
            totals[1] += row.rest_requests
        lines.append("-" * len(header))
        for entity, (items, rest) in by_entity.items():
            lines.append(f"{'total':<40} {entity:<14} {items:>8,} {rest:>14,}")
        rest, mixed = plan.rest_requests, plan.cost_with_graphql
        n = max(plan.credentials, 1)
        lines.append(
            f"total: {rest:,} REST requests = {plan.token_hours(rest):.1f} token-hours "
            f"({plan.token_hours(rest) / n:.1f} h with {n} credential(s)); with GraphQL for pull "
            f"requests and deployments: {mixed:,} = {plan.token_hours(mixed):.1f} token-hours "
            f"({plan.token_hours(mixed) / n:.1f} h); this plan cost {plan.probe_requests} requests"
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
