"""DORA alerting rules: generated from one place, checked by promtool, and unit-tested with
``promtool test rules`` to fire on a regression and stay quiet on a steady series."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest

from dashboards.alert_rules import AlertThresholds, alert_rules, alert_rules_yaml
from pipelines.config import AlertingConfig
from tests.prometheus_server import NOT_INSTALLED, PROMTOOL

DEPLOY = Path(__file__).resolve().parent.parent / "deploy" / "prometheus"
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason=NOT_INSTALLED)


def test_checked_in_rules_are_the_generators_output_with_the_defaults():
    checked_in = (DEPLOY / "platform-metrics.rules.yaml").read_text(encoding="utf-8")
    assert checked_in == alert_rules_yaml(), (
        "deploy/prometheus/platform-metrics.rules.yaml differs from dashboards/alert_rules.py: "
        "regenerate it with python -c 'from dashboards.alert_rules import alert_rules_yaml; "
        'print(alert_rules_yaml(), end="")\' > deploy/prometheus/platform-metrics.rules.yaml'
    )


def test_configuration_defaults_are_the_generators_defaults():
    assert dataclasses.asdict(AlertThresholds()) == AlertingConfig().model_dump()


def test_configured_thresholds_reach_the_rules():
    rules = {
        r["alert"]: r["expr"]
        for group in alert_rules(AlertThresholds(lead_time_rise_factor=2.5, baseline_days=14))[
            "groups"
        ]
        for r in group["rules"]
    }
    assert "> 2.5 * avg_over_time(" in rules["PlatformMetricsLeadTimeRising"]
    assert "[14d]" in rules["PlatformMetricsLeadTimeRising"]


@needs_promtool
def test_generated_rules_pass_promtool(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(alert_rules_yaml(AlertThresholds(stale_after_hours=12)), encoding="utf-8")
    done = subprocess.run([PROMTOOL, "check", "rules", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@needs_promtool
@pytest.mark.parametrize("test_file", sorted(DEPLOY.glob("*.test.yaml")), ids=lambda p: p.name)
def test_rules_fire_on_regressions_and_stay_quiet_otherwise(test_file):
    done = subprocess.run(
        [PROMTOOL, "test", "rules", test_file.name], cwd=DEPLOY, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
