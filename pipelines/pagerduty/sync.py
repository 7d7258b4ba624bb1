"""Sync PagerDuty incidents into ``raw.pagerduty_incidents`` in windows of at most 179 days.

The cursor is the end of the last window synced. Incidents change after creation (acknowledged,
resolved), so each run re-reads ``RESYNC_OVERLAP`` before the cursor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from pipelines.pagerduty.client import PagerDutyClient
from pipelines.warehouse import RawRecord, get_sync_state, set_cursor, transaction, upsert_raw

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
) -> IncidentSyncReport:
    now = now or dt.datetime.now(dt.UTC)
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
        # One transaction per window: its rows and the cursor that says it is done.
        with transaction(con):
            written = upsert_raw(con, "pagerduty_incidents", source, records)
            set_cursor(
                con, source, scope, "incidents", cursor=window_end.isoformat(), items_added=written
            )
        report.items += written
        report.windows += 1
    return report
