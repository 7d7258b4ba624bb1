"""GitHub as a source: repositories, pull requests, commits, tags, releases, deployments, Actions
runs and jobs, issues (docs/sources/github.md). Partitioned by repository: each repository is one
partition, keyed ``owner/name`` for the source named ``github`` and ``<source>:owner/name`` for any
other, so two sources never share a key."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.errors import ConfigError
from pipelines.github import sync as github_sync
from pipelines.github.client import GitHubClient
from pipelines.github.config import GitHubSourceConfig
from pipelines.github.credentials import BudgetExhausted, build_pool
from pipelines.github.discovery import RepositoryFilter, discover_repositories
from pipelines.github.git_commits import GitMirror, sync_commits_from_git
from pipelines.github.listings import RepositoryListing, fetch_listings
from pipelines.http import RetryPolicy
from pipelines.source import (
    Partitioning,
    RawTable,
    Source,
    SourceRunReport,
    SyncOutcome,
    SyncRequest,
    parse_scope_partition_key,
    scope_partition_key,
    scopes_by_instance,
)
from pipelines.warehouse import reset_sync_state, transaction

if TYPE_CHECKING:
    import duckdb

    from pipelines.config import Config
    from pipelines.ingest import SourceClients

log = logging.getLogger(__name__)

DEFAULT_GITHUB_SOURCE = "github"


def github_token(source: GitHubSourceConfig) -> str | None:
    """The first token (``token``, else the first of ``tokens``): what authenticates ``git``."""
    first = source.token or next(iter(source.tokens), None)
    return first.get_secret_value() if first else None


def github_client(clients: SourceClients, source: GitHubSourceConfig) -> GitHubClient:
    # The credential pool (token, tokens, App installation) signs every request through its own
    # httpx.Auth, each with its own budget and the reserve; the client gets no token of its own.
    return GitHubClient(
        source.base_url,
        credentials=build_pool(source, transport=clients.transport),
        transport=clients.transport,
        timeout=source.timeout_seconds,
        retry=RetryPolicy(max_retries=source.max_retries),
        per_page=source.per_page,
    )


def github_partition_key(source: str, repository: str) -> str:
    return scope_partition_key(DEFAULT_GITHUB_SOURCE, source, repository)


def parse_github_partition_key(key: str) -> tuple[str, str]:
    """(source name, owner/name) of a partition key."""
    return parse_scope_partition_key(DEFAULT_GITHUB_SOURCE, key)


def discover_github_repositories(
    clients: SourceClients,
    *,
    progress: Callable[[str], None] | None = None,
    requests: dict[str, int] | None = None,
) -> dict[str, list[str]]:
    """Source name -> the repositories it syncs (discovery from organisations/users, filtered).

    ``requests``, when given, receives the discovery requests made per source.
    """
    found = {}
    for source in clients.config.sources.github:
        with github_client(clients, source) as client:
            found[source.name] = discover_repositories(
                client,
                source.organisations,
                source.repositories,
                RepositoryFilter(
                    include_archived=source.include_archived,
                    include_forks=source.include_forks,
                    name_regex=source.repository_regex,
                    topics=tuple(source.topics),
                ),
            )
            if requests is not None:
                requests[source.name] = client.stats.requests
        if progress:
            progress(f"{source.name}: {len(found[source.name])} repositories to sync")
    return found


def github_partition_keys(clients: SourceClients) -> list[str]:
    """Every repository of every GitHub source, as partition keys (discovery costs a few requests)."""
    return [
        github_partition_key(source, repo)
        for source, repos in discover_github_repositories(clients).items()
        for repo in repos
    ]


def sync_github(
    con: duckdb.DuckDBPyConnection,
    clients: SourceClients,
    *,
    repositories: Iterable[str] | None = None,
    partition_keys: Iterable[str] | None = None,
    resync: bool = False,
    progress: Callable[[str], None] | None = None,
) -> list[SourceRunReport]:
    """Sync every repository of every GitHub source, or only ``repositories`` / ``partition_keys``.

    With ``partition_keys`` no discovery request is made: the keys name the repositories. With
    ``resync``, each repository's cursors are forgotten first (its history is read again).
    """
    sources = {s.name: s for s in clients.config.sources.github}
    discovery_requests: dict[str, int] = {}
    if partition_keys is not None:
        plan = scopes_by_instance(partition_keys, sources, DEFAULT_GITHUB_SOURCE, "GitHub")
    else:
        plan = discover_github_repositories(clients, progress=progress, requests=discovery_requests)
        if repositories is not None:
            wanted = set(repositories)
            plan = {s: [r for r in repos if r in wanted] for s, repos in plan.items()}
    reports = []
    for name, repos in plan.items():
        source = sources[name]
        with github_client(clients, source) as client:
            report = SourceRunReport(source.name)
            listings: dict[str, RepositoryListing] = {}
            if source.api == "graphql" and repos:
                listings, listed = fetch_listings(
                    client, repos, source=source.name, page=client.per_page, progress=progress
                )
                report.batched["repository_listings"] = listed.as_dict()
            for i, repo in enumerate(repos, 1):
                if progress:
                    progress(f"[{i}/{len(repos)}] {source.name}: {repo}")
                if resync:
                    with transaction(con):
                        reset_sync_state(con, source.name, repo)
                repo_sync = github_sync.RepositorySync(
                    con,
                    client,
                    source=source.name,
                    repository=repo,
                    backfill_days=source.backfill_days,
                    now=clients.now(),
                    progress=progress,
                    commits_from_git=_git_commits(source, repo),
                    jobs=github_sync.job_selection(source, clients.config.metrics),
                    api=source.api,
                    # At or above backfill_days: everything on the first run, no walk back.
                    initial_window_days=(
                        source.initial_window_days
                        if source.initial_window_days < source.backfill_days
                        else None
                    ),
                    backfill_step_days=source.backfill_step_days,
                    listing=listings.get(repo),
                )
                try:
                    repo_sync.run()
                except BudgetExhausted as exc:
                    # Every page landed so far is committed with its rows; the entity that was
                    # interrupted keeps its old cursor and is read again from there next time.
                    report.stopped = f"{source.name}: {repo}: {exc}"
                    log.warning("%s", report.stopped)
                    if progress:
                        progress(report.stopped)
                    _add_repository(report, repo, repo_sync.report)
                    break
                _add_repository(report, repo, repo_sync.report)
            report.coverage = github_sync.coverage_line(con, source.name, repos)
            if report.coverage and progress:
                progress(report.coverage)
            report.requests = client.stats.as_dict()
            report.requests["discovery_requests"] = discovery_requests.get(name, 0)
            report.requests["requests"] += discovery_requests.get(name, 0)
            reports.append(report)
    return reports


def _add_repository(
    report: SourceRunReport, repo: str, result: github_sync.RepositorySyncReport
) -> None:
    report.scopes += 1
    report.items += result.items()
    report.by_scope[repo] = {e: r.as_dict() for e, r in result.entities.items()}
    for entity, entity_report in result.entities.items():
        report.by_entity[entity] = report.by_entity.get(entity, 0) + entity_report.items


def _git_commits(
    source: GitHubSourceConfig, repository: str
) -> Callable[[github_sync.RepositorySync], None] | None:
    if not source.clones_commits(repository):
        return None
    mirror = GitMirror(
        Path(source.git_dir) / source.name,
        repository,
        source.clone_url(repository),
        token=github_token(source),
    )
    return lambda sync: sync_commits_from_git(sync, mirror)


def check_repository(config: Config, source: GitHubSourceConfig, repository: str) -> None:
    """``repository`` belongs to ``source``: listed in the config, or in one of its organisations."""
    known = {r for s in config.services for r in s.repositories} | set(source.repositories)
    if repository not in known and repository.split("/")[0] not in source.organisations:
        raise ConfigError(
            f"--repository {repository!r}: not a repository of source {source.name!r} "
            "(not in services[].repositories, nor in one of its organisations)"
        )


def _sync(con: duckdb.DuckDBPyConnection, request: SyncRequest) -> SyncOutcome:
    reports = sync_github(
        con,
        request.clients,
        partition_keys=request.partition_keys,
        resync=request.resync,
        progress=request.progress,
    )
    # Per entity of the synced repositories: items, requests, 304s, retries, waits.
    by_entity = {
        e: r for rep in reports for scope in rep.by_scope.values() for e, r in scope.items()
    } | {e: r for rep in reports for e, r in rep.batched.items()}
    metadata = {
        "items_landed": sum(r.items for r in reports),
        "requests": sum(r.requests.get("requests", 0) for r in reports),
        "not_modified": sum(r.requests.get("not_modified", 0) for r in reports),
        "retries": sum(r.requests.get("retries", 0) for r in reports),
        "rate_limit_waits": sum(r.requests.get("rate_limit_waits", 0) for r in reports),
        "waited_seconds": round(sum(r.requests.get("waited_seconds", 0.0) for r in reports), 1),
        "by_entity": by_entity,
        "resync": request.resync,
        # The line saying the sync stopped at the budget reserve, and when it resets.
        "stopped_at_budget_reserve": next((r.stopped for r in reports if r.stopped), ""),
        # "github: synced back to D; backfilling to T" while a backfill is under way.
        "coverage": "; ".join(r.coverage for r in reports if r.coverage),
    }
    scope = ", ".join(request.partition_keys or ["all repositories"])
    messages = [
        f"{scope}: {metadata['items_landed']} items, "
        f"{metadata['requests']} requests ({metadata['not_modified']} not modified)"
    ]
    messages += [r.stopped for r in reports if r.stopped]
    messages += [r.coverage for r in reports if r.coverage]
    return SyncOutcome(metadata=metadata, messages=messages)


def _table(name: str, required: tuple[str, ...] = (), timestamps: tuple[str, ...] = ()) -> RawTable:
    return RawTable(name, "GitHub REST payloads, verbatim.", required, timestamps)


SOURCE = Source(
    name="github",
    description="GitHub and GitHub Enterprise: pull requests, commits, deployments, Actions runs.",
    config_key="github",
    config_model=GitHubSourceConfig,
    raw_tables=(
        _table("github_repositories"),
        _table(
            "github_pull_requests",
            ("$.id", "$.number", "$.state"),
            ("$.created_at", "$.updated_at"),
        ),
        _table("github_pull_request_reviews", ("$.id", "$.state")),
        _table("github_pull_request_commits"),
        _table("github_commits", ("$.sha", "$.parents"), ("$.commit.committer.date",)),
        _table("github_tags"),
        _table("github_releases"),
        _table("github_deployments", ("$.id", "$.sha", "$.environment"), ("$.created_at",)),
        _table("github_deployment_statuses", ("$.id", "$.state"), ("$.created_at",)),
        _table(
            "github_workflow_runs", ("$.id", "$.name", "$.head_sha", "$.status"), ("$.created_at",)
        ),
        _table("github_workflow_jobs", ("$.id", "$.run_id", "$.name")),
        _table("github_issues"),
    ),
    sync=_sync,
    client=github_client,
    partitioning=Partitioning.REPOSITORY,
    partition_keys=github_partition_keys,
    partitions_name="github_repositories",
    job="github_sync",
    discovery_sensor="github_repository_discovery",
    check_scope=check_repository,
    path_fields=("git_dir", "app.private_key_file"),
)
