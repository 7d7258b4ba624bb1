"""The site's pages: each builder reads marts and returns blocks (cards, charts, tables, notes).

Builders decide *what* a page says; ``templates/page.html.j2`` decides how it looks. Every number is
shown with its sample size, every metric carries a one-line definition (rendered as a ``title=``
hover), and a page whose mart is missing or empty says "No data yet" instead of failing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
from markupsafe import Markup

from dashboards.blocks import (
    Block,
    Card,
    Cards,
    Chart,
    Column,
    NoData,
    Note,
    Stat,
    Table,
    count,
    figure_html,
    fmt_cell,
    fmt_date,
    fmt_hours,
    fmt_int,
    fmt_pct,
    fmt_time,
    local_days,
    missing,
    text_value,
    utc_naive,
)
from dashboards.context import PageContext
from dashboards.definitions import DEFINITIONS
from dashboards.experience import build_devex
from dashboards.gate import CheckStatus
from dashboards.headlines import METRICS, Headline, card_change
from dashboards.periods import (
    GRAIN_OFFSETS,
    PALETTE,
    add_running_bar,
    add_running_segment,
    complete_periods,
    running_periods,
)
from dashboards.rows import attr_text, filters, flag, names, period_link, view_link
from dashboards.scorecard import scorecard_block
from dashboards.slo_report import build_slo_blocks
from dashboards.value import build_platform_value
from pipelines.github.sync import coverage_line
from pipelines.surveys.loader import FILE_ENTITY as SURVEY_FILE_ENTITY
from pipelines.warehouse import STATE_TABLES

MARTS = "marts"
RAW = "raw"
NO_DATA = "No data yet"
RECENT_DAYS = 90
OK_COLOUR = "#3b6ea8"
FAIL_COLOUR = "#c0392b"
INCIDENT_COLOUR = "#e67e22"
DORA_PAGE, LEAD_TIME_PAGE, DEPLOYMENTS_PAGE = "dora.html", "lead-time.html", "deployments.html"


@dataclass(frozen=True)
class Page:
    filename: str
    nav_label: str
    title: str
    lede: str
    build: Callable[[PageContext], list[Block]]


# ----------------------------------------------------------------------------------------- periods
def _complete(periods: pd.DataFrame, grain: str, today: dt.date) -> pd.DataFrame:
    """Rows of complete periods (the mart's is_complete; a running period is not headline)."""
    return complete_periods(periods, grain, today)


def _dora(ctx: PageContext, grain: str) -> pd.DataFrame:
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


# Each headline card's rows: the page, its section and any extra filter (the period is the card's).
CARD_ROWS: dict[str, tuple[str, str, dict[str, str]]] = {
    "deployments": (DEPLOYMENTS_PAGE, "deployments", {"status": "success"}),
    "lead_time_p50_hours": (LEAD_TIME_PAGE, "changes", {}),
    "change_failure_rate": (DEPLOYMENTS_PAGE, "failed-deployments", {}),
    "recovery_time_p50_hours": (DEPLOYMENTS_PAGE, "incidents", {}),
    "rework_rate": (DEPLOYMENTS_PAGE, "deployments", {"status": "success"}),
    "performance_level": (DORA_PAGE, "weekly-rows", {}),
}


def _previous(complete: pd.DataFrame, row: pd.Series, grain: str) -> pd.Series | None:
    """The complete period just before ``row``'s, or None when the mart has no such row."""
    wanted = pd.Timestamp(row["period_start"]) - GRAIN_OFFSETS[grain]
    before = complete[complete["period_start"] == wanted]
    return None if before.empty else before.iloc[-1]


def _period_label(start: object, grain: str) -> str:
    return f"the {grain} of {fmt_date(start)}"


def _dora_cards(
    row: pd.Series, min_sample: int, grain: str = "week", previous: pd.Series | None = None
) -> list[Card]:
    """The six headline cards of one complete period: each links to the rows behind it (the same
    period) and, where the previous period has a value, shows its change."""
    deployments, changes, incidents = (
        count(row["deployments"]),
        count(row["n_changes"]),
        count(row["n_incidents"]),
    )
    metrics = {m.key: m for m in METRICS}
    before = "" if previous is None else _period_label(previous["period_start"], grain)

    def extras(key: str) -> dict[str, object]:
        page, show, state = CARD_ROWS[key]
        out: dict[str, object] = {
            "href": period_link(page, show, row["period_start"], grain, **state)
        }
        if key in metrics and previous is not None:
            m = metrics[key]
            headline = Headline(m, _num(row[key]), _num(previous[key]), 0, 0)
            out["change"] = card_change(headline, before)
        return out

    return [
        Card(
            "Deployments",
            fmt_int(row["deployments"]),
            f"on {fmt_int(row['deploy_days'])} deploy days",
            DEFINITIONS["deployments"],
            deployments < min_sample,
            **extras("deployments"),
        ),
        Card(
            "Lead time p50",
            fmt_hours(row["lead_time_p50_hours"]),
            f"n = {changes} changes · p90 {fmt_hours(row['lead_time_p90_hours'])}",
            DEFINITIONS["lead_time"],
            changes < min_sample,
            **extras("lead_time_p50_hours"),
        ),
        Card(
            "Change failure rate",
            fmt_pct(row["change_failure_rate"]),
            f"{fmt_int(row['n_failed_deployments'])} of n = {deployments} deployments",
            DEFINITIONS["change_failure_rate"],
            deployments < min_sample,
            **extras("change_failure_rate"),
        ),
        Card(
            "Recovery time p50",
            fmt_hours(row["recovery_time_p50_hours"]),
            f"n = {incidents} incidents",
            DEFINITIONS["recovery_time"],
            incidents < min_sample,
            **extras("recovery_time_p50_hours"),
        ),
        Card(
            "Rework rate",
            fmt_pct(row["rework_rate"]),
            f"n = {deployments} deployments",
            DEFINITIONS["rework_rate"],
            deployments < min_sample,
            **extras("rework_rate"),
        ),
        Card(
            "Performance level",
            "—" if missing(row["performance_level"]) else str(row["performance_level"]),
            f"from n = {deployments} deployments, {changes} changes",
            DEFINITIONS["performance_level"],
            deployments < min_sample,
            **extras("performance_level"),
        ),
    ]


def _num(value: object) -> float | None:
    return None if missing(value) else float(value)


def _headline(ctx: PageContext, grain: str) -> Block:
    label = "week" if grain == "week" else "month"
    df = _dora(ctx, grain)
    org = df[df["scope"] == "org"] if not df.empty else df
    complete = _complete(org, grain, ctx.now.date()) if not org.empty else org
    if complete.empty:
        return NoData(f"Latest complete {label}", f"{NO_DATA}: no complete {label} of org metrics.")
    row = complete.iloc[-1]
    start = row["period_start"]
    title = f"Latest complete {label}: {label} of {fmt_date(start)}"
    previous = _previous(complete, row, grain)
    return Cards(title, _dora_cards(row, ctx.min_sample, grain, previous))


def _team_views(ctx: PageContext) -> list[Block]:
    """Links from the overview to each team's filtered DORA view."""
    weekly = _dora(ctx, "week")
    teams = names(weekly.loc[weekly["scope"] == "team", "scope_name"]) if not weekly.empty else []
    if not teams:
        return []
    links = Markup(" · ").join(
        Markup('<a class="team-view" href="{}">{}</a>').format(view_link(DORA_PAGE, team=t), t)
        for t in teams
    )
    return [Note(Markup("Team views: ") + links + ".")]


# ------------------------------------------------------------------------------------------ pages
def build_overview(ctx: PageContext) -> list[Block]:
    blocks: list[Block] = [
        *_sync_coverage(ctx),
        _headline(ctx, "week"),
        _headline(ctx, "month"),
        *_team_views(ctx),
        scorecard_block(ctx.reader, ctx.now.date()),
    ]
    weekly = _dora(ctx, "week")
    org = weekly[weekly["scope"] == "org"] if not weekly.empty else weekly
    if org.empty:
        blocks.append(
            NoData("Deployments per week", f"{NO_DATA}: marts.metrics_dora_weekly is empty.")
        )
    else:
        fig = go.Figure()
        done = complete_periods(org, "week", ctx.now.date())
        running = running_periods(org, "week", ctx.now.date())
        fig.add_bar(
            x=done["period_start"],
            y=done["deployments"],
            name="Deployments",
            marker_color=OK_COLOUR,
            customdata=done["deploy_days"],
            hovertemplate="Week of %{x|%Y-%m-%d}<br>%{y} deployments on %{customdata} days"
            "<extra></extra>",
        )
        fig.add_bar(
            x=done["period_start"],
            y=done["n_failed_deployments"],
            name="Failed deployments",
            marker_color=FAIL_COLOUR,
            hovertemplate="Week of %{x|%Y-%m-%d}<br>%{y} failed<extra></extra>",
        )
        add_running_bar(
            fig,
            running,
            "period_start",
            "deployments",
            name="Deployments",
            colour=OK_COLOUR,
            grain="week",
        )
        add_running_bar(
            fig,
            running,
            "period_start",
            "n_failed_deployments",
            name="Failed deployments",
            colour=FAIL_COLOUR,
            grain="week",
        )
        fig.update_layout(barmode="overlay", yaxis_title="deployments / week")
        blocks.append(
            Chart("Deployments per week (org)", figure_html(fig), DEFINITIONS["deployments"])
        )
    blocks.append(_freshness(ctx))
    return blocks


def _sync_coverage(ctx: PageContext) -> list[Block]:
    """ "GitHub synced back to D; backfilling to T" while a progressive backfill is under way:
    weeks and months before D are not complete yet (docs/sources/github.md#progressive-backfill)."""
    reader = ctx.reader
    if not reader.has(RAW, "sync_coverage"):
        return []
    sources = reader.con.execute(
        "SELECT DISTINCT source FROM raw.sync_coverage ORDER BY source"
    ).fetchall()
    lines = [coverage_line(reader.con, source) for (source,) in sources]
    return [Note(line + ".") for line in lines if line]


def _freshness(ctx: PageContext) -> Table:
    rows: list[list[str]] = []
    reader = ctx.reader
    if reader.has(RAW, "sync_state"):
        sync = reader.con.execute(
            "SELECT source, max(last_synced_at), count(*) FROM raw.sync_state GROUP BY source "
            "ORDER BY source"
        ).fetchall()
        for source, last, cursors in sync:
            rows.append([f"last sync of {source}", fmt_time(last), f"{cursors} cursors"])
    for table, column, what in [
        ("fct_deployments", "deployed_at", "latest deployment"),
        ("fct_changes", "deployed_at", "latest deployed change"),
        ("fct_incidents", "started_at", "latest incident"),
        ("metrics_dora_weekly", "period_start", "latest week in metrics"),
    ]:
        if column in reader.columns(MARTS, table):
            latest, count = reader.con.execute(
                f'SELECT max("{column}"), count(*) FROM {MARTS}.{table}'
            ).fetchone()
            rows.append([what, fmt_time(latest), f"n = {count:,} rows"])
    rows.append(["site built", fmt_time(ctx.now), ""])
    return Table(
        "Data freshness",
        [Column("what"), Column("when (UTC)"), Column("sample")],
        rows,
        note="" if len(rows) > 1 else f"{NO_DATA}: nothing has been synced.",
    )


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
    df = _complete(df, "week", ctx.now.date()).sort_values(
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


def build_dora(ctx: PageContext) -> list[Block]:
    weekly = _dora(ctx, "week")
    blocks: list[Block] = []
    if not weekly.empty:
        blocks.append(
            filters(
                weekly.loc[weekly["scope"] == "team", "scope_name"],
                weekly.loc[weekly["scope"] == "service", "scope_name"],
            )
        )
    for grain, label in (("month", "month"), ("week", "week")):
        df = _dora(ctx, grain)
        teams = df[df["scope"] == "team"] if not df.empty else df
        complete = _complete(teams, grain, ctx.now.date()) if not teams.empty else teams
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
            "deployments",
            "deploy_days",
            "Deployments per week",
            DEFINITIONS["deployments"],
            unit="deployments",
            bands=benchmark_bands(ctx, "deployments"),
            today=ctx.now.date(),
        ),
        _team_lines(
            teams,
            "lead_time_p50_hours",
            "n_changes",
            "Lead time p50 per week",
            DEFINITIONS["lead_time"],
            unit="hours",
            bands=benchmark_bands(ctx, "lead_time_p50_hours"),
            today=ctx.now.date(),
        ),
        _team_lines(
            teams,
            "change_failure_rate",
            "deployments",
            "Change failure rate per week",
            DEFINITIONS["change_failure_rate"],
            unit="%",
            pct=True,
            bands=benchmark_bands(ctx, "change_failure_rate"),
            today=ctx.now.date(),
        ),
        _team_lines(
            teams,
            "recovery_time_p50_hours",
            "n_incidents",
            "Recovery time p50 per week",
            DEFINITIONS["recovery_time"],
            unit="hours",
            bands=benchmark_bands(ctx, "recovery_time_p50_hours"),
            today=ctx.now.date(),
        ),
        _weekly_rows(ctx, weekly),
    ]
    return blocks


