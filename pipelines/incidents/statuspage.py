"""Atlassian Statuspage incidents: public pages (``/api/v2/incidents.json``) and private ones.

A public page (``base_url`` = the page, e.g. ``https://www.githubstatus.com``) needs no key. A private
page (``base_url`` = ``https://api.statuspage.io/v1/pages/<page id>``, with ``api_key``) is read from
``/incidents`` with ``Authorization: OAuth <key>``. Both are asked for ``page=1, 2, ...`` with
``per_page=100``; paging stops at an empty page or one that brings no new incident (a public page
answers every page with its latest incidents).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import duckdb

from pipelines.errors import SourceError
from pipelines.http import ApiClient
from pipelines.warehouse import RawRecord, set_cursor, transaction, upsert_raw

PER_PAGE = 100
MAX_PAGES = 1000


class StatuspageClient(ApiClient):
    service_name = "Statuspage"
    auth_format = "OAuth {token}"

    def __init__(self, base_url: str, *, api_key: str | None = None, **kwargs: Any) -> None:
        self.private = api_key is not None
        super().__init__(base_url, token=api_key, **kwargs)

    def incidents(self) -> Iterator[list[dict[str, Any]]]:
        path = "/incidents" if self.private else "/api/v2/incidents.json"
        seen: set[str] = set()
        for page in range(1, MAX_PAGES + 1):
            response = self.get(path, {"page": page, "per_page": PER_PAGE})
            data = response.data
            if self.private:
                items = data if isinstance(data, list) else None
            else:
                items = data.get("incidents") if isinstance(data, Mapping) else None
            if not isinstance(items, list):
                expected = "a list" if self.private else "an object with an 'incidents' list"
                raise SourceError(
                    f"Statuspage sent an unexpected body for {response.url}; expected {expected}"
                )
            new = [i for i in items if isinstance(i, Mapping) and i.get("id") not in seen]
            if not new:
                return
            seen.update(i["id"] for i in new)
            yield new


@dataclass
class StatuspageSyncReport:
    items: int = 0
    pages: int = 0


def sync_incidents(
    con: duckdb.DuckDBPyConnection, client: StatuspageClient, *, source: str
) -> StatuspageSyncReport:
    """Read every incident the page lists (pages are small) and upsert them in one transaction."""
    report = StatuspageSyncReport()
    records = []
    for page in client.incidents():
        report.pages += 1
        for incident in page:
            if not incident.get("created_at"):
                raise SourceError(f"Statuspage incident {incident.get('id')!r} has no created_at")
            records.append(
                RawRecord(
                    incident["id"],
                    incident.get("page_id") or "-",
                    incident,
                    incident.get("updated_at") or incident["created_at"],
                )
            )
    with transaction(con):
        report.items = upsert_raw(con, "statuspage_incidents", source, records)
        set_cursor(con, source, client.base_url, "incidents", cursor=None, items_added=report.items)
    return report
