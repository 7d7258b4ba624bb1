"""Prometheus SLIs as a source, with the SLO definitions they serve (docs/slos.md).

Configured by the top-level ``slos:`` specs rather than a ``sources:`` section, and always present:
the definition tables are rewritten on every run, empty when there are no SLOs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipelines.slo import prometheus
from pipelines.slo.definitions import DEFINITION_TABLES, ensure_definition_tables
from pipelines.slo.sources import config_slos, sync_slo_sources
from pipelines.source import RawTable, Source, SyncOutcome, SyncRequest

if TYPE_CHECKING:
    import duckdb

    from pipelines.config import Config


def _sync(con: duckdb.DuckDBPyConnection, request: SyncRequest) -> SyncOutcome:
    clients = request.clients
    report = sync_slo_sources(
        con,
        clients.config,
        now=clients.now(),
        transport=clients.transport,
        progress=request.progress,
    )
    # "rows" is what this run wrote: the definitions are replaced whole, samples are appended.
    return SyncOutcome(
        metadata={
            "slos": report.slos,
            "samples_landed": report.samples,
            "requests": report.requests,
        },
        table_metadata={
            table: {"rows": report.definitions.get(table, report.samples)}
            for table in (*DEFINITION_TABLES, prometheus.RAW_TABLE)
        },
    )


def prometheus_datasources(config: Config) -> list[str]:
    """The Prometheus data sources the configuration's SLO specs read."""
    return sorted(
        {
            resolved.datasource
            for slo in config_slos(config)
            for resolved in (slo.good, slo.bad, slo.total, slo.threshold)
            if resolved is not None and resolved.type == "Prometheus"
        }
    )


SOURCE = Source(
    name="prometheus",
    description="SLI samples from Prometheus (query_range) and the SLO definitions (OpenSLO specs).",
    raw_tables=(
        RawTable(
            "slo_definitions",
            "One row per SLO, from the OpenSLO specs (docs/slos.md).",
            payload=False,
        ),
        RawTable(
            "slo_alert_policies", "Burn-rate alert windows and factors per SLO.", payload=False
        ),
        RawTable(prometheus.RAW_TABLE, "Prometheus SLI samples (query_range), verbatim."),
    ),
    sync=_sync,
    asset="slo_sources",
    always=True,
    create_tables=ensure_definition_tables,
    configured=prometheus_datasources,
)