CHANGE_COLUMNS = [
    "change_id",
    "repository",
    "pr_number",
    "service",
    "team",
    "deployed_at",
    "coding_hours",
    "pickup_hours",
    "review_hours",
    "deploy_hours",
    "lead_time_hours",
    "url",
]
PHASES = ("coding", "pickup", "review", "deploy")


def build_lead_time(ctx: PageContext) -> list[Block]:
    df = ctx.reader.frame(MARTS, "fct_changes", CHANGE_COLUMNS)
    df = df.assign(deployed_at=utc_naive(df["deployed_at"]))
    df = df[df["deployed_at"].notna()]
    if df.empty:
        return [
            NoData("Lead time breakdown", f"{NO_DATA}: no deployed changes in marts.fct_changes.")
        ]
    since = df["deployed_at"].max() - pd.Timedelta(days=RECENT_DAYS)
    recent = df[df["deployed_at"] > since].copy()
    recent["team"] = recent["team"].fillna("(unowned)")
    for column in [f"{p}_hours" for p in PHASES] + ["lead_time_hours"]:
        recent[column] = pd.to_numeric(recent[column], errors="coerce")
    grouped = recent.groupby("team", sort=True)
    summary = pd.DataFrame(
        {
            "n": grouped["change_id"].count(),
            **{p: grouped[f"{p}_hours"].median() for p in PHASES},
            "p50": grouped["lead_time_hours"].quantile(0.5),
            "p75": grouped["lead_time_hours"].quantile(0.75),
            "p90": grouped["lead_time_hours"].quantile(0.9),
        }
    )
    fig = go.Figure()
    colours = {"coding": "#5b8def", "pickup": "#f2b134", "review": "#8e6cc9", "deploy": "#3aa37a"}
    for phase in PHASES:
        fig.add_bar(
            y=summary.index,
            x=summary[phase],
            name=phase,
            orientation="h",
            marker_color=colours[phase],
            meta={"points": {"team": [str(t) for t in summary.index]}},
            customdata=summary["n"],
            hovertemplate=f"%{{y}} {phase} p50: %{{x:.1f}} h<br>n = %{{customdata}} changes"
            "<extra></extra>",
        )
    fig.update_layout(barmode="stack", xaxis_title="hours (p50 of each phase)")
    rows = [
        [
            str(team),
            fmt_int(r["n"]),
            *(fmt_hours(r[p]) for p in PHASES),
            " / ".join(fmt_hours(r[p]) for p in ("p50", "p75", "p90")),
        ]
        for team, r in summary.iterrows()
    ]
    columns = [
        Column("team"),
        Column("n changes", DEFINITIONS["n_changes"], True),
        *(Column(f"{p} p50", DEFINITIONS[p], True) for p in PHASES),
        Column("lead time p50 / p75 / p90", DEFINITIONS["lead_time"], True),
    ]
    window = f"Changes deployed in the {RECENT_DAYS} days to {fmt_date(df['deployed_at'].max())}."
    slowest = _slowest_changes(ctx, recent)
    return [
        filters(recent["team"], recent["service"]),
        Note(window + " Phase medians do not add up to the lead-time median."),
        Chart(
            "Where the time goes, per team",
            figure_html(fig, height=140 + 44 * len(summary)),
            DEFINITIONS["lead_time"],
        ),
        Table(
            "Lead time per team (the whole window)",
            columns,
            rows,
            anchor="per-team",
            row_data=[{"team": str(team)} for team in summary.index],
            noun="teams",
        ),
        slowest,
    ]


