"""Ingest assets: one multi-asset per source system, each writing its ``raw.*`` tables.

Every asset that writes the warehouse runs in the ``warehouse`` concurrency pool (limit 1): DuckDB
allows one writer process at a time.

GitHub is partitioned by repository (dynamic partitions named ``github_repositories``): one run
syncs one repository, so one failing repository fails alone and is retried alone, and a sync of all
is one backfill. The ``github_repository_discovery`` sensor registers the repositories discovery
finds; ``platform-metrics run`` registers and runs them itself (assets/runner.py).
"""

from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.project import WAREHOUSE_POOL
from assets.resources import warehouse_connection
from pipelines import incidents, ingest, surveys
from pipelines.config import Config
from pipelines.errors import ConfigError
from pipelines.github import sync as github_sync
from pipelines.organisation import ORG_TABLES, write_organisation
from pipelines.pagerduty import sync as pagerduty_sync
from pipelines.warehouse import raw_row_counts

DEMO_SURVEY_SALT = "platform-metrics-demo-salt"
GITHUB_ASSET = "github"
GITHUB_PARTITIONS = dg.DynamicPartitionsDefinition(name="github_repositories")


class GitHubSyncConfig(dg.Config):
    """Run config of the ``github`` asset."""

    resync: bool = False  # forget this repository's cursors first and re-read its history


def _specs(tables: tuple[str, ...], description: str) -> list[dg.AssetSpec]:
    return [
        dg.AssetSpec(["raw", table], description=description, group_name="ingest")
        for table in tables
    ]


