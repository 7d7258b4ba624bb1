"""Defensive reads of the warehouse for the site: a missing table or column is "no data", not an error.

The marts are built by dbt in another layer and evolve on their own schedule, so every page asks for
the columns it wants and gets a frame with exactly those columns (missing ones filled with nulls), or
an empty frame when the table is not there yet.
"""

from __future__ import annotations

import duckdb
import pandas as pd


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


class WarehouseReader:
    """Read-only view of one open warehouse connection, tolerant of tables that do not exist yet."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        rows = con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "ORDER BY table_schema, table_name, ordinal_position"
        ).fetchall()
        self._columns: dict[tuple[str, str], list[str]] = {}
        for schema, table, column in rows:
            self._columns.setdefault((schema, table), []).append(column)

    def has(self, schema: str, table: str) -> bool:
        return (schema, table) in self._columns

    def tables(self, schema: str) -> list[str]:
        return sorted(table for (s, table) in self._columns if s == schema)

    def columns(self, schema: str, table: str) -> list[str]:
        return list(self._columns.get((schema, table), []))

    def row_count(self, schema: str, table: str) -> int:
        if not self.has(schema, table):
            return 0
        return self.con.execute(
            f"SELECT count(*) FROM {_quote(schema)}.{_quote(table)}"
        ).fetchone()[0]

    def frame(
        self,
        schema: str,
        table: str,
        columns: list[str] | None = None,
        *,
        order_by: str | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """The table's rows with exactly ``columns`` (all columns when None); empty when missing."""
        present = self.columns(schema, table)
        wanted = present if columns is None else columns
        if not present:
            return pd.DataFrame({c: pd.Series(dtype="object") for c in wanted})
        select = [_quote(c) for c in wanted if c in present]
        if not select:
            return pd.DataFrame({c: pd.Series(dtype="object") for c in wanted})
        sql = f"SELECT {', '.join(select)} FROM {_quote(schema)}.{_quote(table)}"
        if order_by and order_by in present:
            sql += f" ORDER BY {_quote(order_by)} DESC NULLS LAST"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        df = self.con.execute(sql).df()
        for column in wanted:
            if column not in df.columns:
                df[column] = None
        return df[wanted]
