"""One place for talking HTTP to source systems: retries, backoff, rate-limit waits, clear errors.

Every source client is an :class:`ApiClient` that states only what differs: its name, default
headers, how the credential is sent (``auth_format``), its rate-limit headers and statuses, and its
pagination. The transport can be swapped (the demo's ``httpx.MockTransport``, a test server on
127.0.0.1, or the real network). Waits and retries are bounded in count and in total time, and every
error names the URL (never a credential).

Credentials stay on their origin: a request (a ``Link: rel="next"`` URL, an Opsgenie ``paging.next``)
or a redirect that leaves the configured base URL's scheme, host and port is refused with a
:class:`CrossOriginError`, before anything is sent there. Redirects are followed here, not by httpx,
same-origin only and at most ``MAX_REDIRECTS`` times.
"""

from __future__ import annotations

import dataclasses
import email.utils
import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import httpx

from pipelines.errors import SourceAuthError, SourceError, SourceNotFoundError

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({500, 502, 503, 504})
REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
_DEFAULT_PORTS = {"http": 80, "https": 443}


class CrossOriginError(SourceError):
    """A next-page link or a redirect pointed away from the configured origin; nothing was sent."""


def origin_of(url: str | httpx.URL) -> str:
    """``scheme://host:port`` with the default port spelt out, so two spellings compare equal."""
    parsed = httpx.URL(str(url))
    port = parsed.port or _DEFAULT_PORTS.get(parsed.scheme)
    return f"{parsed.scheme}://{parsed.host}:{port}"


@dataclasses.dataclass
class RequestStats:
    """What a sync cost; shown as run metadata in Dagster and printed by benchmarks."""

    requests: int = 0  # REST (GET) requests, as GitHub counts them against the core limit
    not_modified: int = 0
    retries: int = 0
    rate_limit_waits: int = 0
    waited_seconds: float = 0.0
    # GraphQL (POST) queries sent, and the points GitHub billed for them (its ``rateLimit.cost``).
    graphql_queries: int = 0
    graphql_points: int = 0

    def as_dict(self) -> dict[str, float | int]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 5
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    # Longest single rate-limit wait we accept; GitHub's primary window is one hour.
    max_wait_seconds: float = 3900.0
    # Give up when retries and waits of one request add up to more than this.
    max_total_seconds: float = 4500.0


@dataclasses.dataclass(frozen=True)
class Response:
    status_code: int
    headers: httpx.Headers
    url: str
    data: Any  # parsed JSON, or None for 304
    links: dict[str, str] = dataclasses.field(default_factory=dict)  # Link header: rel -> URL

    @property
    def next_url(self) -> str | None:
        return self.links.get("next")


