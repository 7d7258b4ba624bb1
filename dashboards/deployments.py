"""The deployments page: a timeline of deployments, failures and incidents, and the rows behind the
delivery headlines (every deployment, the failed ones, the incidents), each filterable.
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
    fmt_pct,
    fmt_time,
    local_days,
    missing,
    text_value,
    utc_naive,
)
from dashboards.context import MARTS, NO_DATA, RECENT_DAYS, PageContext
from dashboards.definitions import DEFINITIONS
from dashboards.links import source_link
from dashboards.periods import (
    FAIL_COLOUR,
    INCIDENT_COLOUR,
    OK_COLOUR,
)
from dashboards.rows import attr_text, filters, flag

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
