"""Sync PagerDuty incidents into ``raw.pagerduty_incidents`` in windows of at most 179 days.

The cursor is the end of the last window synced. Incidents change after creation (acknowledged,
resolved), so each run re-reads ``RESYNC_OVERLAP`` before the cursor.

With ``log_entries`` (the default), an acknowledged or resolved incident's overview log entries
(``GET /incidents/{id}/log_entries?is_overview=true``) are stored in its payload under
``log_entries`` (the shape DevLake stores too): dbt reads acknowledgement and resolution times from
them. They are fetched again only when ``last_status_change_at`` changed since the last sync.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from pipelines.pagerduty.client import PagerDutyClient
from pipelines.warehouse import (
    RawRecord,
    ensure_raw_table,
    get_sync_state,
    set_cursor,
    transaction,
    upsert_raw,
)

RAW_TABLES = ("pagerduty_incidents",)
MAX_WINDOW = dt.timedelta(days=179)
RESYNC_OVERLAP = dt.timedelta(days=14)
SCOPE_ALL = "all-services"


@dataclass
class IncidentSyncReport:
    items: int = 0
    windows: int = 0


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def windows(start: dt.datetime, end: dt.datetime, size: dt.timedelta = MAX_WINDOW):
    """Split [start, end) into consecutive windows no longer than ``size``."""
    cursor = start
    while cursor < end:
        stop = min(cursor + size, end)
        yield cursor, stop
        cursor = stop


def sync_incidents(
    con: duckdb.DuckDBPyConnection,
    client: PagerDutyClient,
    *,
    source: str,
    service_ids: Sequence[str] = (),
    backfill_days: int,
    now: dt.datetime | None = None,
    log_entries: bool = True,
) -> IncidentSyncReport:
    now = now or dt.datetime.now(dt.UTC)
    ensure_raw_table(con, "pagerduty_incidents")
    scope = ",".join(sorted(service_ids)) or SCOPE_ALL
    state = get_sync_state(con, source, scope, "incidents")
    backfill_start = now - dt.timedelta(days=backfill_days)
    if state and state.cursor:
        start = max(dt.datetime.fromisoformat(state.cursor) - RESYNC_OVERLAP, backfill_start)
    else:
        start = backfill_start
    report = IncidentSyncReport()
    for window_start, window_end in windows(start, now):
        records = [
            RawRecord(
                incident["id"],
                (incident.get("service") or {}).get("id") or "unknown",
                incident,
                incident.get("last_status_change_at") or incident.get("created_at"),
            )
            for page in client.incidents(
                _iso(window_start), _iso(window_end), service_ids=service_ids
            )
            for incident in page
        ]
        if log_entries:
            records = [_with_log_entries(con, client, source, r) for r in records]
        # One transaction per window: its rows and the cursor that says it is done.
        with transaction(con):
            written = upsert_raw(con, "pagerduty_incidents", source, records)
            set_cursor(
                con, source, scope, "incidents", cursor=window_end.isoformat(), items_added=written
            )
        report.items += written
        report.windows += 1
    return report


def _with_log_entries(
    con: duckdb.DuckDBPyConnection, client: PagerDutyClient, source: str, record: RawRecord
) -> RawRecord:
    incident = dict(record.payload)
    if incident.get("status") == "triggered" or "log_entries" in incident:
        return record
    stored = con.execute(
        "SELECT payload ->> '$.last_status_change_at', payload -> '$.log_entries' "
        "FROM raw.pagerduty_incidents WHERE source = ? AND natural_key = ?",
        [source, record.natural_key],
    ).fetchone()
    if stored and stored[1] is not None and stored[0] == incident.get("last_status_change_at"):
        incident["log_entries"] = json.loads(stored[1])
    else:
        incident["log_entries"] = client.log_entries(record.natural_key)
    return RawRecord(record.natural_key, record.scope, incident, record.updated_at)
