"""The overview: the organisation's latest complete week and month (cards that link to the rows
behind them and show their change), team views, the success scorecard, deployments per week and
data freshness.
"""

from __future__ import annotations

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
    Table,
    count,
    figure_html,
    fmt_date,
    fmt_hours,
    fmt_int,
    fmt_pct,
    fmt_time,
    missing,
)
from dashboards.context import MARTS, NO_DATA, RAW, PageContext
from dashboards.data_quality import sync_coverage_notes
from dashboards.definitions import DEFINITIONS
from dashboards.dora import complete_rows, dora_frame
from dashboards.headlines import METRICS, Headline, card_change
from dashboards.periods import (
    FAIL_COLOUR,
    GRAIN_OFFSETS,
    OK_COLOUR,
    add_running_bar,
    complete_periods,
    running_periods,
)
from dashboards.rows import (
    DEPLOYMENTS_PAGE,
    DORA_PAGE,
    LEAD_TIME_PAGE,
    names,
    period_link,
    view_link,
)
from dashboards.scorecard import scorecard_block

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
    df = dora_frame(ctx, grain)
    org = df[df["scope"] == "org"] if not df.empty else df
    complete = complete_rows(org, grain, ctx.now.date()) if not org.empty else org
    if complete.empty:
        return NoData(f"Latest complete {label}", f"{NO_DATA}: no complete {label} of org metrics.")
    row = complete.iloc[-1]
    start = row["period_start"]
    title = f"Latest complete {label}: {label} of {fmt_date(start)}"
    previous = _previous(complete, row, grain)
    return Cards(title, _dora_cards(row, ctx.min_sample, grain, previous))


def _team_views(ctx: PageContext) -> list[Block]:
    """Links from the overview to each team's filtered DORA view."""
    weekly = dora_frame(ctx, "week")
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
        *sync_coverage_notes(ctx),
        _headline(ctx, "week"),
        _headline(ctx, "month"),
        *_team_views(ctx),
        scorecard_block(ctx.reader, ctx.now.date()),
    ]
    weekly = dora_frame(ctx, "week")
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
