"""The ``spark_build`` job: the raw layer exported from the published snapshot, then dbt on a
local Spark session in a subprocess (pipelines/spark_job.py; docs/scaling.md#dbt-on-spark). Only
with a ``spark:`` section in the configuration; with ``spark.cron``, a schedule runs it.

Ops, not assets: the Spark tables are not the DuckDB assets (their keys are dbt's DuckDB models),
and an asset here would join ``refresh``, which selects every asset.
"""

from pathlib import Path

import dagster as dg

from dashboards.publish import SNAPSHOT_FILE
from pipelines.config import Config
from pipelines.errors import PlatformMetricsError
from pipelines.spark_build import local_session_cpus
from pipelines.spark_job import export_for_spark, run_spark_build

SPARK_JOB = "spark_build"
SPARK_SCHEDULE = "spark_build_schedule"
# Read by Dagster's K8sRunLauncher, ignored elsewhere: the run pod's container config, deep-merged
# into the launcher's runK8sConfig (deploy/helm/values.yaml), so its memory stays.
K8S_CONFIG_TAG = "dagster-k8s/config"


def spark_run_k8s_config() -> dict:
    """The ``dagster-k8s/config`` of a ``spark_build`` run: CPUs for the session's ``local[N]``.
    Only this job's pods ask for them; every other run keeps the request of values.yaml."""
    return {"container_config": {"resources": {"requests": {"cpu": str(local_session_cpus())}}}}


def build_spark_job(config: Config) -> tuple[list[dg.JobDefinition], list[dg.ScheduleDefinition]]:
    """The job and (with ``spark.cron``) its schedule; nothing without a ``spark:`` section."""
    spark = config.spark
    if spark is None:
        return [], []
    snapshot = Path(config.publish.snapshot_dir) / SNAPSHOT_FILE

    # Neither step opens the live warehouse (the export reads the published snapshot, read-only;
    # the build writes only Spark's folder), so neither is in the `warehouse` pool: the job does
    # not wait for a pipeline run, nor hold one up.
    @dg.op(
        name="export_raw",
        out=dg.Out(dg.Nothing),
        description="The raw layer of the published snapshot as Parquet (platform-metrics "
        "export-raw), replaced atomically.",
    )
    def export_raw(context: dg.OpExecutionContext) -> None:
        try:
            export = export_for_spark(config, snapshot)
        except PlatformMetricsError as exc:
            raise dg.Failure(description=str(exc)) from None
        context.log.info(
            f"exported {len(export.row_counts)} raw tables ({export.rows} rows) from {snapshot} "
            f"to {export.root} in {export.seconds:.2f} s"
        )

    @dg.op(
        name="spark_dbt",
        ins={"raw_export": dg.In(dg.Nothing)},
        description=f"dbt {spark.command} on a local Spark session (platform-metrics spark-build), "
        "in a subprocess.",
    )
    def spark_dbt(context: dg.OpExecutionContext) -> None:
        # Every line of the build's output goes to the step's stdout (its compute log); a failure
        # is the build's exit code and last lines.
        try:
            done = run_spark_build(config, echo=lambda line: print(line, flush=True))
        except PlatformMetricsError as exc:
            raise dg.Failure(description=str(exc)) from None
        context.log.info(done)

    @dg.job(
        name=SPARK_JOB,
        description="Export the raw layer from the published snapshot, then build the dbt "
        "project on Spark (docs/scaling.md#dbt-on-spark).",
        tags={K8S_CONFIG_TAG: spark_run_k8s_config()},
    )
    def spark_build() -> None:
        spark_dbt(export_raw())

    schedules = []
    if spark.cron is not None:
        schedules.append(
            dg.ScheduleDefinition(
                name=SPARK_SCHEDULE,
                job=spark_build,
                cron_schedule=spark.cron,
                execution_timezone=config.organisation.timezone,
                default_status=dg.DefaultScheduleStatus.RUNNING,
            )
        )
    return [spark_build], schedules
