"""Incident sources beyond PagerDuty: Opsgenie, Atlassian Statuspage and file imports
(docs/sources/incidents.md). Three sources, one Dagster step (``incident_sources``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipelines.http import RetryPolicy
from pipelines.incidents import files as incident_files
from pipelines.incidents import opsgenie, statuspage
from pipelines.incidents.config import (
    IncidentFileSourceConfig,
    OpsgenieSourceConfig,
    StatuspageSourceConfig,
)
from pipelines.source import RawTable, Source, SourceRunReport, SyncOutcome

if TYPE_CHECKING:
    import duckdb

    from pipelines.ingest import SourceClients

ASSET = "incident_sources"
_DESCRIPTION = "Opsgenie, Statuspage and file-imported incidents."


def opsgenie_client(
    clients: SourceClients, source: OpsgenieSourceConfig
) -> opsgenie.OpsgenieClient:
    return opsgenie.OpsgenieClient(
        source.base_url,
        api_key=source.api_key.get_secret_value() if source.api_key else None,
        transport=clients.transport,
        timeout=source.timeout_seconds,
        retry=RetryPolicy(max_retries=source.max_retries),
    )


def statuspage_client(
    clients: SourceClients, source: StatuspageSourceConfig
) -> statuspage.StatuspageClient:
    return statuspage.StatuspageClient(
        source.base_url,
        api_key=source.api_key.get_secret_value() if source.api_key else None,
        transport=clients.transport,
        timeout=source.timeout_seconds,
        retry=RetryPolicy(max_retries=source.max_retries),
    )


def _sync_each(con, clients, instances, make_client, sync_one, table) -> list[SourceRunReport]:
    """One report per configured instance of an API source (one scope: the whole account/page)."""
    reports = []
    for source in instances:
        with make_client(clients, source) as client:
            result = sync_one(con, client, source)
            reports.append(
                SourceRunReport(
                    source.name,
                    scopes=1,
                    items=result.items,
                    by_entity={table: result.items},
                    requests=client.stats.as_dict(),
                )
            )
    return reports


def sync_opsgenie(con: duckdb.DuckDBPyConnection, clients: SourceClients) -> list[SourceRunReport]:
    return _sync_each(
        con,
        clients,
        clients.config.sources.opsgenie,
        opsgenie_client,
        lambda con, client, source: opsgenie.sync_incidents(
            con,
            client,
            source=source.name,
            query=source.query,
            backfill_days=source.backfill_days,
            now=clients.now(),
        ),
        "opsgenie_incidents",
    )


def sync_statuspage(
    con: duckdb.DuckDBPyConnection, clients: SourceClients
) -> list[SourceRunReport]:
    return _sync_each(
        con,
        clients,
        clients.config.sources.statuspage,
        statuspage_client,
        lambda con, client, source: statuspage.sync_incidents(con, client, source=source.name),
        "statuspage_incidents",
    )


def sync_incident_files(
    con: duckdb.DuckDBPyConnection, clients: SourceClients
) -> list[SourceRunReport]:
    reports = []
    for source in clients.config.sources.incident_files:
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


def _outcome(reports: list[SourceRunReport], table: str) -> SyncOutcome:
    return SyncOutcome(
        table_metadata={
            table: {
                "items_landed": sum(r.by_entity.get(table, 0) for r in reports),
                "requests": {r.source: r.requests for r in reports if r.requests},
            }
        }
    )


def _table(name: str) -> RawTable:
    return RawTable(name, _DESCRIPTION)


OPSGENIE = Source(
    name="opsgenie",
    description="Opsgenie alerts-as-incidents (REST v2).",
    config_key="opsgenie",
    config_model=OpsgenieSourceConfig,
    raw_tables=(_table("opsgenie_incidents"),),
    sync=lambda con, request: _outcome(sync_opsgenie(con, request.clients), "opsgenie_incidents"),
    client=opsgenie_client,
    asset=ASSET,
    service_map_field="service_map",
)
STATUSPAGE = Source(
    name="statuspage",
    description="Atlassian Statuspage incidents (public or private page).",
    config_key="statuspage",
    config_model=StatuspageSourceConfig,
    raw_tables=(_table("statuspage_incidents"),),
    sync=lambda con, request: _outcome(
        sync_statuspage(con, request.clients), "statuspage_incidents"
    ),
    client=statuspage_client,
    asset=ASSET,
    service_map_field="service_map",
)
INCIDENT_FILES = Source(
    name="incident_file",
    description="Incidents exported from ServiceNow, Jira or a spreadsheet (CSV, JSON Lines).",
    config_key="incident_files",
    config_model=IncidentFileSourceConfig,
    raw_tables=(_table("incident_file_rows"),),
    sync=lambda con, request: _outcome(
        sync_incident_files(con, request.clients), "incident_file_rows"
    ),
    asset=ASSET,
    path_fields=("path",),
    service_map_field="service_map",
)
