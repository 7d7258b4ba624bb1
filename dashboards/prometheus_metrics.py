"""The headline metrics as Prometheus metric families: one definition, two outlets.

The published ``metrics.prom`` (written beside the site) and the exporter service
(``platform-metrics exporter``, dashboards/exporter.py) both expose :func:`metric_families` of one
warehouse (for the exporter: the analysts' snapshot, never the live file).

Series are stable, so Prometheus keeps one time series per thing measured rather than a new one per
week or level change:
- no label carries a date or a free-form value: the period a number covers is a value of its own
  (``..._period_start_timestamp_seconds``), and ``window`` takes a fixed set of values
  (``week``/``month`` for DORA; the SLO's own ``rolling_28d``/``month``/``quarter``);
- a level is a number (``dora_level``: 4 elite, 3 high, 2 medium, 1 low, 0 insufficient data) plus a
  state set (``..._state{level="elite"} 1``, one series per possible level, the others 0), the label
  values from a fixed set without spaces;
- names follow Prometheus conventions: base units (``_seconds``), ratios as ``_ratio`` in 0-1.

Only complete periods are shown for DORA and platform value (a week or month still running would
read as a collapse); SLOs show their own current window (what an operator watches), and developer
experience the latest survey wave's published groups only: a group under the anonymity threshold
never appears. A missing value is left out rather than written as NaN.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Iterator
from typing import Any

import pandas as pd
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from dashboards.blocks import missing, utc_naive
from dashboards.marts import WarehouseReader
from dashboards.periods import complete_periods

PREFIX = "platform_metrics"
MARTS = "marts"
RAW = "raw"

#: Numeric value of each DORA level; the state-set label takes these names.
LEVEL_VALUES = {"elite": 4, "high": 3, "medium": 2, "low": 1, "insufficient_data": 0}
SCORECARD_STATUSES = ("met", "at_risk", "missed", "no_data")

# (metric name, mart column, scale to base units, help)
DORA_SERIES = (
    ("dora_deployments", "deployments", 1, "Successful production deployments in the period."),
    ("dora_dates_with_deployment", "deploy_days", 1, "Days in the period with a production deployment."),
    ("dora_changes", "n_changes", 1, "Changes deployed in the period (lead-time sample size)."),
    ("dora_lead_time_p50_seconds", "lead_time_p50_hours", 3600, "Change lead time, median."),
    ("dora_lead_time_p90_seconds", "lead_time_p90_hours", 3600, "Change lead time, 90th percentile."),
    ("dora_change_failure_ratio", "change_failure_rate", 1, "Failed deployments / deployments."),
    ("dora_failed_deployments", "n_failed_deployments", 1, "Deployments that caused a failure."),
    ("dora_recovery_time_p50_seconds", "recovery_time_p50_hours", 3600,
     "Failed deployment recovery time, median."),
    ("dora_incidents", "n_incidents", 1, "Incidents behind the recovery time."),
    ("dora_rework_ratio", "rework_rate", 1, "Unplanned deployments caused by an incident / deployments."),
)  # fmt: skip
DORA_LEVEL_KEYS = (
    ("overall", "performance_level"),
    ("deployment_frequency", "deployment_frequency_level"),
    ("lead_time", "lead_time_level"),
    ("change_failure", "change_failure_level"),
    ("recovery", "recovery_level"),
)
DORA_GRAINS = (("week", "metrics_dora_weekly"), ("month", "metrics_dora_monthly"))

SLO_SERIES = (
    ("slo_attainment_ratio", "attainment", "Good / total units in the SLO's current window."),
    ("slo_objective_ratio", "target", "The SLO's objective (target attainment)."),
    ("slo_error_budget_remaining_ratio", "budget_remaining", "Share of the error budget left (negative: overspent)."),
    ("slo_burn_rate", "burn_rate", "Error ratio of the last 24 hours / (1 - objective)."),
)  # fmt: skip

DEVEX_SERIES = (
    ("devex_index", "devex_index", 1, "DevEx index of the latest wave (0-100)."),
    ("devex_satisfaction_mean", "satisfaction_mean", 1, "Mean satisfaction, 1-5."),
    ("devex_platform_nps", "platform_nps", 1, "Platform net promoter score, -100 to 100."),
    ("devex_cognitive_load_index", "cognitive_load_index", 1, "Cognitive load index (0-100, lower is lighter)."),
    ("devex_response_ratio", "response_rate", 1, "Respondents / invited."),
    ("devex_respondents", "respondents", 1, "Respondents in the group."),
    ("devex_time_lost_per_week_seconds", "hours_lost_per_week", 3600, "Time lost to friction per developer and week."),
)  # fmt: skip
DEVEX_CONSTRUCTS = (
    "feedback_loops",
    "flow",
    "intrinsic_load",
    "extraneous_load",
    "germane_load",
    "team_scope",
    "platform_experience",
    "satisfaction",
)

PLATFORM_VALUE_SERIES = (
    ("platform_adoption_ratio", "adoption_rate", 1, "Eligible services that adopted the platform."),
    ("platform_golden_path_share_ratio", "golden_path_share", 1, "Deployments through the golden path / deployments."),
    ("platform_self_service_ratio", "self_service_ratio", 1, "Self-service requests automated end to end."),
    ("platform_time_to_first_deployment_p50_seconds", "time_to_first_deployment_p50_minutes", 60,
     "New service's time to first production deployment, median."),
    ("platform_time_saved_seconds", "hours_saved", 3600, "Time the platform saved in the month."),
    ("platform_value_to_cost_ratio", "value_to_cost_ratio", 1, "Value of time saved / platform cost."),
)  # fmt: skip


def slug(value: Any) -> str:
    """A label value from a fixed vocabulary: lower case, words joined by underscores."""
    return re.sub(r"[^a-z0-9]+", "_", str(value).strip().lower()).strip("_")


def _number(value: Any, scale: float = 1) -> float | None:
    if missing(value):
        return None
    try:
        v = float(value) * scale
    except (TypeError, ValueError):
        return None
    return None if math.isinf(v) or math.isnan(v) else v


def _timestamp(value: Any) -> float | None:
    if missing(value):
        return None
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return ts.timestamp()


class _Families:
    """Gauge families by name, created on first use, emitted in a stable order."""

    def __init__(self) -> None:
        self._families: dict[str, GaugeMetricFamily] = {}

    def add(self, name: str, help_text: str, labels: dict[str, str], value: float | None) -> None:
        if value is None:
            return
        full = f"{PREFIX}_{name}"
        family = self._families.get(full)
        if family is None:
            family = GaugeMetricFamily(full, help_text, labels=list(labels))
            self._families[full] = family
        family.add_metric([str(v) for v in labels.values()], value)

    def __iter__(self) -> Iterator[Metric]:
        return iter(self._families[name] for name in sorted(self._families))


def _dora(out: _Families, reader: WarehouseReader, today: dt.date) -> None:
    columns = ["period_start", "scope", "scope_name", "is_complete"]
    columns += [c for _, c, _, _ in DORA_SERIES] + [c for _, c in DORA_LEVEL_KEYS]
    for grain, table in DORA_GRAINS:
        df = reader.frame(MARTS, table, columns)
        df = df[df["period_start"].notna()]
        if df.empty:
            continue
        df = complete_periods(df.assign(period_start=utc_naive(df["period_start"])), grain, today)
        latest = df.sort_values("period_start").groupby(["scope", "scope_name"]).tail(1)
        for _, row in latest.sort_values(["scope", "scope_name"]).iterrows():
            labels = {"window": grain, "scope": str(row["scope"]), "name": str(row["scope_name"])}
            out.add(
                "dora_period_start_timestamp_seconds",
                "Start of the latest complete period the DORA values cover.",
                labels,
                _timestamp(row["period_start"]),
            )
            for name, column, scale, text in DORA_SERIES:
                out.add(
                    name, f"{text} Latest complete period.", labels, _number(row[column], scale)
                )
            for key, column in DORA_LEVEL_KEYS:
                level = slug(row[column]) if not missing(row[column]) else "insufficient_data"
                out.add(
                    "dora_level",
                    "DORA benchmark level: 4 elite, 3 high, 2 medium, 1 low, 0 insufficient data.",
                    {**labels, "key": key},
                    float(LEVEL_VALUES.get(level, 0)),
                )
            overall = row["performance_level"]
            current = slug(overall) if not missing(overall) else "insufficient_data"
            for level in LEVEL_VALUES:
                out.add(
                    "dora_level_state",
                    "1 for the overall DORA level the scope is at, 0 for the others.",
                    {**labels, "level": level},
                    1.0 if level == current else 0.0,
                )


def _slos(out: _Families, reader: WarehouseReader) -> None:
    periods = reader.frame(
        MARTS,
        "metrics_slo_period",
        ["slo", "period_kind", "period_start", "is_slo_window", "met"]
        + [c for _, c, _ in SLO_SERIES],
    )
    own = periods[periods["is_slo_window"] == True]  # noqa: E712 - pandas element-wise
    if own.empty:
        return
    services = reader.frame(RAW, "slo_definitions", ["slo", "service"])
    service_of = {
        r.slo: ("" if missing(r.service) else str(r.service)) for r in services.itertuples()
    }
    current = own.sort_values("period_start").groupby("slo").tail(1).sort_values("slo")
    for _, row in current.iterrows():
        labels = {
            "slo": str(row["slo"]),
            "service": service_of.get(row["slo"], ""),
            "window": slug(row["period_kind"]),
        }
        out.add(
            "slo_window_start_timestamp_seconds",
            "Start of the SLO's current window.",
            labels,
            _timestamp(row["period_start"]),
        )
        for name, column, text in SLO_SERIES:
            out.add(name, text, labels, _number(row[column]))
        met = row["met"]
        out.add(
            "slo_met",
            "1 when the SLO meets its objective in the current window so far, else 0.",
            labels,
            None if missing(met) else float(bool(met)),
        )


def _devex(out: _Families, reader: WarehouseReader) -> None:
    columns = ["wave", "wave_closed_at", "group_type", "group_value", "suppressed"]
    columns += [c for _, c, _, _ in DEVEX_SERIES]
    columns += [f"{construct}_favourable_pct" for construct in DEVEX_CONSTRUCTS]
    df = reader.frame(MARTS, "metrics_devex_wave", columns)
    df = df[df["wave"].notna()]
    if df.empty:
        return
    latest_wave = df.sort_values(["wave_closed_at", "wave"])["wave"].iloc[-1]
    # A suppressed group (under the anonymity threshold) never leaves the warehouse, not even as a
    # label: its name alone says a small group answered.
    shown = df[(df["wave"] == latest_wave) & (df["suppressed"] != True)]  # noqa: E712
    for _, row in shown.sort_values(["group_type", "group_value"]).iterrows():
        labels = {"group_kind": slug(row["group_type"]), "group": str(row["group_value"])}
        out.add(
            "devex_wave_closed_timestamp_seconds",
            "When the latest survey wave closed.",
            labels,
            _timestamp(row["wave_closed_at"]),
        )
        for name, column, scale, text in DEVEX_SERIES:
            out.add(name, text, labels, _number(row[column], scale))
        for construct in DEVEX_CONSTRUCTS:
            out.add(
                "devex_favourable_ratio",
                "Share of favourable answers per construct, latest wave.",
                {**labels, "construct": construct},
                _number(row[f"{construct}_favourable_pct"], 0.01),
            )


def _platform(out: _Families, reader: WarehouseReader, today: dt.date) -> None:
    adoption = reader.frame(
        MARTS,
        "metrics_platform_adoption",
        [
            "month",
            "capability",
            "adoption_rate",
            "adopting_services",
            "eligible_services",
            "is_complete",
        ],
    )
    adoption = adoption[adoption["month"].notna()]
    if not adoption.empty:
        adoption = complete_periods(
            adoption.assign(period_start=utc_naive(adoption["month"])), "month", today
        )
    if not adoption.empty:
        month = adoption["period_start"].max()
        for _, row in (
            adoption[adoption["period_start"] == month].sort_values("capability").iterrows()
        ):
            labels = {"capability": str(row["capability"])}
            out.add(
                "platform_capability_adoption_ratio",
                "Eligible services using the capability, latest complete month.",
                labels,
                _number(row["adoption_rate"]),
            )
            out.add(
                "platform_capability_adopting_services",
                "Services using the capability, latest complete month.",
                labels,
                _number(row["adopting_services"]),
            )
    value = reader.frame(
        MARTS,
        "metrics_platform_value",
        ["month", "is_complete"] + [c for _, c, _, _ in PLATFORM_VALUE_SERIES],
    )
    value = value[value["month"].notna()]
    if value.empty:
        return
    value = complete_periods(value.assign(period_start=utc_naive(value["month"])), "month", today)
    if value.empty:
        return
    row = value.sort_values("period_start").iloc[-1]
    out.add(
        "platform_month_start_timestamp_seconds",
        "Start of the latest complete month the platform values cover.",
        {},
        _timestamp(row["period_start"]),
    )
    for name, column, scale, text in PLATFORM_VALUE_SERIES:
        out.add(name, f"{text} Latest complete month.", {}, _number(row[column], scale))


def _scorecard(out: _Families, reader: WarehouseReader) -> None:
    df = reader.frame(
        MARTS, "metrics_success_scorecard", ["metric", "scope", "status", "current_value", "target"]
    )
    for _, row in df[df["metric"].notna()].sort_values(["metric", "scope"]).iterrows():
        labels = {"measure": str(row["metric"]), "scope": str(row["scope"] or "org")}
        status = slug(row["status"]) if not missing(row["status"]) else "no_data"
        for state in SCORECARD_STATUSES:
            out.add(
                "scorecard_status",
                "1 for the success-scorecard status the measure is at, 0 for the others.",
                {**labels, "status": state},
                1.0 if state == status else 0.0,
            )
        out.add(
            "scorecard_value",
            "The measure's current value, in the unit of the scorecard.",
            labels,
            _number(row["current_value"]),
        )
        out.add("scorecard_target", "The measure's target.", labels, _number(row["target"]))


def _freshness(out: _Families, reader: WarehouseReader) -> None:
    if not reader.has(RAW, "sync_state"):
        return
    rows = reader.con.execute(
        "SELECT source, max(last_synced_at) FROM raw.sync_state "
        "WHERE last_synced_at IS NOT NULL GROUP BY source ORDER BY source"
    ).fetchall()
    for source, last in rows:
        out.add(
            "source_last_sync_timestamp_seconds",
            "When a source was last synced (its newest cursor).",
            {"source": str(source)},
            _timestamp(last),
        )


def metric_families(reader: WarehouseReader, *, now: dt.datetime) -> list[Metric]:
    """Every family, sorted by name; ``now`` decides which periods are complete."""
    out = _Families()
    today = now.date()
    _dora(out, reader, today)
    _slos(out, reader)
    _devex(out, reader)
    _platform(out, reader, today)
    _scorecard(out, reader)
    _freshness(out, reader)
    return list(out)


class StaticCollector(Collector):
    """A fixed list of families (read once), for a one-off registry."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterable[Metric]:
        return iter(self._families)


def exposition_text(families: Iterable[Metric]) -> str:
    """The families in Prometheus's text format (what ``promtool check metrics`` reads)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StaticCollector(families))
    return generate_latest(registry).decode("utf-8")