def source_link(
    ctx: PageContext, label: str, url: object, css: str = "source-link"
) -> Markup | str:
    """``label`` linked to the row's page in its source (an http(s) url from the data), else text."""
    if not ctx.link_sources or missing(url) or not str(url).startswith(("https://", "http://")):
        return label
    return Markup('<a class="{}" href="{}">{}</a>').format(css, str(url), label)


def pr_link(
    ctx: PageContext, repository: object, number: object, url: object = None
) -> Markup | str:
    """``owner/repo#123`` linked to the pull request: the row's own url (fct_changes.url), else the
    configured host's pattern (``pr_url``), else plain text."""
    if missing(repository) or missing(number):
        return "—"
    label = f"{repository}#{int(number)}"
    if (missing(url) or not url) and ctx.pr_url:
        url = ctx.pr_url.format(repository=repository, number=int(number))
    return source_link(ctx, label, url, css="pr-link")


def _slowest_changes(ctx: PageContext, recent: pd.DataFrame) -> Table:
    """Every change deployed in the window, slowest first: the rows behind lead time. Each row's day
    is its deployment's day in the configured time zone (the period the marts count it in)."""
    ordered = recent.sort_values("lead_time_hours", ascending=False, na_position="last")
    days = local_days(ordered["deployed_at"], ctx.timezone)
    return Table(
        f"Changes deployed in the window, slowest first (n = {len(ordered):,})",
        [
            Column("pull request"),
            Column("service"),
            Column("team"),
            Column("deployed (UTC)"),
            Column("lead time", DEFINITIONS["lead_time"], True),
            *(Column(p, DEFINITIONS[p], True) for p in PHASES),
        ],
        [
            [
                pr_link(ctx, r["repository"], r["pr_number"], r["url"]),
                fmt_cell(r["service"]),
                str(r["team"]),
                fmt_time(r["deployed_at"]),
                fmt_hours(r["lead_time_hours"]),
                *(fmt_hours(r[f"{p}_hours"]) for p in PHASES),
            ]
            for _, r in ordered.iterrows()
        ],
        anchor="changes",
        row_data=[
            {
                "team": attr_text(team),
                "service": attr_text(service),
                "day": day,
                "lead": text_value(lead),
            }
            for team, service, day, lead in zip(
                ordered["team"], ordered["service"], days, ordered["lead_time_hours"], strict=True
            )
        ],
        noun="changes",
        stats=(Stat("lead", "lead time p50", "p50"),),
    )


