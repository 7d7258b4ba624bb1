"""Jenkins as a source: jobs (walked through folders and multibranch pipelines) and their builds,
each with the commit it built (the git plugin's build data), its result and timings; builds of
jobs matching ``deployment_job_regex`` are deployments (docs/sources/jenkins.md). Not partitioned:
one sync reads every configured controller, one transaction per job."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from pipelines.http import RetryPolicy
from pipelines.jenkins import sync as jenkins_sync
from pipelines.jenkins.client import JenkinsClient
from pipelines.jenkins.config import JenkinsSourceConfig
from pipelines.source import RawTable, Source, SourceRunReport, SyncOutcome, SyncRequest
from pipelines.warehouse import reset_sync_state, transaction

if TYPE_CHECKING:
    import duckdb

    from pipelines.ingest import SourceClients


def jenkins_client(clients: SourceClients, source: JenkinsSourceConfig) -> JenkinsClient:
    return JenkinsClient(
        source.base_url,
        user=source.user,
        token=source.token.get_secret_value() if source.token else None,
        transport=clients.transport,
        timeout=source.timeout_seconds,
        retry=RetryPolicy(max_retries=source.max_retries),
        builds_per_request=source.builds_per_request,
    )


def sync_controller(
    con: duckdb.DuckDBPyConnection,
    client: JenkinsClient,
    source: JenkinsSourceConfig,
    *,
    only: Iterable[str] | None = None,
    resync: bool = False,
    progress: Callable[[str], None] | None = None,
) -> SourceRunReport:
    """Discover ``source``'s jobs, record which are deployment jobs, then sync each job's builds
    (only the jobs in ``only`` when given; their cursors forgotten first with ``resync``)."""
    report = SourceRunReport(source.name)
    jobs = jenkins_sync.discover_jobs(client, source.jobs, source.folders)
    jenkins_sync.write_deployment_jobs(
        con,
        source.name,
        list(jobs),
        source.is_deployment_job,
        source.deployment_environment,
    )
    wanted = list(jobs) if only is None else [j for j in jobs if j in set(only)]
    for i, job in enumerate(wanted, 1):
        if resync:
            with transaction(con):
                reset_sync_state(con, source.name, job)
        result = jenkins_sync.sync_job(
            con,
            client,
            source=source.name,
            job=job,
            item=jobs[job],
            max_builds=source.max_builds_per_job,
        )
        if progress:
            progress(
                f"[{i}/{len(wanted)}] {source.name}: {job}: {result.builds} builds, "
                f"{result.requests} requests"
            )
        report.scopes += 1
        report.items += result.builds
        report.by_entity["builds"] = report.by_entity.get("builds", 0) + result.builds
        report.by_scope[job] = {"builds": {"items": result.builds, "requests": result.requests}}
    report.requests = client.stats.as_dict()
    return report


def sync_jenkins(
    con: duckdb.DuckDBPyConnection,
    clients: SourceClients,
    *,
    resync: bool = False,
    progress: Callable[[str], None] | None = None,
) -> list[SourceRunReport]:
    reports = []
    for source in clients.config.sources.jenkins:
        with jenkins_client(clients, source) as client:
            reports.append(sync_controller(con, client, source, resync=resync, progress=progress))
    return reports


def _sync(con: duckdb.DuckDBPyConnection, request: SyncRequest) -> SyncOutcome:
    reports = sync_jenkins(con, request.clients, resync=request.resync, progress=request.progress)
    metadata = {
        "items_landed": sum(r.items for r in reports),
        "jobs": sum(r.scopes for r in reports),
        "requests": sum(r.requests.get("requests", 0) for r in reports),
        "retries": sum(r.requests.get("retries", 0) for r in reports),
        "resync": request.resync,
    }
    return SyncOutcome(
        metadata=metadata,
        messages=[
            f"Jenkins: {metadata['items_landed']} builds of {metadata['jobs']} jobs, "
            f"{metadata['requests']} requests"
        ],
    )


SOURCE = Source(
    name="jenkins",
    description="Jenkins: jobs (folders, multibranch pipelines) and builds with their commits; "
    "deployment builds by job name.",
    config_key="jenkins",
    config_model=JenkinsSourceConfig,
    raw_tables=(
        RawTable(
            "jenkins_jobs",
            "Jenkins jobs, payload = the job's JSON API object (tree= fields), verbatim.",
            ("$.name",),
        ),
        RawTable(
            "jenkins_builds",
            "Jenkins builds, payload = item of allBuilds (tree= fields), verbatim.",
            ("$.number", "$.timestamp"),
        ),
        RawTable(
            jenkins_sync.DEPLOYMENT_JOBS_TABLE,
            "Jobs whose builds are deployments (deployment_job_regex), rewritten each sync.",
            ("$.job", "$.environment"),
        ),
    ),
    sync=_sync,
    client=jenkins_client,
)
