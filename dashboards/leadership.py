"""The leadership report, weekly and monthly: one page of headline numbers for people who never open
a terminal, as HTML, PDF (headless Chromium's print-to-PDF) and a Markdown summary for chat.

Every number is the warehouse's: the organisation's row of ``marts.metrics_dora_weekly`` /
``metrics_dora_monthly`` for the latest complete period against the one before it, targets from
``marts.metrics_success_scorecard`` when that mart exists ("target: not set" otherwise) and every
scorecard row in its own section (now, previous, target, status), the three
largest movements with the service that drove each one (the org delta decomposed over the
``scope = 'service'`` rows), and the SLO summary from ``marts.metrics_slo_period``.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
import plotly.graph_objects as go

from dashboards.blocks import (
    count,
    fmt_date,
    fmt_hours,
    fmt_hours_as,
    fmt_pct,
    hours_unit,
    missing,
    utc_naive,
)
from dashboards.browser import browser_missing, find_browser, offline_launcher, run_chromium
from dashboards.definitions import DEFINITIONS
from dashboards.dora import DORA_COLUMNS, complete_rows
from dashboards.headlines import METRICS, TARGET_NOT_SET, Headline, fmt_value
from dashboards.marts import WarehouseReader
from dashboards.periods import GRAIN_OFFSETS
from dashboards.scorecard import (
    OPS,
    SCORECARD,
    ScorecardRow,
    fmt_measure,
    read_scorecard,
    slo_compliance_from,
    status_counts,
)
from dashboards.slo_report import read_report_data, window_label
from dashboards.swap import replace_folder, staging_folder
from pipelines.warehouse import connect

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).parent / "templates"
MARTS = "marts"
GRAINS = {"week": "weekly", "month": "monthly"}
# The scorecard's DORA measures (seeds/scorecard_measures.csv) -> the report's column, and the
# unit each is recorded in when the mart has no unit column (percentages 0-100, not fractions).
SCORECARD_DORA = {
    "deployment_frequency": ("deployments", "per week"),
    "lead_time": ("lead_time_p50_hours", "h"),
    "change_failure_rate": ("change_failure_rate", "%"),
    "recovery_time": ("recovery_time_p50_hours", "h"),
    "rework_rate": ("rework_rate", "%"),
}


@dataclass
class Movement:
    headline: Headline
    cause: str


@dataclass
class LeadershipReport:
    organisation: str
    grain: str  # "week" | "month"
    period_start: pd.Timestamp | None
    previous_start: pd.Timestamp | None
    generated_at: dt.datetime
    headlines: list[Headline] = field(default_factory=list)
    level: str = "—"
    previous_level: str = "—"
    deployments: int = 0
    changes: int = 0
    movements: list[Movement] = field(default_factory=list)
    slos: list[dict[str, Any]] = field(default_factory=list)
    scorecard: bool = False
    scorecard_rows: list[ScorecardRow] = field(default_factory=list)
    trend: pd.DataFrame | None = None

    @property
    def cadence(self) -> str:
        return GRAINS[self.grain]

    @property
    def has_targets(self) -> bool:
        """Some headline metric has a configured target (else the table has no target column)."""
        return any(h.target for h in self.headlines)

    @property
    def empty(self) -> bool:
        return self.period_start is None

    @property
    def period_label(self) -> str:
        if self.period_start is None:
            return "no complete period yet"
        if self.grain == "month":
            return self.period_start.strftime("%B %Y")
        return f"week of {fmt_date(self.period_start)}"

    @property
    def previous_label(self) -> str:
        if self.previous_start is None:
            return "—"
        if self.grain == "month":
            return self.previous_start.strftime("%B %Y")
        return f"week of {fmt_date(self.previous_start)}"


# ------------------------------------------------------------------------------------------- data
def _num(value: Any) -> float | None:
    return None if missing(value) else float(value)


def _targets(
    reader: WarehouseReader, rows: list[ScorecardRow] | None = None
) -> tuple[bool, dict[str, str]]:
    """Org targets from the success scorecard, keyed by DORA column, written in the
    scorecard's unit: ``target: < 5.0%`` for a change_failure_rate target of 5 (percentages in the
    scorecard are 0-100; the report's rates are fractions, so the text is built from the
    scorecard's own value). Rows of another scope (``team:<name>``, ``service:<name>``) are not
    organisation targets. ``(False, {})`` while the mart does not exist."""
    if rows is None:
        rows = read_scorecard(reader)
    if rows is None:
        return False, {}
    out: dict[str, str] = {}
    for r in rows:
        if r.metric not in SCORECARD_DORA or r.scope != "org" or r.target is None:
            continue
        key, default_unit = SCORECARD_DORA[r.metric]
        op = OPS.get(r.op, r.op)
        value = fmt_measure(r.target, r.unit or default_unit)
        out[key] = f"target: {op} {value}" if op else f"target: {value}"
    return True, out


def read_leadership(
    reader: WarehouseReader, grain: str, *, organisation: str, now: dt.datetime
) -> LeadershipReport:
    table = "metrics_dora_weekly" if grain == "week" else "metrics_dora_monthly"
    report = LeadershipReport(organisation, grain, None, None, now)
    rows = read_scorecard(reader, now.date())
    has_scorecard, targets = _targets(reader, rows)
    report.scorecard = has_scorecard
    report.scorecard_rows = rows or []
    df = reader.frame(MARTS, table, DORA_COLUMNS)
    if not df.empty:
        df = df.assign(period_start=utc_naive(df["period_start"]))
        df = complete_rows(df[df["period_start"].notna()], grain, now.date())
    org = df[df["scope"] == "org"].sort_values("period_start") if not df.empty else df
    if org.empty:
        report.slos = _slo_summary(reader, None, now, grain)
        return report
    cur = org.iloc[-1]
    prev = org.iloc[-2] if len(org) > 1 else None
    report.period_start = cur["period_start"]
    report.previous_start = None if prev is None else prev["period_start"]
    # The SLO section and the scorecard's SLO compliance answer for the period the report names.
    report.slos = _slo_summary(reader, report.period_start, now, grain)
    previous_slos = (
        _slo_summary(reader, report.previous_start, now, grain) if prev is not None else []
    )
    report.scorecard_rows = slo_compliance_from(
        report.scorecard_rows,
        report.slos,
        previous_slos,
        report.period_label,
        report.previous_label,
    )
    report.level = "—" if missing(cur["performance_level"]) else str(cur["performance_level"])
    if prev is not None and not missing(prev["performance_level"]):
        report.previous_level = str(prev["performance_level"])
    report.deployments = count(cur["deployments"])
    report.changes = count(cur["n_changes"])
    report.trend = org.tail(12)
    for m in METRICS:
        report.headlines.append(
            Headline(
                m,
                _num(cur[m.key]),
                None if prev is None else _num(prev[m.key]),
                count(cur[m.sample]),
                0 if prev is None else count(prev[m.sample]),
                targets.get(m.key, TARGET_NOT_SET),
            )
        )
    services = df[df["scope"] == "service"]
    report.movements = _movements(report, cur, prev, services)
    return report


def _score(h: Headline) -> float:
    """How large a movement is, comparable across units: relative change (rates: vs 5% floor)."""
    if h.delta is None:
        return -1.0
    floor = 0.05 if h.metric.unit == "pct" else 1.0
    return abs(h.delta) / max(abs(h.previous or 0.0), floor)


def _movements(
    report: LeadershipReport, cur: pd.Series, prev: pd.Series | None, services: pd.DataFrame
) -> list[Movement]:
    if prev is None:
        return []
    ranked = sorted(
        (h for h in report.headlines if h.delta is not None and abs(h.delta) > 1e-12),
        key=_score,
        reverse=True,
    )[:3]
    now_rows = services[services["period_start"] == cur["period_start"]].set_index("scope_name")
    then_rows = services[services["period_start"] == prev["period_start"]].set_index("scope_name")
    return [Movement(h, _cause(h, cur, prev, now_rows, then_rows, report.grain)) for h in ranked]


def _cause(
    h: Headline,
    cur: pd.Series,
    prev: pd.Series,
    now_rows: pd.DataFrame,
    then_rows: pd.DataFrame,
    grain: str = "week",
) -> str:
    """The service that drove the org delta, from the service rows of the same two periods."""
    names = sorted(set(now_rows.index) | set(then_rows.index))
    if not names:
        return "no per-service rows to attribute the change to"

    def val(rows: pd.DataFrame, name: str, column: str) -> float:
        if name not in rows.index:
            return 0.0
        v = rows.loc[name, column]
        if isinstance(v, pd.Series):
            v = v.iloc[0]
        return 0.0 if missing(v) else float(v)

    key = h.metric.key
    sign = 1.0 if (h.delta or 0) > 0 else -1.0
    if key in ("deployments", "change_failure_rate", "rework_rate"):
        # Additive decomposition: org rate = sum over services of (service events / org deployments).
        dep_now, dep_then = count(cur["deployments"]), count(prev["deployments"])
        contributions = {}
        for s in names:
            if key == "deployments":
                events_now, events_then = val(now_rows, s, key), val(then_rows, s, key)
                contributions[s] = events_now - events_then
                detail = None
            else:
                if key == "change_failure_rate":
                    e_now = val(now_rows, s, "n_failed_deployments")
                    e_then = val(then_rows, s, "n_failed_deployments")
                else:
                    e_now = val(now_rows, s, key) * val(now_rows, s, "deployments")
                    e_then = val(then_rows, s, key) * val(then_rows, s, "deployments")
                contributions[s] = (e_now / dep_now if dep_now else 0.0) - (
                    e_then / dep_then if dep_then else 0.0
                )
        top = max(names, key=lambda s: sign * contributions[s])
        share = contributions[top]
        if sign * share <= 0:
            return "no single service moved in the same direction"
        if key == "deployments":
            detail = (
                f"{top}: {val(then_rows, top, key):,.0f} → {val(now_rows, top, key):,.0f} "
                f"deployments ({share:+,.0f} of the org's {h.delta:+,.0f})"
            )
        else:
            what = "failed" if key == "change_failure_rate" else "rework"
            counts_now = (
                val(now_rows, top, "n_failed_deployments")
                if key == "change_failure_rate"
                else val(now_rows, top, key) * val(now_rows, top, "deployments")
            )
            detail = (
                f"{top}: {share * 100:+.1f} pp of the org's {(h.delta or 0) * 100:+.1f} pp "
                f"({counts_now:,.0f} {what} of n = {val(now_rows, top, 'deployments'):,.0f} "
                "deployments)"
            )
        return f"driven by {detail}"
    # Percentiles do not add up: name the service whose own p50 moved most, weighted by sample.
    # A service with no sample in one period has no value there (null, never 0).
    sample = h.metric.sample

    def value(rows: pd.DataFrame, name: str) -> float | None:
        if name not in rows.index or val(rows, name, sample) <= 0:
            return None
        v = rows.loc[name, key]
        if isinstance(v, pd.Series):
            v = v.iloc[0]
        return None if missing(v) else float(v)

    best, best_score = None, 0.0
    for s in names:
        a, b = value(then_rows, s), value(now_rows, s)
        if a is None or b is None:
            continue
        score = sign * (b - a) * val(now_rows, s, sample)
        if score > best_score:
            best, best_score = s, score
    if best is None:
        # No service measured in both periods: the largest sample new this period, if any.
        new = [s for s in names if value(now_rows, s) is not None and value(then_rows, s) is None]
        if not new:
            return "no service with samples in both periods moved the same way"
        top = max(new, key=lambda s: val(now_rows, s, sample))
        return (
            f"largest move: {top} {fmt_hours(value(now_rows, top))} "
            f"(n = {val(now_rows, top, sample):,.0f} {h.metric.sample_label}), "
            f"with no {h.metric.sample_label} the {grain} before"
        )
    a, b = value(then_rows, best), value(now_rows, best)
    unit = hours_unit(a, b)
    return (
        f"largest move: {best} {fmt_hours_as(a, unit)} → {fmt_hours_as(b, unit)} "
        f"(n = {val(now_rows, best, sample):,.0f} {h.metric.sample_label})"
    )


def _slo_summary(
    reader: WarehouseReader, period_start: pd.Timestamp | None, now: dt.datetime, grain: str
) -> list[dict[str, Any]]:
    """Each SLO's window that answers for the report's period (``period_start`` of ``grain``):
    its latest own window that ended by the period's end. No complete period: none."""
    if period_start is None:
        return []
    data = read_report_data(reader)
    end = pd.Timestamp(period_start) + GRAIN_OFFSETS[grain]
    out = []
    for _, row in data.windows_for(period_start, end).sort_values("slo").iterrows():
        d = data.definitions[data.definitions["slo"] == row["slo"]]
        out.append(
            {
                "slo": row["slo"],
                "name": str(d["display_name"].iloc[0]) if len(d) else str(row["slo"]),
                "attainment": _num(row["attainment"]),
                "target": _num(row["target"]),
                "budget_remaining": _num(row["budget_remaining"]),
                "met": None if missing(row["met"]) else bool(row["met"]),
                "status": "—" if missing(row["status"]) else str(row["status"]),
                "period": window_label(row["period_kind"], row["period_start"], row["period_end"]),
            }
        )
    return out


