"""What a page is made of (cards, charts, tables, notes) and how numbers are written on it.

Page builders return these blocks; ``templates/page.html.j2`` renders them. Formatting lives here so
every page writes hours, percentages and times the same way.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from markupsafe import Markup

FONT_STACK = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'


# ----------------------------------------------------------------------------------------- blocks
@dataclass(frozen=True)
class Change:
    """A headline's change against the previous complete period: ``text`` beside an arrow (▲ up,
    ▼ down), ``direction`` "better", "worse" or "flat" for the metric's good direction, and ``spoken``
    the sentence a screen reader reads instead of the arrow."""

    arrow: str
    text: str
    direction: str
    spoken: str


@dataclass(frozen=True)
class Card:
    label: str
    value: str
    sample: str
    definition: str
    low_sample: bool = False
    # The rows behind the number: a page and its filters (``deployments.html#from=...&show=...``).
    href: str = ""
    change: Change | None = None


@dataclass(frozen=True)
class Cards:
    title: str
    cards: list[Card]
    kind: str = "cards"


@dataclass(frozen=True)
class Chart:
    title: str
    html: Markup
    definition: str = ""
    kind: str = "chart"


@dataclass(frozen=True)
class Column:
    label: str
    definition: str = ""
    numeric: bool = False


@dataclass(frozen=True)
class Wide:
    """A table cell that spans ``colspan`` columns; put it last in its row (a hidden group's reason)."""

    html: Markup | str
    colspan: int

    def __html__(self) -> str:
        return str(Markup.escape(self.html))


@dataclass(frozen=True)
class Stat:
    """A number the browser computes over a filterable table's shown rows (static/filters.js):
    ``kind`` "sum", "p50" (hours, interpolated like the marts' percentile_cont) or "share" (rows
    whose ``data-<attr>`` is "1" / shown rows), read from each row's ``data-<attr>``."""

    attr: str
    label: str
    kind: str


@dataclass(frozen=True)
class Table:
    title: str
    columns: list[Column]
    rows: list[list[str]]
    note: str = ""
    kind: str = "table"
    folded: bool = False  # rendered closed (<details>): the reader opens it
    anchor: str = ""  # the section's id: pages and cards link to it (``#show=<anchor>``)
    # One dict per row of ``data-*`` attributes (team, service, day, ...): the page's filters
    # show and hide the rows by them (static/filters.js). None: the table is not filtered.
    row_data: list[dict[str, str]] | None = None
    noun: str = "rows"  # what a row is, for "Showing 12 of 240 deployments"
    stats: tuple[Stat, ...] = ()


@dataclass(frozen=True)
class Filters:
    """The page's filter bar: team, service and a time range (days in the configured time zone).
    The state lives in the URL's fragment (``#team=payments&from=2025-01-06``), so a filtered view
    is a link."""

    teams: list[str]
    services: list[str]
    note: str = ""
    kind: str = "filters"


@dataclass(frozen=True)
class NoData:
    title: str
    message: str
    kind: str = "nodata"


@dataclass(frozen=True)
class Note:
    text: str
    kind: str = "note"


Block = Cards | Chart | Table | NoData | Note | Filters


# ------------------------------------------------------------------------------------- formatting
def missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return math.isnan(value)
    except TypeError:
        return False


def fmt_hours(value: Any) -> str:
    if missing(value):
        return "—"
    hours = float(value)
    if hours < 1:
        return f"{hours * 60:.0f} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} d"


def hours_unit(*values: Any) -> str:
    """The one unit (min, h or d) that writes all of ``values`` as fmt_hours would the largest,
    so that a row never mixes units ("2.1 d vs 43.9 h")."""
    present = [abs(float(v)) for v in values if not missing(v)]
    largest = max(present, default=0.0)
    return "min" if largest < 1 else ("h" if largest < 48 else "d")


def fmt_hours_as(value: Any, unit: str) -> str:
    """Hours written in ``unit`` (min, h or d)."""
    if missing(value):
        return "—"
    hours = float(value)
    if unit == "min":
        return f"{hours * 60:.0f} min"
    if unit == "d":
        return f"{hours / 24:.1f} d"
    return f"{hours:.1f} h"


def fmt_pct(value: Any) -> str:
    return "—" if missing(value) else f"{float(value) * 100:.1f}%"


def fmt_int(value: Any) -> str:
    return "—" if missing(value) else f"{int(value):,}"


def fmt_time(value: Any) -> str:
    if missing(value):
        return "—"
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC")
    return stamp.strftime("%Y-%m-%d %H:%M UTC")


def fmt_date(value: Any) -> str:
    return "—" if missing(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def fmt_cell(value: Any) -> str:
    if missing(value):
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, pd.Timestamp | dt.datetime):
        return fmt_time(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def count(value: Any) -> int:
    return 0 if missing(value) else int(value)


# ----------------------------------------------------------------------------------------- charts
def figure_html(fig: go.Figure, *, height: int = 360) -> Markup:
    """Embed a figure; plotly.js itself is loaded once per page from assets/plotly.min.js."""
    fig.update_layout(
        height=height,
        margin={"l": 56, "r": 16, "t": 40, "b": 40},
        font={"family": FONT_STACK, "size": 13},
        template="plotly_white",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "traceorder": "normal"},
    )
    return Markup(
        fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False})
    )


def utc_naive(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, errors="coerce", utc=True).dt.tz_localize(None)


def local_days(series: pd.Series, timezone: str) -> pd.Series:
    """Each instant's day (``YYYY-MM-DD``) in ``timezone``, "" where missing: the day the marts
    count it in (dbt's period_start cuts periods in var('timezone')). Naive values are UTC."""
    stamps = pd.to_datetime(series, errors="coerce", utc=True).dt.tz_convert(timezone)
    return stamps.dt.strftime("%Y-%m-%d").fillna("")


def text_value(value: Any) -> str:
    """A number for a ``data-*`` attribute: "" when missing, else its plain repr."""
    return "" if missing(value) else repr(float(value))
