"""``platform-metrics spark-build`` (pipelines/spark_build.py): dbt on a local Spark session with
the commit-ancestry step between its two runs, as a user runs it (docs/scaling.md#dbt-on-spark).

The happy path is marked ``spark`` (its own session and JVM, about a minute); the bad-input path
needs no Spark.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from assets.cli import main
from pipelines.config import load_config
from pipelines.dbt_cli import run_dbt
from pipelines.definitions import dbt_vars
from pipelines.raw_export import export_raw_parquet
from pipelines.warehouse import connect
from tests.raw_fixtures import sync_demo_raw_layer

END = dt.date(2026, 6, 30)


def test_spark_build_of_a_folder_that_is_no_raw_export_says_so_and_exits_2(tmp_path, capsys):
    pytest.importorskip("pyspark", reason="the spark extra is not installed")
    (tmp_path / "raw").mkdir()
    code = main(
        ["spark-build", "--raw-parquet", str(tmp_path / "raw"), "--spark-dir", str(tmp_path / "s")]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'raw'}: not an export of the raw layer" in err
    assert "platform-metrics export-raw" in err
    assert "Traceback" not in err
    assert not (tmp_path / "s").exists()  # nothing written


def test_a_failed_ancestry_step_stops_the_build_before_the_second_dbt_run():
    """The step sits between the two dbt runs: when Spark fails it (here a session whose tables
    are missing), the error names the step and the second run never starts, so no model
    downstream of commit ancestry is built from a stale table."""
    from pipelines.spark_ancestry import AncestryStepError, build_on_spark

    class MissingTables:
        def sql(self, statement):
            return None

        def table(self, name):
            raise RuntimeError(f"[TABLE_OR_VIEW_NOT_FOUND] {name} cannot be found\nstack...")

    runs = []
    with pytest.raises(AncestryStepError) as raised:
        build_on_spark(lambda *args: runs.append(args), "build", session_factory=MissingTables)
    assert runs == [("build", "--exclude", "int_commit_deployments+")]
    assert str(raised.value) == (
        "the commit-ancestry step (between the two dbt runs) failed: RuntimeError: "
        "[TABLE_OR_VIEW_NOT_FOUND] intermediate.int_commits cannot be found"
    )
    assert raised.value.exit_code == 2


def test_the_ancestry_step_never_starts_a_spark_session_of_its_own(tmp_path, monkeypatch):
    """When the first dbt run started no session (it selected nothing), the step stops with one
    error rather than start a session without the profile's settings, whose new, empty
    metastore would land in the working directory."""
    pytest.importorskip("pyspark", reason="the spark extra is not installed")
    from pyspark.sql import SparkSession

    from pipelines.spark_ancestry import AncestryStepError, build_on_spark

    if SparkSession._instantiatedSession is not None:
        pytest.skip("a Spark session of another test is running in this process")
    monkeypatch.chdir(tmp_path)
    runs = []
    with pytest.raises(AncestryStepError, match="found no Spark session"):
        build_on_spark(lambda *args: runs.append(args), "build")
    assert len(runs) == 1  # the second dbt run never started
    assert list(tmp_path.iterdir()) == []  # no metastore_db, no spark-warehouse
    assert SparkSession._instantiatedSession is None


def test_the_second_dbt_run_selects_what_the_first_left_out_within_the_users_selection():
    from pipelines.spark_ancestry import build_on_spark

    class Step:
        def sql(self, statement):
            return None

    runs = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("pipelines.spark_ancestry.write_claims", lambda session: 7)
        claims = build_on_spark(
            lambda *args: runs.append(args),
            "run",
            select=["path:models/staging", "path:models/intermediate"],
            exclude=["int_changes"],
            args=["--vars", "{}"],
            session_factory=Step,
        )
    assert claims == 7
    assert runs == [
        (
            "run",
            "--select",
            "path:models/staging",
            "path:models/intermediate",
            "--exclude",
            "int_commit_deployments+",
            "int_changes",
            "--vars",
            "{}",
        ),
        (
            "run",
            "--select",
            "int_commit_deployments+,path:models/staging",
            "int_commit_deployments+,path:models/intermediate",
            "--exclude",
            "int_changes",
            "--vars",
            "{}",
        ),
    ]


@pytest.mark.spark
def test_spark_build_attributes_the_commits_duckdb_attributes(tmp_path, capsys):
    """The command's three steps on the demo organisation's config: the models up to commit
    ancestry, the ancestry step on Spark, then int_commit_deployments from its table. It claims
    as many commits as DuckDB's Python model does on the same raw layer and vars (the row-for-row
    comparison is tests/test_spark_models.py)."""
    from pipelines.demo import scaled_demo_config

    warehouse = tmp_path / "warehouse.duckdb"
    con = connect(warehouse)
    try:
        sync_demo_raw_layer(
            con, scaled_demo_config(repositories=2, months=1, end_date=END), sli_hours=0
        )
        export_raw_parquet(con, tmp_path / "raw-parquet")
    finally:
        con.close()
    run_dbt(
        ["run", "--select", "+int_commit_deployments"],
        warehouse=warehouse,
        target_path=tmp_path / "duckdb-target",
        variables=dbt_vars(load_config()),
    )
    with duckdb.connect(str(warehouse), read_only=True) as duck:
        (claims,) = duck.execute(
            "select count(*) from intermediate.int_commit_deployments"
        ).fetchone()
    assert claims > 0

    code = main(
        [
            "spark-build",
            "--raw-parquet",
            str(tmp_path / "raw-parquet"),
            "--spark-dir",
            str(tmp_path / "spark"),
            "--command",
            "run",
            "--select",
            "+int_commit_deployments",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out[-2000:]
    assert f"spark run done: {claims} commits attributed to deployments" in out
    # The claims are a Parquet table in the session's warehouse folder.
    assert list(
        Path(tmp_path / "spark" / "warehouse").glob("ancestry.db/commit_deployments/*.parquet")
    )
