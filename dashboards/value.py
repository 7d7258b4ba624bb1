"""The platform-value page: adoption, golden path, onboarding, self-service and the value model.

Reads ``marts.metrics_platform_value`` (one row per month), ``metrics_platform_adoption`` (per
month and capability), ``fct_service_onboarding`` and ``metrics_platform_time_saved``. Money is an
estimate, so the page prints the assumptions it rests on (rate, attribution, working weeks,
baseline, currency and the ``assumptions`` JSON) right beside it, and every null says why
(the mart's ``notes``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

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
    count,
    figure_html,
    fmt_cell,
    fmt_date,
    fmt_hours,
    fmt_int,
    fmt_pct,
    fmt_time,
    missing,
    utc_naive,
)
from dashboards.definitions import DEFINITIONS
from dashboards.periods import PALETTE, add_running_segment, complete_periods, running_periods

if TYPE_CHECKING:
    from dashboards.context import PageContext

MARTS = "marts"
NO_DATA = "No data yet"
VALUE = "metrics_platform_value"
ADOPTION = "metrics_platform_adoption"
ONBOARDING = "fct_service_onboarding"
TIME_SAVED = "metrics_platform_time_saved"
ONBOARDING_ROWS = 50
MONTH_AXIS = {"dtick": "M1", "tickformat": "%b %Y"}
RUNNING = ' (the running month dotted, "so far")'

VALUE_COLUMNS = [
    "month",
    "eligible_services",
    "adopting_services",
    "adoption_rate",
    "deployments",
    "golden_path_deployments",
    "golden_path_share",
    "services_created",
    "services_first_deployed",
    "time_to_first_deployment_p50_minutes",
    "self_service_requests",
    "self_service_automated",
    "self_service_ratio",
    "hours_saved",
    "time_saved_value",
    "developers",
    "survey_wave",
    "hours_lost_per_week",
    "friction_hours",
    "friction_cost",
    "platform_cost",
    "value_to_cost_ratio",
    "roi",
    "payback_months",
    "investment",
    "currency",
    "hourly_rate",
    "attribution_factor",
    "working_weeks_per_month",
    "baseline_start",
    "baseline_end",
    "assumptions",
    "notes",
    "is_complete",
]
# The prefixes of the mart's `notes` and the card each explains.
NOTE_KEYS = {
    "adoption": "adoption",
    "golden": "golden path",
    "ttfd": "time to first deployment",
    "self_service": "self-service",
    "time_saved": "time saved",
    "value": "value",
    "friction": "friction",
    "cost": "cost",
    "payback": "payback",
}


# ------------------------------------------------------------------------------------ formatting
def _num(value: Any) -> float | None:
    return None if missing(value) else float(value)


def _money(value: Any, currency: str | None) -> str:
    if missing(value):
        return "—"
    amount = f"{float(value):,.0f}"
    return f"{currency} {amount}" if currency else amount


def _minutes(value: Any) -> str:
    return "—" if missing(value) else fmt_hours(float(value) / 60)


def _per_unit(hours: Any) -> str:
    """Hours per unit of a task; under a minute in seconds (a CI queue wait)."""
    if missing(hours):
        return "—"
    h = float(hours)
    return f"{h * 3600:.0f} s" if abs(h) < 1 / 60 else fmt_hours(h)


def _notes(row: pd.Series) -> dict[str, list[str]]:
    """The month's notes by topic: ``{"self-service": ["not configured (platform.self_service)"]}``."""
    out: dict[str, list[str]] = {}
    text = "" if missing(row["notes"]) else str(row["notes"])
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        topic, _, why = part.partition(":")
        out.setdefault(topic.strip(), []).append(why.strip() or part)
    return out


def _why(notes: dict[str, list[str]], key: str, fallback: str) -> str:
    reasons = notes.get(NOTE_KEYS[key])
    return "; ".join(reasons) if reasons else fallback


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """The assumptions JSON as readable (name, value) lines; lists of plain values joined."""
    if isinstance(value, dict):
        if not value:
            return [(prefix or "(none)", "—")]
        rows: list[tuple[str, str]] = []
        for key, item in value.items():
            rows += _flatten(item, f"{prefix}.{key}" if prefix else str(key))
        return rows
    if isinstance(value, list):
        if not value:
            return [(prefix, "none")]
        if all(not isinstance(v, dict | list) for v in value):
            return [(prefix, ", ".join(_plain(v) for v in value))]
        rows = []
        for i, item in enumerate(value, start=1):
            name = item.get("name") if isinstance(item, dict) else None
            if name is not None:  # the name is the index; do not repeat it as a line
                item = {k: v for k, v in item.items() if k != "name"}
            rows += _flatten(item, f"{prefix}[{name or i}]")
        return rows
    return [(prefix, _plain(value))]


