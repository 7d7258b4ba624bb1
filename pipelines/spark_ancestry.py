"""Commit ancestry on Spark: the step between the two dbt runs of a Spark build.

dbt-spark runs Python models only on Databricks, so on the ``spark`` target the dbt Python model
``int_commit_deployments`` is disabled. In its place this step reads ``int_commits`` and
``int_deployments`` (built by the first dbt run), claims commits with the same function the DuckDB
model calls (:func:`pipelines.ancestry.claim_arrow`), one repository per Spark task (a cogrouped
``applyInArrow``: nothing is collected on the driver), and writes the claims as the Parquet table
``ancestry.commit_deployments``. The second dbt run builds ``int_commit_deployments`` from it
(models/intermediate/spark/) and everything downstream (docs/scaling.md#dbt-on-spark).

:func:`build_on_spark` runs the three steps in one process, so that they share the local session
that dbt-spark's ``session`` method starts. On a cluster, run the step where Spark jobs run
(``spark-submit pipelines/spark_ancestry.py``, with this package installed where the driver and
executors run, or ``write_claims(spark)`` in a notebook) between the two dbt runs.

No Dagster import (ARCHITECTURE.md); pyspark is imported when a step runs, as it is an optional
extra (``pip install -e '.[spark]'``).
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import pyarrow as pa

from pipelines.ancestry import claim_arrow
from pipelines.errors import PlatformMetricsError

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame, SparkSession

# Where the step reads (dbt's intermediate schema) and writes (a dbt source, dbt/models/
# intermediate/spark/_ancestry__sources.yml).
SOURCE_SCHEMA = "intermediate"
CLAIMS_TABLE = "ancestry.commit_deployments"
# pipelines.ancestry.CLAIM_SCHEMA in Spark's DDL.
SPARK_SCHEMA = (
    "repository string, environment string, deployment_id string, sha string, depth bigint"
)
# The dbt node the step stands in for: the first run builds everything but it and its
# descendants, the second run exactly those.
NODE = "int_commit_deployments"


class AncestryStepError(PlatformMetricsError):
    """The commit-ancestry step failed on Spark (a table missing, a task failed)."""


def _claim_repository(commits: pa.Table, deployments: pa.Table) -> pa.Table:
    """One repository's claims (a cogroup of its commits and its deployments)."""
    return claim_arrow(commits, deployments)


def claims_frame(session: SparkSession, schema: str = SOURCE_SCHEMA) -> DataFrame:
    """The claims as a Spark DataFrame, computed per repository on the executors."""
    commits = (
        session.table(f"{schema}.int_commits")
        .where("sha is not null")
        .select("repository", "sha", "parent_shas")
    )
    deployments = (
        session.table(f"{schema}.int_deployments")
        .where("status = 'success' and commit_sha is not null")
        .select("repository", "environment", "deployment_id", "commit_sha", "deployed_at")
    )
    return (
        commits.groupBy("repository")
        .cogroup(deployments.groupBy("repository"))
        .applyInArrow(_claim_repository, schema=SPARK_SCHEMA)
    )


def write_claims(
    session: SparkSession, schema: str = SOURCE_SCHEMA, table: str = CLAIMS_TABLE
) -> int:
    """Replaces ``table`` (a Parquet table in the session's catalog) with the claims; returns how
    many rows it holds."""
    database = table.split(".")[0]
    session.sql(f"create database if not exists {database}")
    claims_frame(session, schema).write.mode("overwrite").format("parquet").saveAsTable(table)
    return session.table(table).count()


def build_on_spark(
    invoke: Callable[..., object],
    command: str = "build",
    *,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    args: Sequence[str] = (),
    session_factory: Callable[[], SparkSession] | None = None,
    step: Callable[[], int] | None = None,
) -> int:
    """``dbt <command>`` on the ``spark`` target in three steps: the selected nodes but
    ``int_commit_deployments`` and its descendants, this step, then the selected ones of those.

    ``invoke(*dbt_args)`` runs dbt in this process (dbtRunner) with the target set, and fails
    when dbt does. ``select`` and ``exclude`` are dbt selectors (none selects the whole project);
    ``args`` are further arguments for both runs (``--vars``). ``step()`` replaces the step in
    this process where the session is not dbt's (over a Thrift server the step is a Spark job of
    its own; tests/test_spark_thrift.py). Returns the number of claims."""
    excluding = ["--exclude", *exclude] if exclude else []
    first = ["--select", *select] if select else []
    invoke(command, *first, "--exclude", f"{NODE}+", *exclude, *args)
    if step is None:
        session = (session_factory or dbt_session)()
        step = functools.partial(write_claims, session)
    try:
        claims = step()
    except Exception as exc:  # pyspark's errors, whose str() may itself fail
        try:
            detail = str(exc).strip().splitlines()[0]
        except Exception:
            detail = ""
        raise AncestryStepError(
            f"the commit-ancestry step (between the two dbt runs) failed: "
            f"{type(exc).__name__}: {detail or 'see the Spark log above'}"
        ) from exc
    # dbt's "a,b" is the intersection of a and b.
    second = [f"{NODE}+,{selector}" for selector in select] if select else [f"{NODE}+"]
    invoke(command, "--select", *second, *excluding, *args)
    return claims


def dbt_session() -> SparkSession:
    """The session dbt-spark's ``session`` method started in this process. Never a new one: a
    session built here would have none of the profile's settings (its metastore would be a new,
    empty one in the working directory)."""
    from pyspark.sql import SparkSession

    session = SparkSession._instantiatedSession or SparkSession.getActiveSession()
    if session is None:
        raise AncestryStepError(
            "the commit-ancestry step found no Spark session: the first dbt run started none "
            "(did it select nothing? it must build int_commits and int_deployments)"
        )
    return session


def _default_session() -> SparkSession:
    """For the step run alone (``spark-submit``, a notebook): the session the environment's
    Spark configuration gives."""
    from pyspark.sql import SparkSession

    return SparkSession.builder.enableHiveSupport().getOrCreate()


def main(argv: Sequence[str] | None = None) -> int:
    """The step alone (``spark-submit pipelines/spark_ancestry.py`` or ``python -m
    pipelines.spark_ancestry``), on the session the environment's Spark configuration gives."""
    parser = argparse.ArgumentParser(prog="python -m pipelines.spark_ancestry", description=__doc__)
    parser.add_argument("--schema", default=SOURCE_SCHEMA, help="where int_commits is")
    parser.add_argument("--table", default=CLAIMS_TABLE, help="the claims table to replace")
    options = parser.parse_args(argv)
    claims = write_claims(_default_session(), options.schema, options.table)
    print(f"{options.table}: {claims} commits claimed by deployments")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
