"""Complete and running periods, read the same way by every page and report.

The warehouse decides whether a period is over: every period mart has ``is_complete``
(dbt/macros/periods.sql, from the run's clock in the configured time zone). Readers take that
column; only a table built before the column existed falls back to the same rule in Python
(the period's exclusive end is not after ``today``). Headline numbers use complete periods
only; charts draw the running period apart, hatched or dotted and labelled "so far".
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import plotly.graph_objects as go

SO_FAR = "so far"
# Plotly's default qualitative palette, fixed per series so a running segment matches its line.
PALETTE = (
    "#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a",
    "#19d3f3", "#ff6692", "#b6e880", "#ff97ff", "#fecb52",
)  # fmt: skip
# Deployments, failed deployments and incidents, on every chart that draws them.
OK_COLOUR, FAIL_COLOUR, INCIDENT_COLOUR = "#3b6ea8", "#c0392b", "#e67e22"
# One period of each grain, for marts without a period_end column.
GRAIN_OFFSETS = {
    "week": pd.DateOffset(days=7),
    "month": pd.DateOffset(months=1),
    "quarter": pd.DateOffset(months=3),
}


def complete_mask(
    df: pd.DataFrame, grain: str, today: dt.date, start: str = "period_start"
) -> pd.Series:
    """True for the rows whose period is over: the mart's ``is_complete`` where it has one."""
    if "is_complete" in df.columns and df["is_complete"].notna().any():
        return df["is_complete"].astype("boolean").fillna(False).astype(bool)
    starts = pd.to_datetime(df[start])
    if getattr(starts.dt, "tz", None) is not None:
        starts = starts.dt.tz_localize(None)
    return (starts + GRAIN_OFFSETS[grain]) <= pd.Timestamp(today)


def complete_periods(
    df: pd.DataFrame, grain: str, today: dt.date, start: str = "period_start"
) -> pd.DataFrame:
    """The rows of complete periods (what headline numbers, reports and the scorecard read)."""
    if df.empty:
        return df
    return df[complete_mask(df, grain, today, start)]


def running_periods(
    df: pd.DataFrame, grain: str, today: dt.date, start: str = "period_start"
) -> pd.DataFrame:
    """The rows of the period still running (drawn apart, labelled "so far")."""
    if df.empty:
        return df
    return df[~complete_mask(df, grain, today, start)]


def so_far_label(grain: str) -> str:
    return f"{grain} {SO_FAR}"


def add_running_bar(
    fig: go.Figure, running: pd.DataFrame, x: str, y: str, *, name: str, colour: str, grain: str
) -> None:
    """The running period's bar: hatched, paler, its own legend entry "<name> (<grain> so far)"."""
    if running.empty:
        return
    fig.add_bar(
        x=running[x],
        y=running[y],
        name=f"{name} ({so_far_label(grain)})",
        marker={"color": colour, "opacity": 0.45, "pattern": {"shape": "/"}},
        hovertemplate=f"%{{x|%Y-%m-%d}} ({so_far_label(grain)})<br>%{{y}}<extra></extra>",
    )


def add_running_segment(
    fig: go.Figure,
    complete: pd.DataFrame,
    running: pd.DataFrame,
    x: str,
    y: Any,
    *,
    name: str,
    grain: str,
    colour: str | None = None,
    scale: float = 1.0,
    legendgroup: str | None = None,
    meta: dict[str, Any] | None = None,
) -> None:
    """A dotted line from the last complete point to the running period's point, "so far"."""
    if running.empty:
        return
    tail = complete.tail(1) if not complete.empty else complete
    part = pd.concat([tail, running])
    values = part[y].astype("float64") * scale
    line: dict[str, Any] = {"dash": "dot"}
    if colour:
        line["color"] = colour
    fig.add_scatter(
        x=part[x],
        y=values,
        mode="lines+markers",
        name=f"{name} ({so_far_label(grain)})",
        legendgroup=legendgroup or name,
        meta=meta,
        line=line,
        marker={"symbol": "circle-open"},
        hovertemplate=f"{name}<br>%{{x|%Y-%m-%d}} ({so_far_label(grain)}): %{{y:.1f}}"
        "<extra></extra>",
    )
