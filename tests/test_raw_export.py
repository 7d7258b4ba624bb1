"""`platform-metrics export-raw`: the raw layer as Parquet (pipelines/raw_export.py), without Spark.

The Spark side (registering the export and reading it back) is tests/test_spark_target.py.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from assets.cli import main
from pipelines import raw_export
from pipelines.raw_export import ExportError, export_raw_parquet, read_index
from pipelines.warehouse import RawRecord, connect, raw_table_names, upsert_raw

FETCHED = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def _warehouse(path: Path, pull_requests: int = 3) -> Path:
    """Every raw table (empty), and a few pull requests."""
    from pipelines import ingest as ingest_mod

    con = connect(path)
    try:
        ingest_mod.ensure_raw_tables(con)
        records = [
            RawRecord(
                natural_key=f"acme/api#{n}",
                scope="acme/api",
                payload={"number": n, "title": f"change {n}"},
                updated_at=FETCHED,
            )
            for n in range(1, pull_requests + 1)
        ]
        upsert_raw(con, "github_pull_requests", "github", records, fetched_at=FETCHED)
    finally:
        con.close()
    return path


@pytest.fixture
def warehouse(tmp_path) -> Path:
    return _warehouse(tmp_path / "warehouse.duckdb")


def test_export_writes_every_raw_table_and_an_index_of_row_counts(warehouse, tmp_path):
    out = tmp_path / "export"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = raw_table_names(con, include_state=True)
        export = export_raw_parquet(con, out)
    assert "sync_state" in tables and "github_pull_requests" in tables
    assert sorted(export.row_counts) == tables == sorted(read_index(out))
    assert read_index(out)["github_pull_requests"] == 3 == export.rows
    for table in tables:
        assert (out / table / raw_export.PART_FILE).is_file(), table
    rows = pq.read_table(out / "github_pull_requests").to_pylist()
    assert sorted(r["natural_key"] for r in rows) == ["acme/api#1", "acme/api#2", "acme/api#3"]
    assert rows[0]["fetched_at"] == FETCHED
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export", "warehouse.duckdb"]


def test_export_replaces_a_previous_export_whole(warehouse, tmp_path):
    out = tmp_path / "export"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        export_raw_parquet(con, out)
    (out / "stale_table").mkdir()
    bigger = _warehouse(tmp_path / "bigger.duckdb", pull_requests=5)
    with duckdb.connect(str(bigger), read_only=True) as con:
        export_raw_parquet(con, out)
    assert read_index(out)["github_pull_requests"] == 5
    assert not (out / "stale_table").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_failed_export_leaves_the_previous_export_intact(warehouse, tmp_path, monkeypatch):
    out = tmp_path / "export"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        export_raw_parquet(con, out)
    before = sorted(str(p.relative_to(out)) for p in out.rglob("*"))

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(raw_export.pq, "write_table", fail)
    bigger = _warehouse(tmp_path / "bigger.duckdb", pull_requests=5)
    with duckdb.connect(str(bigger), read_only=True) as con:
        with pytest.raises(OSError, match="No space left"):
            export_raw_parquet(con, out)
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == before
    assert read_index(out)["github_pull_requests"] == 3
    # The half-written export is gone, and nothing else is left beside it.
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bigger.duckdb",
        "export",
        "warehouse.duckdb",
    ]


def test_export_refuses_a_folder_that_is_not_a_previous_export(warehouse, tmp_path):
    out = tmp_path / "notes"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        with pytest.raises(ExportError, match=r"notes: the folder is not empty and is not"):
            export_raw_parquet(con, out)
    assert (out / "keep.txt").read_text() == "mine"


def test_cli_export_raw_writes_the_export_from_a_warehouse_file(warehouse, tmp_path, capsys):
    out = tmp_path / "export"
    code = main(
        ["export-raw", "--format", "parquet", "--warehouse", str(warehouse), "--out", str(out)]
    )
    assert code == 0
    assert read_index(out)["github_pull_requests"] == 3
    said = capsys.readouterr().out
    assert "raw tables (3 rows)" in said and str(out) in said


def test_cli_export_raw_names_the_path_and_problem_on_a_bad_out(warehouse, tmp_path, capsys):
    out = tmp_path / "a-file"
    out.write_text("x")
    code = main(["export-raw", "--warehouse", str(warehouse), "--out", str(out)])
    assert code != 0
    err = capsys.readouterr().err
    assert err.startswith(f"error: {out}: --out must be a folder"), err
    assert "Traceback" not in err


def test_cli_export_raw_names_a_missing_warehouse(tmp_path, capsys):
    missing = tmp_path / "nowhere.duckdb"
    code = main(["export-raw", "--warehouse", str(missing), "--out", str(tmp_path / "export")])
    assert code == 4
    assert f"error: {missing}: warehouse not found" in capsys.readouterr().err
    assert not (tmp_path / "export").exists()


def test_cli_export_raw_refuses_another_format(tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["export-raw", "--format", "csv", "--out", str(tmp_path / "export")])
    assert exited.value.code == 2
    assert "invalid choice: 'csv'" in capsys.readouterr().err


def test_export_refuses_a_symlink_as_destination(warehouse, tmp_path):
    target = tmp_path / "elsewhere"
    target.mkdir()
    link = tmp_path / "export"
    link.symlink_to(target)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        with pytest.raises(ExportError, match=r"export: --out must be a folder .* it is a symlink"):
            export_raw_parquet(con, link)
    assert link.is_symlink() and not any(target.iterdir())
