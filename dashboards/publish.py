"""The analysts' snapshot: a read-only copy of the warehouse plus one Parquet file per mart.

Analysts never open the live DuckDB file (a reader's lock would block the pipeline's next write);
after each successful run they get ``<snapshot_dir>/warehouse.duckdb`` and
``<snapshot_dir>/parquet/<table>.parquet``, both swapped in atomically.

Why a logical copy rather than a file copy: the live file is opened read-only (attached to an
in-memory database) and ``COPY FROM DATABASE`` writes every schema, table and view into a fresh
file. That reads one consistent transaction snapshot, includes anything still in the write-ahead
log (a byte copy of ``warehouse.duckdb`` would silently miss a ``.wal`` that was not checkpointed),
and compacts the result. The publish step runs in the warehouse's single-writer pool after dbt, so
no writer holds the file's lock while it reads; if one does, the error says so instead of hanging.

Atomicity: the copy is written to a temporary file in ``snapshot_dir`` and ``os.replace``-d over
``warehouse.duckdb``; the Parquet files are written into a fresh hidden folder and ``parquet`` is a
symlink to it, replaced the same way (the previous folder is deleted afterwards). A reader holding the
previous file open keeps reading it (POSIX unlink semantics); no reader sees a half-written file.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from dashboards.swap import point_symlink
from pipelines.errors import WarehouseError
from pipelines.surveys.loader import SURVEY_SOURCE

SNAPSHOT_FILE = "warehouse.duckdb"
PARQUET_DIR = "parquet"
MARTS = "marts"
_SNAPSHOT_ALIAS = "pm_snapshot"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Snapshot:
    duckdb_path: Path
    parquet_files: dict[str, Path]
    tables: list[str]


def _sql_string(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _drop_respondent_level_survey_data(con: duckdb.DuckDBPyConnection) -> None:
    """Survey answers per respondent and free text never leave the live warehouse.

    Only aggregated, anonymity-checked marts may reach analysts (docs/surveys.md); the raw,
    staging and intermediate survey relations are dropped from the copy.
    """
    rows = con.execute(
        "SELECT table_schema, table_name, table_type FROM information_schema.tables "
        "WHERE table_catalog = ? AND table_schema <> ? AND table_name ILIKE '%survey%'",
        [_SNAPSHOT_ALIAS, MARTS],
    ).fetchall()
    for schema, name, kind in rows:
        what = "VIEW" if kind == "VIEW" else "TABLE"
        con.execute(f'DROP {what} IF EXISTS {_SNAPSHOT_ALIAS}."{schema}"."{name}" CASCADE')
    # The loaded survey files are remembered in raw.sync_state (so a file dropped again is not
    # loaded twice); the copy holds none of their answers, so it must not remember them either: a
    # warehouse restored from the snapshot then loads the files of <inbox>/processed/ again.
    has_sync_state = con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_catalog = ? AND table_schema = 'raw' AND table_name = 'sync_state'",
        [_SNAPSHOT_ALIAS],
    ).fetchone()[0]
    if has_sync_state:
        con.execute(
            f"DELETE FROM {_SNAPSHOT_ALIAS}.raw.sync_state WHERE source = ?", [SURVEY_SOURCE]
        )


def publish_snapshot(warehouse_path: Path, snapshot_dir: Path) -> Snapshot:
    """Copy the warehouse and its marts (as Parquet) into ``snapshot_dir``, atomically."""
    warehouse_path, snapshot_dir = Path(warehouse_path), Path(snapshot_dir)
    if not warehouse_path.exists():
        raise WarehouseError(f"{warehouse_path}: warehouse not found; run the pipeline first")
    snapshot_dir.mkdir(parents=True, exist_ok=True)
    # Views that dbt wrote name their catalog after the file's stem; attaching under the same
    # name lets COPY FROM DATABASE recreate them, and the copy is opened as warehouse.duckdb.
    source = warehouse_path.stem if _IDENTIFIER.match(warehouse_path.stem) else "warehouse"
    fd, tmp_name = tempfile.mkstemp(prefix=".warehouse-", suffix=".duckdb.tmp", dir=snapshot_dir)
    os.close(fd)
    tmp_db = Path(tmp_name)
    tmp_db.unlink()  # DuckDB must create the file itself
    parquet_tmp = Path(tempfile.mkdtemp(prefix=".parquet-", dir=snapshot_dir))
    parquet_tmp.chmod(0o755)  # mkdtemp makes it private; analysts are other users
    try:
        con = duckdb.connect(":memory:")
        try:
            try:
                con.execute(f"ATTACH {_sql_string(warehouse_path)} AS {source} (READ_ONLY)")
            except duckdb.IOException as exc:
                raise WarehouseError(
                    f"{warehouse_path}: cannot open the warehouse read-only "
                    f"({str(exc).splitlines()[0]}); if a pipeline run is writing it, publish after it finishes"
                ) from None
            con.execute(f"ATTACH {_sql_string(tmp_db)} AS {_SNAPSHOT_ALIAS}")
            con.execute(f"COPY FROM DATABASE {source} TO {_SNAPSHOT_ALIAS}")
            _drop_respondent_level_survey_data(con)
            con.execute(f"DETACH {_SNAPSHOT_ALIAS}")
            tables = [
                name
                for (name,) in con.execute(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_catalog = ? AND table_schema = ? ORDER BY table_name",
                    [source, MARTS],
                ).fetchall()
            ]
            for table in tables:
                target = parquet_tmp / f"{table}.parquet"
                con.execute(
                    f'COPY (SELECT * FROM {source}.{MARTS}."{table}") '
                    f"TO {_sql_string(target)} (FORMAT parquet)"
                )
        finally:
            con.close()
        final_db = snapshot_dir / SNAPSHOT_FILE
        os.replace(tmp_db, final_db)
        _swap_dir(parquet_tmp, snapshot_dir / PARQUET_DIR)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_db.unlink()
        Path(f"{tmp_db}.wal").unlink(missing_ok=True)
        shutil.rmtree(parquet_tmp, ignore_errors=True)
        raise
    parquet_dir = snapshot_dir / PARQUET_DIR
    return Snapshot(
        duckdb_path=final_db,
        parquet_files={t: parquet_dir / f"{t}.parquet" for t in tables},
        tables=tables,
    )


def _swap_dir(new: Path, target: Path) -> None:
    """Make ``target`` a symlink to ``new`` (dashboards/swap.py: no moment without a complete
    folder); the previously linked folder is deleted afterwards."""
    previous = point_symlink(target, new)
    if previous is not None and previous != new.resolve():
        shutil.rmtree(previous, ignore_errors=True)
