"""GitHub REST client (github.com or GitHub Enterprise Server ``https://HOST/api/v3``).

Pagination follows the ``Link`` header. Rate limits, in one place: before the primary quota
(``X-RateLimit-Remaining``) runs dry we wait until ``X-RateLimit-Reset``; secondary limits (403/429
with ``Retry-After`` or GitHub's "secondary rate limit" message) wait as told. Conditional requests
send ``If-None-Match`` so an unchanged first page costs a 304 and no quota.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from pipelines.http import ApiClient, Response, RetryPolicy, _retry_after

GITHUB_API_VERSION = "2022-11-28"
SECONDARY_LIMIT_FALLBACK_SECONDS = 60.0


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    response: Response
    number: int

    @property
    def is_last(self) -> bool:
        return self.response.next_url is None

    @property
    def etag(self) -> str | None:
        return self.response.headers.get("ETag")

    @property
    def total_count(self) -> int | None:
        data = self.response.data
        return data.get("total_count") if isinstance(data, dict) else None


class GitHubClient(ApiClient):
    service_name = "GitHub"

    def __init__(
        self,
        base_url: str = "https://api.github.com",
        *,
        token: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        per_page: int = 100,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": GITHUB_API_VERSION,
        }
        if token:
            headers["Authorization"] = f"Bearer {token}"
        super().__init__(
            base_url,
            headers=headers,
            transport=transport,
            timeout=timeout,
            retry=retry,
            sleep=sleep,
        )
        self.per_page = per_page

    def rate_limit_wait(self, response: httpx.Response) -> float | None:
        if response.status_code not in (403, 429):
            return None
        retry_after = _retry_after(response)
        if retry_after is not None:
            return retry_after
        if response.headers.get("X-RateLimit-Remaining") == "0":
            return _until_reset(response)
        if response.status_code == 429 or "secondary rate limit" in response.text.lower():
            return SECONDARY_LIMIT_FALLBACK_SECONDS
        return None

    def wait_before_next(self, response: httpx.Response) -> float | None:
        if response.headers.get("X-RateLimit-Remaining") == "0":
            return _until_reset(response)
        return None

    def paginate(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        items_key: str | None = None,
        etag: str | None = None,
    ) -> Iterator[Page]:
        """Yield pages of ``path``; with ``etag``, an unchanged first page (304) yields nothing."""
        query = {"per_page": self.per_page, **(params or {})}
        url: str | None = path
        number = 1
        headers = {"If-None-Match": etag} if etag else None
        while url is not None:
            response = self.get(url, query if number == 1 else None, headers=headers)
            if response.status_code == 304:
                return
            data = response.data
            items = data.get(items_key, []) if items_key else data
            if not isinstance(items, list):
                raise _shape_error(response, items_key)
            yield Page(items, response, number)
            url = response.next_url
            headers = None
            number += 1

    def get_object(self, path: str) -> dict[str, Any]:
        response = self.get(path)
        if not isinstance(response.data, dict):
            raise _shape_error(response, None)
        return response.data


def _until_reset(response: httpx.Response) -> float:
    try:
        reset = float(response.headers.get("X-RateLimit-Reset", "0"))
    except ValueError:
        return SECONDARY_LIMIT_FALLBACK_SECONDS
    return max(0.0, reset - time.time()) + 1.0


def _shape_error(response: Response, items_key: str | None) -> Exception:
    from pipelines.errors import SourceError

    expected = f"an object with a '{items_key}' list" if items_key else "a JSON list"
    return SourceError(
        f"GitHub sent {type(response.data).__name__} for {response.url}; expected {expected}"
    )