class ApiClient:
    """A small wrapper around one ``httpx.Client`` for a JSON API.

    Subclasses set the class attributes below instead of repeating the constructor; they override
    the hooks only for what the attributes cannot say (GitHub's secondary-limit message).
    """

    #: Shown in errors: "GitHub", "PagerDuty", ...
    service_name = "API"
    #: Sent with every request (besides User-Agent).
    default_headers: ClassVar[Mapping[str, str]] = {}
    #: How the credential goes into ``Authorization``; ``{token}`` is replaced. None: no auth.
    auth_format: str | None = "Bearer {token}"
    #: Statuses that may mean "rate limited" (then Retry-After, the quota headers or the fallback).
    rate_limit_statuses: frozenset[int] = frozenset({429})
    #: Headers with the requests left in the window and its reset time (epoch seconds), if any.
    quota_remaining_header: str | None = None
    quota_reset_header: str | None = None
    #: Wait when a rate-limited answer says nothing about how long; None: the backoff base.
    rate_limit_fallback_seconds: float | None = None

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.origin = origin_of(self.base_url)
        self.retry = retry or RetryPolicy()
        self.stats = RequestStats()
        self._sleep = sleep
        auth = (
            {"Authorization": self.auth_format.format(token=token)}
            if token and self.auth_format
            else {}
        )
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={
                "User-Agent": "platform-metrics/0.1",
                **self.default_headers,
                **auth,
                **(headers or {}),
            },
            transport=transport,
            timeout=timeout,
            # Redirects are ours to follow (same origin only, bounded): see get().
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- hooks for subclasses ----------------------------------------------------------------
    def rate_limit_wait(self, response: httpx.Response) -> float | None:
        """Seconds to wait before retrying ``response`` because of a rate limit, or None."""
        if response.status_code not in self.rate_limit_statuses:
            return None
        retry_after = _retry_after(response)
        if retry_after is not None:
            return retry_after
        if self._quota_spent(response):
            return self._until_reset(response)
        if response.status_code == 429 or self.is_secondary_limit(response):
            return self.rate_limit_fallback_seconds or self.retry.backoff_base
        return None

    def is_secondary_limit(self, response: httpx.Response) -> bool:
        """True when a rate-limit status other than 429 is a limit by its body (GitHub's 403)."""
        return False

    def wait_before_next(self, response: httpx.Response) -> float | None:
        """Seconds to pause after a successful ``response`` (a quota about to run dry), or None."""
        return self._until_reset(response) if self._quota_spent(response) else None

    def _quota_spent(self, response: httpx.Response) -> bool:
        header = self.quota_remaining_header
        return header is not None and response.headers.get(header) == "0"

    def _until_reset(self, response: httpx.Response) -> float:
        fallback = self.rate_limit_fallback_seconds or self.retry.backoff_base
        value = response.headers.get(self.quota_reset_header) if self.quota_reset_header else None
        try:
            reset = float(value) if value else None
        except ValueError:
            reset = None
        return fallback if reset is None else max(0.0, reset - time.time()) + 1.0

    # --- origin ----------------------------------------------------------------------------------
    def check_origin(self, url: str | httpx.URL, what: str) -> None:
        """Refuse ``url`` unless it is on the configured origin (the credential would go there)."""
        target = origin_of(url)
        if target != self.origin:
            raise CrossOriginError(
                f"{self.service_name} ({self.base_url}): refused to follow {what} to {target}, "
                f"which is not the configured origin {self.origin}; nothing was sent there and "
                "the cursor did not move (check base_url, or a proxy rewriting links)"
            )

    # --- the request loop ----------------------------------------------------------------------
    def get(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """GET ``url`` (absolute, or relative to the base URL) and parse JSON; 304 gives data None."""
        return self._request("GET", url, params, headers, None)

    def post(self, url: str, body: Any, *, headers: Mapping[str, str] | None = None) -> Response:
        """POST ``body`` as JSON (a GraphQL query); counted in ``graphql_queries``, not ``requests``."""
        return self._request("POST", url, None, headers, body)

    def _request(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
        body: Any,
    ) -> Response:
        started = time.monotonic()
        attempt = 0
        redirects = 0
        shown = _display_url(self.base_url, url, params)
        # Checked on the URL httpx would request, so an absolute link from a response body or a
        # Link header cannot take the credential to another host.
        self.check_origin(self._http.build_request("GET", url).url, "a link")
        while True:
            if method == "GET":
                self.stats.requests += 1
            else:
                self.stats.graphql_queries += 1
            try:
                response = self._http.request(
                    method, url, params=params, headers=headers, json=body
                )
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                delay = self._backoff(attempt)
                self._give_up_if_spent(attempt, started, delay, shown, reason)
                attempt += 1
                self.stats.retries += 1
                log.warning(
                    "%s %s failed (%s); retry %d in %.1fs",
                    self.service_name,
                    shown,
                    reason,
                    attempt,
                    delay,
                )
                self._pause(delay)
                continue

            if response.status_code in REDIRECT_STATUS and "Location" in response.headers:
                target = response.url.join(response.headers["Location"])
                self.check_origin(target, f"a redirect from {shown}")
                redirects += 1
                if redirects > MAX_REDIRECTS:
                    raise SourceError(
                        f"{self.service_name} redirected {shown} more than {MAX_REDIRECTS} times"
                    )
                # The target carries its own query; the original params are already in it.
                url, params = str(target), None
                continue

            wait = self.rate_limit_wait(response)
            if wait is not None:
                if wait > self.retry.max_wait_seconds:
                    raise SourceError(
                        f"{self.service_name} rate limit at {shown}: the reset is {wait:.0f}s away, "
                        f"longer than the {self.retry.max_wait_seconds:.0f}s we wait; try again later"
                    )
                self._give_up_if_spent(attempt, started, wait, shown, "rate limited")
                attempt += 1
                self.stats.rate_limit_waits += 1
                log.warning("%s rate limit at %s; waiting %.1fs", self.service_name, shown, wait)
                self._pause(wait)
                continue

            if response.status_code in RETRYABLE_STATUS:
                delay = max(self._backoff(attempt), _retry_after(response) or 0.0)
                self._give_up_if_spent(
                    attempt, started, delay, shown, f"HTTP {response.status_code}"
                )
                attempt += 1
                self.stats.retries += 1
                log.warning(
                    "%s %s answered %d; retry %d in %.1fs",
                    self.service_name,
                    shown,
                    response.status_code,
                    attempt,
                    delay,
                )
                self._pause(delay)
                continue

            result = self._interpret(response, shown)
            pause = self.wait_before_next(response)
            if pause:
                self.stats.rate_limit_waits += 1
                log.info("%s quota nearly spent; pausing %.1fs", self.service_name, pause)
                self._pause(min(pause, self.retry.max_wait_seconds))
            return result

    def _interpret(self, response: httpx.Response, shown: str) -> Response:
        status = response.status_code
        if status == 304:
            self.stats.not_modified += 1
            return Response(status, response.headers, str(response.url), None, _links(response))
        if status in (401, 403):
            raise SourceAuthError(
                f"{self.service_name} refused {shown} with HTTP {status} "
                f"({_message(response)}); check the token and its read scopes"
            )
        if status == 404:
            raise SourceNotFoundError(
                f"{self.service_name} has nothing at {shown} (HTTP 404); check the name"
            )
        if status >= 400:
            raise SourceError(
                f"{self.service_name} answered HTTP {status} for {shown} ({_message(response)})"
            )
        try:
            data = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise SourceError(
                f"{self.service_name} sent malformed JSON for {shown} "
                f"({exc.__class__.__name__} at position {getattr(exc, 'pos', '?')})"
            ) from None
        return Response(status, response.headers, str(response.url), data, _links(response))

    def _backoff(self, attempt: int) -> float:
        # Full jitter: spread retries of many clients so they do not arrive together.
        ceiling = min(self.retry.backoff_max, self.retry.backoff_base * (2**attempt))
        return random.uniform(ceiling / 2, ceiling)

    def _give_up_if_spent(
        self, attempt: int, started: float, next_delay: float, shown: str, reason: str
    ) -> None:
        elapsed = time.monotonic() - started
        if attempt >= self.retry.max_retries or elapsed + next_delay > self.retry.max_total_seconds:
            raise SourceError(
                f"{self.service_name} gave up on {shown} after {attempt + 1} attempts "
                f"in {elapsed:.1f}s (last: {reason})"
            )

    def _pause(self, seconds: float) -> None:
        if seconds > 0:
            self.stats.waited_seconds += seconds
            self._sleep(seconds)


def _links(response: httpx.Response) -> dict[str, str]:
    return {rel: link["url"] for rel, link in response.links.items() if "url" in link}


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return response.reason_phrase or "no message"
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return str(error.get("message") or error)
        return str(body.get("message") or error or "no message")
    return "no message"


def _display_url(base_url: str, url: str, params: Mapping[str, Any] | None) -> str:
    full = url if url.startswith(("http://", "https://")) else f"{base_url}/{url.lstrip('/')}"
    if params:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        full += ("&" if "?" in full else "?") + query
    return full
