"""More than one GitHub credential, each with its own budget, and a reserve a sync never spends.

A :class:`CredentialPool` holds tokens and GitHub App installations. :class:`PoolAuth` (an
``httpx.Auth``, so the shared HTTP layer needs no change) signs each request with the credential
that has the most budget left for the request's resource (``core``, ``search``, ``graphql``),
records the ``x-ratelimit-*`` answer against that credential, and when a credential is told to wait
(``Retry-After``, a secondary limit, or its primary budget is spent) sends the request again with
another one instead of waiting. Only when none is left does the request go back to the client's
ordinary wait, or, with a reserve configured, stop with :class:`BudgetExhausted`, which says when
the budget resets.

Secrets stay in the ``Authorization`` header: credentials are named in logs and errors by a label
(``token 2``, ``app 12 installation 34``), never by their value.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from pipelines.errors import ConfigError, SourceAuthError, SourceError
from pipelines.http import origin_of

log = logging.getLogger(__name__)

# An installation token lives one hour; mint a new one this long before it ends.
RENEW_BEFORE_SECONDS = 300.0
# A GitHub App JWT may live at most 10 minutes; its iat is backdated for clock drift.
JWT_LIFETIME_SECONDS = 540
JWT_BACKDATE_SECONDS = 60
# When GitHub says "secondary rate limit" without a Retry-After, it asks for at least a minute.
SECONDARY_LIMIT_FALLBACK_SECONDS = 60.0
DEFAULT_LIMIT = 5000


class BudgetExhausted(SourceError):
    """Every credential reached the reserve for a resource: stop cleanly, resume after the reset."""

    def __init__(self, message: str, resets_at: dt.datetime | None) -> None:
        super().__init__(message)
        self.resets_at = resets_at


def resource_of(path: str) -> str:
    """The rate-limit bucket GitHub bills ``path`` to."""
    path = path.removeprefix("/api/v3")
    if path.startswith("/graphql") or path == "/api/graphql":
        return "graphql"
    if path.startswith("/search/"):
        return "search"
    return "core"


@dataclass
class Limit:
    remaining: int | None = None
    limit: int | None = None
    reset: float | None = None  # epoch seconds


@dataclass(eq=False)
class Credential:
    """One identity GitHub counts a budget against. Subclasses say how to sign a request."""

    label: str
    limits: dict[str, Limit] = field(default_factory=dict)
    blocked_until: float = 0.0  # a secondary limit or Retry-After on this credential

    def authorization(self) -> str | None:
        return None

    def renew(self) -> bool:
        """Get a fresh secret after a 401 (True if there is one to try)."""
        return False

    def __repr__(self) -> str:  # never the secret
        return f"<{type(self).__name__} {self.label}>"


@dataclass(eq=False, repr=False)
class TokenCredential(Credential):
    token: str = ""

    def authorization(self) -> str | None:
        return f"Bearer {self.token}"


@dataclass(eq=False, repr=False)
class AppInstallationCredential(Credential):
    """A GitHub App installation: a JWT signed (RS256) with the App's private key mints an
    installation token through ``POST /app/installations/{id}/access_tokens``; it is renewed
    before its hour ends."""

    app_id: int = 0
    installation_id: int = 0
    private_key: str = ""
    base_url: str = "https://api.github.com"
    transport: httpx.BaseTransport | None = None
    timeout: float = 30.0
    clock: Callable[[], float] = time.time
    _token: str | None = None
    _expires_at: float = 0.0
    mints: int = 0

    def authorization(self) -> str | None:
        if self._token is None or self._expires_at - self.clock() < RENEW_BEFORE_SECONDS:
            self._mint()
        return f"Bearer {self._token}"

    def renew(self) -> bool:
        self._token = None
        return True

    def app_jwt(self) -> str:
        import jwt  # PyJWT; imported here so a token-only setup never needs it

        now = int(self.clock())
        claims = {
            "iat": now - JWT_BACKDATE_SECONDS,
            "exp": now + JWT_LIFETIME_SECONDS,
            "iss": str(self.app_id),
        }
        try:
            return jwt.encode(claims, self.private_key, algorithm="RS256")
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            raise ConfigError(
                f"sources.github[].app: the private key of {self.label} is not a PEM RSA private "
                f"key ({type(exc).__name__})"
            ) from None

    def _mint(self) -> None:
        url = f"{self.base_url.rstrip('/')}/app/installations/{self.installation_id}/access_tokens"
        headers = {
            "Authorization": f"Bearer {self.app_jwt()}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "platform-metrics/0.1",
        }
        try:
            with httpx.Client(transport=self.transport, timeout=self.timeout) as client:
                response = client.post(url, headers=headers)
        except httpx.HTTPError as exc:
            raise SourceError(
                f"GitHub: could not mint an installation token for {self.label} at {url} "
                f"({type(exc).__name__})"
            ) from None
        if response.status_code != 201:
            raise SourceAuthError(
                f"GitHub refused to mint an installation token for {self.label} at {url} "
                f"(HTTP {response.status_code}); check app_id, installation_id and the private key"
            )
        try:
            body = response.json()
            token = body["token"]
            expires = dt.datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise SourceError(
                f"GitHub sent an installation token answer without token/expires_at for "
                f"{self.label} at {url}"
            ) from None
        self._token, self._expires_at = token, expires.timestamp()
        self.mints += 1
        log.info(
            "GitHub: minted an installation token for %s (valid until %s)", self.label, expires
        )


class CredentialPool:
    """The credentials of one GitHub source and what each has left; see the module docstring."""

    def __init__(
        self,
        credentials: Iterable[Credential],
        *,
        reserve: int = 0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        max_wait_seconds: float = 3900.0,
    ) -> None:
        self.credentials = list(credentials) or [Credential("anonymous")]
        self.reserve = reserve
        self.clock = clock
        self.sleep = sleep
        self.max_wait_seconds = max_wait_seconds
        self.last_used: Credential | None = None
        self.switches = 0
        self._lock = threading.Lock()

    # --- choosing ------------------------------------------------------------------------------
    def _left(self, credential: Credential, resource: str) -> float:
        limit = credential.limits.get(resource)
        if limit is None or limit.remaining is None:
            return float("inf")
        if limit.reset is not None and self.clock() >= limit.reset:
            return float(limit.limit or DEFAULT_LIMIT)  # the window has refilled
        return float(limit.remaining)

    def usable(self, credential: Credential, resource: str) -> bool:
        return credential.blocked_until <= self.clock() and self._left(credential, resource) > max(
            self.reserve, 0
        )

    def pick(self, resource: str, exclude: Iterable[Credential] = ()) -> Credential:
        """The usable credential with the most left; waits out a short block; else stops or waits."""
        excluded = set(map(id, exclude))
        candidates = [c for c in self.credentials if id(c) not in excluded]
        usable = [c for c in candidates if self.usable(c, resource)]
        if usable:
            return max(usable, key=lambda c: self._left(c, resource))
        if not candidates:
            raise SourceError("GitHub: no credential left to try")
        above_reserve = [c for c in candidates if self._left(c, resource) > max(self.reserve, 0)]
        if above_reserve:  # only secondary blocks: wait for the first to lift
            first = min(above_reserve, key=lambda c: c.blocked_until)
            wait = first.blocked_until - self.clock()
            if wait > self.max_wait_seconds:
                raise SourceError(
                    f"GitHub asked every credential to wait; {first.label} is free again in "
                    f"{wait:.0f}s, longer than the {self.max_wait_seconds:.0f}s we wait"
                )
            log.warning("GitHub: every credential is told to wait; waiting %.1fs", wait)
            self.sleep(max(wait, 0.0))
            return first
        if self.reserve > 0:
            raise self.exhausted(resource)
        # No reserve: the old behaviour, the client waits for the earliest reset.
        return min(candidates, key=lambda c: (c.limits.get(resource) or Limit()).reset or 0.0)

    def seconds_until_available(self, resource: str) -> float | None:
        """After a response: how long until some credential may be used (None: one may now)."""
        if any(self.usable(c, resource) for c in self.credentials) or self.reserve > 0:
            return None
        resets = [
            (c.limits.get(resource) or Limit()).reset or self.clock() for c in self.credentials
        ]
        return max(0.0, min(resets) - self.clock()) + 1.0

    def exhausted(self, resource: str) -> BudgetExhausted:
        resets = [
            limit.reset
            for c in self.credentials
            if (limit := c.limits.get(resource)) is not None and limit.reset is not None
        ]
        resets_at = dt.datetime.fromtimestamp(min(resets), dt.UTC) if resets else None
        state = ", ".join(f"{c.label} {self._left(c, resource):.0f} left" for c in self.credentials)
        when = f"the budget resets at {resets_at:%Y-%m-%d %H:%M:%S} UTC" if resets_at else ""
        return BudgetExhausted(
            f"GitHub {resource} budget down to the reserve of {self.reserve} on every credential "
            f"({state}): stopped cleanly; {when}; the next run resumes where this one stopped",
            resets_at,
        )

    # --- recording -----------------------------------------------------------------------------
    def record(self, credential: Credential, response: httpx.Response) -> None:
        headers = response.headers
        resource = headers.get("x-ratelimit-resource") or resource_of(response.request.url.path)
        with self._lock:
            self.last_used = credential
            remaining = _int(headers.get("x-ratelimit-remaining"))
            if remaining is not None:
                credential.limits[resource] = Limit(
                    remaining,
                    _int(headers.get("x-ratelimit-limit")),
                    _float(headers.get("x-ratelimit-reset")),
                )
            if response.status_code in (403, 429):
                retry_after = _retry_after(headers)
                if retry_after is not None:
                    credential.blocked_until = self.clock() + retry_after
                elif remaining == 0:
                    pass  # primary budget spent: the limit above says until when
                elif response.status_code == 429 or _says_secondary(response):
                    credential.blocked_until = self.clock() + SECONDARY_LIMIT_FALLBACK_SECONDS

    def record_graphql(self, rate_limit: dict[str, Any]) -> None:
        """A GraphQL answer's ``rateLimit`` object (remaining, limit, resetAt), for the last credential."""
        credential = self.last_used
        if credential is None or not isinstance(rate_limit, dict):
            return
        reset_at = rate_limit.get("resetAt")
        reset = (
            dt.datetime.fromisoformat(reset_at.replace("Z", "+00:00")).timestamp()
            if isinstance(reset_at, str)
            else None
        )
        remaining = _int(rate_limit.get("remaining"))
        if remaining is not None:
            credential.limits["graphql"] = Limit(remaining, _int(rate_limit.get("limit")), reset)

    def told_to_wait(self, response: httpx.Response) -> bool:
        if response.status_code not in (403, 429):
            return False
        return (
            _retry_after(response.headers) is not None
            or response.headers.get("x-ratelimit-remaining") == "0"
            or response.status_code == 429
            or _says_secondary(response)
        )