DEPLOYMENT_COLUMNS = [
    "deployment_id",
    "service",
    "team",
    "environment",
    "commit_sha",
    "deployed_at",
    "status",
    "n_changes",
    "is_failure",
    "failure_reason",
    "is_rework",
]
INCIDENT_COLUMNS = [
    "incident_id",
    "source",
    "service",
    "team",
    "severity",
    "started_at",
    "resolved_at",
    "recovery_hours",
    "deployment_id",
    "attribution",
    "url",
]


def build_deployments(ctx: PageContext) -> list[Block]:
    deployments = ctx.reader.frame(MARTS, "fct_deployments", DEPLOYMENT_COLUMNS)
    incidents = ctx.reader.frame(MARTS, "fct_incidents", INCIDENT_COLUMNS)
    deployments = deployments.assign(deployed_at=utc_naive(deployments["deployed_at"]))
    incidents = incidents.assign(started_at=utc_naive(incidents["started_at"]))
    deployments = deployments[deployments["deployed_at"].notna()]
    incidents = incidents[incidents["started_at"].notna()]
    if deployments.empty and incidents.empty:
        return [NoData("Deployments and incidents", f"{NO_DATA}: marts.fct_deployments is empty.")]
    end = max(s.max() for s in (deployments["deployed_at"], incidents["started_at"]) if not s.empty)
    since = end - pd.Timedelta(days=RECENT_DAYS)
    deployments = deployments[deployments["deployed_at"] > since].copy()
    incidents = incidents[incidents["started_at"] > since].copy()
    deployments["service"] = deployments["service"].fillna("(unknown)")
    incidents["service"] = incidents["service"].fillna("(unknown)")
    # The day each row counts in: deployments by their deployment, incidents by their resolution
    # (recovery time is a period's resolved incidents), in the configured time zone.
    deployments["day"] = local_days(deployments["deployed_at"], ctx.timezone).to_numpy()
    incidents["day"] = local_days(incidents["resolved_at"], ctx.timezone).to_numpy()
    failed_mask = deployments["is_failure"].fillna(False).astype(bool)
    failed = deployments[failed_mask]
    fig = go.Figure()
    # Incidents first (open diamonds) so a failed deployment's cross stays visible on top.
    fig.add_scatter(
        x=incidents["started_at"],
        y=incidents["service"],
        mode="markers",
        name="incident",
        marker={"color": INCIDENT_COLOUR, "symbol": "diamond-open", "size": 13, "line_width": 2},
        meta={"points": _points(incidents, "started_at", ctx.timezone)},
        customdata=incidents[["incident_id", "severity"]].astype(str).to_numpy(),
        hovertemplate="%{y}<br>%{x|%Y-%m-%d %H:%M}<br>%{customdata[0]} (%{customdata[1]})"
        "<extra>incident</extra>",
    )
    for part, name, colour, symbol in (
        (deployments[~failed_mask], "deployment", OK_COLOUR, "circle"),
        (failed, "failed deployment", FAIL_COLOUR, "x"),
    ):
        fig.add_scatter(
            x=part["deployed_at"],
            y=part["service"],
            mode="markers",
            name=name,
            marker={"color": colour, "symbol": symbol, "size": 10 if symbol == "x" else 6},
            meta={"points": _points(part, "deployed_at", ctx.timezone)},
            customdata=part[["deployment_id", "n_changes"]].astype(str).to_numpy(),
            hovertemplate="%{y}<br>%{x|%Y-%m-%d %H:%M}<br>%{customdata[0]}"
            "<br>%{customdata[1]} changes<extra>" + name + "</extra>",
        )
    services = max(deployments["service"].nunique(), incidents["service"].nunique(), 1)
    fig.update_layout(yaxis={"type": "category"})
    n_deploys, n_failed = len(deployments), int(failed_mask.sum())
    return [
        filters(
            [*deployments["team"], *incidents["team"]],
            [*deployments["service"], *incidents["service"]],
        ),
        Note(
            f"The {RECENT_DAYS} days to {fmt_date(end)}: {n_deploys:,} production deployments, "
            f"{n_failed:,} failed ({fmt_pct(n_failed / n_deploys) if n_deploys else '—'} of n = "
            f"{n_deploys:,}), {len(incidents):,} incidents."
        ),
        Chart(
            "Deployments timeline",
            figure_html(fig, height=180 + 44 * services),
            DEFINITIONS["change_failure_rate"],
        ),
        _deployments_table(deployments),
        _failed_table(failed),
        _incidents_table(ctx, incidents),
    ]


