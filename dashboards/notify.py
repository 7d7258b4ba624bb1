"""Post the leadership report's Markdown summary to a Slack or Microsoft Teams incoming webhook.

The webhook URL is a secret (whoever holds it can post to the channel): it is never logged, never put
in an error message and never written to the site. Errors name the kind of webhook only. Retries are
bounded in count and in total time, with the same full-jitter backoff as ``pipelines/http.py``; a
4xx other than 408/429 is not retried (the URL or the payload is wrong, retrying will not help).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from pipelines.errors import PlatformMetricsError

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
KINDS = ("slack", "teams")


class NotifyError(PlatformMetricsError):
    """The webhook did not accept the post (the message never names the URL)."""


@dataclass(frozen=True)
class NotifyResult:
    delivered: bool
    attempts: int
    detail: str


def payload(kind: str, text: str, *, title: str) -> dict:
    """Slack: ``{"text": ...}`` (mrkdwn). Teams: a MessageCard, whose ``text`` renders Markdown."""
    if kind == "slack":
        return {"text": text}
    if kind == "teams":
        return {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": title,
            "title": title,
            "text": text,
        }
    raise ValueError(f"webhook kind must be one of {KINDS}, not {kind!r}")


class _Redact(logging.Filter):
    """Drops any log record that would carry the secret (httpx logs each request's URL at INFO)."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            return self.secret not in record.getMessage()
        except Exception:  # an unformattable record is dropped too
            return False


def post_summary(
    url: str,
    text: str,
    *,
    kind: str = "slack",
    title: str = "Engineering report",
    max_retries: int = 3,
    backoff_base: float = 1.0,
    backoff_max: float = 30.0,
    max_total_seconds: float = 120.0,
    timeout: float = 15.0,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> NotifyResult:
    """POST ``text`` to the webhook; raise :class:`NotifyError` (without the URL) when it gives up."""
    body = payload(kind, text, title=title)
    redact = _Redact(url)
    loggers = [logging.getLogger(n) for n in ("httpx", "httpcore")]
    for lg in loggers:
        lg.addFilter(redact)
    started = time.monotonic()
    attempt, reason = 0, ""
    try:
        with httpx.Client(timeout=timeout, transport=transport, follow_redirects=False) as client:
            while True:
                attempt += 1
                try:
                    response = client.post(url, json=body)
                    status = response.status_code
                    if 200 <= status < 300:
                        log.info("%s webhook accepted the report (attempt %d)", kind, attempt)
                        return NotifyResult(True, attempt, f"HTTP {status}")
                    reason = f"HTTP {status}"
                    if status not in RETRYABLE_STATUS:
                        break
                except httpx.HTTPError as exc:  # str(exc) may hold the URL: name the type only
                    reason = type(exc).__name__
                ceiling = min(backoff_max, backoff_base * 2 ** (attempt - 1))
                delay = random.uniform(ceiling / 2, ceiling)
                elapsed = time.monotonic() - started
                if attempt > max_retries or elapsed + delay > max_total_seconds:
                    break
                log.warning("%s webhook: %s, retrying in %.1fs", kind, reason, delay)
                sleep(delay)
    finally:
        for lg in loggers:
            lg.removeFilter(redact)
    raise NotifyError(f"{kind} webhook gave up after {attempt} attempt(s) (last: {reason})")
