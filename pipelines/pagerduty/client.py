"""PagerDuty REST API v2 client: ``Token token=`` auth, offset pagination with ``more``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

from pipelines.errors import SourceError
from pipelines.http import ApiClient

PAGE_LIMIT = 100


class PagerDutyClient(ApiClient):
    service_name = "PagerDuty"
    default_headers: ClassVar[Mapping[str, str]] = {
        "Accept": "application/vnd.pagerduty+json;version=2"
    }
    auth_format = "Token token={token}"

    def __init__(self, base_url: str = "https://api.pagerduty.com", **kwargs: Any) -> None:
        super().__init__(base_url, **kwargs)

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
            if not data["incidents"]:
                # "more" with nothing on this page: ending here would move the window's cursor past
                # incidents never read, and asking again for the same offset would never end.
                raise SourceError(
                    f"PagerDuty sent an empty page at offset {offset} for {response.url} that "
                    "says there is more; the window's cursor did not move (re-run)"
                )
            offset += len(data["incidents"])

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
