"""dbt's ``spark`` target on a real local pyspark session (docs/scaling.md#dbt-on-spark).

One small raw layer (2 generated repositories, 1 month, through the production clients and the
fake API, plus SLI samples) is built in DuckDB and exported as Parquet once per module; the dbt
invocations share one Spark folder (metastore and tables), so the Derby metastore is created once.
The module takes 70 to 160 s on a 2-CPU machine (docs/scaling.md#dbt-on-spark), most of it the
JVM, the session and registering the raw tables.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest

from pipelines.raw_export import export_raw_parquet, read_index
from pipelines.warehouse import RawRecord, connect, upsert_raw
from tests.raw_fixtures import sync_demo_raw_layer
from tests.spark_support import comparable, dbt_on_spark

pytestmark = pytest.mark.spark

END = dt.date(2026, 6, 30)


def build_small_raw_layer(path: Path) -> None:
    """Every raw table (most empty), the organisation, a GitHub and PagerDuty sync of a 2 x 1
    month demo, and 24 SLI samples."""
    from pipelines.demo import scaled_demo_config

    con = connect(path)
    try:
        sync_demo_raw_layer(
            con, scaled_demo_config(repositories=2, months=1, end_date=END), sli_hours=24
        )
    finally:
        con.close()


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("spark-raw")
    warehouse = root / "warehouse.duckdb"
    build_small_raw_layer(warehouse)
    con = connect(warehouse, read_only=True)
    try:
        export_raw_parquet(con, root / "raw-parquet")
    finally:
        con.close()
    return warehouse, root / "raw-parquet"


@pytest.fixture(scope="module")
def spark_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("spark-session")


@pytest.fixture(scope="module")
def dbt_spark(exported, spark_dir):
    """``dbt <args> --target spark`` in this process, one Spark session and JVM for the module
    (tests/spark_support.py). Returns the invocation's captured log lines."""
    _, raw = exported
    with dbt_on_spark(spark_dir, raw) as invoke:
        yield invoke


@pytest.fixture(scope="module")
def registered(exported, dbt_spark) -> Path:
    """The export registered on Spark by the on-run-start macro, run on its own."""
    _, raw = exported
    lines = dbt_spark("run-operation", "register_raw_parquet")
    assert f"register_raw_parquet: {len(read_index(raw))} raw tables from {raw}" in lines, lines
    return raw


def test_spark_target_resolves_a_source_in_a_utc_session(registered, dbt_spark):
    """dbt's spark target starts a local session (UTC, no web UI) and {{ source('raw', ...) }}
    resolves to the registered table, as the staging models will read it."""
    from pyspark.sql import SparkSession

    lines = dbt_spark(
        "show",
        "--inline",
        "select current_timezone() as tz, count(*) as n "
        "from {{ source('raw', 'github_pull_requests') }}",
        "--output",
        "json",
    )
    expected = read_index(registered)["github_pull_requests"]
    assert expected > 0
    shown = [m for m in lines if m.lstrip().startswith("{") and '"show"' in m]
    assert [json.loads(m)["show"] for m in shown] == [[{"tz": "UTC", "n": expected}]], lines
    conf = SparkSession.getActiveSession().sparkContext.getConf()
    assert conf.get("spark.ui.enabled") == "false"
    assert conf.get("spark.jars.packages") is None  # nothing fetched at run time


@pytest.fixture(scope="module")
def spark_session(registered, dbt_spark):
    """The session dbt started (same metastore and tables)."""
    from pyspark.sql import SparkSession

    return SparkSession.getActiveSession()


def _rows(rows) -> list[tuple]:
    return sorted((tuple(comparable(v) for v in row) for row in rows), key=repr)


def test_registered_raw_tables_hold_duckdbs_rows_on_spark(exported, spark_session):
    warehouse, raw = exported
    index = read_index(raw)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        duck = {table: con.execute(f"SELECT * FROM raw.{table}").fetchall() for table in index}
        columns = {
            table: [d[0] for d in con.execute(f"SELECT * FROM raw.{table} LIMIT 0").description]
            for table in index
        }
    finally:
        con.close()
    registered = {r.tableName for r in spark_session.sql("SHOW TABLES IN raw").collect()}
    assert set(index) <= registered
    assert sum(index.values()) > 700  # the fixture is not empty
    for table, count in index.items():
        frame = spark_session.table(f"raw.{table}")
        assert frame.columns == columns[table], table
        rows = frame.collect()
        assert len(rows) == count == len(duck[table]), table
        assert _rows(rows) == _rows(duck[table]), table


def test_registering_a_new_export_replaces_the_registered_tables(
    tmp_path, dbt_spark, spark_session
):
    """A later export (here: two pull requests, given as the macro's root argument) is what
    Spark reads after the next registration: the earlier registration is dropped, not kept.
    Last in the module: it changes raw.github_pull_requests."""
    warehouse = tmp_path / "later.duckdb"
    con = connect(warehouse)
    try:
        records = [
            RawRecord(natural_key=f"acme/api#{n}", scope="acme/api", payload={"number": n})
            for n in (1, 2)
        ]
        upsert_raw(con, "github_pull_requests", "github", records)
        export_raw_parquet(con, tmp_path / "later-export")
    finally:
        con.close()
    root = tmp_path / "later-export"
    lines = dbt_spark(
        "run-operation", "register_raw_parquet", "--args", json.dumps({"root": str(root)})
    )
    assert f"register_raw_parquet: {len(read_index(root))} raw tables from {root}" in lines
    rows = spark_session.sql("SELECT natural_key FROM raw.github_pull_requests").collect()
    assert sorted(r.natural_key for r in rows) == ["acme/api#1", "acme/api#2"]
