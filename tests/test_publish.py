"""The analysts' snapshot: a read-only DuckDB copy and one Parquet file per mart, swapped atomically."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dashboards.publish import publish_snapshot
from pipelines.errors import WarehouseError
from tests.mart_fixtures import make_warehouse, mart_row_counts


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = make_warehouse(tmp_path / "warehouse.duckdb")
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE VIEW marts.team_deployments AS "
        "SELECT team, count(*) AS deployments FROM marts.fct_deployments GROUP BY team"
    )
    con.close()
    return path


def test_snapshot_opens_read_only_with_the_same_tables_and_rows(warehouse, tmp_path):
    snap = publish_snapshot(warehouse, tmp_path / "snapshot")

    assert snap.duckdb_path == tmp_path / "snapshot" / "warehouse.duckdb"
    expected = mart_row_counts(warehouse)
    con = duckdb.connect(str(snap.duckdb_path), read_only=True)
    try:
        for table, rows in expected.items():
            assert con.execute(f"SELECT count(*) FROM marts.{table}").fetchone()[0] == rows
        # Of the fixture's two sync cursors the GitHub repository's travels with it; the survey
        # file's stays behind with the answers it stands for.
        assert con.execute("SELECT source FROM raw.sync_state").fetchall() == [("github",)]
        with pytest.raises(duckdb.Error):
            con.execute("CREATE TABLE marts.scratch (x INT)")
    finally:
        con.close()


def test_one_parquet_file_per_mart_with_the_mart_row_counts(warehouse, tmp_path):
    snap = publish_snapshot(warehouse, tmp_path / "snapshot")

    expected = mart_row_counts(warehouse)
    assert snap.tables == sorted(expected)
    assert "team_deployments" in snap.tables  # views are marts too
    con = duckdb.connect()
    for table, rows in expected.items():
        path = snap.parquet_files[table]
        assert path == tmp_path / "snapshot" / "parquet" / f"{table}.parquet"
        assert con.execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchone()[0] == rows
    con.close()


def test_republishing_replaces_the_snapshot_and_drops_removed_marts(warehouse, tmp_path):
    snapshot_dir = tmp_path / "snapshot"
    publish_snapshot(warehouse, snapshot_dir)
    con = duckdb.connect(str(warehouse))
    con.execute("DROP TABLE marts.fct_incidents")
    con.execute("DELETE FROM marts.fct_changes WHERE pr_number > 10")
    con.close()

    snap = publish_snapshot(warehouse, snapshot_dir)

    assert "fct_incidents" not in snap.tables
    assert not (snapshot_dir / "parquet" / "fct_incidents.parquet").exists()
    con = duckdb.connect()
    changes = snap.parquet_files["fct_changes"]
    assert con.execute(f"SELECT count(*) FROM read_parquet('{changes}')").fetchone()[0] == 10
    con.close()
    visible = sorted(p.name for p in snapshot_dir.iterdir() if not p.name.startswith("."))
    assert visible == ["parquet", "warehouse.duckdb"]
    hidden = [p for p in snapshot_dir.iterdir() if p.name.startswith(".")]
    assert hidden == [(snapshot_dir / "parquet").resolve()]  # only the folder parquet links to


def test_a_reader_of_the_old_snapshot_keeps_reading_while_a_new_one_lands(warehouse, tmp_path):
    snapshot_dir = tmp_path / "snapshot"
    publish_snapshot(warehouse, snapshot_dir)
    reader = duckdb.connect(str(snapshot_dir / "warehouse.duckdb"), read_only=True)
    old_file = open(snapshot_dir / "parquet" / "fct_changes.parquet", "rb")  # noqa: SIM115
    try:
        publish_snapshot(warehouse, snapshot_dir)
        assert reader.execute("SELECT count(*) FROM marts.fct_changes").fetchone()[0] == 30
        assert old_file.read(4) == b"PAR1"
    finally:
        reader.close()
        old_file.close()


def test_a_missing_warehouse_fails_and_keeps_the_previous_snapshot(warehouse, tmp_path):
    snapshot_dir = tmp_path / "snapshot"
    publish_snapshot(warehouse, snapshot_dir)
    before = sorted(p.name for p in (snapshot_dir / "parquet").iterdir())

    with pytest.raises(WarehouseError, match="not found"):
        publish_snapshot(tmp_path / "nowhere.duckdb", snapshot_dir)

    assert sorted(p.name for p in (snapshot_dir / "parquet").iterdir()) == before
    assert (snapshot_dir / "warehouse.duckdb").exists()


def test_a_failed_copy_leaves_no_temporary_files_and_the_old_snapshot(warehouse, tmp_path):
    snapshot_dir = tmp_path / "snapshot"
    publish_snapshot(warehouse, snapshot_dir)
    entries = sorted(p.name for p in snapshot_dir.iterdir())
    corrupt = tmp_path / "corrupt.duckdb"
    corrupt.write_bytes(b"this is not a duckdb file" * 100)

    with pytest.raises(WarehouseError, match="not a valid DuckDB database"):
        publish_snapshot(corrupt, snapshot_dir)

    assert sorted(p.name for p in snapshot_dir.iterdir()) == entries
    con = duckdb.connect(str(snapshot_dir / "warehouse.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM marts.fct_changes").fetchone()[0] == 30
    con.close()


def test_snapshot_leaves_out_respondent_level_survey_data(tmp_path):
    import duckdb as _duckdb

    from dashboards.publish import publish_snapshot as _publish

    live = tmp_path / "warehouse.duckdb"
    with _duckdb.connect(str(live)) as con:
        con.execute("CREATE SCHEMA raw; CREATE SCHEMA staging; CREATE SCHEMA marts")
        con.execute("CREATE TABLE raw.survey_comments (text VARCHAR)")
        con.execute("INSERT INTO raw.survey_comments VALUES ('my manager is slow')")
        con.execute(
            "CREATE VIEW staging.stg_surveys__comments AS SELECT * FROM raw.survey_comments"
        )
        con.execute("CREATE TABLE marts.fct_deployments (id INTEGER)")
    snap = _publish(live, tmp_path / "snapshot")
    with _duckdb.connect(str(snap.duckdb_path), read_only=True) as con:
        names = {
            n for (n,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }
    assert "fct_deployments" in names
    assert not {n for n in names if "survey" in n}
