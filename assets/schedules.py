"""The daily refresh with partitioned sources (GitHub: by repository): every partition's run first,
then ``refresh`` once all of them have finished (a failed partition does not hold the others back).

With no partitioned source configured, ``daily_refresh`` runs ``refresh`` directly. A schedule runs
one job, so the first partitioned source's job is ``daily_refresh`` and any further one gets
``daily_<job>`` at the same time; all runs of one tick share the batch tag the refresh sensor waits on.
"""

from __future__ import annotations

import dagster as dg

from assets.ingest import discovery_sensor, source_partitions
from pipelines.config import Config
from pipelines.source import Source

BATCH_TAG = "platform-metrics/batch"


def daily_refresh_schedules(
    config: Config,
    *,
    refresh: dg.UnresolvedAssetJobDefinition,
    partitioned: list[tuple[Source, dg.UnresolvedAssetJobDefinition]],
) -> list[dg.ScheduleDefinition]:
    """At ``schedules.refresh_cron``: one run per partition of each partitioned source (or ``refresh``)."""
    common = {
        "cron_schedule": config.schedules.refresh_cron,
        "execution_timezone": config.organisation.timezone,
        "default_status": dg.DefaultScheduleStatus.RUNNING,
    }
    if not partitioned:
        return [dg.ScheduleDefinition(name="daily_refresh", job=refresh, **common)]
    return [
        _partition_schedule(source, job, "daily_refresh" if i == 0 else f"daily_{job.name}", common)
        for i, (source, job) in enumerate(partitioned)
    ]


def _partition_schedule(source: Source, job, name: str, common: dict) -> dg.ScheduleDefinition:
    partitions = source_partitions(source)

    @dg.schedule(job=job, name=name, **common)
    def daily(context: dg.ScheduleEvaluationContext):
        batch = context.scheduled_execution_time.isoformat()
        keys = context.instance.get_dynamic_partitions(partitions.name)
        if not keys:
            return dg.SkipReason(
                f"no {source.name} partition registered yet ({source.discovery_sensor} sensor)"
            )
        return [
            dg.RunRequest(partition_key=k, run_key=f"{batch}:{k}", tags={BATCH_TAG: batch})
            for k in keys
        ]

    return daily


def partition_sensors(
    config: Config,
    *,
    refresh: dg.UnresolvedAssetJobDefinition,
    partitioned: list[tuple[Source, dg.UnresolvedAssetJobDefinition]],
) -> list[dg.SensorDefinition]:
    """Each partitioned source's discovery sensor, and the sensor that runs ``refresh`` after a batch.

    The refresh sensor keeps its name from when GitHub was the only partitioned source (sensor
    names are part of the deployment: renaming one loses its cursor and status)."""
    if not partitioned:
        return []

    @dg.sensor(
        name="refresh_after_github_sync",
        job=refresh,
        minimum_interval_seconds=300,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Runs `refresh` when every partition run of the latest daily batch has finished.",
    )
    def refresh_after_partition_sync(context: dg.SensorEvaluationContext):
        batches = sorted(
            v for _, values in context.instance.get_run_tags([BATCH_TAG]) for v in values
        )
        if not batches or batches[-1] == context.cursor:
            return dg.SkipReason("no new partition batch")
        latest = batches[-1]
        runs = context.instance.get_runs(filters=dg.RunsFilter(tags={BATCH_TAG: latest}))
        if not all(run.is_finished for run in runs):
            return dg.SkipReason(f"partition batch {latest} still running")
        context.update_cursor(latest)
        return dg.RunRequest(run_key=f"refresh:{latest}")

    return [
        *(discovery_sensor(config, source, job) for source, job in partitioned),
        refresh_after_partition_sync,
    ]