def _points(df: pd.DataFrame, at: str, timezone: str) -> dict[str, list[str]]:
    """Per-point team, service and day of a timeline trace (the filters redraw the matching ones);
    a point's day is its own instant's (``at``), so the chart shows what happened in the range."""
    return {
        "team": [attr_text(t) for t in df["team"]],
        "service": [attr_text(v) for v in df["service"]],
        "day": list(local_days(df[at], timezone)),
    }


def _deployment_data(df: pd.DataFrame) -> list[dict[str, str]]:
    return [
        {
            "team": attr_text(r["team"]),
            "service": attr_text(r["service"]),
            "day": str(r["day"]),
            "status": attr_text(r["status"]),
            "failed": flag(r["is_failure"]),
            "rework": flag(r["is_rework"]),
        }
        for _, r in df.iterrows()
    ]


def _deployments_table(deployments: pd.DataFrame) -> Table:
    """Every deployment attempt in the window, latest first: the rows behind deployment frequency
    (status success), change failure rate (failed / attempts) and rework rate."""
    shown = deployments.sort_values("deployed_at", ascending=False)
    return Table(
        f"Deployments (n = {len(shown):,} in the window)",
        [
            Column("deployed"),
            Column("service"),
            Column("team"),
            Column("deployment"),
            Column("status"),
            Column("changes", DEFINITIONS["n_changes"], True),
            Column("failed", DEFINITIONS["change_failure_rate"]),
            Column("rework", DEFINITIONS["rework_rate"]),
        ],
        [
            [
                fmt_time(r["deployed_at"]),
                str(r["service"]),
                fmt_cell(r["team"]),
                fmt_cell(r["deployment_id"]),
                fmt_cell(r["status"]),
                fmt_int(r["n_changes"]),
                _yes_no(r["is_failure"]),
                _yes_no(r["is_rework"]),
            ]
            for _, r in shown.iterrows()
        ],
        note="" if len(shown) else "No deployments in the window.",
        anchor="deployments",
        row_data=_deployment_data(shown),
        noun="deployments",
        stats=(Stat("failed", "failed", "share"), Stat("rework", "rework", "share")),
    )


