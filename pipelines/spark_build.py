"""dbt on a local Spark session in this process: ``platform-metrics spark-build``.

The ``spark`` target's ``session`` method starts Spark inside the dbt process, and the Spark build
has a Python step between two dbt runs (commit ancestry, pipelines/spark_ancestry.py), so the
three must share one process and one session: dbt runs here through ``dbtRunner``. The session's
metastore, tables and scratch files are under ``spark_dir``; the raw layer is the Parquet export of
``platform-metrics export-raw`` (docs/scaling.md#dbt-on-spark).

No Dagster import (ARCHITECTURE.md); dbt-spark and pyspark are the optional extra ``spark``.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import yaml

from pipelines.dbt_cli import DBT_PROJECT_DIR, DbtError
from pipelines.errors import ConfigError
from pipelines.offline import tool_env
from pipelines.raw_export import INDEX_FILE, spark_env

# Lines of dbt's log a failure message ends with.
FAILURE_TAIL = 25


def local_session_cpus() -> int:
    """The N of the ``spark`` target's ``spark.master: local[N]`` (dbt/profiles.yml): the cores
    the session of a Spark build runs on, so the CPUs its run pod requests on Kubernetes
    (assets/spark.py)."""
    profiles = DBT_PROJECT_DIR / "profiles.yml"
    outputs = yaml.safe_load(profiles.read_text(encoding="utf-8"))["platform_metrics"]["outputs"]
    master = outputs["spark"]["server_side_parameters"]["spark.master"]
    match = re.fullmatch(r"local\[(\d+)\]", master)
    if match is None:
        raise ConfigError(f"{profiles}: the spark target's spark.master {master!r} is not local[N]")
    return int(match.group(1))


def check_spark_installed() -> None:
    """A clear error, not an ImportError, when the extra is missing."""
    try:
        import dbt.adapters.spark  # noqa: F401
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            f"the spark target needs the optional extra: pip install -e '.[spark]' ({exc.name} "
            "is not installed), and Java 17"
        ) from None


@contextlib.contextmanager
def spark_dbt(
    spark_dir: str | Path, raw_parquet: str | Path, target_path: str | Path | None = None
) -> Iterator[Callable[..., list[str]]]:
    """Yields ``invoke(*dbt_args)``: ``dbt <args> --target spark`` in this process, returning
    dbt's log lines and raising :class:`DbtError` (with the log's tail) when dbt fails. Every
    invocation shares one Spark session; the session and its JVM stop when the block ends, and
    the environment is restored."""
    from dbt.cli.main import dbtRunner

    spark_dir = Path(spark_dir).absolute()
    raw_parquet = Path(raw_parquet).absolute()
    if not (raw_parquet / INDEX_FILE).is_file():
        raise ConfigError(
            f"{raw_parquet}: not an export of the raw layer (no {INDEX_FILE}); write one with "
            "platform-metrics export-raw --out PATH"
        )
    spark_dir.mkdir(parents=True, exist_ok=True)
    target = Path(target_path).absolute() if target_path else spark_dir / "dbt-target"
    environment = {**tool_env({}), **spark_env(spark_dir, raw_parquet)}
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)

    def invoke(*args: str) -> list[str]:
        lines: list[str] = []
        result = dbtRunner(callbacks=[lambda event: lines.append(event.info.msg)]).invoke(
            [
                *args,
                "--target",
                "spark",
                "--project-dir",
                str(DBT_PROJECT_DIR),
                "--profiles-dir",
                str(DBT_PROJECT_DIR),
                "--target-path",
                str(target),
                "--log-path",
                str(target / "logs"),
            ]
        )
        if not result.success:
            tail = "\n".join(str(line) for line in lines[-FAILURE_TAIL:])
            raise DbtError(f"dbt {' '.join(args[:1])} on spark failed:\n{tail}")
        return lines

    try:
        yield invoke
    finally:
        stop_spark()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def stop_spark() -> None:
    """Stops this process's Spark session and its JVM, so that a later session starts anew.

    The session is the one pyspark caches (``SparkSession._instantiatedSession``), not
    ``getActiveSession()``: the active session is per thread, and dbt starts it on a worker
    thread. A session left cached over a dead JVM is what a later ``getOrCreate()`` would hand
    back ("Connection refused" from py4j)."""
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    session = SparkSession._instantiatedSession or SparkSession.getActiveSession()
    if session is not None:
        session.stop()
    gateway = SparkContext._gateway
    if gateway is not None:
        gateway.shutdown()
        gateway.proc.stdin.close()
        gateway.proc.wait(timeout=60)
        SparkContext._gateway = None
        SparkContext._jvm = None


def spark_build(
    *,
    spark_dir: str | Path,
    raw_parquet: str | Path,
    variables: str,
    command: str = "build",
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> int:
    """``dbt <command>`` of the project (or of ``select``, less ``exclude``) on a local Spark
    session, commit ancestry included (:func:`pipelines.spark_ancestry.build_on_spark`); a
    ``build`` runs the data tests but not dbt's unit tests. ``variables`` is the ``--vars`` JSON.
    Returns the number of commits claimed."""
    check_spark_installed()
    from pipelines.spark_ancestry import build_on_spark

    args = ["--vars", variables]
    if command == "build":
        # dbt's unit tests check the SQL on static rows, the same SQL on both engines: they run
        # on DuckDB (make test). A build on Spark runs the data tests, as a scheduled run does.
        args += ["--exclude-resource-type", "unit_test"]
    with spark_dbt(spark_dir, raw_parquet) as invoke:
        return build_on_spark(invoke, command, select=select, exclude=exclude, args=args)
