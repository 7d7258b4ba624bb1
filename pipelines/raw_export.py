"""The raw layer as Parquet, for an engine that does not read DuckDB (dbt on Spark, docs/scaling.md).

``export_raw_parquet(con, out)`` writes every table of schema ``raw`` into ``out``:

    out/tables.parquet                   the index: table_name, row_count (what the export holds)
    out/<table>/part-0.parquet           one folder per table (Spark's LOCATION is a folder)

The export is written into a fresh hidden folder beside ``out`` and renamed into place only when
it is complete, so a failed export leaves the previous one intact. An existing ``out`` is replaced
only when it is a previous export (it has the index): pointing ``--out`` at a folder of other
files is an error, never a deletion.

On Spark, ``dbt/macros/spark_raw.sql`` (on-run-start of the ``spark`` target) reads the index and
registers each table as an external Parquet table in database ``raw``, so the dbt sources resolve
unchanged. The export holds raw payloads, so its folder is private to the user (mode 0700) like
the warehouse's contents; the published snapshot has no respondent-level survey tables, so an
export read from it has none either (docs/surveys.md#privacy).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.errors import PlatformMetricsError
from pipelines.warehouse import RAW_SCHEMA, open_warehouse, raw_table_names

# The Parquet root dbt's spark target registers (also the dbt var raw_parquet_root).
RAW_PARQUET_ENV_VAR = "PLATFORM_METRICS_RAW_PARQUET"
# Where the spark target's local session keeps its metastore, tables and scratch files.
SPARK_DIR_ENV_VAR = "PLATFORM_METRICS_SPARK_DIR"
INDEX_FILE = "tables.parquet"
PART_FILE = "part-0.parquet"
FORMATS = ("parquet",)


class ExportError(PlatformMetricsError):
    """The export's destination cannot be used; the message names the path and the problem."""


@dataclass(frozen=True)
class RawExport:
    root: Path
    row_counts: dict[str, int]
    seconds: float

    @property
    def rows(self) -> int:
        return sum(self.row_counts.values())


def _sql_string(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def check_destination(out: Path) -> None:
    """Refuse a destination that is a file, or a folder that is not empty and not an export."""
    if out.is_symlink():
        raise ExportError(f"{out}: --out must be a folder (or not exist yet); it is a symlink")
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out}: --out must be a folder (or not exist yet); it is a file")
    if out.is_dir() and any(out.iterdir()) and not (out / INDEX_FILE).is_file():
        raise ExportError(
            f"{out}: the folder is not empty and is not a previous raw export (no {INDEX_FILE}); "
            "choose a new or empty folder, it is replaced as a whole"
        )


def export_raw_parquet(con: duckdb.DuckDBPyConnection, out: str | Path) -> RawExport:
    """Write every ``raw`` table of ``con`` as Parquet into ``out`` (replaced atomically)."""
    out = Path(out).absolute()
    check_destination(out)
    started = time.monotonic()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.export-", dir=out.parent))
    except OSError as exc:
        raise ExportError(
            f"{out}: cannot create the export there ({exc.strerror or exc})"
        ) from None
    try:
        counts = _write_tables(con, tmp)
        _replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return RawExport(root=out, row_counts=counts, seconds=time.monotonic() - started)


def export_raw_file(warehouse: str | Path, out: str | Path) -> RawExport:
    """:func:`export_raw_parquet` of the DuckDB file ``warehouse``, opened read-only: what
    ``platform-metrics export-raw`` and the ``spark_build`` job's first step run."""
    with open_warehouse(warehouse, read_only=True) as con:
        return export_raw_parquet(con, out)


def _write_tables(con: duckdb.DuckDBPyConnection, folder: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    # One read transaction: every table (and its count) is from the same state of the warehouse.
    con.execute("BEGIN TRANSACTION")
    try:
        for table in raw_table_names(con, include_state=True):
            (folder / table).mkdir()
            target = folder / table / PART_FILE
            con.execute(
                f'COPY (SELECT * FROM {RAW_SCHEMA}."{table}") '
                f"TO {_sql_string(target)} (FORMAT parquet)"
            )
            counts[table] = con.execute(f'SELECT count(*) FROM {RAW_SCHEMA}."{table}"').fetchone()[
                0
            ]
    finally:
        con.execute("ROLLBACK")
    index = pa.table(
        {
            "table_name": pa.array(list(counts), pa.string()),
            "row_count": pa.array(list(counts.values()), pa.int64()),
        }
    )
    pq.write_table(index, folder / INDEX_FILE)
    return counts


def _replace(new: Path, out: Path) -> None:
    """Rename the complete export ``new`` to ``out``; a previous export is moved aside first and
    deleted after, so there is always one complete export at ``out`` or beside it."""
    aside = out.with_name(f".{out.name}.old-{os.getpid()}")
    shutil.rmtree(aside, ignore_errors=True)
    if out.exists():
        out.rename(aside)
    try:
        new.rename(out)
    except OSError:
        if aside.exists():
            aside.rename(out)
        raise
    shutil.rmtree(aside, ignore_errors=True)


def read_index(root: str | Path) -> dict[str, int]:
    """Rows per table, as the export's index records them."""
    index = pq.read_table(Path(root) / INDEX_FILE).to_pylist()
    return {row["table_name"]: row["row_count"] for row in index}


def spark_env(spark_dir: str | Path, raw_parquet: str | Path) -> dict[str, str]:
    """The environment of a dbt run on the ``spark`` target's local session: its folder, the raw
    export, the driver on loopback (no port of this machine's network interface), and Python
    workers on this interpreter."""
    return {
        SPARK_DIR_ENV_VAR: str(Path(spark_dir).absolute()),
        RAW_PARQUET_ENV_VAR: str(Path(raw_parquet).absolute()),
        "SPARK_LOCAL_IP": "127.0.0.1",
        # Python tasks (the ancestry step's applyInArrow) run in this interpreter, which has
        # pyarrow and this project, not whatever "python3" is first on PATH.
        "PYSPARK_PYTHON": sys.executable,
    }
