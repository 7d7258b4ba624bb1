"""GitHub REST client (github.com or GitHub Enterprise Server ``https://HOST/api/v3``).

Pagination follows the ``Link`` header. Rate limits, in one place: before the primary quota
(``X-RateLimit-Remaining``) runs dry we wait until ``X-RateLimit-Reset``; secondary limits (403/429
with ``Retry-After`` or GitHub's "secondary rate limit" message) wait as told. Conditional requests
send ``If-None-Match`` so an unchanged first page costs a 304 and no quota.

GraphQL (:meth:`GitHubClient.graphql`) posts to ``/graphql`` (Enterprise: ``/api/graphql``); the
points each query was billed (its ``rateLimit.cost``) add up in ``stats.graphql_points``, and a
``RATE_LIMITED`` answer waits for ``rateLimit.resetAt`` like a REST 403 waits for its reset.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import httpx

from pipelines.errors import SourceError
from pipelines.github.graphql import GraphQLError, check_node_limit, graphql_url
from pipelines.http import ApiClient, Response

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from pipelines.github.credentials import CredentialPool

GITHUB_API_VERSION = "2022-11-28"
SECONDARY_LIMIT_FALLBACK_SECONDS = 60.0
#: GitHub serves at most this many results of a filtered listing (e.g. runs with ``created=``),
#: whatever its ``total_count`` says.
RESULTS_CAP = 1000


class ShortListingError(SourceError):
    """A listing ended before it said it would: an empty linked page, or fewer than total_count."""


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
    default_headers: ClassVar[Mapping[str, str]] = {
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": GITHUB_API_VERSION,
    }
    auth_format = "Bearer {token}"
    # Secondary limits come as 403 or 429; the primary quota's headers say when it refills.
    rate_limit_statuses = frozenset({403, 429})
    quota_remaining_header = "X-RateLimit-Remaining"
    quota_reset_header = "X-RateLimit-Reset"
    rate_limit_fallback_seconds = SECONDARY_LIMIT_FALLBACK_SECONDS

    def __init__(
        self,
        base_url: str = "https://api.github.com",
        *,
        per_page: int = 100,
        credentials: CredentialPool | None = None,
        **kwargs: Any,
    ) -> None:
        if credentials is not None and kwargs.get("token"):
            # The pool's Auth alone sets Authorization: a token here would be a second credential.
            raise ValueError("GitHubClient: give either token or credentials, not both")
        super().__init__(base_url, **kwargs)
        self.per_page = per_page
        # With a pool, each request is signed by the credential with the most budget left, and a
        # credential told to wait hands over to another (pipelines/github/credentials.py). The
        # client's origin check still runs before anything is sent; the Auth signs this origin only.
        self.credentials = credentials
        if credentials is not None:
            from pipelines.github.credentials import PoolAuth

            self._http.headers.pop("Authorization", None)
            self._http.auth = PoolAuth(credentials, origin=self.origin)

    def is_secondary_limit(self, response: httpx.Response) -> bool:
        return "secondary rate limit" in response.text.lower()

    def wait_before_next(self, response: httpx.Response) -> float | None:
        if self.credentials is not None:
            from pipelines.github.credentials import resource_of

            resource = response.headers.get("X-RateLimit-Resource") or resource_of(
                response.request.url.path
            )
            return self.credentials.seconds_until_available(resource)
        return super().wait_before_next(response)

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
        headers = {"If-None-Match": etag} if etag else None
        response = self.get(path, query, headers=headers)
        if response.status_code == 304:
            return
        # A listing read on from page p: the first (p - 1) pages' items are not counted here.
        start = query.get("page")
        skipped = (int(start) - 1) * int(query["per_page"]) if str(start).isdigit() else 0
        yield from self.pages_from(
            _page(response, items_key, 1), items_key=items_key, skipped=skipped
        )

    def pages_from(
        self, first: Page, *, items_key: str | None = None, skipped: int = 0
    ) -> Iterator[Page]:
        """``first`` and the pages its ``Link: rel="next"`` headers lead to (same origin only).

        A listing that ends early would let the caller move its cursor past what never arrived, so
        two signs of a short listing are errors, raised before the page that would move the cursor:

        - an empty page linked from a page that also announced a ``rel="last"`` page: a numbered
          listing knows its length, so its next page is never empty. (Cursor-style listings, with
          no ``last``, may end on an empty page: GitHub's ``last_sha`` commit pages do.)
        - a listing that went past its first page and ended with fewer items than the first page's
          ``total_count`` (capped at the 1,000 results GitHub serves of a filtered listing). A
          single page is taken as it is: recorded GitHub answers carry a ``total_count`` larger
          than the one page they list. A listing read on from a later page (``skipped`` items
          before it) is expected to bring ``total_count`` (capped) less those: a lower bound,
          as only a filtered listing is capped.
        """
        total = first.total_count
        expected = min(total, RESULTS_CAP) - skipped if isinstance(total, int) else None
        if expected is not None and expected <= 0:
            expected = None
        page, arrived = first, 0
        while True:
            arrived += len(page.items)
            if page.is_last and page.number > 1 and expected is not None and arrived < expected:
                raise ShortListingError(
                    f"GitHub listed {arrived} items over {page.number} pages at "
                    f"{first.response.url} but its total_count said {total}; the cursor did not "
                    "move (re-run; if it repeats, resync)"
                )
            yield page
            if page.is_last:
                return
            link = page.response.next_url or ""
            self.check_origin(link, f"the next-page link of {page.response.url}")
            numbered = "last" in page.response.links
            response = self.get(link)
            page = _page(response, items_key, page.number + 1)
            if not page.items and numbered:
                raise ShortListingError(
                    f"GitHub sent an empty page {page.number} at {response.url} although page "
                    f"{page.number - 1} linked to it; the cursor did not move "
                    "(re-run; if it repeats, resync)"
                )

    def graphql(
        self,
        query: str,
        variables: dict[str, Any],
        *,
        operation: str,
        tolerate: Callable[[dict[str, Any]], bool] | None = None,
    ) -> dict[str, Any]:
        """Run one GraphQL query and return its ``data``; any ``errors`` entry raises
        :class:`GraphQLError` (partial data is never returned: a page lands whole or not at all),
        except entries ``tolerate`` accepts (the caller knows what their ``null`` means)."""
        check_node_limit(query, variables)
        url = graphql_url(self.base_url)
        attempt = 0
        while True:
            response = self.post(url, {"query": query, "variables": variables})
            body = response.data
            if not isinstance(body, dict):
                raise SourceError(
                    f"GitHub GraphQL {operation} sent {type(body).__name__}; expected an object"
                )
            data = body.get("data") if isinstance(body.get("data"), dict) else {}
            rate = data.get("rateLimit") if isinstance(data.get("rateLimit"), dict) else {}
            if isinstance(rate.get("cost"), int):
                self.stats.graphql_points += rate["cost"]
            if self.credentials is not None:
                # The points left on the credential that signed this query (its own budget).
                self.credentials.record_graphql(rate)
            errors = [e for e in body.get("errors") or [] if isinstance(e, dict)] or (
                [{"message": str(body["errors"])}] if body.get("errors") else []
            )
            if tolerate is not None and "data" in body:
                errors = [e for e in errors if not tolerate(e)]
            if not errors:
                return data
            types = tuple(str(e.get("type") or "") for e in errors)
            if "RATE_LIMITED" in types and attempt < self.retry.max_retries:
                wait = _until(rate.get("resetAt")) or self._until_reset(response)
                if wait > self.retry.max_wait_seconds:
                    raise GraphQLError(
                        f"GitHub GraphQL rate limit: the reset is {wait:.0f}s away, longer than "
                        f"the {self.retry.max_wait_seconds:.0f}s we wait; try again later",
                        types,
                    )
                attempt += 1
                self.stats.rate_limit_waits += 1
                log.warning("GitHub GraphQL rate limit on %s; waiting %.1fs", operation, wait)
                self._pause(wait)
                continue
            first = errors[0]
            kind = f"{first.get('type')}: " if first.get("type") else ""
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            raise GraphQLError(
                f"GitHub GraphQL {operation} answered {kind}{first.get('message') or 'an error'}"
                f"{more}",
                types,
            )

    def get_object(self, path: str) -> dict[str, Any]:
        response = self.get(path)
        if not isinstance(response.data, dict):
            raise _shape_error(response, None)
        return response.data


def _page(response: Response, items_key: str | None, number: int) -> Page:
    data = response.data
    items = data
    if items_key:
        items = data.get(items_key, []) if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise _shape_error(response, items_key)
    return Page(items, response, number)


def _until(reset_at: Any) -> float | None:
    """Seconds until an ISO-8601 ``resetAt`` (GraphQL's ``rateLimit``), plus a second of margin."""
    if not isinstance(reset_at, str):
        return None
    try:
        when = dt.datetime.fromisoformat(reset_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    return max(0.0, when.timestamp() - time.time()) + 1.0


def _shape_error(response: Response, items_key: str | None) -> Exception:
    expected = f"an object with a '{items_key}' list" if items_key else "a JSON list"
    return SourceError(
        f"GitHub sent {type(response.data).__name__} for {response.url}; expected {expected}"
    )