class PoolAuth(httpx.Auth):
    """Signs each request with the pool's best credential; moves to another when one must wait."""

    requires_response_body = True

    def __init__(self, pool: CredentialPool, *, origin: str | None = None) -> None:
        self.pool = pool
        # The client's origin (pipelines.http.origin_of): a request elsewhere is never signed.
        self.origin = origin

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        if self.origin is not None and origin_of(request.url) != self.origin:
            # ApiClient refuses such a request before sending it; this is the second lock.
            request.headers.pop("Authorization", None)
            yield request
            return
        resource = resource_of(request.url.path)
        tried: list[Credential] = []
        renewed: set[int] = set()
        credential = self.pool.pick(resource)
        while True:
            header = credential.authorization()
            if header:
                request.headers["Authorization"] = header
            else:
                request.headers.pop("Authorization", None)
            response = yield request
            self.pool.record(credential, response)
            if response.status_code == 401 and id(credential) not in renewed and credential.renew():
                renewed.add(id(credential))
                continue
            if response.status_code == 401:
                raise SourceAuthError(
                    f"GitHub refused {credential.label} (HTTP 401) at {request.url.copy_with(query=None)}; "
                    "the credential is expired or revoked"
                )
            if not self.pool.told_to_wait(response):
                return
            tried.append(credential)
            others = [
                c for c in self.pool.credentials if c not in tried and self.pool.usable(c, resource)
            ]
            if others:
                self.pool.switches += 1
                log.warning(
                    "GitHub told %s to wait at %s; switching to another credential",
                    credential.label,
                    request.url.path,
                )
                credential = max(others, key=lambda c: self.pool._left(c, resource))
                continue
            if (
                self.pool.reserve > 0
                and response.headers.get("x-ratelimit-remaining") == "0"
                and _retry_after(response.headers) is None
            ):
                raise self.pool.exhausted(resource)
            return  # the client waits as told (Retry-After / reset), then asks again


