"""Extract-load runs for every configured source, independent of the orchestrator.

``SourceClients`` builds each source's client from the config: against the real network, or, for the
demo organisation, against the in-process fake API (the same client code either way). The sources
themselves are plugins (``pipelines/<source>/source.py``, listed in ``pipelines/sources.py``); the
``sync_*`` functions here are the names the rest of the code and the tests have always used.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from dataclasses import dataclass, field
from typing import Any

import duckdb
import httpx

from pipelines import sources as source_registry
from pipelines.config import Config
from pipelines.github.source import (
    DEFAULT_GITHUB_SOURCE,
    discover_github_repositories,
    github_partition_key,
    github_partition_keys,
    parse_github_partition_key,
    sync_github,
)
from pipelines.incidents.source import sync_incident_files, sync_opsgenie, sync_statuspage
from pipelines.pagerduty.source import sync_pagerduty
from pipelines.source import Source, SourceRunReport, SyncOutcome, SyncRequest
from pipelines.warehouse import ensure_raw_table

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_GITHUB_SOURCE",
    "RAW_TABLES",
    "SourceClients",
    "SourceRunReport",
    "discover_github_repositories",
    "ensure_raw_tables",
    "github_partition_key",
    "github_partition_keys",
    "parse_github_partition_key",
    "run_source",
    "sync_github",
    "sync_incident_sources",
    "sync_pagerduty",
]

# The built-in sources' payload tables, in registry order (raw_table_names() has every source's).
RAW_TABLES = tuple(
    t.name for s in source_registry.BUILTIN_SOURCES for t in s.raw_tables if t.payload
)


def ensure_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create every registered source's raw tables, empty where the source is not configured, so
    dbt always builds."""
    for source in source_registry.all_sources():
        for table in source.raw_tables:
            if table.payload:
                ensure_raw_table(con, table.name)
        if source.create_tables is not None:
            source.create_tables(con)


@dataclass
class SourceClients:
    config: Config
    # Options of the demo's fake API (pipelines/demo/fake_api.py), e.g. realistic_payloads.
    transport_options: dict[str, Any] = field(default_factory=dict)

    @functools.cached_property
    def demo_organisation(self) -> Any:
        from pipelines.demo import generate_organisation

        return generate_organisation(self.config)

    @functools.cached_property
    def transport(self) -> httpx.BaseTransport | None:
        if not self.config.is_demo:
            return None
        from pipelines.demo import demo_transport

        return demo_transport(self.demo_organisation, **self.transport_options)

    def now(self) -> dt.datetime:
        """The clock syncs run against: the demo's last day, or the real time."""
        demo = self.config.demo
        if demo is not None and demo.end_date is not None:
            end = dt.datetime.combine(demo.end_date, dt.time(23, 59, 59), tzinfo=dt.UTC)
            return min(end, dt.datetime.now(dt.UTC))
        return dt.datetime.now(dt.UTC)

    def client(self, source: str | Source, instance: Any) -> Any:
        """The client of one configured instance of ``source``, built by the source's package."""
        source = source_registry.get_source(source) if isinstance(source, str) else source
        if source.client is None:
            raise TypeError(f"source {source.name!r} has no API client")
        return source.client(self, instance)


def run_source(
    con: duckdb.DuckDBPyConnection, source: str | Source, request: SyncRequest
) -> SyncOutcome:
    """One source's sync entry point (every configured instance, or the requested partitions)."""
    source = source_registry.get_source(source) if isinstance(source, str) else source
    return source.sync(con, request)


def sync_incident_sources(
    con: duckdb.DuckDBPyConnection, clients: SourceClients
) -> list[SourceRunReport]:
    """Opsgenie, Statuspage and incident files (PagerDuty has :func:`sync_pagerduty`)."""
    return (
        sync_opsgenie(con, clients)
        + sync_statuspage(con, clients)
        + sync_incident_files(con, clients)
    )
