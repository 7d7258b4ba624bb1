"""GitLab as a source: projects, merge requests (with approvals and commits), default-branch
commits, pipelines and jobs, deployments and environments, releases and tags
(docs/sources/gitlab.md). gitlab.com or self-managed; projects listed one by one or found in groups.
Partitioned by project: each project is one partition, keyed by its path for the source named
``gitlab`` and ``<source>:<path>`` for any other, so a failing project fails and retries alone."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from pipelines.errors import ConfigError
from pipelines.gitlab import sync as gitlab_sync
from pipelines.gitlab.client import GitLabClient
from pipelines.gitlab.config import GitLabSourceConfig
from pipelines.http import RetryPolicy
from pipelines.source import (
    Partitioning,
    RawTable,
    Source,
    SourceRunReport,
    SyncOutcome,
    SyncRequest,
    scope_partition_key,
    scopes_by_instance,
)
from pipelines.warehouse import reset_sync_state, transaction

if TYPE_CHECKING:
    import duckdb

    from pipelines.config import Config
    from pipelines.ingest import SourceClients

DEFAULT_GITLAB_SOURCE = "gitlab"


def gitlab_client(clients: SourceClients, source: GitLabSourceConfig) -> GitLabClient:
    return GitLabClient(
        source.api_url,
        token=source.token.get_secret_value() if source.token else None,
        transport=clients.transport,
        timeout=source.timeout_seconds,
        retry=RetryPolicy(max_retries=source.max_retries),
        per_page=source.per_page,
    )


def projects_of(client: GitLabClient, source: GitLabSourceConfig) -> list[str]:
    """The configured projects, then every project of the configured groups, each once."""
    found = list(dict.fromkeys(source.projects))
    for group in source.groups:
        for project in gitlab_sync.group_projects(
            client,
            group,
            include_subgroups=source.include_subgroups,
            include_archived=source.include_archived,
        ):
            if project not in found:
                found.append(project)
    return found


def gitlab_partition_keys(clients: SourceClients) -> list[str]:
    """Every project of every GitLab source, as partition keys (groups cost a request per 100)."""
    keys = []
    for source in clients.config.sources.gitlab:
        with gitlab_client(clients, source) as client:
            keys += [
                scope_partition_key(DEFAULT_GITLAB_SOURCE, source.name, p)
                for p in projects_of(client, source)
            ]
    return keys


def check_project(config: Config, source: GitLabSourceConfig, project: str) -> None:
    """``project`` belongs to ``source``: listed in it, or under one of its groups."""
    if project not in source.projects and not any(
        project.startswith(f"{group}/") for group in source.groups
    ):
        raise ConfigError(
            f"--repository {project!r}: not a project of source {source.name!r} "
            "(not in its projects, nor under one of its groups)"
        )


def sync_gitlab(
    con: duckdb.DuckDBPyConnection,
    clients: SourceClients,
    *,
    partition_keys: Iterable[str] | None = None,
    resync: bool = False,
    progress: Callable[[str], None] | None = None,
) -> list[SourceRunReport]:
    """Sync every project of every GitLab source, or only those of ``partition_keys`` (no group
    listing then). With ``resync`` each project's cursors are forgotten first."""
    sources = {s.name: s for s in clients.config.sources.gitlab}
    plan = (
        None
        if partition_keys is None
        else scopes_by_instance(partition_keys, sources, DEFAULT_GITLAB_SOURCE, "GitLab")
    )
    reports = []
    for source in sources.values():
        if plan is not None and source.name not in plan:
            continue
        report = SourceRunReport(source.name)
        with gitlab_client(clients, source) as client:
            projects = plan[source.name] if plan is not None else projects_of(client, source)
            for i, project in enumerate(projects, 1):
                if progress:
                    progress(f"[{i}/{len(projects)}] {source.name}: {project}")
                if resync:
                    with transaction(con):
                        reset_sync_state(con, source.name, project)
                result = gitlab_sync.ProjectSync(
                    con,
                    client,
                    source=source.name,
                    project=project,
                    backfill_days=source.backfill_days,
                    now=clients.now(),
                    jobs=source.jobs,
                    progress=progress,
                ).run()
                report.scopes += 1
                report.items += result.items()
                report.by_scope[result.project] = {
                    e: r.as_dict() for e, r in result.entities.items()
                }
                for entity, entity_report in result.entities.items():
                    report.by_entity[entity] = report.by_entity.get(entity, 0) + entity_report.items
            report.requests = client.stats.as_dict()
        reports.append(report)
    return reports


def _sync(con: duckdb.DuckDBPyConnection, request: SyncRequest) -> SyncOutcome:
    reports = sync_gitlab(
        con,
        request.clients,
        partition_keys=request.partition_keys,
        resync=request.resync,
        progress=request.progress,
    )
    metadata = {
        "items_landed": sum(r.items for r in reports),
        "projects": sum(r.scopes for r in reports),
        "requests": sum(r.requests.get("requests", 0) for r in reports),
        "retries": sum(r.requests.get("retries", 0) for r in reports),
        "rate_limit_waits": sum(r.requests.get("rate_limit_waits", 0) for r in reports),
        "by_entity": {e: n for r in reports for e, n in r.by_entity.items()},
    }
    metadata["resync"] = request.resync
    scope = ", ".join(request.partition_keys or ["all projects"])
    return SyncOutcome(
        metadata=metadata,
        messages=[f"{scope}: {metadata['items_landed']} items, {metadata['requests']} requests"],
    )


def _table(name: str, required: tuple[str, ...] = (), timestamps: tuple[str, ...] = ()) -> RawTable:
    return RawTable(name, "GitLab REST v4 payloads, verbatim.", required, timestamps)


SOURCE = Source(
    name="gitlab",
    description="GitLab (gitlab.com or self-managed): merge requests, commits, pipelines, "
    "deployments, releases.",
    config_key="gitlab",
    config_model=GitLabSourceConfig,
    raw_tables=(
        _table("gitlab_projects", ("$.id", "$.path_with_namespace")),
        _table(
            "gitlab_merge_requests",
            ("$.id", "$.iid", "$.state"),
            ("$.created_at", "$.updated_at"),
        ),
        _table("gitlab_merge_request_approvals"),
        _table("gitlab_merge_request_commits", ("$.id",)),
        _table("gitlab_commits", ("$.id", "$.parent_ids"), ("$.committed_date",)),
        _table("gitlab_pipelines", ("$.id", "$.sha", "$.status"), ("$.created_at",)),
        _table("gitlab_jobs", ("$.id", "$.name", "$.status"), ("$.created_at",)),
        _table("gitlab_deployments", ("$.id", "$.sha", "$.status"), ("$.created_at",)),
        _table("gitlab_environments", ("$.id", "$.name")),
        _table("gitlab_releases", ("$.tag_name",)),
        _table("gitlab_tags", ("$.name",)),
    ),
    sync=_sync,
    client=gitlab_client,
    partitioning=Partitioning.REPOSITORY,
    partition_keys=gitlab_partition_keys,
    partitions_name="gitlab_projects",
    job="gitlab_sync",
    discovery_sensor="gitlab_project_discovery",
    check_scope=check_project,
)