# ---------------------------------------------------------------------------------------- outputs
def report_markdown(report: LeadershipReport, *, link: str | None = None) -> str:
    title = (
        f"**{report.organisation} · {report.cadence} engineering report · {report.period_label}**"
    )
    lines = [title, ""]
    if report.empty:
        lines.append("No data yet: no complete period of organisation metrics.")
    else:
        lines.append(
            f"Performance level: **{report.level}** (previous: {report.previous_level}); "
            f"n = {report.deployments:,} deployments, {report.changes:,} changes."
        )
        targets = report.has_targets
        lines += ["", "| metric | now | previous | change | sample |" + (" target |" if targets else ""), "| --- | ---: | ---: | ---: | ---: |" + (" --- |" if targets else "")]  # fmt: skip
        for h in report.headlines:
            lines.append(
                f"| {h.metric.label} | {h.value_text} | "
                f"{h.previous_text} | {h.change_text} ({h.direction}) | "
                f"n = {h.sample:,} {h.metric.sample_label} |"
                + (f" {h.target} |" if targets else "")
            )
        if report.movements:
            lines += ["", "Largest movements:"]
            for m in report.movements:
                lines.append(
                    f"- {m.headline.metric.label} {m.headline.change_text} "
                    f"({m.headline.direction}): {m.cause}"
                )
    lines += ["", *scorecard_markdown(report)]
    if report.slos:
        met = sum(1 for s in report.slos if s["met"])
        lines += ["", f"SLOs: {met} of {len(report.slos)} meeting target."]
        for s in report.slos:
            if s["met"] is False or s["status"] not in ("healthy", "ok", "—"):
                lines.append(
                    f"- {s['name']}: {fmt_pct(s['attainment'])} vs {fmt_pct(s['target'])}, "
                    f"budget left {fmt_pct(s['budget_remaining'])} ({s['status']})"
                )
    else:
        lines += ["", "SLOs: no data yet."]
    if link:
        lines += ["", f"Full report: {link}"]
    return "\n".join(lines) + "\n"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def scorecard_markdown(report: LeadershipReport) -> list[str]:
    """The "Success scorecard" section: every row with now, previous, target and status."""
    if not report.scorecard:
        return [f"Success scorecard: no data yet (marts.{SCORECARD} is not built)."]
    rows = report.scorecard_rows
    if not rows:
        return [f"Success scorecard: no data yet (marts.{SCORECARD} has no rows)."]
    lines = [
        f"Success scorecard: {status_counts(rows)} (n = {len(rows)} measures).",
        "",
        "| measure | now | previous | target | status |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        cells = (r.scoped_label, r.now_text, r.previous_text, r.target_text, r.status_text)
        lines.append("| " + " | ".join(_md_cell(c) for c in cells) + " |")
    return lines


def trend_figure(report: LeadershipReport) -> go.Figure | None:
    if report.trend is None or report.trend.empty:
        return None
    t = report.trend
    fig = go.Figure()
    fig.add_bar(x=t["period_start"], y=t["deployments"], name="deployments", marker_color="#3b6ea8")
    fig.add_scatter(
        x=t["period_start"],
        y=t["lead_time_p50_hours"],
        name="lead time p50 (h)",
        yaxis="y2",
        mode="lines+markers",
        line_color="#c0392b",
    )
    fig.update_layout(
        title={"text": f"Organisation, last {len(t)} {report.grain}s", "font": {"size": 13}},
        width=900,
        height=270,
        margin={"l": 50, "r": 50, "t": 60, "b": 30},
        template="plotly_white",
        legend={"orientation": "h", "y": 1.15, "x": 0},
        yaxis={"title": "deployments"},
        yaxis2={"title": "hours", "overlaying": "y", "side": "right", "showgrid": False},
    )
    return fig


def figure_png(fig: go.Figure, *, browser: Path) -> bytes | None:
    """PNG of ``fig`` with kaleido 1.x driving ``browser`` through the offline launcher
    (dashboards/browser.py): plotly.py's own plotly.js, no MathJax, nothing fetched."""
    try:
        import kaleido
        import plotly

        plotly_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
        with offline_launcher(browser) as launcher:
            return kaleido.calc_fig_sync(
                fig,
                opts={"format": "png", "scale": 2},
                kopts={"plotlyjs": str(plotly_js), "mathjax": False, "path": str(launcher)},
            )
    except Exception as exc:  # a missing image must not stop the report
        log.warning("leadership report: chart image not rendered (%s)", type(exc).__name__)
        return None


def render_html(report: LeadershipReport, *, image: bytes | None = None) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("leadership.html.j2").render(
        r=report,
        definitions=DEFINITIONS,
        fmt_value=fmt_value,
        fmt_pct=fmt_pct,
        scorecard_counts=status_counts(report.scorecard_rows),
        image=None if image is None else base64.b64encode(image).decode("ascii"),
        generated=report.generated_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


def print_pdf(html: Path, pdf: Path, *, browser: Path, timeout: float = 120) -> None:
    """Headless print-to-PDF of a local file, launched offline (dashboards/browser.py)."""
    done = run_chromium(
        browser, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", html.resolve().as_uri(),
        timeout=timeout,
    )  # fmt: skip
    if done.returncode != 0 or not pdf.exists():
        raise RuntimeError(
            f"chromium print-to-pdf failed ({done.returncode}): {done.stderr[-500:]}"
        )


@dataclass(frozen=True)
class WrittenReports:
    folder: Path
    files: list[Path]
    reports: dict[str, LeadershipReport]
    skipped: str | None = None  # why the PDF and chart images are missing, with how to get them


def report_files(cadence: str) -> tuple[str, str, str]:
    return (f"leadership-{cadence}.html", f"leadership-{cadence}.pdf", f"leadership-{cadence}.md")


def write_leadership_reports(
    warehouse_path: Path,
    folder: Path,
    *,
    organisation: str,
    now: dt.datetime | None = None,
    link: str | None = None,
    browser: str | Path | None = None,
    pdf: bool = True,
    images: bool = True,
) -> WrittenReports:
    """Write the weekly and monthly report (HTML, PDF, Markdown) into ``folder``, replaced whole.

    ``link`` is the published site's address for the Markdown summary (``leadership-<cadence>.html``
    is appended). ``browser`` is ``publish.chromium_path``; None finds Chrome, Chromium or Edge
    (dashboards/browser.py). Without one the PDF and chart images are left out, not faked, and
    ``skipped`` is the one line for the caller to show: what is missing and how to get it.
    """
    now = now or dt.datetime.now(dt.UTC)
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    con = connect(warehouse_path, read_only=True)
    try:
        reader = WarehouseReader(con)
        reports = {
            GRAINS[g]: read_leadership(reader, g, organisation=organisation, now=now)
            for g in GRAINS
        }
    finally:
        con.close()
    found = find_browser(browser) if pdf or images else None
    skipped = browser_missing(browser) if (pdf or images) and found is None else None
    with staging_folder(folder.parent, ".leadership-") as tmp:
        for cadence, report in reports.items():
            html_name, pdf_name, md_name = report_files(cadence)
            fig = trend_figure(report) if images and found else None
            image = figure_png(fig, browser=found) if fig is not None and found else None
            (tmp / html_name).write_text(render_html(report, image=image), encoding="utf-8")
            url = f"{link.rstrip('/')}/{html_name}" if link else None
            (tmp / md_name).write_text(report_markdown(report, link=url), encoding="utf-8")
            if pdf and found:
                print_pdf(tmp / html_name, tmp / pdf_name, browser=found)
        replace_folder(tmp, folder)
    return WrittenReports(folder, sorted(folder.iterdir()), reports, skipped)
