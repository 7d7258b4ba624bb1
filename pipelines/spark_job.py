"""The steps of the Dagster job ``spark_build`` (assets/spark.py wires them; no Dagster here).

1. The raw layer of the published snapshot as Parquet at ``spark.raw_parquet``: the function
   ``platform-metrics export-raw`` runs (:func:`pipelines.raw_export.export_raw_file`).
2. ``platform-metrics spark-build`` of that export in a **subprocess**: dbt-spark's session method
   starts a JVM in the process that runs dbt, and that must not be the Dagster step's process (a
   JVM left behind, its memory, a pyspark session cached in the code location). The subprocess
   reads the same configuration file, so it gets the same dbt vars as ``spark-build --config``.

docs/scaling.md#dbt-on-spark.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from pipelines.config import Config, SparkConfig
from pipelines.errors import ConfigError, PlatformMetricsError
from pipelines.raw_export import RawExport, export_raw_file

# How the Spark build's process starts the CLI: this interpreter, this package (assets/cli.py
# main). Tests point it at a fake program.
CLI: tuple[str, ...] = (sys.executable, "-m", "assets.cli")
# Lines of the subprocess's output a failure message ends with.
FAILURE_TAIL = 25
# Seconds a stopped build (run terminated, Ctrl-C) gets to end before it is killed.
STOP_GRACE_SECONDS = 30


class SparkJobError(PlatformMetricsError):
    """The Spark build's process failed; the message has its exit code and last lines."""


def spark_settings(config: Config) -> SparkConfig:
    """The ``spark:`` section, refused when the export would delete the Spark folder: each run
    replaces ``spark.raw_parquet`` whole, so ``spark.dir`` may not be it or lie inside it."""
    if config.spark is None:
        raise ConfigError("the configuration has no spark: section (docs/configuration.md#spark)")
    raw = Path(config.spark.raw_parquet).absolute()
    spark_dir = Path(config.spark.dir).absolute()
    if spark_dir == raw or raw in spark_dir.parents:
        raise ConfigError(
            f"spark.dir {spark_dir} is inside spark.raw_parquet {raw}, which each run replaces "
            "whole: the Spark session's metastore and tables would be deleted; give them "
            "separate folders"
        )
    return config.spark


def export_for_spark(config: Config, warehouse: str | Path) -> RawExport:
    """Step 1: the raw layer of ``warehouse`` (the published snapshot's DuckDB file) into
    ``spark.raw_parquet``, replaced atomically."""
    return export_raw_file(warehouse, spark_settings(config).raw_parquet)


def spark_build_command(config: Config, cli: Sequence[str] | None = None) -> list[str]:
    """``platform-metrics spark-build`` with the configuration's file, export, folder and command
    (paths absolute: the subprocess may resolve them from another working directory)."""
    spark = spark_settings(config)
    if config.source_file is None:
        raise ConfigError(
            "the spark_build job needs a configuration loaded from a file: the Spark build reads "
            "it again in its own process"
        )
    return [
        *(CLI if cli is None else cli),
        "spark-build",
        "--config",
        str(config.source_file),
        "--raw-parquet",
        str(Path(spark.raw_parquet).absolute()),
        "--spark-dir",
        str(Path(spark.dir).absolute()),
        "--command",
        spark.command,
    ]


def run_spark_build(
    config: Config,
    *,
    echo: Callable[[str], None] = print,
    cli: Sequence[str] | None = None,
) -> str:
    """Step 2: the Spark build in its own process (and process group, so its JVM goes with it
    when the run is stopped). Each line of its output goes to ``echo``; returns its last line.
    Raises :class:`SparkJobError` with the exit code and the last lines when it fails."""
    command = spark_build_command(config, cli)
    tail: collections.deque[str] = collections.deque(maxlen=FAILURE_TAIL)
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            line = line.rstrip("\n")
            echo(line)
            if line.strip():
                tail.append(line)
        code = process.wait()
    except BaseException:
        stop_process_group(process)
        raise
    if code != 0:
        shown = "\n".join(tail) or "(no output)"
        raise SparkJobError(
            f"platform-metrics spark-build exited with code {code}; its last lines:\n{shown}"
        )
    return tail[-1] if tail else ""


def stop_process_group(process: subprocess.Popen) -> None:
    """SIGTERM to the process group ``process`` leads (started with ``start_new_session``: the
    CLI and its JVM), SIGKILL if it lingers."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=STOP_GRACE_SECONDS)
            return
        except subprocess.TimeoutExpired:
            continue
