"""Builds the Dagster ``Definitions`` for one configuration: ingest -> dbt -> publish, jobs, schedules."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource

from assets.checks import build_raw_checks
from assets.dbt import build_dbt_assets
from assets.ingest import GITHUB_ASSET, build_ingest_assets
from assets.project import dbt_project
from assets.publish import build_publish_assets
from assets.reports import REPORT_TAG, quality_gate_sensor
from assets.schedules import daily_refresh_schedule, github_sensors
from assets.slo import build_slo_assets
from assets.surveys import SURVEY_ASSET, SURVEY_JOB, survey_inbox_sensor
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
    # GitHub is partitioned by repository and runs in its own job, one run per repository; the
    # other jobs hold everything else (unpartitioned). `platform-metrics run` and the daily
    # schedule run the GitHub partitions first, then `refresh`.
    github_assets = [a for a in ingest if a.node_def.name == GITHUB_ASSET]
    github = dg.AssetSelection.assets(*(k for a in github_assets for k in a.keys))
    refresh = dg.define_asset_job(
        "refresh",
        selection=dg.AssetSelection.all() - github,
        description="Ingest (all but the GitHub partitions), dbt build, publish.",
    )
    ingest_job = dg.define_asset_job(
        "ingest",
        selection=dg.AssetSelection.groups("ingest") - github,
        description="Only pull from the unpartitioned sources into raw.* (no dbt, no publishing).",
    )
    github_sync = (
        dg.define_asset_job(
            "github_sync",
            selection=github,
            description="Sync one GitHub repository (a partition); a backfill syncs them all.",
        )
        if github_assets
        else None
    )
    survey_assets = [a for a in ingest if a.node_def.name == SURVEY_ASSET]
    survey_ingest = (
        dg.define_asset_job(
            SURVEY_JOB,
            selection=dg.AssetSelection.assets(*(k for a in survey_assets for k in a.keys)),
            description="Load the survey exports in the inbox (started by the survey_inbox sensor).",
        )
        if survey_assets
        else None
    )
    publish = dg.define_asset_job(
        "publish_reports",
        selection=dg.AssetSelection.groups("publish"),
        description="Rebuild the site and the analysts' snapshot from the current marts.",
    )
    tz = config.organisation.timezone
    schedules = [
        daily_refresh_schedule(config, refresh=refresh, github_sync=github_sync),
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
    ]
    return dg.Definitions(
        assets=assets,
        asset_checks=build_raw_checks(ingested),
        jobs=[
            refresh,
            ingest_job,
            publish,
            *([github_sync] if github_sync else []),
            *([survey_ingest] if survey_ingest else []),
        ],
        sensors=[
            *github_sensors(config, refresh=refresh, github_sync=github_sync),
            *([survey_inbox_sensor(config, survey_ingest)] if survey_ingest else []),
            quality_gate_sensor(config, warehouse_path, [refresh, publish]),
        ],
        schedules=schedules,
        resources={
            "duckdb": DuckDBResource(database=str(warehouse_path)),
            "dbt": DbtCliResource(project_dir=dbt_project()),
        },
    )
