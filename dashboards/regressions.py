"""Delivery regressions found in the warehouse: the same rules as the Prometheus alerting rules
(dashboards/alert_rules.py), evaluated on the marts' own history by a Dagster asset check, so a team
without Prometheus is told too (the check posts to the configured chat webhook).

Prometheus compares a gauge with its ``avg_over_time`` over ``baseline_days``; here the baseline is
the mean of the complete weeks in the ``baseline_days`` before the latest complete week, which is
what those samples were.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from dashboards.alert_rules import AlertThresholds
from dashboards.blocks import missing, utc_naive
from dashboards.marts import WarehouseReader
from dashboards.prometheus_metrics import complete_periods

MARTS = "marts"


@dataclass(frozen=True)
class Regression:
    alert: str  # the Prometheus alert's name
    subject: str  # "team payments", "SLO checkout-availability", "source github"
    message: str


def _weekly_regressions(
    reader: WarehouseReader, t: AlertThresholds, today: dt.date
) -> list[Regression]:
    columns = [
        "period_start",
        "scope",
        "scope_name",
        "is_complete",
        "deployments",
        "n_changes",
        "n_incidents",
        "lead_time_p50_hours",
        "recovery_time_p50_hours",
    ]
    df = reader.frame(MARTS, "metrics_dora_weekly", columns)
    df = df[df["period_start"].notna()]
    if df.empty:
        return []
    df = complete_periods(df.assign(period_start=utc_naive(df["period_start"])), "week", today)
    # The last element is the sample-size guard, as in the Prometheus rule: what a latest week and
    # its history must hold before the comparison means anything.
    rules = (
        ("PlatformMetricsDeploymentFrequencyDropped", "deployments", t.deployment_drop_factor,
         False, "weekly deployments", "{:.0f}",
         lambda latest, baseline: baseline >= t.min_weekly_deployments_baseline),
        ("PlatformMetricsLeadTimeRising", "lead_time_p50_hours", t.lead_time_rise_factor,
         True, "lead time p50", "{:.1f} h",
         lambda latest, baseline: _count(latest["n_changes"]) >= t.min_changes_for_lead_time),
        ("PlatformMetricsRecoveryTimeRising", "recovery_time_p50_hours",
         t.recovery_time_rise_factor, True, "recovery time p50", "{:.1f} h",
         lambda latest, baseline:
             _count(latest["n_incidents"]) >= t.min_incidents_for_recovery_time),
    )  # fmt: skip
    found: list[Regression] = []
    for (scope, name), rows in df.sort_values("period_start").groupby(["scope", "scope_name"]):
        latest = rows.iloc[-1]
        since = latest["period_start"] - pd.Timedelta(days=t.baseline_days)
        history = rows[
            (rows["period_start"] < latest["period_start"]) & (rows["period_start"] >= since)
        ]
        for alert, column, factor, rising, what, fmt, enough in rules:
            value, baseline = latest[column], history[column].dropna().astype(float).mean()
            if missing(value) or history.empty or missing(baseline) or baseline <= 0:
                continue
            if not enough(latest, baseline):
                continue
            value = float(value)
            hit = value > factor * baseline if rising else value < factor * baseline
            if hit:
                week = pd.Timestamp(latest["period_start"]).strftime("%Y-%m-%d")
                found.append(
                    Regression(
                        alert,
                        f"{scope} {name}",
                        f"{what} of {scope} {name} in the week of {week} is {fmt.format(value)}, "
                        f"{'above' if rising else 'below'} {factor:g}x its {t.baseline_days}-day "
                        f"baseline of {fmt.format(baseline)}",
                    )
                )
    return found


def _count(value: object) -> float:
    """A sample size; a missing one counts as none."""
    return 0.0 if missing(value) else float(value)


def _monthly_failure_rate(
    reader: WarehouseReader, t: AlertThresholds, today: dt.date
) -> list[Regression]:
    df = reader.frame(
        MARTS,
        "metrics_dora_monthly",
        [
            "period_start",
            "scope",
            "scope_name",
            "is_complete",
            "deployments",
            "change_failure_rate",
        ],
    )
    df = df[df["period_start"].notna()]
    if df.empty:
        return []
    df = complete_periods(df.assign(period_start=utc_naive(df["period_start"])), "month", today)
    found = []
    latest = df.sort_values("period_start").groupby(["scope", "scope_name"]).tail(1)
    for _, row in latest.sort_values(["scope", "scope_name"]).iterrows():
        rate = row["change_failure_rate"]
        if _count(row["deployments"]) < t.min_deployments_for_failure_rate:
            continue  # a rate over a handful of deployments is noise
        if not missing(rate) and float(rate) > t.change_failure_ratio_max:
            month = pd.Timestamp(row["period_start"]).strftime("%Y-%m")
            found.append(
                Regression(
                    "PlatformMetricsChangeFailureRateHigh",
                    f"{row['scope']} {row['scope_name']}",
                    f"change failure rate of {row['scope']} {row['scope_name']} in {month} is "
                    f"{float(rate):.0%}, above {t.change_failure_ratio_max:.0%}",
                )
            )
    return found


def _slos(reader: WarehouseReader, t: AlertThresholds) -> list[Regression]:
    periods = reader.frame(
        MARTS,
        "metrics_slo_period",
        ["slo", "period_start", "is_slo_window", "burn_rate", "budget_remaining"],
    )
    own = periods[periods["is_slo_window"] == True]  # noqa: E712 - pandas element-wise
    found = []
    for _, row in (
        own.sort_values("period_start").groupby("slo").tail(1).sort_values("slo").iterrows()
    ):
        if not missing(row["burn_rate"]) and float(row["burn_rate"]) > t.slo_burn_rate_max:
            found.append(
                Regression(
                    "PlatformMetricsSloBurningFast",
                    f"SLO {row['slo']}",
                    f"SLO {row['slo']} burns its error budget {float(row['burn_rate']):.1f}x "
                    f"too fast (alert above {t.slo_burn_rate_max:g})",
                )
            )
        if not missing(row["budget_remaining"]) and float(row["budget_remaining"]) < 0:
            found.append(
                Regression(
                    "PlatformMetricsSloBudgetExhausted",
                    f"SLO {row['slo']}",
                    f"SLO {row['slo']} has spent its error budget "
                    f"({float(row['budget_remaining']):.0%} left)",
                )
            )
    return found


def _stale_sources(
    reader: WarehouseReader, t: AlertThresholds, now: dt.datetime
) -> list[Regression]:
    if not reader.has("raw", "sync_state"):
        return []
    found = []
    for source, last in reader.con.execute(
        "SELECT source, max(last_synced_at) FROM raw.sync_state GROUP BY source ORDER BY source"
    ).fetchall():
        if last is None:
            continue
        ts = pd.Timestamp(last)
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts
        hours = (pd.Timestamp(now) - ts).total_seconds() / 3600
        if hours > t.stale_after_hours:
            found.append(
                Regression(
                    "PlatformMetricsSourceStale",
                    f"source {source}",
                    f"source {source} last synced {hours:.0f} hours ago "
                    f"(alert after {t.stale_after_hours:g})",
                )
            )
    return found


def delivery_regressions(
    reader: WarehouseReader, thresholds: AlertThresholds, *, now: dt.datetime
) -> list[Regression]:
    """Every regression the alerting rules would fire on, from the warehouse's own history."""
    today = now.date()
    return [
        *_weekly_regressions(reader, thresholds, today),
        *_monthly_failure_rate(reader, thresholds, today),
        *_slos(reader, thresholds),
        *_stale_sources(reader, thresholds, now),
    ]


def regressions_text(organisation: str, found: list[Regression]) -> str:
    """The chat message: one line per regression."""
    lines = [f"{organisation}: {len(found)} delivery regression(s)"]
    lines += [f"- {r.message} ({r.alert})" for r in found]
    return "\n".join(lines)
