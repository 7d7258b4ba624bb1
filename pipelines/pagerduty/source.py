"""PagerDuty as a source: incidents (REST v2) with their log entries (docs/sources/pagerduty.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipelines.http import RetryPolicy
from pipelines.pagerduty import sync as pagerduty_sync
from pipelines.pagerduty.client import PagerDutyClient
from pipelines.pagerduty.config import PagerDutySourceConfig
from pipelines.source import RawTable, Source, SourceRunReport, SyncOutcome, SyncRequest

if TYPE_CHECKING:
    import duckdb

    from pipelines.ingest import SourceClients


def pagerduty_client(clients: SourceClients, source: PagerDutySourceConfig) -> PagerDutyClient:
    return PagerDutyClient(
        source.base_url,
        token=source.token.get_secret_value() if source.token else None,
        transport=clients.transport,
        timeout=source.timeout_seconds,
        retry=RetryPolicy(max_retries=source.max_retries),
    )


def sync_pagerduty(con: duckdb.DuckDBPyConnection, clients: SourceClients) -> list[SourceRunReport]:
    reports = []
    for source in clients.config.sources.pagerduty:
        with pagerduty_client(clients, source) as client:
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


def _sync(con: duckdb.DuckDBPyConnection, request: SyncRequest) -> SyncOutcome:
    reports = sync_pagerduty(con, request.clients)
    return SyncOutcome(
        metadata={
            "items_landed": sum(r.items for r in reports),
            "requests": {r.source: r.requests for r in reports},
        }
    )


SOURCE = Source(
    name="pagerduty",
    description="PagerDuty incidents (REST v2), with acknowledge/resolve times from log entries.",
    config_key="pagerduty",
    config_model=PagerDutySourceConfig,
    raw_tables=(
        RawTable(
            "pagerduty_incidents",
            "PagerDuty incidents, verbatim.",
            required=("$.id", "$.service.id", "$.status"),
            timestamps=("$.created_at",),
        ),
    ),
    sync=_sync,
    client=pagerduty_client,
)