def _plain(value: Any) -> str:
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value == "":
        return "not set"
    return str(value)


# ------------------------------------------------------------------------------------------- data
def read_value(ctx: PageContext) -> pd.DataFrame:
    df = ctx.reader.frame(MARTS, VALUE, VALUE_COLUMNS)
    if df.empty:
        return df
    df = df.assign(month=utc_naive(df["month"]))
    return df[df["month"].notna()].sort_values("month")


def _complete_months(df: pd.DataFrame, ctx: PageContext) -> pd.DataFrame:
    return complete_periods(df, "month", ctx.now.date(), start="month")


def _running_months(df: pd.DataFrame, ctx: PageContext) -> pd.DataFrame:
    return running_periods(df, "month", ctx.now.date(), start="month")


# ------------------------------------------------------------------------------------------ page
def build_platform_value(ctx: PageContext) -> list[Block]:
    df = read_value(ctx)
    if df.empty:
        blocks: list[Block] = [
            NoData("Platform value", f"{NO_DATA}: marts.{VALUE} has not been built or is empty.")
        ]
        blocks.append(_onboarding_table(ctx))
        return blocks
    complete = _complete_months(df, ctx)
    if complete.empty:
        return [
            NoData("Platform value", f"{NO_DATA}: no complete month in marts.{VALUE}."),
            _onboarding_table(ctx),
        ]
    row = complete.iloc[-1]
    month = row["month"]
    notes = _notes(row)
    blocks = [
        _delivery_cards(row, notes, complete),
        _adoption_chart(ctx, df),
        _shares_chart(ctx, df),
        _onboarding_table(ctx),
        Note(
            "Value is an estimate, not a measurement: the money below rests on the assumptions "
            "printed beside it (hourly rate, attribution factor, working weeks, baseline period, "
            "currency). Change an assumption and the value changes with it."
        ),
        _value_cards(row),
        _assumptions_table(row),
        _time_saved_table(ctx, month, row),
    ]
    if any(notes.values()):
        blocks.append(
            Table(
                f"Notes on {month:%B %Y}: why a number is missing or partial",
                [Column("what"), Column("why")],
                [[topic, "; ".join(reasons)] for topic, reasons in notes.items()],
            )
        )
    return blocks


def latest_onboarding(complete: pd.DataFrame) -> pd.Series | None:
    """The latest complete month with a time to first deployment (the scorecard's rule too)."""
    if complete.empty:
        return None
    measured = complete[complete["time_to_first_deployment_p50_minutes"].notna()]
    return None if measured.empty else measured.iloc[-1]


def _delivery_cards(
    row: pd.Series, notes: dict[str, list[str]], complete: pd.DataFrame | None = None
) -> Cards:
    eligible, deployments = count(row["eligible_services"]), count(row["deployments"])
    created = count(row["services_created"])
    deployed = (
        created
        if missing(row["services_first_deployed"])
        else count(row["services_first_deployed"])
    )
    requests = row["self_service_requests"]
    cards = [
        Card(
            "Platform adoption",
            fmt_pct(row["adoption_rate"]),
            f"{fmt_int(row['adopting_services'])} of n = {eligible:,} eligible services"
            if not missing(row["adoption_rate"])
            else _why(notes, "adoption", f"n = {eligible:,} eligible services"),
            DEFINITIONS["adoption_rate"],
        ),
        Card(
            "Golden-path share",
            fmt_pct(row["golden_path_share"]),
            f"{fmt_int(row['golden_path_deployments'])} of n = {deployments:,} deployments"
            if not missing(row["golden_path_share"])
            else _why(notes, "golden", f"n = {deployments:,} deployments"),
            DEFINITIONS["golden_path_share"],
        ),
        _onboarding_card(row, notes, complete, created, deployed),
        Card(
            "Self-service ratio",
            fmt_pct(row["self_service_ratio"]),
            f"{fmt_int(row['self_service_automated'])} automated of n = {fmt_int(requests)} "
            "requests"
            if not missing(row["self_service_ratio"])
            else _why(notes, "self_service", "no requests"),
            DEFINITIONS["self_service_ratio"],
        ),
    ]
    return Cards(f"Latest complete month: {row['month']:%B %Y}", cards)


