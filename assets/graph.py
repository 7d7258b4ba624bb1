"""Builds the Dagster ``Definitions`` for one configuration: ingest -> dbt -> publish, jobs,
schedules, and the ``spark_build`` job when the configuration has a ``spark:`` section."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource

from assets.checks import build_raw_checks, build_regression_check
from assets.dbt import build_dbt_assets
from assets.file_drops import file_drop_sensor
from assets.ingest import build_ingest_assets, source_groups
from assets.project import dbt_project
from assets.publish import build_publish_assets
from assets.reports import REPORT_TAG, quality_gate_sensor
from assets.run_recovery import dead_run_recovery_sensor
from assets.schedules import daily_refresh_schedules, partition_sensors
from assets.slo import build_slo_assets
from assets.spark import build_spark_job
from pipelines.config import Config


def build_definitions(config: Config) -> dg.Definitions:
    warehouse_path = Path(config.warehouse_path()).resolve()
    ingest = build_ingest_assets(config)
    assets = [
        *ingest,
        build_dbt_assets(config, warehouse_path),
        *build_publish_assets(config, warehouse_path),
        *build_slo_assets(config, warehouse_path),
    ]
    ingested = {key.path[-1] for a in ingest for key in a.keys}
    by_name = {a.node_def.name: a for a in ingest}
    groups = source_groups(config)

    def selection(asset_name: str) -> dg.AssetSelection:
        return dg.AssetSelection.assets(*by_name[asset_name].keys)

    # A partitioned source (GitHub, by repository) runs in its own job, one run per partition; the
    # other jobs hold everything else (unpartitioned). `platform-metrics run` and the daily
    # schedule run the partitions first, then `refresh`.
    partitioned = [
        (
            source,
            dg.define_asset_job(
                source.job,
                selection=selection(name),
                description=f"Sync one {source.name} {source.partitioning} (a partition); "
                "a backfill syncs them all.",
            ),
        )
        for name, members in groups.items()
        for source in members
        if source.partitioned
    ]
    partition_assets = dg.AssetSelection.assets(
        *(k for source, _ in partitioned for k in by_name[source.asset_name].keys)
    )
    refresh = dg.define_asset_job(
        "refresh",
        selection=dg.AssetSelection.all() - partition_assets,
        description="Ingest (all but the partitioned sources), dbt build, publish.",
    )
    ingest_job = dg.define_asset_job(
        "ingest",
        selection=dg.AssetSelection.groups("ingest") - partition_assets,
        description="Only pull from the unpartitioned sources into raw.* (no dbt, no publishing).",
    )
    # A source fed by dropped files has a job of its own, started by its sensor.
    file_drops = [
        (
            source,
            dg.define_asset_job(
                source.file_drop.job,
                selection=selection(name),
                description=f"Load the {source.file_drop.what} in "
                f"{source.file_drop.folder(config)} (started by the {source.file_drop.sensor} sensor).",
            ),
        )
        for name, members in groups.items()
        for source in members
        if source.file_drop is not None and source.enabled(config)
    ]
    publish = dg.define_asset_job(
        "publish_reports",
        selection=dg.AssetSelection.groups("publish"),
        description="Rebuild the site and the analysts' snapshot from the current marts.",
    )
    # Only with a spark: section; its steps do not open the warehouse (assets/spark.py).
    spark_jobs, spark_schedules = build_spark_job(config)
    tz = config.organisation.timezone
    schedules = [
        *daily_refresh_schedules(config, refresh=refresh, partitioned=partitioned),
        dg.ScheduleDefinition(
            name="weekly_report",
            job=publish,
            tags={REPORT_TAG: "weekly"},
            cron_schedule=config.schedules.weekly_report_cron,
            execution_timezone=tz,
            default_status=dg.DefaultScheduleStatus.RUNNING,
        ),
        dg.ScheduleDefinition(
            name="monthly_report",
            job=publish,
            tags={REPORT_TAG: "monthly"},
            cron_schedule=config.schedules.monthly_report_cron,
            execution_timezone=tz,
            default_status=dg.DefaultScheduleStatus.RUNNING,
        ),
        *spark_schedules,
    ]
    return dg.Definitions(
        assets=assets,
        asset_checks=[*build_raw_checks(ingested), build_regression_check(config)],
        jobs=[
            refresh,
            ingest_job,
            publish,
            *(job for _, job in partitioned),
            *(job for _, job in file_drops),
            *spark_jobs,
        ],
        sensors=[
            *partition_sensors(config, refresh=refresh, partitioned=partitioned),
            *(file_drop_sensor(config, source, job) for source, job in file_drops),
            quality_gate_sensor(config, warehouse_path, [refresh, publish]),
            dead_run_recovery_sensor(),
        ],
        schedules=schedules,
        resources={
            "duckdb": DuckDBResource(database=str(warehouse_path)),
            "dbt": DbtCliResource(project_dir=dbt_project()),
        },
    )
