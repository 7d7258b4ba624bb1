"""The staging layer on dbt's ``spark`` target, compared with DuckDB model by model
(docs/scaling.md#dbt-on-spark, step 4).

One raw layer (the embedded demo organisation over one month, synced by every source, plus the
hand-written edge cases of tests/raw_fixtures.py add_edge_case_rows) is built into DuckDB, where
``dbt run`` builds every staging model, and exported as Parquet, from which ``dbt run`` builds the
same models on a local Spark session (one session and JVM for the module, tests/spark_support.py).
Every staging model must have the same columns, types and rows on both: floats within 1e-9
relative, timestamps as UTC instants (epoch microseconds), lists element by element.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.dbt_cli import DBT_PROJECT_DIR, run_dbt
from pipelines.raw_export import export_raw_parquet
from pipelines.warehouse import connect
from tests.raw_fixtures import sync_every_source_raw_layer
from tests.spark_support import comparable, dbt_on_spark

pytestmark = pytest.mark.spark

STAGING = ("path:models/staging", "path:models/slo/staging")
AS_OF = {"as_of": "2026-07-01"}
# DuckDB's type -> Spark's, for every type a staging model has.
SPARK_TYPES = {
    "BIGINT": "bigint",
    "INTEGER": "int",
    "DOUBLE": "double",
    "BOOLEAN": "boolean",
    "VARCHAR": "string",
    "JSON": "string",
    "TIMESTAMP WITH TIME ZONE": "timestamp",
    "VARCHAR[]": "array<string>",
    "DATE": "date",
}


def staging_model_names() -> set[str]:
    """Every staging model of the project (a new one is compared without editing this test)."""
    return {
        path.stem
        for folder in ("models/staging", "models/slo/staging")
        for path in (DBT_PROJECT_DIR / folder).rglob("*.sql")
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """The raw layer with DuckDB's staging models built on it, and its Parquet export."""
    root = tmp_path_factory.mktemp("spark-staging")
    raw = root / "landed.duckdb"  # not raw.duckdb: its catalog would clash with schema raw
    con = connect(raw)
    try:
        sync_every_source_raw_layer(con, root / "inbox")
        export_raw_parquet(con, root / "raw-parquet")
    finally:
        con.close()
    warehouse = root / "warehouse.duckdb"
    shutil.copy(raw, warehouse)
    run_dbt(
        ["run", "--select", *STAGING],
        warehouse=warehouse,
        target_path=root / "duckdb-target",
        variables=AS_OF,
    )
    return warehouse, root / "raw-parquet"


@pytest.fixture(scope="module")
def spark_staging(built, tmp_path_factory):
    """The same staging models built on Spark (the raw export registered by on-run-start).
    Prints the build's wall-clock time (JVM start and raw registration included; pytest -s)."""
    from pyspark.sql import SparkSession

    _, raw = built
    with dbt_on_spark(tmp_path_factory.mktemp("spark-session"), raw) as invoke:
        started = time.monotonic()
        lines = invoke("run", "--select", *STAGING, "--vars", json.dumps(AS_OF))
        print(f"\nspark staging build: {time.monotonic() - started:.1f} s")
        assert any("Completed successfully" in line for line in lines), lines[-10:]
        # dbt ran the models in a worker thread: the session is the process's default one.
        yield SparkSession.builder.getOrCreate()


def _duckdb_relation(con: duckdb.DuckDBPyConnection, model: str):
    columns = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'staging' AND table_name = ? ORDER BY ordinal_position",
        [model],
    ).fetchall()
    return columns, con.execute(f"SELECT * FROM staging.{model}").fetchall()


def _sort_key(row: tuple) -> str:
    """Rows sort alike on both engines even where floats differ in the last bits."""
    return repr(tuple(f"{v:.6e}" if isinstance(v, float) else v for v in row))


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=0)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _rows(rows) -> list[tuple]:
    return sorted((tuple(comparable(v) for v in row) for row in rows), key=_sort_key)


def test_every_staging_model_builds_on_spark_with_duckdbs_columns_and_rows(built, spark_staging):
    warehouse, _ = built
    session = spark_staging
    models = staging_model_names()
    assert len(models) >= 45
    on_spark = {r.tableName for r in session.sql("SHOW TABLES IN staging").collect()}
    assert models <= on_spark, sorted(models - on_spark)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        mismatches = []
        for model in sorted(models):
            columns, duck_rows = _duckdb_relation(con, model)
            assert duck_rows, f"{model} is empty on DuckDB: the comparison would prove nothing"
            frame = session.table(f"staging.{model}")
            expected_types = [(name, SPARK_TYPES[kind]) for name, kind in columns]
            if frame.dtypes != expected_types:
                mismatches.append((model, expected_types, frame.dtypes))
                continue
            duck, spark = _rows(duck_rows), _rows(frame.collect())
            assert len(spark) == len(duck), model
            for d, s in zip(duck, spark, strict=True):
                if not _same(d, s):
                    differ = [
                        (name, x, y)
                        for (name, _), x, y in zip(columns, d, s, strict=True)
                        if not _same(x, y)
                    ]
                    mismatches.append((model, d[0], differ))
                    break
        assert not mismatches, mismatches
    finally:
        con.close()


def test_the_comparison_sees_the_silent_traps(spark_staging):
    """The raw layer holds what Spark would get wrong without a word (the row-for-row
    comparison above then fails): a regex whose backslash Spark's string literals would drop,
    strings with backslashes and quotes, list elements without the key, an unfinished build and
    an empty first-match list."""
    session = spark_staging
    repositories = {
        r.build_key: r.repository
        for r in session.sql(
            "SELECT build_key, repository FROM staging.stg_jenkins__builds"
        ).collect()
    }
    # (?:\.git)? with the backslash lost matches any character before "git": payments/d.
    assert repositories["edge/ci#0"] == "payments/digit"
    assert repositories["edge/ci#3"] == "payments/legit"
    assert repositories["edge/ci#9"] is None  # no build data at all
    title = session.sql(
        "SELECT title, labels FROM staging.stg_github__pull_requests "
        "WHERE pull_request_key = 'appstore/edge-cases#0'"
    ).collect()[0]
    assert "back\\slash 'single' \"double\"" in title.title
    assert title.labels == ["a\\b", None, "é"]  # the element without a name is left out