def _onboarding_card(
    row: pd.Series,
    notes: dict[str, list[str]],
    complete: pd.DataFrame | None,
    created: int,
    deployed: int,
) -> Card:
    """Time to first deployment in the latest complete month; when no service was created in
    it, the latest month that has one, flagged stale with its month (as the scorecard shows it)."""
    title, definition = "Time to first deployment p50", DEFINITIONS["time_to_first_deployment"]
    value = row["time_to_first_deployment_p50_minutes"]
    if not missing(value):
        return Card(
            title,
            _minutes(value),
            f"n = {deployed:,} of {created:,} new services deployed",
            definition,
        )
    older = latest_onboarding(complete) if complete is not None else None
    why = _why(notes, "ttfd", f"n = {created:,} new services")
    if older is None:
        return Card(title, _minutes(value), why, definition)
    return Card(
        title,
        _minutes(older["time_to_first_deployment_p50_minutes"]),
        f"{older['month']:%Y-%m}, stale: no new service deployed since "
        f"(n = {count(older['services_first_deployed']):,} services then)",
        definition,
    )


def _adoption_chart(ctx: PageContext, months: pd.DataFrame) -> Block:
    title = "Adoption per capability per month"
    adoption = ctx.reader.frame(
        MARTS,
        ADOPTION,
        [
            "month",
            "capability",
            "description",
            "eligible_services",
            "adopting_services",
            "adoption_rate",
            "is_complete",
        ],
    )
    adoption = adoption.assign(month=utc_naive(adoption["month"]))
    adoption = adoption[adoption["month"].notna() & adoption["adoption_rate"].notna()]
    overall = months[months["adoption_rate"].notna()]
    if adoption.empty and overall.empty:
        reasons = {r for _, m in months.iterrows() for r in _notes(m).get("adoption", [])}
        why = "; ".join(sorted(reasons)) or "no capability adoption recorded"
        return NoData(title, f"{NO_DATA}: {why}.")
    fig = go.Figure()
    groups = adoption.sort_values("month").groupby("capability", sort=True)
    for i, (capability, whole) in enumerate(groups):
        description = whole["description"].dropna()
        label = str(capability)
        colour = PALETTE[i % len(PALETTE)]
        part = _complete_months(whole, ctx)
        add_running_segment(
            fig,
            part,
            _running_months(whole, ctx),
            "month",
            "adoption_rate",
            name=label,
            grain="month",
            colour=colour,
            scale=100,
        )
        fig.add_scatter(
            x=part["month"],
            y=part["adoption_rate"].astype("float64") * 100,
            mode="lines+markers",
            name=label,
            legendgroup=label,
            line_color=colour,
            customdata=part[["adopting_services", "eligible_services"]].astype(str).to_numpy(),
            hovertemplate=f"{label}<br>%{{x|%Y-%m}}: %{{y:.1f}}%<br>%{{customdata[0]}} of "
            "n = %{customdata[1]} services<extra>"
            + (str(description.iloc[0])[:60] if len(description) else "")
            + "</extra>",
        )
    if not overall.empty:
        add_running_segment(
            fig,
            _complete_months(overall, ctx),
            _running_months(overall, ctx),
            "month",
            "adoption_rate",
            name="any capability",
            grain="month",
            colour="#1f2933",
            scale=100,
        )
        overall = _complete_months(overall, ctx)
        fig.add_scatter(
            x=overall["month"],
            y=overall["adoption_rate"].astype("float64") * 100,
            mode="lines+markers",
            name="any capability",
            line={"dash": "dash", "color": "#1f2933"},
            customdata=overall[["adopting_services", "eligible_services"]].astype(str).to_numpy(),
            hovertemplate="any capability<br>%{x|%Y-%m}: %{y:.1f}%<br>%{customdata[0]} of "
            "n = %{customdata[1]} services<extra></extra>",
        )
    fig.update_layout(
        yaxis={"title": "% of eligible services", "range": [0, 105]}, xaxis=MONTH_AXIS
    )
    return Chart(title + RUNNING, figure_html(fig, height=320), DEFINITIONS["capability"])


