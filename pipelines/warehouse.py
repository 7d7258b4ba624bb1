"""The DuckDB warehouse's raw layer: untouched payloads, idempotent upserts, and sync cursors.

Every raw table has the same shape (see docs/architecture.md, "Raw layer"):

    source       the configured source instance ("github", "github-enterprise", "pagerduty", ...)
    natural_key  the entity's key within that source ("appstore/checkout-api#42")
    scope        what the row was synced under (repository full name, PagerDuty account, survey wave)
    parent_key   the natural key of the owning entity (a review's pull request), or NULL
    payload      the item exactly as the API sent it, as JSON
    updated_at   the item's own last-change time where it has one (for cursors), or NULL
    fetched_at   when we last fetched it

Rows upsert on (source, natural_key): a changed payload replaces the old one, an unchanged one is
rewritten with a new fetched_at, so running a sync twice leaves the same rows. A sync cursor is written
by :func:`set_cursor` inside the same transaction as the rows it covers (:func:`transaction`), so a
crash between pages loses nothing and duplicates nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipelines.errors import WarehouseError

RAW_SCHEMA = "raw"
SYNC_STATE_TABLE = f"{RAW_SCHEMA}.sync_state"
SYNC_COVERAGE_TABLE = f"{RAW_SCHEMA}.sync_coverage"
SYNC_GONE_TABLE = f"{RAW_SCHEMA}.sync_gone"
# Bookkeeping tables of the extract-load step (not source data).
STATE_TABLES = ("sync_state", "sync_coverage", "sync_gone")
_TABLE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class RawRecord:
    natural_key: str
    scope: str
    payload: Mapping[str, Any] | list[Any]
    updated_at: str | dt.datetime | None = None
    parent_key: str | None = None


@dataclass(frozen=True, slots=True)
class SyncState:
    cursor: str | None
    etag: str | None
    items_total: int
    last_synced_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class SyncCoverage:
    """Which time span of one entity is fully synced (progressive backfill)."""

    synced_from: dt.datetime
    synced_to: dt.datetime
    target_from: dt.datetime
    resume_at: str | None

    @property
    def complete(self) -> bool:
        return self.synced_from <= self.target_from


def connect(
    path: str | Path, *, read_only: bool = False, lock_wait_seconds: float = 0.0
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse file, creating its folder; a lock held elsewhere is a one-line error.

    With ``lock_wait_seconds``, a held lock is retried with backoff for that long first.
    """
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif not path.exists():
        raise WarehouseError(f"{path}: warehouse not found; run the pipeline first (make demo)")
    deadline = time.monotonic() + lock_wait_seconds
    delay = 0.1
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if time.monotonic() + delay > deadline:
                raise WarehouseError(
                    f"{path}: cannot open the warehouse ({str(exc).splitlines()[0]}). Another "
                    "process holds it; analysts should query the published snapshot instead "
                    "(docs/analysts.md)"
                ) from None
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
    con.execute("SET TimeZone = 'UTC'")
    return con


@contextlib.contextmanager
def open_warehouse(
    path: str | Path, *, read_only: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(path, read_only=read_only)
    try:
        yield con
    finally:
        con.close()


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: rows and the cursor that covers them commit together."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    con.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {SYNC_STATE_TABLE} (
            source VARCHAR NOT NULL,
            scope VARCHAR NOT NULL,
            entity VARCHAR NOT NULL,
            cursor VARCHAR,
            etag VARCHAR,
            items_total BIGINT NOT NULL DEFAULT 0,
            last_synced_at TIMESTAMPTZ,
            PRIMARY KEY (source, scope, entity)
        )
        """
    )
    con.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {SYNC_COVERAGE_TABLE} (
            source VARCHAR NOT NULL,
            scope VARCHAR NOT NULL,
            entity VARCHAR NOT NULL,
            synced_from TIMESTAMPTZ NOT NULL,
            synced_to TIMESTAMPTZ NOT NULL,
            target_from TIMESTAMPTZ NOT NULL,
            resume_at VARCHAR,
            updated_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (source, scope, entity)
        )
        """
    )
    # Stored objects the source has since said are gone (404), so a sync stops asking about them.
    con.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {SYNC_GONE_TABLE} (
            source VARCHAR NOT NULL,
            scope VARCHAR NOT NULL,
            natural_key VARCHAR NOT NULL,
            gone_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (source, natural_key)
        )
        """
    )


def ensure_raw_table(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """Create ``raw.<table>`` if missing and return its qualified name."""
    if not _TABLE_NAME.match(table):
        raise ValueError(f"raw table name {table!r} must be lower_snake_case")
    ensure_raw_schema(con)
    qualified = f"{RAW_SCHEMA}.{table}"
    con.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {qualified} (
            source VARCHAR NOT NULL,
            natural_key VARCHAR NOT NULL,
            scope VARCHAR NOT NULL,
            parent_key VARCHAR,
            payload JSON NOT NULL,
            updated_at TIMESTAMPTZ,
            fetched_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (source, natural_key)
        )
        """
    )
    return qualified


