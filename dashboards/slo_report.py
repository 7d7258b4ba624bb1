"""The SLO report: the site's SLO page, and the report files (HTML, Markdown, JSON, alert rules).

Everything comes from the SLO marts (metrics_slo_period, metrics_slo_daily, metrics_slo_incidents,
metrics_slo_alerts) and raw.slo_definitions; headline numbers are each SLO's own window (its rolling
28 days, or its current calendar month / quarter). docs/slos.md says how each number is computed.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
import plotly.graph_objects as go

from dashboards.blocks import (
    Block,
    Card,
    Cards,
    Chart,
    Column,
    NoData,
    Note,
    Table,
    figure_html,
    fmt_date,
    fmt_hours,
    fmt_pct,
    fmt_time,
    missing,
)
from dashboards.definitions import DEFINITIONS
from dashboards.marts import WarehouseReader
from dashboards.periods import SO_FAR
from dashboards.swap import replace_folder, staging_folder
from pipelines.slo.rules import prometheus_rules_yaml
from pipelines.slo.spec import Slo
from pipelines.warehouse import connect

MARTS, RAW = "marts", "raw"
REPORT_FILES = ("slo-report.html", "slo-report.md", "slo-report.json", "slo-rules.yaml")
TEMPLATES_DIR = Path(__file__).parent / "templates"
NO_DATA = "No data yet"
HISTORY_MONTHS = 12
PERIOD_COLUMNS = [
    "slo", "period_kind", "period_start", "period_end", "is_slo_window", "is_complete",
    "good", "total", "attainment", "previous_attainment", "target", "met", "budget_total",
    "budget_consumed", "budget_remaining", "burn_rate", "time_to_exhaustion_hours", "status",
]  # fmt: skip


@dataclass
class SloReportData:
    """The report's numbers, read once from the marts."""

    definitions: pd.DataFrame
    current: pd.DataFrame  # one row per SLO: its latest own-window period
    monthly: pd.DataFrame
    daily: pd.DataFrame
    incidents: pd.DataFrame
    alerts: pd.DataFrame
    own: pd.DataFrame | None = None  # every period of each SLO's own window kind

    @property
    def empty(self) -> bool:
        return self.current.empty

    def latest_complete(self) -> pd.DataFrame:
        """Each SLO's latest own window that is over (is_complete)."""
        own = self.own if self.own is not None else self.current
        if own.empty:
            return own
        done = own[own["is_complete"] == True]  # noqa: E712 - pandas element-wise
        return done.sort_values("period_end").groupby("slo", as_index=False).tail(1)

    def windows_for(self, start: Any, end: Any) -> pd.DataFrame:
        """Each SLO's row that answers for the period [start, end): its latest own window that
        ended by ``end`` (a calendar window falling in the period, a rolling window evaluated
        at the period's last day; an older window, labelled as such, when none ends in it). Reports that name a period read these rows, and their SLO
        compliance is computed from the same rows."""
        own = self.own if self.own is not None else self.current
        if own.empty:
            return own
        done = own[pd.to_datetime(own["period_end"]) <= pd.Timestamp(end)]
        return done.sort_values("period_end").groupby("slo", as_index=False).tail(1)


def read_report_data(reader: WarehouseReader) -> SloReportData:
    defs = reader.frame(
        RAW,
        "slo_definitions",
        ["slo", "display_name", "service", "target", "time_window", "budgeting_method",
         "period_kind", "source_type"],
    )  # fmt: skip
    periods = reader.frame(MARTS, "metrics_slo_period", PERIOD_COLUMNS)
    own = periods[periods["is_slo_window"] == True]  # noqa: E712 - pandas element-wise
    current = (
        own.sort_values("period_start").groupby("slo", as_index=False).tail(1)
        if not own.empty
        else own
    )
    monthly = periods[periods["period_kind"] == "month"].sort_values("period_start")
    daily = reader.frame(
        MARTS,
        "metrics_slo_daily",
        ["slo", "period_start", "day", "budget_remaining_to_date"],
    )
    incidents = reader.frame(
        MARTS,
        "metrics_slo_incidents",
        ["incident_id", "slo", "service", "severity", "started_at", "resolved_at",
         "period_start", "bad_units", "budget_share_consumed"],
    )  # fmt: skip
    alerts = reader.frame(
        MARTS,
        "metrics_slo_alerts",
        ["slo", "severity", "long_window_hours", "short_window_hours", "burn_rate_factor",
         "fired_at", "resolved_at", "peak_long_burn_rate"],
    )  # fmt: skip
    return SloReportData(defs, current, monthly, daily, incidents, alerts, own)