def _shares_chart(ctx: PageContext, months: pd.DataFrame) -> Block:
    title = "Golden-path share and self-service ratio per month"
    series = [
        (
            "golden_path_share",
            "golden-path share",
            "golden_path_deployments",
            "deployments",
            "deployments",
        ),
        (
            "self_service_ratio",
            "self-service ratio",
            "self_service_automated",
            "self_service_requests",
            "requests",
        ),
    ]
    if all(months[column].isna().all() for column, *_ in series):
        reasons = {
            r
            for _, m in months.iterrows()
            for key in ("golden path", "self-service")
            for r in _notes(m).get(key, [])
        }
        why = "; ".join(sorted(reasons)) or "no golden-path capability and no self-service requests"
        return NoData(title, f"{NO_DATA}: {why}.")
    fig = go.Figure()
    for i, (column, label, part, whole, unit) in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        shown = months[months[column].notna()]
        if shown.empty:
            continue
        running = _running_months(shown, ctx)
        shown = _complete_months(shown, ctx)
        add_running_segment(
            fig,
            shown,
            running,
            "month",
            column,
            name=label,
            grain="month",
            colour=colour,
            scale=100,
        )
        fig.add_scatter(
            legendgroup=label,
            line_color=colour,
            x=shown["month"],
            y=shown[column].astype("float64") * 100,
            mode="lines+markers",
            name=label,
            customdata=shown[[part, whole]].astype(str).to_numpy(),
            hovertemplate=f"{label}<br>%{{x|%Y-%m}}: %{{y:.1f}}%<br>%{{customdata[0]}} of "
            f"n = %{{customdata[1]}} {unit}<extra></extra>",
        )
    fig.update_layout(yaxis={"title": "%", "range": [0, 105]}, xaxis=MONTH_AXIS)
    return Chart(title + RUNNING, figure_html(fig, height=300), DEFINITIONS["golden_path_share"])


def _onboarding_table(ctx: PageContext) -> Block:
    title = "New services: time to first deployment"
    df = ctx.reader.frame(
        MARTS,
        ONBOARDING,
        [
            "service",
            "team",
            "repository",
            "created_at",
            "first_deployed_at",
            "time_to_first_deployment_minutes",
            "created_month",
        ],
    )
    if df.empty:
        return NoData(title, f"{NO_DATA}: marts.{ONBOARDING} is empty or not built.")
    df = df.assign(created_at=utc_naive(df["created_at"]))
    ordered = df.sort_values("created_at", ascending=False, na_position="last")
    shown = ordered.head(ONBOARDING_ROWS)
    minutes = pd.to_numeric(df["time_to_first_deployment_minutes"], errors="coerce").dropna()
    median = fmt_hours(minutes.median() / 60) if len(minutes) else "—"
    return Table(
        f"{title} (latest {len(shown)} of n = {len(df):,} services; median {median} over "
        f"n = {len(minutes):,} deployed)",
        [
            Column("service"),
            Column("team"),
            Column("repository"),
            Column("created (UTC)"),
            Column("first deployed (UTC)"),
            Column("time to first deployment", DEFINITIONS["time_to_first_deployment"], True),
        ],
        [
            [
                fmt_cell(r["service"]),
                fmt_cell(r["team"]),
                fmt_cell(r["repository"]),
                fmt_time(r["created_at"]),
                fmt_time(r["first_deployed_at"])
                if not missing(r["first_deployed_at"])
                else "not deployed yet",
                _minutes(r["time_to_first_deployment_minutes"]),
            ]
            for _, r in shown.iterrows()
        ],
    )


def _value_cards(row: pd.Series) -> Cards:
    currency = None if missing(row["currency"]) else str(row["currency"])
    notes = _notes(row)
    hours = row["hours_saved"]
    cards = [
        Card(
            "Time-saved value",
            _money(row["time_saved_value"], currency),
            f"from {fmt_cell(round(float(hours))) if not missing(hours) else '—'} hours saved"
            if not missing(row["time_saved_value"])
            else _why(notes, "value", _why(notes, "time_saved", "not computed")),
            DEFINITIONS["time_saved_value"],
        ),
        Card(
            "Friction cost",
            _money(row["friction_cost"], currency),
            (
                f"{fmt_int(row['friction_hours'])} h = {fmt_cell(_num(row['hours_lost_per_week']))}"
                f" h/week x n = {fmt_int(row['developers'])} developers (wave "
                f"{fmt_cell(row['survey_wave'])})"
            )
            if not missing(row["friction_cost"])
            else _why(notes, "friction", _why(notes, "value", "not computed")),
            DEFINITIONS["friction_cost"],
        ),
        Card(
            "Platform cost",
            _money(row["platform_cost"], currency),
            "per month, configured"
            if not missing(row["platform_cost"])
            else _why(notes, "cost", "not configured"),
            DEFINITIONS["platform_cost"],
        ),
        Card(
            "Value-to-cost ratio",
            "—"
            if missing(row["value_to_cost_ratio"])
            else f"{float(row['value_to_cost_ratio']):.2f}x",
            "time-saved value / platform cost"
            if not missing(row["value_to_cost_ratio"])
            else _why(notes, "cost", _why(notes, "value", "not computed")),
            DEFINITIONS["value_to_cost_ratio"],
        ),
        Card(
            "ROI",
            fmt_pct(row["roi"]),
            "(value - cost) / cost"
            if not missing(row["roi"])
            else _why(notes, "cost", _why(notes, "value", "not computed")),
            DEFINITIONS["roi"],
        ),
        Card(
            "Payback",
            "—" if missing(row["payback_months"]) else f"{float(row['payback_months']):.1f} months",
            f"investment {_money(row['investment'], currency)} / monthly value"
            if not missing(row["payback_months"])
            else _why(notes, "payback", "not computed"),
            DEFINITIONS["payback_months"],
        ),
    ]
    return Cards(f"Value model (an estimate), {row['month']:%B %Y}", cards)


