"""Prometheus alerting rules for delivery regressions, over the exporter's metric families.

One generator for two places: publishing writes the rules with the organisation's thresholds
(``publish.alerting``) into ``<site>/prometheus/platform-metrics.rules.yaml``, and
``deploy/prometheus/platform-metrics.rules.yaml`` is the same generator's output with the defaults
(a test keeps the two equal, and ``promtool test rules`` runs
``deploy/prometheus/platform-metrics.test.yaml`` against the checked-in file).

A regression is measured against the metric's own trailing baseline (``avg_over_time`` over
``baseline_days``), so a team is compared with itself, not with another team or a benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from dashboards.prometheus_metrics import PREFIX

RULES_DIR = "prometheus"
RULES_FILE = "platform-metrics.rules.yaml"


@dataclass(frozen=True)
class AlertThresholds:
    """The knobs (``publish.alerting`` in the configuration; defaults here)."""

    baseline_days: int = 28
    deployment_drop_factor: float = 0.5
    lead_time_rise_factor: float = 1.5
    recovery_time_rise_factor: float = 1.5
    change_failure_ratio_max: float = 0.15
    stale_after_hours: float = 48
    slo_burn_rate_max: float = 6
    # Sample-size guards (see AlertingConfig): no alert on a handful of events.
    min_weekly_deployments_baseline: float = 4
    min_changes_for_lead_time: int = 5
    min_incidents_for_recovery_time: int = 3
    min_deployments_for_failure_rate: int = 10


def _m(name: str) -> str:
    return f"{PREFIX}_{name}"


def _num(value: float) -> str:
    return f"{value:g}"


def alert_rules(t: AlertThresholds | None = None) -> dict:
    """The rule groups as a Prometheus rules document."""
    t = t or AlertThresholds()
    base = f"{t.baseline_days}d"
    week = 'window="week"'
    scope = "{{ $labels.scope }} {{ $labels.name }}"

    def regression(
        alert: str, family: str, factor: float, rising: bool, what: str, guard: str
    ) -> dict:
        current = f"{_m(family)}{{{week}}}"
        op, word = (">", "above") if rising else ("<", "below")
        return {
            "alert": alert,
            "expr": f"{current} {op} {_num(factor)} * avg_over_time({current}[{base}])"
            f" and on (window, scope, name) {guard}",
            "for": "1h",
            "labels": {"severity": "warning", "category": "delivery"},
            "annotations": {
                "summary": f"{what} of {scope} is {word} {_num(factor)}x its {base} baseline",
                "description": (
                    f"Latest complete week: {{{{ $value }}}} (family {_m(family)}). "
                    "Open the DORA dashboard or the site's DORA page for the rows behind it."
                ),
            },
        }

    delivery = [
        regression(
            "PlatformMetricsDeploymentFrequencyDropped",
            "dora_deployments",
            t.deployment_drop_factor,
            False,
            "Weekly deployments",
            f"avg_over_time({_m('dora_deployments')}{{{week}}}[{base}]) >= "
            f"{_num(t.min_weekly_deployments_baseline)}",
        ),
        regression(
            "PlatformMetricsLeadTimeRising",
            "dora_lead_time_p50_seconds",
            t.lead_time_rise_factor,
            True,
            "Change lead time p50",
            f"{_m('dora_changes')}{{{week}}} >= {_num(t.min_changes_for_lead_time)}",
        ),
        regression(
            "PlatformMetricsRecoveryTimeRising",
            "dora_recovery_time_p50_seconds",
            t.recovery_time_rise_factor,
            True,
            "Failed deployment recovery time p50",
            f"{_m('dora_incidents')}{{{week}}} >= {_num(t.min_incidents_for_recovery_time)}",
        ),
        {
            "alert": "PlatformMetricsChangeFailureRateHigh",
            "expr": f'{_m("dora_change_failure_ratio")}{{window="month"}} > '
            f"{_num(t.change_failure_ratio_max)} and on (window, scope, name) "
            f'{_m("dora_deployments")}{{window="month"}} >= '
            f"{_num(t.min_deployments_for_failure_rate)}",
            "for": "1h",
            "labels": {"severity": "warning", "category": "delivery"},
            "annotations": {
                "summary": f"Change failure rate of {scope} is above "
                f"{_num(t.change_failure_ratio_max * 100)}%",
                "description": "Latest complete month: {{ $value | humanizePercentage }}.",
            },
        },
    ]
    stale = t.stale_after_hours * 3600
    freshness = [
        {
            "alert": "PlatformMetricsSourceStale",
            "expr": f"time() - {_m('source_last_sync_timestamp_seconds')} > {_num(stale)}",
            "for": "30m",
            "labels": {"severity": "warning", "category": "freshness"},
            "annotations": {
                "summary": "Source {{ $labels.source }} has not synced for "
                f"{_num(t.stale_after_hours)} hours",
                "description": "Last sync {{ $value | humanizeDuration }} ago; check the pipeline's "
                "runs (platform-metrics serve) and the source's credentials.",
            },
        },
        {
            "alert": "PlatformMetricsSnapshotStale",
            "expr": f"{_m('exporter_snapshot_age_seconds')} > {_num(stale)}",
            "for": "30m",
            "labels": {"severity": "warning", "category": "freshness"},
            "annotations": {
                "summary": f"The published snapshot is older than {_num(t.stale_after_hours)} hours",
                "description": "Published {{ $value | humanizeDuration }} ago: the pipeline has not "
                "published since (a failed run or quality gate keeps the previous snapshot).",
            },
        },
    ]
    slos = [
        {
            "alert": "PlatformMetricsSloBurningFast",
            "expr": f"{_m('slo_burn_rate')} > {_num(t.slo_burn_rate_max)}",
            "for": "15m",
            "labels": {"severity": "critical", "category": "slo"},
            "annotations": {
                "summary": "SLO {{ $labels.slo }} burns its error budget {{ $value }}x too fast",
                "description": "At this rate the budget of the {{ $labels.window }} window is spent "
                "early; see the SLO dashboard.",
            },
        },
        {
            "alert": "PlatformMetricsSloBudgetExhausted",
            "expr": f"{_m('slo_error_budget_remaining_ratio')} < 0",
            "for": "15m",
            "labels": {"severity": "warning", "category": "slo"},
            "annotations": {
                "summary": "SLO {{ $labels.slo }} has spent its error budget",
                "description": "Budget left: {{ $value | humanizePercentage }} of the "
                "{{ $labels.window }} window.",
            },
        },
    ]
    return {
        "groups": [
            {"name": "platform-metrics-delivery", "interval": "5m", "rules": delivery},
            {"name": "platform-metrics-freshness", "interval": "5m", "rules": freshness},
            {"name": "platform-metrics-slo", "interval": "1m", "rules": slos},
        ]
    }


def alert_rules_yaml(t: AlertThresholds | None = None) -> str:
    header = (
        "# Generated by platform-metrics (dashboards/alert_rules.py); do not edit by hand.\n"
        "# Check with: promtool check rules platform-metrics.rules.yaml\n"
    )
    return header + yaml.safe_dump(alert_rules(t), sort_keys=False, width=1000)