def window_label(kind: Any, start: Any, end: Any) -> str:
    """``month 2026-11-01 to 2026-11-30``: the window's kind and its first and last day."""
    if missing(start) or missing(end):
        return f"{kind}"
    last = pd.Timestamp(end) - pd.Timedelta(days=1)
    return f"{kind} {fmt_date(start)} to {fmt_date(last)}"


def _name(data: SloReportData, slo: str) -> str:
    row = data.definitions[data.definitions["slo"] == slo]
    return str(row["display_name"].iloc[0]) if len(row) else slo


def _current_incidents(data: SloReportData, slo: str, period_start: Any) -> pd.DataFrame:
    inc = data.incidents
    inc = inc[(inc["slo"] == slo) & (inc["budget_share_consumed"].fillna(0) > 0)]
    if period_start is not None and not missing(period_start):
        inc = inc[pd.to_datetime(inc["period_start"]) == pd.Timestamp(period_start)]
    return inc.sort_values("budget_share_consumed", ascending=False)


def _alerts_in(data: SloReportData, slo: str, start: Any, end: Any) -> dict[str, int]:
    a = data.alerts[data.alerts["slo"] == slo]
    if not a.empty and not missing(start):
        fired = pd.to_datetime(a["fired_at"], utc=True).dt.tz_localize(None)
        a = a[(fired >= pd.Timestamp(start)) & (fired < pd.Timestamp(end))]
    return {sev: int((a["severity"] == sev).sum()) for sev in ("page", "ticket")}


def _num(value: Any, digits: int = 6) -> float | None:
    if missing(value):
        return None
    value = float(value)
    return None if math.isinf(value) else round(value, digits)


def report_json(data: SloReportData, *, organisation: str, now: dt.datetime) -> dict[str, Any]:
    """For machines: a top-level ``slos`` list, one entry per SLO with its numbers."""
    slos = []
    for _, d in data.definitions.sort_values("slo").iterrows():
        cur = data.current[data.current["slo"] == d["slo"]]
        row = cur.iloc[0] if len(cur) else None
        months = data.monthly[data.monthly["slo"] == d["slo"]].tail(HISTORY_MONTHS)
        entry: dict[str, Any] = {
            "slo": d["slo"],
            "name": d["display_name"],
            "service": d["service"],
            "target": _num(d["target"]),
            "time_window": d["time_window"],
            "budgeting_method": d["budgeting_method"],
            "source": d["source_type"],
        }
        if row is None:
            entry["status"] = "no_data"
        else:
            change = (
                None
                if missing(row["attainment"]) or missing(row["previous_attainment"])
                else float(row["attainment"]) - float(row["previous_attainment"])
            )
            incidents = _current_incidents(data, d["slo"], row["period_start"])
            entry.update(
                {
                    "period": {
                        "kind": row["period_kind"],
                        "start": fmt_date(row["period_start"]),
                        "end": fmt_date(row["period_end"]),
                        "complete": bool(row["is_complete"]),
                    },
                    "attainment": _num(row["attainment"]),
                    "previous_attainment": _num(row["previous_attainment"]),
                    "attainment_change": _num(change),
                    "met": None if missing(row["met"]) else bool(row["met"]),
                    "good": _num(row["good"], 3),
                    "total": _num(row["total"], 3),
                    "budget_total": _num(row["budget_total"], 3),
                    "budget_consumed": _num(row["budget_consumed"]),
                    "budget_remaining": _num(row["budget_remaining"]),
                    "burn_rate": _num(row["burn_rate"]),
                    "time_to_exhaustion_hours": _num(row["time_to_exhaustion_hours"], 2),
                    "status": row["status"],
                    "alerts_fired": _alerts_in(
                        data, d["slo"], row["period_start"], row["period_end"]
                    ),
                    "incidents": [
                        {
                            "incident": i["incident_id"],
                            "started_at": fmt_time(i["started_at"]),
                            "budget_share_consumed": _num(i["budget_share_consumed"]),
                        }
                        for _, i in incidents.iterrows()
                    ],
                }
            )
        entry["monthly"] = [
            {
                "month": pd.Timestamp(m["period_start"]).strftime("%Y-%m"),
                "attainment": _num(m["attainment"]),
                "met": None if missing(m["met"]) else bool(m["met"]),
                "budget_remaining": _num(m["budget_remaining"]),
            }
            for _, m in months.iterrows()
        ]
        slos.append(entry)
    return {
        "organisation": organisation,
        "generated_at": now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "slos": slos,
    }


