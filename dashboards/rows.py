"""The rows behind the numbers: links from a headline to its filtered rows, the filter bar, and the
``data-*`` attributes the browser filters rows by (static/filters.js reads them).

A view is a page plus its filter state in the URL's fragment::

    deployments.html#from=2025-02-24&to=2025-03-02&status=success&show=deployments

``from`` and ``to`` are days (inclusive) in the configured time zone, the same days the marts cut
their periods by; ``show`` names the section (a table's ``anchor``) to open and scroll to; any
other key filters rows by their ``data-<key>``.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

import pandas as pd

from dashboards.blocks import Filters, missing
from dashboards.periods import GRAIN_OFFSETS

# The filtered pages.
DORA_PAGE, LEAD_TIME_PAGE, DEPLOYMENTS_PAGE = "dora.html", "lead-time.html", "deployments.html"
FILTER_NOTE = (
    "Filter by team, service and days (in the configured time zone); the address bar keeps the "
    "filter, so a filtered view is a link."
)


def period_days(start: object, grain: str) -> tuple[str, str]:
    """The first and last day (``YYYY-MM-DD``, inclusive) of the ``grain`` period from ``start``."""
    first = pd.Timestamp(start).normalize()
    last = first + GRAIN_OFFSETS[grain] - pd.Timedelta(days=1)
    return first.strftime("%Y-%m-%d"), last.strftime("%Y-%m-%d")


def view_link(page: str, **state: str) -> str:
    """``page#key=value&...`` (empty values left out): a filtered view of ``page``."""
    parts = [f"{quote(k)}={quote(str(v), safe='')}" for k, v in state.items() if v]
    return f"{page}#{'&'.join(parts)}" if parts else page


def period_link(page: str, show: str, start: object, grain: str, **state: str) -> str:
    """The rows of ``page``'s section ``show`` in the period of ``grain`` starting at ``start``."""
    first, last = period_days(start, grain)
    return view_link(page, **{"from": first, "to": last, **state, "show": show})


def names(*columns: Iterable[object]) -> list[str]:
    """The distinct non-empty values of ``columns``, sorted: a filter's options."""
    return sorted({str(v) for column in columns for v in column if not missing(v) and str(v)})


def filters(teams: Iterable[object], services: Iterable[object]) -> Filters:
    return Filters(names(teams), names(services), FILTER_NOTE)


def flag(value: object) -> str:
    """A boolean for ``data-*``: "1", "0", or "" when missing (a share counts only 1s and 0s)."""
    if missing(value):
        return ""
    return "1" if bool(value) else "0"


def attr_text(value: object) -> str:
    """A team or service for ``data-*``: "" when missing."""
    return "" if missing(value) else str(value)
