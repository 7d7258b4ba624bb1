"""The success scorecard (``marts.metrics_success_scorecard``) as the site and the report show it.

One row per entry of the configuration's ``scorecard`` list: the measure now and before, the target
with its comparison, and a status word (met, at risk, missed, no data with the reason). Values are
written in each row's own unit; percentages arrive as 0-100 (not fractions).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from typing import Any

from markupsafe import Markup

from dashboards.blocks import Block, Column, NoData, Table, fmt_hours, missing
from dashboards.definitions import DEFINITIONS
from dashboards.marts import WarehouseReader

MARTS = "marts"
SCORECARD = "metrics_success_scorecard"
SCORECARD_COLUMNS = [
    "position",
    "metric",
    "label",
    "scope",
    "unit",
    "better",
    "op",
    "target",
    "at_risk_within",
    "current_value",
    "current_period",
    "previous_value",
    "previous_period",
    "change",
    "status",
    "status_reason",
    "source_table",
    "description",
]
OPS = {">": ">", ">=": "≥", "<": "<", "<=": "≤"}
STATUSES = ("met", "at risk", "missed", "no data")
DEFINITION = DEFINITIONS["scorecard_block"]


def _num(value: Any) -> float | None:
    return None if missing(value) else float(value)


def _text(value: Any) -> str:
    return "" if missing(value) else str(value)


def fmt_measure(value: Any, unit: str) -> str:
    """A scorecard value in its unit: ``42.0%``, ``3.92/5``, ``61.7/100``, ``+12 NPS``, ``1.5x``."""
    if missing(value):
        return "—"
    v = float(value)
    if unit == "%":
        return f"{v:.1f}%"
    if unit == "/5":
        return f"{v:.2f}/5"
    if unit == "/100":
        return f"{v:.1f}/100"
    if unit == "h":
        return fmt_hours(v)
    if unit == "min":
        return f"{v:,.0f} min"
    if unit == "x":
        return f"{v:.2f}x"
    if unit == "NPS":
        return f"{v:+.0f} NPS" if round(v) else "0 NPS"
    if unit == "per week":
        return f"{v:,.1f} per week"
    return f"{v:,.2f} {unit}".rstrip()


def fmt_change(value: Any, unit: str) -> str:
    """current - previous in the unit (percentage points for %)."""
    if missing(value):
        return "—"
    v = float(value)
    sign = "+" if v > 0 else ("−" if v < 0 else "±")
    if unit == "%":
        return f"{sign}{abs(v):.1f} pp"
    if unit == "NPS":
        return f"{sign}{abs(v):.0f} NPS"
    return sign + fmt_measure(abs(v), unit).lstrip("+")


@dataclass(frozen=True)
class ScorecardRow:
    position: int
    metric: str
    label: str
    scope: str
    unit: str
    better: str
    op: str
    target: float | None
    current: float | None
    current_period: str
    previous: float | None
    previous_period: str
    change: float | None
    status: str
    reason: str
    source: str
    description: str
    at_risk_within: float | None = None
    stale: bool = False  # the value's month is older than the latest complete month

    @property
    def now_text(self) -> str:
        value = fmt_measure(self.current, self.unit)
        if not self.current_period or value == "—":
            return value
        return (
            f"{value} ({self.current_period}, stale)"
            if self.stale
            else (f"{value} ({self.current_period})")
        )

    @property
    def previous_text(self) -> str:
        value = fmt_measure(self.previous, self.unit)
        if self.previous_period and value != "—":
            return f"{value} ({self.previous_period})"
        return value

    @property
    def target_text(self) -> str:
        if self.target is None:
            return "not set"
        op = OPS.get(self.op, self.op)
        return f"{op} {fmt_measure(self.target, self.unit)}".strip()

    @property
    def status_text(self) -> str:
        """The status as words; a 'no data' row carries its reason."""
        if self.status == "no data":
            return f"no data: {self.reason}" if self.reason else "no data"
        return self.status or "—"

    @property
    def scoped_label(self) -> str:
        return self.label if self.scope in ("", "org") else f"{self.label} ({self.scope})"


MONTH = re.compile(r"^\d{4}-\d{2}$")


def is_stale(period: str, today: dt.date) -> bool:
    """A monthly value (period ``YYYY-MM``) older than its cadence: its month is before the
    latest complete month (the month before ``today``'s)."""
    if not MONTH.match(period or ""):
        return False
    year, month = (int(x) for x in period.split("-"))
    latest = (today.year * 12 + today.month - 1) - 1  # months since year 0 of the complete month
    return year * 12 + month - 1 < latest


def read_scorecard(
    reader: WarehouseReader, today: dt.date | None = None
) -> list[ScorecardRow] | None:
    """Every scorecard row in config order; None when the mart has not been built. A monthly
    value older than the latest complete month before ``today`` (default: today, UTC) is
    flagged stale."""
    today = today or dt.datetime.now(dt.UTC).date()
    if not reader.has(MARTS, SCORECARD):
        return None
    df = reader.frame(MARTS, SCORECARD, SCORECARD_COLUMNS)
    if df.empty:
        return []
    if df["position"].notna().any():
        df = df.sort_values("position", kind="stable")
    rows: list[ScorecardRow] = []
    for i, r in enumerate(df.itertuples(index=False), start=1):
        current, previous = _num(r.current_value), _num(r.previous_value)
        change = _num(r.change)
        if change is None and current is not None and previous is not None:
            change = current - previous
        status = _text(r.status) or ("no data" if current is None else "")
        rows.append(
            ScorecardRow(
                position=i if missing(r.position) else int(r.position),
                metric=_text(r.metric),
                label=_text(r.label) or _text(r.metric),
                scope=_text(r.scope) or "org",
                unit=_text(r.unit),
                better=_text(r.better),
                op=_text(r.op),
                target=_num(r.target),
                current=current,
                current_period=_text(r.current_period),
                previous=previous,
                previous_period=_text(r.previous_period),
                change=change,
                status=status,
                reason=_text(r.status_reason),
                source=_text(r.source_table),
                description=_text(r.description),
                at_risk_within=_num(r.at_risk_within),
                stale=current is not None and is_stale(_text(r.current_period), today),
            )
        )
    return rows


def _holds(value: float, op: str, target: float) -> bool:
    return {
        ">": value > target,
        ">=": value >= target,
        "<": value < target,
        "<=": value <= target,
    }.get(op, False)


def status_of(row: ScorecardRow, value: float | None) -> str:
    """met / at risk / missed / no data for ``value`` against the row's target (as the mart
    computes it: at risk = missed by at most at_risk_within, default 10% of |target|)."""
    if value is None:
        return "no data"
    if row.target is None:
        return ""
    if _holds(value, row.op, row.target):
        return "met"
    slack = row.at_risk_within if row.at_risk_within is not None else abs(row.target) * 0.1
    return "at risk" if slack > 0 and abs(value - row.target) <= slack else "missed"


def _compliance(slos: list[dict[str, Any]]) -> float | None:
    judged = [s for s in slos if s.get("met") is not None]
    return 100.0 * sum(1 for s in judged if s["met"]) / len(judged) if judged else None


def slo_compliance_from(
    rows: list[ScorecardRow],
    slos: list[dict[str, Any]],
    previous: list[dict[str, Any]],
    period: str,
    previous_period: str,
) -> list[ScorecardRow]:
    """The rows with the organisation's SLO compliance recomputed from a report's own SLO rows
    (``slos``: one per SLO, with ``met``), so that a report that names a period says one thing
    about its SLOs: "SLOs: 4 of 5 meeting target" and "SLO compliance 80.0%" come from the same
    windows."""
    current, before = _compliance(slos), _compliance(previous)
    out = []
    for r in rows:
        if r.metric == "slo_compliance" and r.scope in ("", "org"):
            r = replace(
                r,
                current=current,
                current_period=period if current is not None else "",
                previous=before,
                previous_period=previous_period if before is not None else "",
                change=None if current is None or before is None else current - before,
                status=status_of(r, current),
                reason=r.reason if current is None else "",
            )
        out.append(r)
    return out


def status_counts(rows: list[ScorecardRow]) -> str:
    """``2 met, 1 at risk, 0 missed, 3 no data``."""
    return ", ".join(f"{sum(1 for r in rows if r.status == s)} {s}" for s in STATUSES)


def scorecard_block(reader: WarehouseReader, today: dt.date | None = None) -> Block:
    """The overview's "Success scorecard" table, or "No data yet" while the mart is missing/empty."""
    rows = read_scorecard(reader, today)
    title = "Success scorecard"
    if rows is None:
        return NoData(title, f"No data yet: marts.{SCORECARD} has not been built yet.")
    if not rows:
        return NoData(
            title, f"No data yet: marts.{SCORECARD} has no rows (no `scorecard` entries)."
        )
    return Table(
        f"{title}: {status_counts(rows)} (n = {len(rows)} measures)",
        [
            Column("measure", DEFINITION),
            Column("now", DEFINITIONS["scorecard_now"], True),
            Column("previous", DEFINITIONS["scorecard_previous"], True),
            Column("target", DEFINITIONS["scorecard_target"], True),
            Column("status", DEFINITIONS["scorecard_status"]),
            Column("source", DEFINITIONS["scorecard_source"]),
        ],
        [
            [
                Markup('<span title="{}">{}</span>').format(r.description, r.scoped_label),
                r.now_text,
                r.previous_text,
                r.target_text,
                Markup('<span class="status status-{}">{}</span>').format(
                    r.status.replace(" ", "-") or "unknown", r.status_text
                ),
                f"marts.{r.source}" if r.source else "—",
            ]
            for r in rows
        ],
        note="Each row is written in its own unit (percentages 0-100) and its own period (in "
        "brackets). Targets come from the configuration's scorecard list.",
    )