def _yes_no(value: object) -> str:
    return "—" if missing(value) else ("yes" if bool(value) else "no")


def _failed_table(failed: pd.DataFrame) -> Table:
    """The failed deployments in the window, latest first: the rows behind change failure rate's
    numerator."""
    failed = failed.sort_values("deployed_at", ascending=False)
    return Table(
        f"Failed deployments (n = {len(failed):,} in the window)",
        [
            Column("deployed"),
            Column("service"),
            Column("team"),
            Column("deployment"),
            Column("changes", DEFINITIONS["n_changes"], True),
            Column("failure reason"),
        ],
        [
            [
                fmt_time(r["deployed_at"]),
                str(r["service"]),
                fmt_cell(r["team"]),
                fmt_cell(r["deployment_id"]),
                fmt_int(r["n_changes"]),
                fmt_cell(r["failure_reason"]),
            ]
            for _, r in failed.iterrows()
        ],
        note="" if len(failed) else "No failed deployments in the window.",
        anchor="failed-deployments",
        row_data=_deployment_data(failed),
        noun="failed deployments",
    )


def _incidents_table(ctx: PageContext, incidents: pd.DataFrame) -> Table:
    """The incidents that started in the window, latest first; a time range keeps those resolved
    in it (the rows behind recovery time, which counts an incident in its resolution's period)."""
    shown = incidents.sort_values("started_at", ascending=False)
    return Table(
        f"Incidents (n = {len(shown):,} in the window)",
        [
            Column("incident", DEFINITIONS["incident_link"]),
            Column("started"),
            Column("resolved", DEFINITIONS["resolved"]),
            Column("service"),
            Column("team"),
            Column("severity"),
            Column("recovery", DEFINITIONS["recovery_time"], True),
            Column("deployment"),
            Column("attribution"),
        ],
        [
            [
                source_link(ctx, fmt_cell(r["incident_id"]), r["url"]),
                fmt_time(r["started_at"]),
                fmt_time(r["resolved_at"]),
                str(r["service"]),
                fmt_cell(r["team"]),
                fmt_cell(r["severity"]),
                fmt_hours(r["recovery_hours"]),
                fmt_cell(r["deployment_id"]),
                fmt_cell(r["attribution"]),
            ]
            for _, r in shown.iterrows()
        ],
        note="" if len(shown) else "No incidents in the window.",
        anchor="incidents",
        row_data=[
            {
                "team": attr_text(r["team"]),
                "service": attr_text(r["service"]),
                "day": str(r["day"]),
                "recovery": text_value(r["recovery_hours"]),
            }
            for _, r in shown.iterrows()
        ],
        noun="incidents",
        stats=(Stat("recovery", "recovery time p50", "p50"),),
    )