def report_markdown(report: dict[str, Any]) -> str:
    """For chat: one line per SLO, then the incidents that spent budget."""
    lines = [
        f"**SLO report · {report['organisation']}** ({report['generated_at']})",
        "",
        "| SLO | window | attainment | target | budget left | burn rate | status |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for s in report["slos"]:
        period = s.get("period") or {}
        change = s.get("attainment_change")
        arrow = "" if change is None else (" ▲" if change > 0 else (" ▼" if change < 0 else ""))
        burn = "—" if s.get("burn_rate") is None else f"{s['burn_rate']:.2f}x"
        lines.append(
            f"| {s['name']} | {period.get('kind', '—')} from {period.get('start', '—')} "
            f"| {fmt_pct(s.get('attainment'))}{arrow} | {fmt_pct(s['target'])} "
            f"| {fmt_pct(s.get('budget_remaining'))} "
            f"| {burn} "
            f"| {s['status']} |"
        )
    spent = [(s["name"], i) for s in report["slos"] for i in s.get("incidents", [])]
    if spent:
        lines += ["", "Incidents that spent budget:"]
        for name, i in sorted(spent, key=lambda x: -(x[1]["budget_share_consumed"] or 0))[:10]:
            lines.append(
                f"- {i['incident']} ({i['started_at']}): {fmt_pct(i['budget_share_consumed'])} "
                f"of {name}'s budget"
            )
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------ page
def build_slo_blocks(reader: WarehouseReader) -> list[Block]:
    """The SLO page: headline per SLO, month x SLO heatmap, burn-down, incidents, alerts."""
    data = read_report_data(reader)
    if data.empty:
        return [
            NoData(
                "SLO attainment",
                f"{NO_DATA}: marts.metrics_slo_period is empty (add SLO specs under 'slos:').",
            )
        ]
    blocks: list[Block] = [
        _window_cards(data, data.latest_complete(), "Latest complete window"),
        _window_cards(data, data.current, "Current window (running windows: so far)"),
    ]
    blocks.append(_heatmap(data))
    blocks.append(_burndown(data))
    blocks.append(_status_table(data))
    blocks.append(_incident_table(data))
    blocks.append(_alert_table(data))
    blocks.append(
        Note(
            "Report files: slo-report.html, slo-report.md (chat), slo-report.json (machines) and "
            "slo-rules.yaml (Prometheus recording and burn-rate alerting rules), beside this page."
        )
    )
    return blocks


def _window_cards(data: SloReportData, rows: pd.DataFrame, title: str) -> Block:
    """One card per SLO for one view of its windows, each labelled with its window."""
    if rows.empty:
        return NoData(title, f"{NO_DATA}: no such window yet.")
    cards = []
    for _, r in rows.sort_values("slo").iterrows():
        done = not missing(r["is_complete"]) and bool(r["is_complete"])
        so_far = "" if done else f" ({SO_FAR})"
        cards.append(
            Card(
                _name(data, r["slo"]),
                fmt_pct(r["attainment"]),
                f"target {fmt_pct(r['target'])} · "
                f"{window_label(r['period_kind'], r['period_start'], r['period_end'])}{so_far} · "
                f"budget left {fmt_pct(r['budget_remaining'])} · {r['status']}",
                DEFINITIONS["attainment"],
            )
        )
    return Cards(title, cards)


def _heatmap(data: SloReportData) -> Block:
    m = data.monthly.copy()
    if m.empty:
        return NoData("Attainment per month", f"{NO_DATA}: no monthly periods.")
    m["month"] = pd.to_datetime(m["period_start"]).dt.strftime("%Y-%m")
    months = sorted(m["month"].unique())[-HISTORY_MONTHS:]
    slos = sorted(m["slo"].unique())
    z, text = [], []
    for slo in slos:
        row_z, row_t = [], []
        for month in months:
            cell = m[(m["slo"] == slo) & (m["month"] == month)]
            rem = None if cell.empty else _num(cell["budget_remaining"].iloc[0])
            row_z.append(None if rem is None else max(-1.0, min(1.0, rem)))
            row_t.append("" if cell.empty else fmt_pct(cell["attainment"].iloc[0]))
        z.append(row_z)
        text.append(row_t)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=months,
            y=[_name(data, s) for s in slos],
            text=text,
            texttemplate="%{text}",
            zmin=-1,
            zmax=1,
            colorscale=[[0, "#c0392b"], [0.5, "#f5d76e"], [1, "#2e8b57"]],
            colorbar={"title": "budget left"},
            hovertemplate="%{y}<br>%{x}: %{text}<extra></extra>",
        )
    )
    return Chart(
        "Attainment per month (colour: error budget left)",
        figure_html(fig, height=120 + 48 * len(slos)),
        "Cell text: attainment in the calendar month; colour: budget remaining, red once spent.",
    )


