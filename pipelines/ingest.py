"""Extract-load runs for every configured source, independent of the orchestrator.

``SourceClients`` builds each source's client from the config: against the real network, or, for the
demo organisation, against the in-process fake API (the same client code either way).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import httpx

from pipelines import incidents, surveys
from pipelines.config import (
    Config,
    GitHubSourceConfig,
    OpsgenieSourceConfig,
    PagerDutySourceConfig,
    StatuspageSourceConfig,
)
from pipelines.errors import ConfigError
from pipelines.github import sync as github_sync
from pipelines.github.client import GitHubClient
from pipelines.github.discovery import RepositoryFilter, discover_repositories
from pipelines.github.git_commits import GitMirror, sync_commits_from_git
from pipelines.http import RetryPolicy
from pipelines.incidents import files as incident_files
from pipelines.incidents import opsgenie, statuspage
from pipelines.pagerduty import sync as pagerduty_sync
from pipelines.pagerduty.client import PagerDutyClient
from pipelines.slo import prometheus as slo_prometheus
from pipelines.slo.definitions import ensure_definition_tables
from pipelines.warehouse import ensure_raw_table, reset_sync_state, transaction

log = logging.getLogger(__name__)

RAW_TABLES = (
    github_sync.RAW_TABLES
    + pagerduty_sync.RAW_TABLES
    + incidents.RAW_TABLES
    + surveys.RAW_TABLES
    + slo_prometheus.RAW_TABLES
)


def ensure_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create every raw table, empty where its source is not configured, so dbt always builds."""
    for table in RAW_TABLES:
        ensure_raw_table(con, table)
    ensure_definition_tables(con)


@dataclass
class SourceClients:
    config: Config

    @functools.cached_property
    def demo_organisation(self) -> Any:
        from pipelines.demo import generate_organisation

        return generate_organisation(self.config)

    @functools.cached_property
    def transport(self) -> httpx.BaseTransport | None:
        if not self.config.is_demo:
            return None
        from pipelines.demo import demo_transport

        return demo_transport(self.demo_organisation)

    def now(self) -> dt.datetime:
        """The clock syncs run against: the demo's last day, or the real time."""
        demo = self.config.demo
        if demo is not None and demo.end_date is not None:
            end = dt.datetime.combine(demo.end_date, dt.time(23, 59, 59), tzinfo=dt.UTC)
            return min(end, dt.datetime.now(dt.UTC))
        return dt.datetime.now(dt.UTC)

    def github_token(self, source: GitHubSourceConfig) -> str | None:
        return source.token.get_secret_value() if source.token else None

    def github(self, source: GitHubSourceConfig) -> GitHubClient:
        return GitHubClient(
            source.base_url,
            token=self.github_token(source),
            transport=self.transport,
            timeout=source.timeout_seconds,
            retry=RetryPolicy(max_retries=source.max_retries),
            per_page=source.per_page,
        )

    def pagerduty(self, source: PagerDutySourceConfig) -> PagerDutyClient:
        return PagerDutyClient(
            source.base_url,
            token=source.token.get_secret_value() if source.token else None,
            transport=self.transport,
            timeout=source.timeout_seconds,
            retry=RetryPolicy(max_retries=source.max_retries),
        )

    def opsgenie(self, source: OpsgenieSourceConfig) -> opsgenie.OpsgenieClient:
        return opsgenie.OpsgenieClient(
            source.base_url,
            api_key=source.api_key.get_secret_value() if source.api_key else None,
            transport=self.transport,
            timeout=source.timeout_seconds,
            retry=RetryPolicy(max_retries=source.max_retries),
        )

    def statuspage(self, source: StatuspageSourceConfig) -> statuspage.StatuspageClient:
        return statuspage.StatuspageClient(
            source.base_url,
            api_key=source.api_key.get_secret_value() if source.api_key else None,
            transport=self.transport,
            timeout=source.timeout_seconds,
            retry=RetryPolicy(max_retries=source.max_retries),
        )


@dataclass
class SourceRunReport:
    source: str
    scopes: int = 0
    items: int = 0
    by_entity: dict[str, int] = field(default_factory=dict)
    requests: dict[str, float | int] = field(default_factory=dict)
    # repository -> entity -> items, requests, not_modified, retries, waits (GitHub only)
    by_scope: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)


# Each GitHub repository is one Dagster partition. The key is "owner/name" for the source named
# "github" and "<source>:owner/name" for any other, so two sources never share a key.
DEFAULT_GITHUB_SOURCE = "github"


def github_partition_key(source: str, repository: str) -> str:
    return repository if source == DEFAULT_GITHUB_SOURCE else f"{source}:{repository}"