def _check_blocks(ctx: PageContext) -> list[Block]:
    blocks: list[Block] = []
    if ctx.gate is not None:
        names = ", ".join(f"{c.asset} · {c.check}" for c in ctx.gate.failed) or "a blocking check"
        blocks.append(
            Note(
                f"Publishing gate failed at {fmt_time(ctx.gate.at)}: {names}. The site was not "
                f"refreshed: every other page is the previous build ({ctx.gate.previous_build}); "
                "the failed checks are listed below."
            )
        )
    if not ctx.checks:
        blocks.append(
            NoData(
                "Checks",
                f"{NO_DATA}: no check outcomes were passed to this build (run through Dagster).",
            )
        )
        return blocks
    failed = sorted(
        (c for c in ctx.checks if c.passed is False),
        key=lambda c: (not c.blocking, c.asset, c.check),
    )
    not_run = sorted((c for c in ctx.checks if c.passed is None), key=lambda c: (c.asset, c.check))
    passed = sorted((c for c in ctx.checks if c.passed), key=lambda c: (c.asset, c.check))
    blocking = sum(1 for c in failed if c.blocking)
    blocks.append(
        Note(
            f"Checks: {len(failed)} failed ({blocking} blocking), {len(passed)} passed, "
            f"{len(not_run)} not run yet, of n = {len(ctx.checks)}. A failed blocking check stops "
            "dbt and publishing; a failed warning is listed here and the site is still published."
        )
    )
    columns = [
        Column("result", DEFINITIONS["check_result"]),
        Column("asset"),
        Column("check"),
        Column("blocking", DEFINITIONS["check_blocking"]),
        Column("checked (UTC)"),
        Column("detail"),
    ]

    def rows(checks: list[CheckStatus]) -> list[list[str]]:
        return [
            [
                {True: "passed", False: "FAILED", None: "not run"}[c.passed],
                c.asset,
                c.check,
                "yes" if c.blocking else "no",
                fmt_time(c.checked_at),
                c.description,
            ]
            for c in checks
        ]

    if failed or not_run:
        blocks.append(
            Table(
                f"Failed and not run: {len(failed)} failed, {len(not_run)} not run",
                columns,
                rows(failed + not_run),
            )
        )
    if passed:
        blocks.append(
            Table(f"Passed checks (n = {len(passed)})", columns, rows(passed), folded=True)
        )
    return blocks