def _burndown(data: SloReportData) -> Block:
    d = data.daily
    if d.empty:
        return NoData("Error budget burn-down", f"{NO_DATA}: marts.metrics_slo_daily is empty.")
    fig = go.Figure()
    shown = []
    for slo in sorted(d["slo"].unique()):
        rows = d[d["slo"] == slo]
        rows = rows[
            pd.to_datetime(rows["period_start"]) == pd.to_datetime(rows["period_start"]).max()
        ]
        shown.append(rows)
        fig.add_trace(
            go.Scatter(
                x=pd.to_datetime(rows["day"]),
                y=rows["budget_remaining_to_date"],
                mode="lines+markers",
                name=_name(data, slo),
            )
        )
    fig.add_hline(y=0, line_dash="dot", line_color="#c0392b")
    low, clipped = burndown_range(pd.concat(shown))
    fig.update_yaxes(tickformat=".0%", title="budget remaining", range=[low, BURNDOWN_TOP])
    note = "Budget remaining from the window's start to the end of each day."
    if clipped:
        note += (
            f" The axis stops at {low:.0%}: a series below it has spent its budget several times "
            "over (its exact value is in the status table and on hover)."
        )
    return Chart("Error budget burn-down (current window)", figure_html(fig, height=380), note)


# The burn-down's y-axis: from the budget's full (100%) down to at most one budget overspent,
# so that one SLO far past exhaustion does not flatten the others.
BURNDOWN_TOP, BURNDOWN_FLOOR = 1.05, -1.05


def burndown_range(daily: pd.DataFrame) -> tuple[float, bool]:
    """(lower bound of the y-axis, whether a series is clipped by it)."""
    values = pd.to_numeric(daily["budget_remaining_to_date"], errors="coerce").dropna()
    lowest = float(values.min()) if len(values) else 0.0
    if lowest >= BURNDOWN_FLOOR:
        return min(-0.05, lowest - 0.05), False
    return BURNDOWN_FLOOR, True


def _status_table(data: SloReportData) -> Block:
    rows = []
    for _, r in data.current.sort_values("slo").iterrows():
        change = (
            "—"
            if missing(r["attainment"]) or missing(r["previous_attainment"])
            else f"{(float(r['attainment']) - float(r['previous_attainment'])) * 100:+.2f} pp"
        )
        alerts = _alerts_in(data, r["slo"], r["period_start"], r["period_end"])
        rows.append(
            [
                _name(data, r["slo"]),
                f"{r['period_kind']} {fmt_date(r['period_start'])}",
                fmt_pct(r["attainment"]),
                change,
                fmt_pct(r["target"]),
                fmt_pct(r["budget_consumed"]),
                fmt_pct(r["budget_remaining"]),
                "—" if missing(r["burn_rate"]) else f"{float(r['burn_rate']):.2f}x",
                fmt_hours(r["time_to_exhaustion_hours"]),
                f"{alerts['page']} / {alerts['ticket']}",
                str(r["status"]),
            ]
        )
    return Table(
        "Error budgets",
        [
            Column("SLO"),
            Column("window"),
            Column("attainment", DEFINITIONS["attainment"], True),
            Column("change", DEFINITIONS["attainment_change"], True),
            Column("target", numeric=True),
            Column("budget consumed", DEFINITIONS["budget_consumed"], True),
            Column("budget left", DEFINITIONS["budget_remaining"], True),
            Column("burn rate", DEFINITIONS["burn_rate"], True),
            Column("time to exhaustion", DEFINITIONS["tte"], True),
            Column("alerts page / ticket", DEFINITIONS["alerts"], True),
            Column("status"),
        ],
        rows,
    )


