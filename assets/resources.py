"""Opening the warehouse from an asset: the path from Dagster's DuckDBResource, our connection."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import duckdb
from dagster_duckdb import DuckDBResource

from pipelines.warehouse import connect

# Another writer (an analyst's stray read-write session, a second pipeline) may hold the file for a
# moment; wait this long before failing with a WarehouseError that says what to do.
LOCK_WAIT_SECONDS = 60.0


@contextlib.contextmanager
def warehouse_connection(resource: DuckDBResource) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection for one step, opened here and always closed (UTC session, one-line lock error)."""
    con = connect(resource.database, lock_wait_seconds=LOCK_WAIT_SECONDS)
    try:
        yield con
    finally:
        con.close()