def parse_github_partition_key(key: str) -> tuple[str, str]:
    """(source name, owner/name) of a partition key."""
    source, _, repository = key.rpartition(":")
    return source or DEFAULT_GITHUB_SOURCE, repository


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
        with clients.github(source) as client:
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
        plan: dict[str, list[str]] = {}
        for key in partition_keys:
            source, repo = parse_github_partition_key(key)
            if source not in sources:
                raise ConfigError(
                    f"partition {key!r}: {source!r} is not a GitHub source in the config "
                    f"({sorted(sources)}); remove the stale partition or restore the source"
                )
            plan.setdefault(source, []).append(repo)
    else:
        plan = discover_github_repositories(clients, progress=progress, requests=discovery_requests)
        if repositories is not None:
            wanted = set(repositories)
            plan = {s: [r for r in repos if r in wanted] for s, repos in plan.items()}
    reports = []
    for name, repos in plan.items():
        source = sources[name]
        with clients.github(source) as client:
            report = SourceRunReport(source.name)
            for i, repo in enumerate(repos, 1):
                if progress:
                    progress(f"[{i}/{len(repos)}] {source.name}: {repo}")
                if resync:
                    with transaction(con):
                        reset_sync_state(con, source.name, repo)
                result = github_sync.RepositorySync(
                    con,
                    client,
                    source=source.name,
                    repository=repo,
                    backfill_days=source.backfill_days,
                    now=clients.now(),
                    progress=progress,
                    commits_from_git=_git_commits(clients, source, repo),
                ).run()
                report.scopes += 1
                report.items += result.items()
                report.by_scope[repo] = {e: r.as_dict() for e, r in result.entities.items()}
                for entity, entity_report in result.entities.items():
                    report.by_entity[entity] = report.by_entity.get(entity, 0) + entity_report.items
            report.requests = client.stats.as_dict()
            report.requests["discovery_requests"] = discovery_requests.get(name, 0)
            report.requests["requests"] += discovery_requests.get(name, 0)
            reports.append(report)
    return reports


def _git_commits(
    clients: SourceClients, source: GitHubSourceConfig, repository: str
) -> Callable[[github_sync.RepositorySync], None] | None:
    if not source.clones_commits(repository):
        return None
    mirror = GitMirror(
        Path(source.git_dir) / source.name,
        repository,
        source.clone_url(repository),
        token=clients.github_token(source),
    )
    return lambda sync: sync_commits_from_git(sync, mirror)


def sync_pagerduty(con: duckdb.DuckDBPyConnection, clients: SourceClients) -> list[SourceRunReport]:
    reports = []
    for source in clients.config.sources.pagerduty:
        with clients.pagerduty(source) as client:
            result = pagerduty_sync.sync_incidents(
                con,
                client,
                source=source.name,
                service_ids=source.service_ids,
                backfill_days=source.backfill_days,
                now=clients.now(),
                log_entries=source.log_entries,
            )
            reports.append(
                SourceRunReport(
                    source.name,
                    scopes=result.windows,
                    items=result.items,
                    by_entity={"incidents": result.items},
                    requests=client.stats.as_dict(),
                )
            )
    return reports


def sync_incident_sources(
    con: duckdb.DuckDBPyConnection, clients: SourceClients
) -> list[SourceRunReport]:
    """Opsgenie, Statuspage and incident files (PagerDuty has :func:`sync_pagerduty`)."""
    sources = clients.config.sources
    reports = []
    for source in sources.opsgenie:
        with clients.opsgenie(source) as client:
            result = opsgenie.sync_incidents(
                con,
                client,
                source=source.name,
                query=source.query,
                backfill_days=source.backfill_days,
                now=clients.now(),
            )
            reports.append(
                SourceRunReport(
                    source.name,
                    scopes=1,
                    items=result.items,
                    by_entity={"opsgenie_incidents": result.items},
                    requests=client.stats.as_dict(),
                )
            )
    for source in sources.statuspage:
        with clients.statuspage(source) as client:
            result = statuspage.sync_incidents(con, client, source=source.name)
            reports.append(
                SourceRunReport(
                    source.name,
                    scopes=1,
                    items=result.items,
                    by_entity={"statuspage_incidents": result.items},
                    requests=client.stats.as_dict(),
                )
            )
    for source in sources.incident_files:
        result = incident_files.import_files(con, source.path, source.columns, source=source.name)
        reports.append(
            SourceRunReport(
                source.name,
                scopes=result.files,
                items=result.items,
                by_entity={"incident_file_rows": result.items},
            )
        )
    return reports
