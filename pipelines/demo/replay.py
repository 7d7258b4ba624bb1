"""Replay the newest day of a warehouse's raw layer as a day of new activity.

For measuring and testing incremental dbt runs on a generated history: :func:`hold_back_newest_day`
takes out of ``raw.*`` every row updated within the last day of the history (and every row whose
parent is such a row, so no review lands before its pull request), :func:`land_held_back` lands
them again the way an ingest does (same payloads, a new ``fetched_at``). A build before the
landing is "yesterday's", the incremental build after it is "today's".
"""

from __future__ import annotations

import datetime as dt

import duckdb

HOLD_SCHEMA = "replay_hold"
# Rows a daily ingest fetches again anyway (a repository's updated_at is its last push): they stay
# in place for the first build and are landed again, with a new fetched_at, with the day's rows.
REFETCHED_DAILY = ("github_repositories",)


def payload_tables(con: duckdb.DuckDBPyConnection, schema: str = "raw") -> list[str]:
    """The raw tables of the upserted shape (natural_key, payload, fetched_at) in ``schema``."""
    return [
        name
        for (name,) in con.execute(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = ? "
            "AND column_name IN ('natural_key', 'payload') GROUP BY table_name "
            "HAVING count(*) = 2 ORDER BY table_name",
            [schema],
        ).fetchall()
    ]


def hold_back_newest_day(
    con: duckdb.DuckDBPyConnection, *, days: float = 1.0, end: dt.datetime | None = None
) -> dict[str, int]:
    """Move the rows updated within ``days`` of ``end`` (default: the newest pull request update,
    the history's end), and their children, into ``replay_hold.*``; returns rows held per table."""
    if end is None:
        (end,) = con.execute("SELECT max(updated_at) FROM raw.github_pull_requests").fetchone()
    if end is None:
        raise ValueError("raw.github_pull_requests is empty: there is no history to replay")
    cutoff = {"cutoff": end - dt.timedelta(days=days)}
    tables = payload_tables(con)
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {HOLD_SCHEMA}")
    recent = " UNION ALL ".join(
        f"SELECT natural_key FROM raw.{t} WHERE updated_at > $cutoff" for t in tables
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE replay_keys AS {recent}", cutoff)
    held: dict[str, int] = {}
    for table in tables:
        con.execute(
            f"CREATE OR REPLACE TABLE {HOLD_SCHEMA}.{table} AS SELECT * FROM raw.{table} "
            "WHERE updated_at > $cutoff OR parent_key IN (SELECT natural_key FROM replay_keys)",
            cutoff,
        )
        (n,) = con.execute(f"SELECT count(*) FROM {HOLD_SCHEMA}.{table}").fetchone()
        if n and table not in REFETCHED_DAILY:
            con.execute(
                f"DELETE FROM raw.{table} WHERE natural_key IN "
                f"(SELECT natural_key FROM {HOLD_SCHEMA}.{table})"
            )
        if n:
            held[table] = n
    con.execute("DROP TABLE replay_keys")
    return held


def land_held_back(con: duckdb.DuckDBPyConnection, fetched_at: dt.datetime | None = None) -> int:
    """Land the held-back rows as an ingest would: the same payloads, fetched at ``fetched_at``
    (default now). Returns how many rows landed."""
    fetched_at = fetched_at or dt.datetime.now(dt.UTC)
    total = 0
    for table in payload_tables(con, HOLD_SCHEMA):
        con.execute(
            f"INSERT OR REPLACE INTO raw.{table} SELECT source, natural_key, scope, parent_key, "
            f"payload, updated_at, ?::TIMESTAMPTZ FROM {HOLD_SCHEMA}.{table}",
            [fetched_at],
        )
        (n,) = con.execute(f"SELECT count(*) FROM {HOLD_SCHEMA}.{table}").fetchone()
        total += n
    con.execute(f"DROP SCHEMA IF EXISTS {HOLD_SCHEMA} CASCADE")
    return total
