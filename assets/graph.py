"""Builds the Dagster ``Definitions`` for one configuration: ingest -> dbt -> publish, jobs, schedules."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource

from assets.checks import build_raw_checks
from assets.dbt import build_dbt_assets
from assets.ingest import build_ingest_assets
from assets.project import dbt_project
from assets.publish import build_publish_assets
from pipelines.config import Config


def build_definitions(config: Config) -> dg.Definitions:
    warehouse_path = Path(config.warehouse_path()).resolve()
    ingest = build_ingest_assets(config)
    assets = [
        *ingest,
        build_dbt_assets(config, warehouse_path),
        *build_publish_assets(config, warehouse_path),
    ]
    ingested = {key.path[-1] for a in ingest for key in a.keys}
    refresh = dg.define_asset_job(
        "refresh", selection=dg.AssetSelection.all(), description="Ingest, dbt build, publish."
    )
    ingest_job = dg.define_asset_job(
        "ingest",
        selection=dg.AssetSelection.groups("ingest"),
        description="Only pull from the sources into raw.* (no dbt, no publishing).",
    )
    publish = dg.define_asset_job(
        "publish_reports",
        selection=dg.AssetSelection.groups("publish"),
        description="Rebuild the site and the analysts' snapshot from the current marts.",
    )
    tz = config.organisation.timezone
    schedules = [
        dg.ScheduleDefinition(
            name="daily_refresh",
            job=refresh,
            cron_schedule=config.schedules.refresh_cron,
            execution_timezone=tz,
            default_status=dg.DefaultScheduleStatus.RUNNING,
        ),
        dg.ScheduleDefinition(
            name="weekly_report",
            job=publish,
            cron_schedule=config.schedules.weekly_report_cron,
            execution_timezone=tz,
            default_status=dg.DefaultScheduleStatus.RUNNING,
        ),
        dg.ScheduleDefinition(
            name="monthly_report",
            job=publish,
            cron_schedule=config.schedules.monthly_report_cron,
            execution_timezone=tz,
            default_status=dg.DefaultScheduleStatus.RUNNING,
        ),
    ]
    return dg.Definitions(
        assets=assets,
        asset_checks=build_raw_checks(ingested),
        jobs=[refresh, ingest_job, publish],
        schedules=schedules,
        resources={
            "duckdb": DuckDBResource(database=str(warehouse_path)),
            "dbt": DbtCliResource(project_dir=dbt_project()),
        },
    )
