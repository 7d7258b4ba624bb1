"""dbt on a local pyspark session inside the test process, for the modules marked ``spark``
(tests/test_spark_target.py, tests/test_spark_models.py; docs/scaling.md#dbt-on-spark).

``dbt_on_spark(spark_dir, raw)`` yields ``invoke(*args)``: ``dbt <args> --target spark`` through
dbtRunner (pipelines/spark_build.py, what ``platform-metrics spark-build`` runs), so every
invocation of a module shares one Spark session and JVM (the first starts it from the profile's
settings, dbt-spark calls ``SparkSession.builder...getOrCreate()``; the later ones reuse it). The
JVM is stopped when the block ends, so the next module starts its own.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def dbt_on_spark(spark_dir: Path, raw: Path) -> Iterator[Callable[..., list[str]]]:
    """pipelines.spark_build.spark_dbt: a failed invocation raises DbtError with dbt's log tail."""
    from pipelines.spark_build import spark_dbt

    with spark_dbt(spark_dir, raw) as invoke:
        yield invoke


def comparable(value):
    """A value as both engines' Python rows can be compared: instants as epoch microseconds
    (DuckDB gives aware datetimes, pyspark naive ones in this process's local time)."""
    if isinstance(value, dt.datetime):
        return round(value.timestamp() * 1_000_000)
    if isinstance(value, list | tuple):
        return tuple(comparable(v) for v in value)
    return value
