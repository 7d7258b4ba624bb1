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
from typing import Any

import duckdb
import httpx

from pipelines import surveys
from pipelines.config import Config, GitHubSourceConfig, PagerDutySourceConfig
from pipelines.github import sync as github_sync
from pipelines.github.client import GitHubClient
from pipelines.http import RetryPolicy
from pipelines.pagerduty import sync as pagerduty_sync
from pipelines.pagerduty.client import PagerDutyClient
from pipelines.warehouse import ensure_raw_table

log = logging.getLogger(__name__)

RAW_TABLES = github_sync.RAW_TABLES + pagerduty_sync.RAW_TABLES + surveys.RAW_TABLES


def ensure_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create every raw table, empty where its source is not configured, so dbt always builds."""
    for table in RAW_TABLES:
        ensure_raw_table(con, table)


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

    def github(self, source: GitHubSourceConfig) -> GitHubClient:
        return GitHubClient(
            source.base_url,
            token=source.token.get_secret_value() if source.token else None,
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


@dataclass
class SourceRunReport:
    source: str
    scopes: int = 0
    items: int = 0
    by_entity: dict[str, int] = field(default_factory=dict)
    requests: dict[str, float | int] = field(default_factory=dict)


def sync_github(
    con: duckdb.DuckDBPyConnection,
    clients: SourceClients,
    *,
    repositories: Iterable[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[SourceRunReport]:
    """Sync every repository of every configured GitHub source (or only ``repositories``)."""
    reports = []
    wanted = set(repositories) if repositories is not None else None
    for source in clients.config.sources.github:
        with clients.github(source) as client:
            repos = github_sync.list_repositories(client, source.organisations, source.repositories)
            if wanted is not None:
                repos = [r for r in repos if r in wanted]
            report = SourceRunReport(source.name)
            for i, repo in enumerate(repos, 1):
                if progress:
                    progress(f"[{i}/{len(repos)}] {source.name}: {repo}")
                result = github_sync.RepositorySync(
                    con,
                    client,
                    source=source.name,
                    repository=repo,
                    backfill_days=source.backfill_days,
                    now=clients.now(),
                    progress=progress,
                ).run()
                report.scopes += 1
                report.items += result.items()
                for entity, entity_report in result.entities.items():
                    report.by_entity[entity] = report.by_entity.get(entity, 0) + entity_report.items
            report.requests = client.stats.as_dict()
            reports.append(report)
    return reports


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
