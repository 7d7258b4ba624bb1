"""Argo CD as a source: applications and their sync history (``status.history``) as deployments,
current health (``status.health``) as a signal (docs/sources/argocd.md). Not partitioned: one
request lists every application of an Argo CD server."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipelines.argocd.client import ArgoCDClient
from pipelines.argocd.config import ArgoCDSourceConfig
from pipelines.argocd.sync import RepositoryMap, sync_applications
from pipelines.http import RetryPolicy
from pipelines.source import RawTable, Source, SyncOutcome, SyncRequest

if TYPE_CHECKING:
    import duckdb

    from pipelines.config import Config
    from pipelines.ingest import SourceClients


def argocd_client(clients: SourceClients, source: ArgoCDSourceConfig) -> ArgoCDClient:
    return ArgoCDClient(
        source.api_url,
        token=source.token.get_secret_value() if source.token else None,
        transport=clients.transport,
        timeout=source.timeout_seconds,
        retry=RetryPolicy(max_retries=source.max_retries),
    )


def repository_map(config: Config, source: ArgoCDSourceConfig) -> RepositoryMap:
    return RepositoryMap(
        {s.name: list(s.repositories) for s in config.services}, dict(source.service_map)
    )


def _sync(con: duckdb.DuckDBPyConnection, request: SyncRequest) -> SyncOutcome:
    clients = request.clients
    metadata = {
        "applications": 0,
        "history_entries": 0,
        "health_changes": 0,
        "requests": 0,
        "retries": 0,
    }
    messages = []
    for source in clients.config.sources.argocd:
        if request.progress:
            request.progress(f"{source.name}: listing applications")
        with argocd_client(clients, source) as client:
            report = sync_applications(
                con,
                client,
                source=source.name,
                repositories=repository_map(clients.config, source),
                projects=source.projects,
                names=source.applications,
                now=clients.now(),
            )
            metadata["requests"] += client.stats.requests
            metadata["retries"] += client.stats.retries
        metadata["applications"] += report.applications
        metadata["history_entries"] += report.history
        metadata["health_changes"] += report.health_changes
        messages.append(
            f"{source.name}: {report.applications} applications, {report.history} new syncs"
            if report.applications or report.skipped
            else f"{source.name}: 0 applications visible; check the token's RBAC "
            "(applications, get) and the projects filter"
        )
    metadata["items_landed"] = metadata["applications"] + metadata["history_entries"]
    return SyncOutcome(metadata=metadata, messages=messages)


SOURCE = Source(
    name="argocd",
    description="Argo CD: applications' sync history as deployments, health as a signal.",
    config_key="argocd",
    config_model=ArgoCDSourceConfig,
    raw_tables=(
        RawTable(
            "argocd_applications",
            "Argo CD applications (GET /api/v1/applications items), verbatim.",
            ("$.metadata.name",),
        ),
        RawTable(
            "argocd_health",
            "Argo CD status.health of an application, each time a sync saw it change, verbatim.",
            ("$.status",),
        ),
        RawTable(
            "argocd_sync_history",
            "Argo CD status.history entries (one per sync), verbatim.",
            ("$.id",),
            ("$.deployedAt",),
        ),
    ),
    sync=_sync,
    client=argocd_client,
)
