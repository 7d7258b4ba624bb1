"""PagerDuty REST API v2 client: ``Token token=`` auth, offset pagination with ``more``."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import httpx

from pipelines.errors import SourceError
from pipelines.http import ApiClient, RetryPolicy

PAGE_LIMIT = 100


class PagerDutyClient(ApiClient):
    service_name = "PagerDuty"

    def __init__(
        self,
        base_url: str = "https://api.pagerduty.com",
        *,
        token: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        headers = {"Accept": "application/vnd.pagerduty+json;version=2"}
        if token:
            headers["Authorization"] = f"Token token={token}"
        super().__init__(
            base_url,
            headers=headers,
            transport=transport,
            timeout=timeout,
            retry=retry,
            sleep=sleep,
        )

    def incidents(
        self, since: str, until: str, *, service_ids: Sequence[str] = ()
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of incidents created in [since, until); the window must not exceed 6 months."""
        offset = 0
        while True:
            params: dict[str, Any] = {
                "since": since,
                "until": until,
                "offset": offset,
                "limit": PAGE_LIMIT,
                "total": "false",
                "time_zone": "UTC",
            }
            if service_ids:
                params["service_ids[]"] = list(service_ids)
            response = self.get("/incidents", params)
            data = response.data
            if not isinstance(data, Mapping) or not isinstance(data.get("incidents"), list):
                raise SourceError(
                    f"PagerDuty sent an unexpected body for {response.url}; "
                    "expected an object with an 'incidents' list"
                )
            yield data["incidents"]
            if not data.get("more"):
                return
            offset += len(data["incidents"]) or PAGE_LIMIT

    def log_entries(self, incident_id: str) -> list[dict[str, Any]]:
        """The overview log entries of one incident (trigger, acknowledge, resolve, assign...)."""
        entries: list[dict[str, Any]] = []
        offset = 0
        while True:
            response = self.get(
                f"/incidents/{incident_id}/log_entries",
                {"is_overview": "true", "offset": offset, "limit": PAGE_LIMIT, "time_zone": "UTC"},
            )
            data = response.data
            if not isinstance(data, Mapping) or not isinstance(data.get("log_entries"), list):
                raise SourceError(
                    f"PagerDuty sent an unexpected body for {response.url}; "
                    "expected an object with a 'log_entries' list"
                )
            entries.extend(data["log_entries"])
            if not data.get("more") or not data["log_entries"]:
                return entries
            offset += len(data["log_entries"])
