"""dbt on a local pyspark session inside the test process, for the modules marked ``spark``
(tests/test_spark_target.py, tests/test_spark_models.py; docs/scaling.md#dbt-on-spark).

``dbt_on_spark(spark_dir, raw)`` yields ``invoke(*args)``: ``dbt <args> --target spark`` through
dbtRunner, so every invocation of a module shares one Spark session and JVM (the first starts it
from the profile's settings, dbt-spark calls ``SparkSession.builder...getOrCreate()``; the later
ones reuse it). The JVM is stopped when the block ends.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def dbt_on_spark(spark_dir: Path, raw: Path) -> Iterator[Callable[..., list[str]]]:
    """Returns the invocation's captured log lines; a failed invocation fails the test."""
    from dbt.cli.main import dbtRunner

    from pipelines.dbt_cli import DBT_PROJECT_DIR
    from pipelines.offline import tool_env
    from pipelines.raw_export import spark_env

    target = spark_dir / "dbt-target"
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {**tool_env({}), **spark_env(spark_dir, raw)}.items():
            patch.setenv(name, value)

        def invoke(*args: str) -> list[str]:
            lines: list[str] = []
            runner = dbtRunner(callbacks=[lambda event: lines.append(event.info.msg)])
            result = runner.invoke(
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
            assert result.success, (result.exception, lines[-20:])
            return lines

        try:
            yield invoke
        finally:
            stop_spark()


def stop_spark() -> None:
    """Stops the session and its JVM so that the next module starts both anew.

    The session is found as pyspark caches it (``SparkSession._instantiatedSession``), not by
    ``getActiveSession()``: the active session is per thread and dbt creates it on a worker
    thread, so the test's thread sees none. A session left cached over a dead JVM is what the
    next module's ``getOrCreate()`` would hand back ("Connection refused" from py4j)."""
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


def comparable(value):
    """A value as both engines' Python rows can be compared: instants as epoch microseconds
    (DuckDB gives aware datetimes, pyspark naive ones in this process's local time)."""
    if isinstance(value, dt.datetime):
        return round(value.timestamp() * 1_000_000)
    if isinstance(value, list | tuple):
        return tuple(comparable(v) for v in value)
    return value