def upsert_raw(
    con: duckdb.DuckDBPyConnection,
    table: str,
    source: str,
    records: Iterable[RawRecord],
    *,
    fetched_at: dt.datetime | None = None,
) -> int:
    """Insert or replace records by (source, natural_key); returns how many distinct keys were written.

    Within one call the last record of a key wins (real exports repeat rows).
    """
    qualified = ensure_raw_table(con, table)
    fetched_at = fetched_at or dt.datetime.now(dt.UTC)
    latest: dict[str, RawRecord] = {}
    for record in records:
        latest[record.natural_key] = record
    if not latest:
        return 0
    frame = pd.DataFrame(
        {
            "source": source,
            "natural_key": list(latest),
            "scope": [r.scope for r in latest.values()],
            "parent_key": pd.Series([r.parent_key for r in latest.values()], dtype="object"),
            "payload": [json.dumps(r.payload, ensure_ascii=False) for r in latest.values()],
            "updated_at": pd.Series([_iso(r.updated_at) for r in latest.values()], dtype="object"),
        }
    )
    con.register("_raw_batch", frame)
    try:
        con.execute(
            f"""
            INSERT OR REPLACE INTO {qualified}
            SELECT source, natural_key, scope, parent_key, payload::JSON,
                   TRY_CAST(updated_at AS TIMESTAMPTZ), ?::TIMESTAMPTZ
            FROM _raw_batch
            """,
            [fetched_at],
        )
    finally:
        con.unregister("_raw_batch")
    return len(latest)


