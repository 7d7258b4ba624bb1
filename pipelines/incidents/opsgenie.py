"""Opsgenie incidents API v1: ``GenieKey`` auth, a search query, offset pagination via ``paging.next``.

Incidents are read newest first (``sort=createdAt&order=desc``); paging stops at the first incident
created before the cut-off (the cursor minus an overlap, or the backfill start), so a re-run re-reads
recent incidents (they change after creation) and nothing older.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import httpx

from pipelines.errors import SourceError
from pipelines.http import ApiClient, RetryPolicy
from pipelines.warehouse import RawRecord, get_sync_state, set_cursor, transaction, upsert_raw

PAGE_LIMIT = 100
RESYNC_OVERLAP = dt.timedelta(days=14)


class OpsgenieClient(ApiClient):
    service_name = "Opsgenie"

    def __init__(
        self,
        base_url: str = "https://api.opsgenie.com",
        *,
        api_key: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        headers = {"Authorization": f"GenieKey {api_key}"} if api_key else {}
        super().__init__(
            base_url,
            headers=headers,
            transport=transport,
            timeout=timeout,
            retry=retry,
            sleep=sleep,
        )

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
        while url:
            response = self.get(url, params)
            data = response.data
            if not isinstance(data, Mapping) or not isinstance(data.get("data"), list):
                raise SourceError(
                    f"Opsgenie sent an unexpected body for {response.url}; "
                    "expected an object with a 'data' list"
                )
            yield data["data"]
            paging = data.get("paging") or {}
            url, params = (paging.get("next") if data["data"] else None), None


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