def build_ingest_assets(config: Config) -> list[dg.AssetsDefinition]:
    assets: list[dg.AssetsDefinition] = []
    source_config = config

    @dg.multi_asset(
        name="organisation",
        specs=_specs(ORG_TABLES, "Teams, services and repositories from the configuration file."),
        pool=WAREHOUSE_POOL,
    )
    def organisation(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
        with warehouse_connection(duckdb) as con:
            ingest.ensure_raw_tables(con)
            counts = write_organisation(con, config)
        for table, rows in counts.items():
            yield dg.MaterializeResult(asset_key=["raw", table], metadata={"rows": rows})

    assets.append(organisation)

    if config.sources.github:

        @dg.multi_asset(
            name=GITHUB_ASSET,
            specs=_specs(github_sync.RAW_TABLES, "GitHub REST payloads, verbatim."),
            partitions_def=GITHUB_PARTITIONS,
            pool=WAREHOUSE_POOL,
        )
        def github(
            context: dg.AssetExecutionContext, duckdb: DuckDBResource, config: GitHubSyncConfig
        ):
            clients = ingest.SourceClients(source_config)
            with warehouse_connection(duckdb) as con:
                ingest.ensure_raw_tables(con)
                reports = ingest.sync_github(
                    con,
                    clients,
                    partition_keys=[context.partition_key],
                    resync=config.resync,
                    progress=context.log.info,
                )
                counts = raw_row_counts(con)
            # Per entity of this repository: items, requests, 304s, retries, waits.
            by_entity = {
                e: r for rep in reports for scope in rep.by_scope.values() for e, r in scope.items()
            }
            metadata = {
                "items_landed": sum(r.items for r in reports),
                "requests": sum(r.requests.get("requests", 0) for r in reports),
                "not_modified": sum(r.requests.get("not_modified", 0) for r in reports),
                "retries": sum(r.requests.get("retries", 0) for r in reports),
                "rate_limit_waits": sum(r.requests.get("rate_limit_waits", 0) for r in reports),
                "waited_seconds": round(
                    sum(r.requests.get("waited_seconds", 0.0) for r in reports), 1
                ),
                "by_entity": dg.MetadataValue.json(by_entity),
                "resync": config.resync,
            }
            context.log.info(
                f"{context.partition_key}: {metadata['items_landed']} items, "
                f"{metadata['requests']} requests ({metadata['not_modified']} not modified)"
            )
            for table in github_sync.RAW_TABLES:
                yield dg.MaterializeResult(
                    asset_key=["raw", table], metadata={"rows": counts.get(table, 0), **metadata}
                )

        assets.append(github)

    if config.sources.pagerduty:

        @dg.multi_asset(
            name="pagerduty",
            specs=_specs(pagerduty_sync.RAW_TABLES, "PagerDuty incidents, verbatim."),
            pool=WAREHOUSE_POOL,
        )
        def pagerduty(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
            clients = ingest.SourceClients(config)
            with warehouse_connection(duckdb) as con:
                reports = ingest.sync_pagerduty(con, clients)
                rows = raw_row_counts(con).get("pagerduty_incidents", 0)
            yield dg.MaterializeResult(
                asset_key=["raw", "pagerduty_incidents"],
                metadata={
                    "rows": rows,
                    "items_landed": sum(r.items for r in reports),
                    "requests": {r.source: r.requests for r in reports},
                },
            )

        assets.append(pagerduty)

    sources = config.sources
    if sources.opsgenie or sources.statuspage or sources.incident_files:

        @dg.multi_asset(
            name="incident_sources",
            specs=_specs(incidents.RAW_TABLES, "Opsgenie, Statuspage and file-imported incidents."),
            pool=WAREHOUSE_POOL,
        )
        def incident_sources(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
            clients = ingest.SourceClients(config)
            with warehouse_connection(duckdb) as con:
                ingest.ensure_raw_tables(con)
                reports = ingest.sync_incident_sources(con, clients)
                counts = raw_row_counts(con)
            for table in incidents.RAW_TABLES:
                yield dg.MaterializeResult(
                    asset_key=["raw", table],
                    metadata={
                        "rows": counts.get(table, 0),
                        "items_landed": sum(r.by_entity.get(table, 0) for r in reports),
                        "requests": {r.source: r.requests for r in reports if r.requests},
                    },
                )

        assets.append(incident_sources)

    if config.sources.surveys is not None:
        survey_config = config.sources.surveys

        @dg.multi_asset(
            name="surveys",
            specs=_specs(surveys.RAW_TABLES, "Survey answers, pseudonymised at ingest."),
            pool=WAREHOUSE_POOL,
        )
        def survey_files(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
            inbox = Path(survey_config.inbox)
            inbox.mkdir(parents=True, exist_ok=True)
            if survey_config.salt is not None:
                salt = survey_config.salt.get_secret_value()
            elif config.is_demo:
                salt = DEMO_SURVEY_SALT
            else:
                raise ConfigError(
                    "sources.surveys.salt is not set: respondent ids are hashed with it "
                    "(write salt: ${SURVEY_SALT} and export SURVEY_SALT)"
                )
            if config.is_demo:
                _drop_demo_waves(config, inbox)
            with warehouse_connection(duckdb) as con:
                loaded, rejected = surveys.load_inbox(
                    con,
                    inbox,
                    salt=salt,
                    teams={t.name for t in config.teams},
                    form_format=survey_config.format,
                    columns=dict(survey_config.columns),
                )
                counts = raw_row_counts(con)
            for path, reason in rejected:
                context.log.error(f"survey file rejected: {reason} (moved to {path})")
            for table in surveys.RAW_TABLES:
                yield dg.MaterializeResult(
                    asset_key=["raw", table],
                    metadata={
                        "rows": counts.get(table, 0),
                        "files_loaded": [f.path.name for f in loaded],
                        "files_rejected": [str(p) for p, _ in rejected],
                    },
                )

        assets.append(survey_files)

    return assets


def github_repository_discovery_sensor(config: Config, job: dg.JobDefinition):
    """Registers newly discovered repositories as partitions and backfills each new one once."""

    @dg.sensor(
        name="github_repository_discovery",
        job=job,
        minimum_interval_seconds=6 * 3600,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Discover GitHub repositories (organisations, users, filters) as partitions.",
    )
    def discovery(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        keys = ingest.github_partition_keys(ingest.SourceClients(config))
        known = set(context.instance.get_dynamic_partitions(GITHUB_PARTITIONS.name))
        new = [k for k in keys if k not in known]
        gone = sorted(known - set(keys))
        if gone:
            # Kept, not deleted: a partition's history stays in the warehouse and the UI.
            context.log.info(f"no longer discovered (kept): {gone}")
        return dg.SensorResult(
            run_requests=[dg.RunRequest(partition_key=k, run_key=f"initial:{k}") for k in new],
            dynamic_partitions_requests=[GITHUB_PARTITIONS.build_add_request(new)] if new else [],
        )

    return discovery


def _drop_demo_waves(config: Config, inbox: Path) -> None:
    """Put the demo organisation's survey exports in the inbox, once per wave."""
    clients = ingest.SourceClients(config)
    for wave in clients.demo_organisation.survey_waves:
        if (inbox / "processed" / f"{wave.name}.csv").exists():
            continue
        (inbox / f"{wave.name}.csv").write_text(wave.csv_text, encoding="utf-8")
        invited = "".join(f"  {team}: {n}\n" for team, n in sorted(wave.invited.items()))
        (inbox / f"{wave.name}.invited.yaml").write_text(f"invited:\n{invited}", encoding="utf-8")
