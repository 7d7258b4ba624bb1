"""Opsgenie incidents API v1: ``GenieKey`` auth, a search query, offset pagination via ``paging.next``.

Incidents are read newest first (``sort=createdAt&order=desc``); paging stops at the first incident
created before the cut-off (the cursor minus an overlap, or the backfill start), so a re-run re-reads
recent incidents (they change after creation) and nothing older.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import duckdb

from pipelines.errors import SourceError
from pipelines.http import ApiClient
from pipelines.warehouse import RawRecord, get_sync_state, set_cursor, transaction, upsert_raw

PAGE_LIMIT = 100
RESYNC_OVERLAP = dt.timedelta(days=14)


class OpsgenieClient(ApiClient):
    service_name = "Opsgenie"
    auth_format = "GenieKey {token}"

    def __init__(
        self,
        base_url: str = "https://api.opsgenie.com",
        *,
        api_key: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(base_url, token=api_key, **kwargs)

    def incidents(self, query: str = "") -> Iterator[list[dict[str, Any]]]:
        """Pages of incidents matching ``query``, newest first."""
        url: str | None = "/v1/incidents"
        params: dict[str, Any] | None = {
            "query": query,
            "offset": 0,
            "limit": PAGE_LIMIT,
            "sort": "createdAt",
            "order": "desc",
        }
        number = 1
        while url:
            response = self.get(url, params)
            data = response.data
            if not isinstance(data, Mapping) or not isinstance(data.get("data"), list):
                raise SourceError(
                    f"Opsgenie sent an unexpected body for {response.url}; "
                    "expected an object with a 'data' list"
                )
            if number > 1 and not data["data"]:
                raise SourceError(
                    f"Opsgenie sent an empty page {number} at {response.url} although page "
                    f"{number - 1} linked to it; the cursor did not move (re-run)"
                )
            yield data["data"]
            if not data["data"]:
                return  # an empty first page: no incidents at all
            paging = data.get("paging") or {}
            # paging.next is an absolute URL from the body: ApiClient.get refuses another origin.
            url, params, number = paging.get("next"), None, number + 1


@dataclass
class OpsgenieSyncReport:
    items: int = 0
    pages: int = 0


def _parse(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def sync_incidents(
    con: duckdb.DuckDBPyConnection,
    client: OpsgenieClient,
    *,
    source: str,
    query: str = "",
    backfill_days: int,
    now: dt.datetime | None = None,
) -> OpsgenieSyncReport:
    now = now or dt.datetime.now(dt.UTC)
    scope = query or "all"
    state = get_sync_state(con, source, scope, "incidents")
    cutoff = now - dt.timedelta(days=backfill_days)
    if state and state.cursor:
        cutoff = max(cutoff, dt.datetime.fromisoformat(state.cursor) - RESYNC_OVERLAP)
    records: list[RawRecord] = []
    report = OpsgenieSyncReport()
    for page in client.incidents(query):
        report.pages += 1
        done = False
        for incident in page:
            created = incident.get("createdAt")
            if not incident.get("id") or not created:
                raise SourceError(
                    f"Opsgenie incident without id or createdAt on page {report.pages}"
                )
            if _parse(created) < cutoff:
                done = True
                break
            services = incident.get("impactedServices") or []
            records.append(
                RawRecord(
                    incident["id"],
                    services[0] if services else "-",
                    incident,
                    incident.get("updatedAt") or created,
                )
            )
        if done:
            break
    # One transaction: the incidents and the cursor that says they are in.
    with transaction(con):
        report.items = upsert_raw(con, "opsgenie_incidents", source, records)
        set_cursor(
            con, source, scope, "incidents", cursor=now.isoformat(), items_added=report.items
        )
    return report