def build_pool(
    source: Any,
    *,
    transport: httpx.BaseTransport | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> CredentialPool:
    """The pool of a ``GitHubSourceConfig``: its token, its tokens, then its App installation."""
    credentials: list[Credential] = []
    tokens = ([source.token] if source.token else []) + list(source.tokens)
    for i, secret in enumerate(tokens, 1):
        value = secret.get_secret_value()
        if value:
            credentials.append(TokenCredential(f"{source.name} token {i}", token=value))
    if source.app is not None:
        credentials.append(
            AppInstallationCredential(
                f"{source.name} app {source.app.app_id} installation {source.app.installation_id}",
                app_id=source.app.app_id,
                installation_id=source.app.installation_id,
                private_key=source.app.pem(),
                base_url=source.base_url,
                transport=transport,
                timeout=source.timeout_seconds,
                clock=clock,
            )
        )
    return CredentialPool(credentials, reserve=source.budget_reserve, clock=clock, sleep=sleep)


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _retry_after(headers: httpx.Headers) -> float | None:
    value = _float(headers.get("retry-after"))
    return max(0.0, value) if value is not None else None


def _says_secondary(response: httpx.Response) -> bool:
    try:
        return "secondary rate limit" in response.text.lower()
    except (httpx.ResponseNotRead, UnicodeDecodeError):
        return False
