"""The DORA page: per-team tables of the latest complete month and week, weekly trends per team
against the benchmark's bands, and every complete week of every team and service (the rows the
page's filters narrow).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.graph_objects as go
from markupsafe import Markup

from dashboards.blocks import (
    Block,
    Chart,
    Column,
    NoData,
    Stat,
    Table,
    count,
    figure_html,
    fmt_date,
    fmt_hours,
    fmt_int,
    fmt_pct,
    missing,
    utc_naive,
)
from dashboards.context import MARTS, NO_DATA, PageContext
from dashboards.definitions import DEFINITIONS
from dashboards.periods import (
    PALETTE,
    add_running_segment,
    complete_periods,
    running_periods,
)
from dashboards.rows import filters, view_link


# ----------------------------------------------------------------------------------------- periods
def complete_rows(periods: pd.DataFrame, grain: str, today: dt.date) -> pd.DataFrame:
    """Rows of complete periods (the mart's is_complete; a running period is not headline)."""
    return complete_periods(periods, grain, today)


def dora_frame(ctx: PageContext, grain: str) -> pd.DataFrame:
    table = "metrics_dora_weekly" if grain == "week" else "metrics_dora_monthly"
    df = ctx.reader.frame(MARTS, table, DORA_COLUMNS)
    if not df.empty:
        df = df.assign(period_start=utc_naive(df["period_start"]))
        df = df[df["period_start"].notna()].sort_values("period_start")
    return df


DORA_COLUMNS = [
    "period_start",
    "scope",
    "scope_name",
    "deployments",
    "deploy_days",
    "lead_time_p50_hours",
    "lead_time_p75_hours",
    "lead_time_p90_hours",
    "n_changes",
    "change_failure_rate",
    "n_failed_deployments",
    "recovery_time_p50_hours",
    "recovery_time_p90_hours",
    "n_incidents",
    "rework_rate",
    "performance_level",
    "is_complete",
]


def _team_table(title: str, df: pd.DataFrame, min_sample: int, anchor: str = "") -> Table:
    columns = [
        Column("team"),
        Column("deployments (deploy days)", DEFINITIONS["deployments"], True),
        Column("lead time p50 / p75 / p90", DEFINITIONS["lead_time"], True),
        Column("n changes", DEFINITIONS["n_changes"], True),
        Column("change failure rate", DEFINITIONS["change_failure_rate"], True),
        Column("recovery p50 / p90", DEFINITIONS["recovery_time"], True),
        Column("n incidents", DEFINITIONS["incidents"], True),
        Column("rework rate", DEFINITIONS["rework_rate"], True),
        Column("level", DEFINITIONS["performance_level"]),
    ]
    rows = []
    ordered = df.sort_values("scope_name")
    for _, r in ordered.iterrows():
        low = " (low sample)" if count(r["deployments"]) < min_sample else ""
        rows.append(
            [
                Markup('<a href="{}">{}</a>').format(
                    view_link("", team=str(r["scope_name"])), str(r["scope_name"])
                ),
                f"{fmt_int(r['deployments'])} ({fmt_int(r['deploy_days'])} d)",
                " / ".join(fmt_hours(r[f"lead_time_p{p}_hours"]) for p in (50, 75, 90)),
                fmt_int(r["n_changes"]),
                f"{fmt_pct(r['change_failure_rate'])} ({fmt_int(r['n_failed_deployments'])} of "
                f"{fmt_int(r['deployments'])}){low}",
                f"{fmt_hours(r['recovery_time_p50_hours'])} / "
                f"{fmt_hours(r['recovery_time_p90_hours'])}",
                fmt_int(r["n_incidents"]),
                fmt_pct(r["rework_rate"]),
                "—" if missing(r["performance_level"]) else str(r["performance_level"]),
            ]
        )
    return Table(
        title,
        columns,
        rows,
        anchor=anchor,
        row_data=[{"team": str(t)} for t in ordered["scope_name"]],
        noun="teams",
    )


def _team_lines(
    df: pd.DataFrame,
    column: str,
    sample: str,
    title: str,
    definition: str,
    *,
    unit: str,
    pct: bool = False,
    bands: list[tuple[str, float, float]] = (),
    grain: str = "week",
    today: dt.date | None = None,
) -> Chart:
    today = today or dt.datetime.now(dt.UTC).date()
    fig = go.Figure()
    _draw_bands(fig, bands, df[column].astype("float64").max() * (100 if pct else 1))
    for i, (team, part) in enumerate(df.groupby("scope_name", sort=True)):
        colour = PALETTE[i % len(PALETTE)]
        done = complete_periods(part, grain, today)
        fig.add_scatter(
            x=done["period_start"],
            y=done[column].astype("float64") * (100 if pct else 1),
            mode="lines+markers",
            name=str(team),
            legendgroup=str(team),
            line_color=colour,
            meta={"team": str(team)},
            customdata=done[sample],
            hovertemplate=f"{team}<br>%{{x|%Y-%m-%d}}: %{{y:.1f}} {unit}<br>n = %{{customdata}}"
            "<extra></extra>",
        )
        add_running_segment(
            fig,
            done,
            running_periods(part, grain, today),
            "period_start",
            column,
            name=str(team),
            grain=grain,
            colour=colour,
            scale=100 if pct else 1,
            meta={"team": str(team)},
        )
    fig.update_layout(yaxis_title=unit)
    return Chart(title, figure_html(fig, height=320), definition)


BAND_COLOURS = {"elite": "#2e8b57", "high": "#7fb77e", "medium": "#f2c14e", "low": "#e07a5f"}


BAND_MEASURES = {
    "deployments": ("deployment_frequency", "deployments_per_week", 1),
    "lead_time_p50_hours": ("lead_time", "lead_time_p50_hours", 1),
    "change_failure_rate": ("change_failure_rate", "change_failure_rate", 100),
    "recovery_time_p50_hours": ("recovery_time", "recovery_time_p50_hours", 1),
}


def benchmark_bands(ctx: PageContext, column: str) -> list[tuple[str, float, float]]:
    """(level, low, high) bands of the configured benchmark for a weekly ``column``, in chart units.

    Read from marts.dora_benchmarks (the dbt seed the levels are computed from). Thresholds that do
    not nest (DORA 2024's medium change failure rate is below high's) are drawn where they do not
    overlap a better band; an empty band is left out.
    """
    if column not in BAND_MEASURES:
        return []
    metric, measure, scale = BAND_MEASURES[column]
    df = ctx.reader.frame(
        MARTS,
        "dora_benchmarks",
        ["benchmark", "metric", "level", "level_rank", "measure", "operator", "threshold"],
    )
    df = df[
        (df["benchmark"] == ctx.benchmark) & (df["metric"] == metric) & (df["measure"] == measure)
    ]
    if df.empty:
        return []
    df = df.sort_values("level_rank")
    higher_is_better = str(df["operator"].iloc[0]).startswith(">")
    bands: list[tuple[str, float, float]] = []
    edge = float("inf") if higher_is_better else 0.0
    for _, r in df.iterrows():
        t = None if missing(r["threshold"]) else float(r["threshold"]) * scale
        if higher_is_better:
            low = 0.0 if t is None else t
            if low < edge:
                bands.append((str(r["level"]), low, edge))
                edge = low
        else:
            high = float("inf") if t is None else t
            if high > edge:
                bands.append((str(r["level"]), edge, high))
                edge = high
    return bands


def _draw_bands(fig: go.Figure, bands: list[tuple[str, float, float]], data_max: float) -> None:
    """Shade the level bands behind the series, clipped to the data so the axis is not stretched."""
    top = (data_max if data_max == data_max and data_max > 0 else 1.0) * 1.15
    for level, low, high in bands:
        if low >= top:
            continue
        fig.add_hrect(
            y0=low,
            y1=min(high, top),
            fillcolor=BAND_COLOURS.get(level, "#cccccc"),
            opacity=0.12,
            layer="below",
            line_width=0,
            annotation_text=level,
            annotation_position="top left",
            annotation_font_size=10,
        )


def _weekly_rows(ctx: PageContext, weekly: pd.DataFrame) -> Table:
    """Every complete week of every team and service: the rows the filters narrow (a team view
    shows team rows, a service view service rows) and the sums the browser adds up."""
    df = weekly[weekly["scope"].isin(["team", "service"])]
    df = complete_rows(df, "week", ctx.now.date()).sort_values(
        ["period_start", "scope", "scope_name"], ascending=[False, True, True]
    )
    owners = _service_teams(ctx)
    columns = [
        Column("week of"),
        Column("scope"),
        Column("team or service"),
        Column("deployments", DEFINITIONS["deployments"], True),
        Column("lead time p50", DEFINITIONS["lead_time"], True),
        Column("n changes", DEFINITIONS["n_changes"], True),
        Column("change failure rate", DEFINITIONS["change_failure_rate"], True),
        Column("recovery p50", DEFINITIONS["recovery_time"], True),
        Column("n incidents", DEFINITIONS["incidents"], True),
        Column("level", DEFINITIONS["performance_level"]),
    ]
    rows, data = [], []
    for _, r in df.iterrows():
        name, scope = str(r["scope_name"]), str(r["scope"])
        rows.append(
            [
                fmt_date(r["period_start"]),
                scope,
                name,
                fmt_int(r["deployments"]),
                fmt_hours(r["lead_time_p50_hours"]),
                fmt_int(r["n_changes"]),
                f"{fmt_pct(r['change_failure_rate'])} ({fmt_int(r['n_failed_deployments'])})",
                fmt_hours(r["recovery_time_p50_hours"]),
                fmt_int(r["n_incidents"]),
                "—" if missing(r["performance_level"]) else str(r["performance_level"]),
            ]
        )
        item = {
            "scope": scope,
            "team": name if scope == "team" else owners.get(name, ""),
            "day": fmt_date(r["period_start"]),
            "deployments": str(count(r["deployments"])),
            "changes": str(count(r["n_changes"])),
            "failed": str(count(r["n_failed_deployments"])),
            "incidents": str(count(r["n_incidents"])),
        }
        if scope == "service":
            item["service"] = name
        data.append(item)
    return Table(
        "Weekly metrics per team and service (complete weeks)",
        columns,
        rows,
        note="A team view lists team rows; choose a service for its rows. Weeks start on Monday.",
        anchor="weekly-rows",
        row_data=data,
        noun="team and service weeks",
        stats=(
            Stat("deployments", "deployments", "sum"),
            Stat("changes", "changes", "sum"),
            Stat("failed", "failed deployments", "sum"),
            Stat("incidents", "incidents", "sum"),
        ),
    )


def _service_teams(ctx: PageContext) -> dict[str, str]:
    """Each service's team, as the deployments and changes record it (the last one seen)."""
    owners: dict[str, str] = {}
    for table in ("fct_changes", "fct_deployments"):
        df = ctx.reader.frame(MARTS, table, ["service", "team"])
        for service, team in df.dropna().drop_duplicates().itertuples(index=False):
            owners[str(service)] = str(team)
    return owners


# The weekly trend charts: (column, its sample column, title, definition key, unit).
TRENDS = (
    ("deployments", "deploy_days", "Deployments per week", "deployments", "deployments"),
    ("lead_time_p50_hours", "n_changes", "Lead time p50 per week", "lead_time", "hours"),
    ("change_failure_rate", "deployments", "Change failure rate per week", "change_failure_rate", "%"),
    ("recovery_time_p50_hours", "n_incidents", "Recovery time p50 per week", "recovery_time", "hours"),
)  # fmt: skip


def build_dora(ctx: PageContext) -> list[Block]:
    weekly = dora_frame(ctx, "week")
    blocks: list[Block] = []
    if not weekly.empty:
        blocks.append(
            filters(
                weekly.loc[weekly["scope"] == "team", "scope_name"],
                weekly.loc[weekly["scope"] == "service", "scope_name"],
            )
        )
    for grain, label in (("month", "month"), ("week", "week")):
        df = dora_frame(ctx, grain)
        teams = df[df["scope"] == "team"] if not df.empty else df
        complete = complete_rows(teams, grain, ctx.now.date()) if not teams.empty else teams
        if complete.empty:
            blocks.append(NoData(f"Per team, latest complete {label}", f"{NO_DATA}."))
            continue
        start = complete["period_start"].max()
        latest = complete[complete["period_start"] == start]
        title = f"Per team, latest complete {label}: {label} of {fmt_date(start)}"
        blocks.append(_team_table(title, latest, ctx.min_sample, anchor=f"latest-{label}"))
    teams = weekly[weekly["scope"] == "team"] if not weekly.empty else weekly
    if teams.empty:
        blocks.append(NoData("Weekly trends per team", f"{NO_DATA}: marts.metrics_dora_weekly."))
        return blocks
    blocks += [
        _team_lines(
            teams,
            column,
            sample,
            title,
            DEFINITIONS[definition],
            unit=unit,
            pct=unit == "%",
            bands=benchmark_bands(ctx, column),
            today=ctx.now.date(),
        )
        for column, sample, title, definition, unit in TRENDS
    ]
    blocks.append(_weekly_rows(ctx, weekly))
    return blocks
