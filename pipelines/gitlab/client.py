"""GitLab REST v4 client (``<base_url>/api/v4``; gitlab.com or self-managed).

The token goes in the ``PRIVATE-TOKEN`` header. Listings follow the ``Link: rel="next"`` header,
which GitLab sends for both offset and keyset pagination (``pagination=keyset``, used where GitLab
offers it: group projects); retries, waits and origin checks are :class:`~pipelines.http.ApiClient`'s.
Rate limits: a 429 waits ``Retry-After`` (or until ``RateLimit-Reset``); a success answering
``RateLimit-Remaining: 0`` pauses until ``RateLimit-Reset`` before the next request.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from pipelines.errors import SourceError
from pipelines.http import ApiClient, Response, RetryPolicy

#: GitLab answers a 429 without Retry-After rarely; its window is one minute.
RATE_LIMIT_FALLBACK_SECONDS = 60.0


def project_ref(project: str | int) -> str:
    """A project (id, or ``group/sub/project``) as it goes in a URL path."""
    return quote(str(project), safe="")


class KeysetUnsupported(SourceError):
    """The server answered 405 to ``pagination=keyset`` (an older GitLab, or a resource without it)."""


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    response: Response
    number: int

    @property
    def is_last(self) -> bool:
        return self.response.next_url is None


class GitLabClient(ApiClient):
    service_name = "GitLab"
    auth_format = None  # the token goes in PRIVATE-TOKEN, not Authorization
    rate_limit_statuses = frozenset({429})
    quota_remaining_header = "RateLimit-Remaining"
    quota_reset_header = "RateLimit-Reset"
    rate_limit_fallback_seconds = RATE_LIMIT_FALLBACK_SECONDS

    def __init__(
        self,
        api_url: str = "https://gitlab.com/api/v4",
        *,
        token: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        per_page: int = 100,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            api_url,
            headers={"PRIVATE-TOKEN": token} if token else None,
            transport=transport,
            timeout=timeout,
            retry=retry,
            **kwargs,
        )
        self.per_page = per_page

    def __enter__(self) -> GitLabClient:
        return self

    def _interpret(self, response: httpx.Response, shown: str) -> Response:
        if response.status_code == 405 and "pagination=keyset" in str(response.url):
            raise KeysetUnsupported(
                f"GitLab does not offer keyset pagination for {shown} (HTTP 405)"
            )
        return super()._interpret(response, shown)

    def object(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        response = self.get(path, params)
        if not isinstance(response.data, dict):
            raise SourceError(
                f"GitLab sent {type(response.data).__name__} for {response.url}; expected an object"
            )
        return response.data

    def paginate(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[Page]:
        """Every page of a listing, following ``Link: rel="next"`` (offset or keyset alike).

        A linked page that comes back empty ends nothing silently: it is an error, so a cursor
        never moves past items a truncated listing did not show.
        """
        url: str | None = path
        query: dict[str, Any] | None = {"per_page": self.per_page, **(params or {})}
        number = 0
        while url is not None:
            number += 1
            response = self.get(url, query)
            if not isinstance(response.data, list):
                raise SourceError(
                    f"GitLab sent {type(response.data).__name__} for {response.url}; "
                    "expected a list"
                )
            if number > 1 and not response.data and response.next_url is not None:
                raise SourceError(
                    f"GitLab sent an empty page {number} for {response.url} that links to "
                    "another; the cursor did not move"
                )
            yield Page(response.data, response, number)
            url, query = response.next_url, None
