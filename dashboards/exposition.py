"""``metrics.prom``: the headline metrics in Prometheus's text exposition format, for Grafana users
who scrape the published site (any static server will do; the file is rewritten with each build).

DORA numbers are the latest complete week and month per scope (org, team, service) from
``marts.metrics_dora_weekly`` / ``metrics_dora_monthly``; SLO numbers are each SLO's own current
window from ``marts.metrics_slo_period``. Durations are in seconds and rates are ratios (Prometheus
base units). A missing value is left out rather than written as NaN. ``promtool check metrics``
accepts the file (tests/test_exposition.py runs it).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd

from dashboards.blocks import missing, utc_naive
from dashboards.marts import WarehouseReader
from dashboards.pages import DORA_COLUMNS, _complete
from dashboards.slo_report import read_report_data

PREFIX = "platform_metrics"
EXPOSITION_FILE = "metrics.prom"

# (metric name, column, scale, help)
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
SLO_SERIES = (
    ("slo_attainment_ratio", "attainment", "Good / total units in the SLO's current window."),
    ("slo_target_ratio", "target", "The SLO's objective."),
    ("slo_error_budget_remaining_ratio", "budget_remaining", "Share of the error budget left."),
    ("slo_burn_rate", "burn_rate", "Error ratio of the last 24 hours / (1 - target)."),
)


def _label(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(pairs: dict[str, Any]) -> str:
    return "{" + ",".join(f'{k}="{_label(v)}"' for k, v in pairs.items()) + "}"


def _value(value: Any, scale: float = 1) -> str | None:
    if missing(value):
        return None
    v = float(value) * scale
    if math.isinf(v) or math.isnan(v):
        return None
    return repr(round(v, 6))


def exposition(reader: WarehouseReader, *, now: dt.datetime) -> str:
    series: dict[str, list[str]] = {}
    helps: dict[str, str] = {}
    for grain, table in (("week", "metrics_dora_weekly"), ("month", "metrics_dora_monthly")):
        df = reader.frame("marts", table, DORA_COLUMNS)
        if df.empty:
            continue
        df = df.assign(period_start=utc_naive(df["period_start"]))
        df = _complete(df[df["period_start"].notna()], grain, now.date())
        if df.empty:
            continue
        latest = df.sort_values("period_start").groupby(["scope", "scope_name"]).tail(1)
        for _, row in latest.sort_values(["scope", "scope_name"]).iterrows():
            labels = _labels(
                {
                    "period": grain,
                    "period_start": pd.Timestamp(row["period_start"]).strftime("%Y-%m-%d"),
                    "scope": row["scope"],
                    "name": row["scope_name"],
                    "level": "" if missing(row["performance_level"]) else row["performance_level"],
                }
            )
            for name, column, scale, text in DORA_SERIES:
                value = _value(row[column], scale)
                if value is not None:
                    helps[name] = f"{text} Latest complete period."
                    series.setdefault(name, []).append(f"{PREFIX}_{name}{labels} {value}")
    data = read_report_data(reader)
    for _, row in data.current.sort_values("slo").iterrows():
        d = data.definitions[data.definitions["slo"] == row["slo"]]
        service = str(d["service"].iloc[0]) if len(d) and not missing(d["service"].iloc[0]) else ""
        labels = _labels({"slo": row["slo"], "service": service, "window": row["period_kind"]})
        for name, column, text in SLO_SERIES:
            value = _value(row[column])
            if value is not None:
                helps[name] = text
                series.setdefault(name, []).append(f"{PREFIX}_{name}{labels} {value}")
    lines: list[str] = []
    for name, samples in series.items():
        lines += [
            f"# HELP {PREFIX}_{name} {helps[name]}",
            f"# TYPE {PREFIX}_{name} gauge",
            *samples,
        ]
    built = f"{PREFIX}_site_build_timestamp_seconds"
    lines += [
        f"# HELP {built} When the site holding this file was built.",
        f"# TYPE {built} gauge",
        f"{built} {int(now.timestamp())}",
    ]
    return "\n".join(lines) + "\n"