def _iso(value: str | dt.datetime | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()


def replace_table(
    con: duckdb.DuckDBPyConnection, qualified: str, ddl: str, frame: pd.DataFrame
) -> int:
    """Make ``qualified`` (created with ``ddl`` if missing) hold exactly ``frame``'s rows.

    For plain tables rewritten from configuration each run (raw.org_*, raw.slo_*); call it inside
    :func:`transaction` so readers never see the table empty.
    """
    con.execute(f"CREATE TABLE IF NOT EXISTS {qualified} ({ddl})")
    con.execute(f"DELETE FROM {qualified}")
    if len(frame):
        con.register("_replacement", frame)
        try:
            con.execute(f"INSERT INTO {qualified} SELECT * FROM _replacement")
        finally:
            con.unregister("_replacement")
    return len(frame)


def get_sync_state(
    con: duckdb.DuckDBPyConnection, source: str, scope: str, entity: str
) -> SyncState | None:
    ensure_raw_schema(con)
    row = con.execute(
        f"SELECT cursor, etag, items_total, last_synced_at FROM {SYNC_STATE_TABLE} "
        "WHERE source = ? AND scope = ? AND entity = ?",
        [source, scope, entity],
    ).fetchone()
    return SyncState(*row) if row else None


def set_cursor(
    con: duckdb.DuckDBPyConnection,
    source: str,
    scope: str,
    entity: str,
    *,
    cursor: str | None,
    etag: str | None = None,
    items_added: int = 0,
) -> None:
    """Record how far a sync got. Call inside :func:`transaction` with the rows it covers."""
    ensure_raw_schema(con)
    con.execute(
        f"""
        INSERT INTO {SYNC_STATE_TABLE} AS s
            (source, scope, entity, cursor, etag, items_total, last_synced_at)
        VALUES (?, ?, ?, ?, ?, ?, now())
        ON CONFLICT (source, scope, entity) DO UPDATE SET
            cursor = COALESCE(excluded.cursor, s.cursor),
            etag = COALESCE(excluded.etag, s.etag),
            items_total = s.items_total + excluded.items_total,
            last_synced_at = excluded.last_synced_at
        """,
        [source, scope, entity, cursor, etag, items_added],
    )


def get_coverage(
    con: duckdb.DuckDBPyConnection, source: str, scope: str, entity: str
) -> SyncCoverage | None:
    ensure_raw_schema(con)
    row = con.execute(
        f"SELECT synced_from, synced_to, target_from, resume_at FROM {SYNC_COVERAGE_TABLE} "
        "WHERE source = ? AND scope = ? AND entity = ?",
        [source, scope, entity],
    ).fetchone()
    return SyncCoverage(*row) if row else None


def set_coverage(
    con: duckdb.DuckDBPyConnection,
    source: str,
    scope: str,
    entity: str,
    *,
    synced_from: dt.datetime,
    synced_to: dt.datetime,
    target_from: dt.datetime,
    resume_at: str | None,
) -> None:
    """Record the fully synced span of one entity. Call inside :func:`transaction` with its rows."""
    ensure_raw_schema(con)
    con.execute(
        f"""
        INSERT INTO {SYNC_COVERAGE_TABLE} AS c
            (source, scope, entity, synced_from, synced_to, target_from, resume_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, now())
        ON CONFLICT (source, scope, entity) DO UPDATE SET
            synced_from = excluded.synced_from,
            synced_to = excluded.synced_to,
            target_from = excluded.target_from,
            resume_at = excluded.resume_at,
            updated_at = excluded.updated_at
        """,
        [source, scope, entity, synced_from, synced_to, target_from, resume_at],
    )


def mark_gone(con: duckdb.DuckDBPyConnection, source: str, scope: str, key: str) -> None:
    """Remember that the object stored under ``key`` is gone from the source (it answered 404)."""
    ensure_raw_schema(con)
    con.execute(
        f"INSERT OR REPLACE INTO {SYNC_GONE_TABLE} VALUES (?, ?, ?, now())", [source, scope, key]
    )


def gone_keys(con: duckdb.DuckDBPyConnection, source: str, scope: str) -> set[str]:
    ensure_raw_schema(con)
    rows = con.execute(
        f"SELECT natural_key FROM {SYNC_GONE_TABLE} WHERE source = ? AND scope = ?", [source, scope]
    ).fetchall()
    return {key for (key,) in rows}


def reset_sync_state(con: duckdb.DuckDBPyConnection, source: str, scope: str) -> None:
    """Forget every cursor, the coverage and the gone markers of one scope, so its next sync starts
    afresh."""
    ensure_raw_schema(con)
    for table in (SYNC_STATE_TABLE, SYNC_COVERAGE_TABLE, SYNC_GONE_TABLE):
        con.execute(f"DELETE FROM {table} WHERE source = ? AND scope = ?", [source, scope])


def raw_table_names(con: duckdb.DuckDBPyConnection, *, include_state: bool = False) -> list[str]:
    """The tables of schema raw, by name; the bookkeeping STATE_TABLES only with include_state."""
    excluded = [] if include_state else list(STATE_TABLES)
    tables = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = ? "
        "AND table_type = 'BASE TABLE' AND NOT list_contains(?, table_name) ORDER BY table_name",
        [RAW_SCHEMA, excluded],
    ).fetchall()
    return [name for (name,) in tables]


def raw_row_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows per raw table (sync_state, sync_coverage excluded), for checks and the data-quality page."""
    return {
        name: con.execute(f"SELECT count(*) FROM {RAW_SCHEMA}.{name}").fetchone()[0]
        for name in raw_table_names(con)
    }
