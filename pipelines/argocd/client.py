"""Argo CD REST client (``<base_url>/api/v1``), on :class:`~pipelines.http.ApiClient`.

The token goes in ``Authorization: Bearer``. ``GET /api/v1/applications`` answers every
application the token may see, in one response (``v1alpha1ApplicationList``: ``items``, which Argo
CD sends as ``null`` when there are none), each with ``status.history`` (its recent syncs) and
``status.health``. Argo CD has no rate-limit headers; retries and backoff are ApiClient's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pipelines.errors import SourceError
from pipelines.http import ApiClient


class ArgoCDClient(ApiClient):
    service_name = "Argo CD"
    auth_format = "Bearer {token}"

    def __enter__(self) -> ArgoCDClient:
        return self

    def applications(self, projects: Iterable[str] = ()) -> list[dict[str, Any]]:
        """Every application (of ``projects``, when given), as Argo CD lists them."""
        projects = list(projects)
        response = self.get("/applications", {"projects": projects} if projects else None)
        data = response.data
        if not isinstance(data, dict):
            raise SourceError(
                f"Argo CD sent {type(data).__name__} for {response.url}; expected an object"
            )
        items = data.get("items") or []
        if not isinstance(items, list):
            raise SourceError(f"Argo CD sent items of {response.url} that are not a list")
        return items
