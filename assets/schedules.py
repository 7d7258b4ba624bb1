"""The daily refresh with GitHub partitioned by repository: every repository's run first, then
``refresh`` once all of them have finished (a failed repository does not hold the others back)."""

from __future__ import annotations

import dagster as dg

from assets.ingest import GITHUB_PARTITIONS, github_repository_discovery_sensor
from pipelines.config import Config

BATCH_TAG = "platform-metrics/batch"


def daily_refresh_schedule(
    config: Config, *, refresh: dg.UnresolvedAssetJobDefinition, github_sync
) -> dg.ScheduleDefinition:
    """At ``schedules.refresh_cron``: one ``github_sync`` run per repository (or ``refresh``)."""
    common = {
        "name": "daily_refresh",
        "cron_schedule": config.schedules.refresh_cron,
        "execution_timezone": config.organisation.timezone,
        "default_status": dg.DefaultScheduleStatus.RUNNING,
    }
    if github_sync is None:
        return dg.ScheduleDefinition(job=refresh, **common)

    @dg.schedule(job=github_sync, **common)
    def daily_refresh(context: dg.ScheduleEvaluationContext):
        batch = context.scheduled_execution_time.isoformat()
        keys = context.instance.get_dynamic_partitions(GITHUB_PARTITIONS.name)
        if not keys:
            return dg.SkipReason("no GitHub repository registered yet (discovery sensor)")
        return [
            dg.RunRequest(partition_key=k, run_key=f"{batch}:{k}", tags={BATCH_TAG: batch})
            for k in keys
        ]

    return daily_refresh


def github_sensors(
    config: Config, *, refresh: dg.UnresolvedAssetJobDefinition, github_sync
) -> list[dg.SensorDefinition]:
    if github_sync is None:
        return []

    @dg.sensor(
        name="refresh_after_github_sync",
        job=refresh,
        minimum_interval_seconds=300,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Runs `refresh` when every GitHub run of the latest daily batch has finished.",
    )
    def refresh_after_github_sync(context: dg.SensorEvaluationContext):
        batches = sorted(
            v for _, values in context.instance.get_run_tags([BATCH_TAG]) for v in values
        )
        if not batches or batches[-1] == context.cursor:
            return dg.SkipReason("no new GitHub batch")
        latest = batches[-1]
        runs = context.instance.get_runs(filters=dg.RunsFilter(tags={BATCH_TAG: latest}))
        if not all(run.is_finished for run in runs):
            return dg.SkipReason(f"GitHub batch {latest} still running")
        context.update_cursor(latest)
        return dg.RunRequest(run_key=f"refresh:{latest}")

    return [github_repository_discovery_sensor(config, github_sync), refresh_after_github_sync]