def _assumptions_table(row: pd.Series) -> Table:
    currency = None if missing(row["currency"]) else str(row["currency"])
    rate = row["hourly_rate"]
    lines = [
        ["currency", currency or "not set"],
        [
            "loaded hourly rate",
            "not set" if missing(rate) else _money(rate, currency) + " per hour",
        ],
        [
            "attribution factor",
            "not set"
            if missing(row["attribution_factor"])
            else f"{float(row['attribution_factor']):.2f} (share of the time saved credited to the platform)",
        ],
        [
            "working weeks per month",
            "not set"
            if missing(row["working_weeks_per_month"])
            else f"{float(row['working_weeks_per_month']):.2f}",
        ],
        [
            "baseline period",
            f"{fmt_date(row['baseline_start'])} to {fmt_date(row['baseline_end'])}",
        ],
        ["developers", fmt_int(row["developers"])],
        [
            "hours lost per developer per week",
            "—"
            if missing(row["hours_lost_per_week"])
            else f"{float(row['hours_lost_per_week']):.2f} (survey wave {fmt_cell(row['survey_wave'])})",
        ],
    ]
    raw = None if missing(row["assumptions"]) else str(row["assumptions"])
    parsed: Any = None
    if raw:
        try:
            parsed = json.loads(raw)
        except ValueError:
            lines.append(["assumptions (as recorded)", raw])
    if parsed is not None:
        lines += [[f"assumptions: {name}", value] for name, value in _flatten(parsed)]
    return Table(
        f"Assumptions behind the value for {row['month']:%B %Y}",
        [Column("assumption"), Column("value")],
        lines,
        note="From the configuration's platform section, as recorded in "
        f"marts.{VALUE}.assumptions for this month.",
    )


def _time_saved_table(ctx: PageContext, month: pd.Timestamp, row: pd.Series) -> Block:
    title = f"Time saved per task, {month:%B %Y}"
    df = ctx.reader.frame(
        MARTS,
        TIME_SAVED,
        [
            "month",
            "task",
            "unit",
            "baseline_hours",
            "current_hours",
            "volume",
            "hours_saved",
            "value",
            "notes",
        ],
    )
    if df.empty:
        return NoData(title, f"{NO_DATA}: marts.{TIME_SAVED} is empty or not built.")
    df = df.assign(month=utc_naive(df["month"]))
    df = df[df["month"] == month].sort_values("task")
    if df.empty:
        return NoData(title, f"{NO_DATA}: no task rows for {month:%Y-%m} in marts.{TIME_SAVED}.")
    currency = None if missing(row["currency"]) else str(row["currency"])
    return Table(
        title,
        [
            Column("task"),
            Column("unit"),
            Column("baseline per unit", DEFINITIONS["baseline_per_unit"], True),
            Column("this month per unit", DEFINITIONS["month_per_unit"], True),
            Column("units (n)", DEFINITIONS["units"], True),
            Column("hours saved", DEFINITIONS["hours_saved"], True),
            Column("value", DEFINITIONS["time_saved_value"], True),
            Column("note"),
        ],
        [
            [
                fmt_cell(r["task"]),
                fmt_cell(r["unit"]),
                _per_unit(r["baseline_hours"]),
                _per_unit(r["current_hours"]),
                fmt_int(r["volume"]),
                "—" if missing(r["hours_saved"]) else f"{float(r['hours_saved']):,.1f} h",
                _money(r["value"], currency),
                fmt_cell(r["notes"]),
            ]
            for _, r in df.iterrows()
        ],
    )