def sync_scope_label(scope: object, entity: object, cursor: object) -> str:
    """The scope as a reader knows it: a survey file (its cursor is keyed by the file's SHA-256) by
    its name, which names the wave (``2026-Q1.csv``)."""
    if str(entity) == SURVEY_FILE_ENTITY and not missing(cursor):
        return f"{cursor} (file {str(scope)[:8]})"
    return str(scope)


def build_data_quality(ctx: PageContext) -> list[Block]:
    reader = ctx.reader
    blocks: list[Block] = [*_sync_coverage(ctx), *_check_blocks(ctx)]
    raw_tables = [t for t in reader.tables(RAW) if t not in STATE_TABLES]
    if raw_tables:
        blocks.append(
            Table(
                "Rows per raw table",
                [Column("table"), Column("rows", DEFINITIONS["raw_rows"], True)],
                [[f"raw.{t}", fmt_int(reader.row_count(RAW, t))] for t in raw_tables],
            )
        )
    else:
        blocks.append(NoData("Rows per raw table", f"{NO_DATA}: the raw schema is empty."))
    if reader.row_count(RAW, "sync_state"):
        sync = reader.frame(
            RAW,
            "sync_state",
            ["source", "scope", "entity", "cursor", "items_total", "last_synced_at"],
        ).sort_values(["source", "scope", "entity"])
        blocks.append(
            Table(
                "Last sync per source / scope / entity",
                [
                    Column("source"),
                    Column("scope"),
                    Column("entity"),
                    Column("items synced", DEFINITIONS["items_synced"], True),
                    Column("last sync (UTC)", DEFINITIONS["last_sync"]),
                ],
                [
                    [
                        str(r["source"]),
                        sync_scope_label(r["scope"], r["entity"], r["cursor"]),
                        str(r["entity"]),
                        fmt_int(r["items_total"]),
                        fmt_time(r["last_synced_at"]),
                    ]
                    for _, r in sync.iterrows()
                ],
            )
        )
    else:
        blocks.append(NoData("Last sync", f"{NO_DATA}: raw.sync_state is empty."))
    mart_tables = reader.tables(MARTS)
    if mart_tables:
        blocks.append(
            Table(
                "Rows per mart table",
                [Column("table"), Column("rows", DEFINITIONS["mart_rows"], True)],
                [[f"marts.{t}", fmt_int(reader.row_count(MARTS, t))] for t in mart_tables],
            )
        )
    else:
        blocks.append(NoData("Rows per mart table", f"{NO_DATA}: the marts schema does not exist."))
    return blocks


PAGES: Sequence[Page] = (
    Page(
        "index.html",
        "Overview",
        "Overview",
        "Headline DORA numbers for the organisation, the success scorecard, deployments per week "
        "and data freshness.",
        build_overview,
    ),
    Page(
        "dora.html",
        "DORA",
        "DORA metrics per team",
        "Deployment frequency, change lead time, change failure rate, recovery time and rework.",
        build_dora,
    ),
    Page(
        "lead-time.html",
        "Lead time",
        "Lead time breakdown",
        "Where a change's lead time goes: coding, pickup, review and deploy.",
        build_lead_time,
    ),
    Page(
        "deployments.html",
        "Deployments",
        "Deployments and incidents",
        "Production deployments over time with failures marked, and the incidents beside them.",
        build_deployments,
    ),
    Page(
        "devex.html",
        "DevEx",
        "Developer experience",
        "Survey results per wave: DevEx index, cognitive load, satisfaction (anonymised), beside "
        "the objective cognitive-load signals per team.",
        build_devex,
    ),
    Page(
        "platform-value.html",
        "Platform value",
        "Platform value",
        "Adoption, golden-path share, self-service, time to first deployment and value (an "
        "estimate, with the assumptions it rests on).",
        build_platform_value,
    ),
    Page(
        "slos.html",
        "SLOs",
        "Service level objectives",
        "Attainment and error budget per SLO and period.",
        lambda ctx: build_slo_blocks(ctx.reader),
    ),
    Page(
        "data-quality.html",
        "Data quality",
        "Data quality",
        "What has landed and when: raw rows, sync cursors and mart sizes.",
        build_data_quality,
    ),
)
