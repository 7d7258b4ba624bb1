"""The lead-time page: where a change's lead time goes per team, and every change deployed in the
window, slowest first (the rows behind the lead-time headline).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboards.blocks import (
    Block,
    Chart,
    Column,
    NoData,
    Note,
    Stat,
    Table,
    figure_html,
    fmt_cell,
    fmt_date,
    fmt_hours,
    fmt_int,
    fmt_time,
    local_days,
    text_value,
    utc_naive,
)
from dashboards.context import MARTS, NO_DATA, RECENT_DAYS, PageContext
from dashboards.definitions import DEFINITIONS
from dashboards.links import pr_link
from dashboards.rows import attr_text, filters

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