def _incident_table(data: SloReportData) -> Block:
    inc = data.incidents[data.incidents["budget_share_consumed"].fillna(0) > 0]
    inc = inc.sort_values("started_at", ascending=False).head(25)
    if inc.empty:
        return NoData("Incidents that spent budget", f"{NO_DATA}: no incident spent budget.")
    return Table(
        "Incidents that spent budget",
        [
            Column("incident"),
            Column("SLO"),
            Column("severity"),
            Column("started"),
            Column("budget share", DEFINITIONS["share"], True),
        ],
        [
            [
                str(i["incident_id"]),
                _name(data, i["slo"]),
                str(i["severity"]),
                fmt_time(i["started_at"]),
                fmt_pct(i["budget_share_consumed"]),
            ]
            for _, i in inc.iterrows()
        ],
        note="The 25 most recent; share of the budget of the SLO's period containing the incident.",
    )


def _alert_table(data: SloReportData) -> Block:
    a = data.alerts.sort_values("fired_at", ascending=False).head(20)
    if a.empty:
        return NoData("Burn-rate alerts", f"{NO_DATA}: no burn-rate alert fired.")
    return Table(
        "Burn-rate alerts",
        [
            Column("SLO"),
            Column("severity"),
            Column("windows"),
            Column("factor", numeric=True),
            Column("fired"),
            Column("resolved"),
            Column("peak burn rate", numeric=True),
        ],
        [
            [
                _name(data, r["slo"]),
                str(r["severity"]),
                f"{float(r['long_window_hours']):g}h & {float(r['short_window_hours']) * 60:g}m",
                f"{float(r['burn_rate_factor']):.2f}x",
                fmt_time(r["fired_at"]),
                fmt_time(r["resolved_at"]),
                f"{float(r['peak_long_burn_rate']):.1f}x",
            ]
            for _, r in a.iterrows()
        ],
        note="The 20 most recent events, evaluated from the stored SLI history.",
    )


# ------------------------------------------------------------------------------------ report files
@dataclass(frozen=True)
class WrittenReport:
    folder: Path
    files: list[Path]
    slos: int


def write_slo_report(
    warehouse_path: Path,
    folder: Path,
    *,
    slos: Sequence[Slo],
    organisation: str,
    now: dt.datetime | None = None,
    pages: Sequence[Any] = (),
) -> WrittenReport:
    """Write the report files into ``folder`` (replaced whole, atomically) for the site to copy."""
    now = now or dt.datetime.now(dt.UTC)
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    con = connect(warehouse_path, read_only=True)
    try:
        reader = WarehouseReader(con)
        data = read_report_data(reader)
        blocks = build_slo_blocks(reader)
    finally:
        con.close()
    report = report_json(data, organisation=organisation, now=now)
    with staging_folder(folder.parent, ".slo-report-") as tmp:
        (tmp / "slo-report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        (tmp / "slo-report.md").write_text(report_markdown(report), encoding="utf-8")
        (tmp / "slo-rules.yaml").write_text(prometheus_rules_yaml(slos), encoding="utf-8")
        (tmp / "slo-report.html").write_text(
            render_report_html(blocks, organisation=organisation, now=now, pages=pages),
            encoding="utf-8",
        )
        replace_folder(tmp, folder)
    return WrittenReport(folder, [folder / f for f in REPORT_FILES], len(report["slos"]))


@dataclass(frozen=True)
class _ReportPage:
    filename: str = "slo-report.html"
    nav_label: str = "SLO report"
    title: str = "SLO report"
    lede: str = "Attainment, error budgets, burn rates, incidents and alerts per SLO."


def render_report_html(
    blocks: list[Block], *, organisation: str, now: dt.datetime, pages: Sequence[Any] = ()
) -> str:
    """The report as a page of the site (it sits at the site's root, beside slos.html)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("page.html.j2").render(
        page=_ReportPage(),
        pages=list(pages),
        blocks=blocks,
        definitions=DEFINITIONS,
        organisation=organisation,
        built_at=now.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )
