"""Delivery regressions from the warehouse's own history (the twin of the Prometheus alerting
rules), and the asset check that posts them to the chat webhook, over a real socket."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest
from dagster_duckdb import DuckDBResource

from assets.checks import build_regression_check
from dashboards.alert_rules import AlertThresholds
from dashboards.marts import WarehouseReader
from dashboards.regressions import delivery_regressions
from pipelines.config import DEMO_CONFIG_PATH, WebhookConfig, load_config
from tests.test_leadership import SECRET_URL_PATH, _Hook

NOW = dt.datetime(2025, 3, 12, 9, tzinfo=dt.UTC)  # a Wednesday: the week of 2025-03-10 is running
WEEKS = [dt.date(2025, 1, 6) + dt.timedelta(weeks=i) for i in range(9)]  # 2025-01-06 .. 2025-03-03


def _week(start, scope, name, deployments, lead, recovery=2.0, incidents=0):
    return {
        "period_start": start,
        "scope": scope,
        "scope_name": name,
        "deployments": deployments,
        "n_changes": deployments,
        "n_incidents": incidents,
        "lead_time_p50_hours": lead,
        "recovery_time_p50_hours": recovery,
    }


def make_history(path: Path, *, regress: bool) -> Path:
    rows = []
    for i, start in enumerate(WEEKS):
        last = i == len(WEEKS) - 1
        # The organisation drops from 20 to 5 deployments and its lead time quadruples.
        rows.append(
            _week(
                start,
                "org",
                "acme",
                5 if regress and last else 20,
                40.0 if regress and last else 10.0,
            )
        )
        rows.append(_week(start, "team", "payments", 8, 6.0))  # steady
        # A tiny team: 2 deployments a week, then none; lead time quadruples on 2 changes and
        # recovery time on 1 incident. Each a "regression" of a handful of events: noise.
        rows.append(
            _week(
                start,
                "team",
                "tiny",
                2,
                40.0 if regress and last else 10.0,
                recovery=20.0 if regress and last else 2.0,
                incidents=1,
            )
        )
        if regress and last:
            rows.append(_week(start, "service", "tiny-drop", 0, None))
        else:
            rows.append(_week(start, "service", "tiny-drop", 2, None))
    # The running week (2025-03-10) is a collapse so far, but not complete: never a regression.
    rows.append(_week(dt.date(2025, 3, 10), "org", "acme", 1, 99.0))
    monthly = pd.DataFrame(
        [
            {"period_start": dt.date(2025, 2, 1), "scope": "team", "scope_name": "search",
             "deployments": 40, "change_failure_rate": 0.4 if regress else 0.05},
            {"period_start": dt.date(2025, 3, 1), "scope": "team", "scope_name": "search",
             "deployments": 40, "change_failure_rate": 0.9},  # running month: ignored
            # 1 failed of 2 deployments: 50%, but over too few deployments to mean anything.
            {"period_start": dt.date(2025, 2, 1), "scope": "team", "scope_name": "tiny",
             "deployments": 2, "change_failure_rate": 0.5 if regress else 0.0},
        ]
    )  # fmt: skip
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA marts")
        for name, frame in {
            "metrics_dora_weekly": pd.DataFrame(rows),
            "metrics_dora_monthly": monthly,
        }.items():
            con.register("_f", frame)
            con.execute(f"CREATE TABLE marts.{name} AS SELECT * FROM _f")
            con.unregister("_f")
    return path


def _found(path: Path, thresholds: AlertThresholds | None = None):
    with duckdb.connect(str(path), read_only=True) as con:
        return delivery_regressions(WarehouseReader(con), thresholds or AlertThresholds(), now=NOW)


def test_a_drop_against_the_trailing_baseline_is_a_regression_and_a_steady_team_is_not(tmp_path):
    found = _found(make_history(tmp_path / "w.duckdb", regress=True))
    alerts = {(r.alert, r.subject) for r in found}
    assert alerts == {
        ("PlatformMetricsDeploymentFrequencyDropped", "org acme"),
        ("PlatformMetricsLeadTimeRising", "org acme"),
        ("PlatformMetricsChangeFailureRateHigh", "team search"),
    }
    drop = next(r for r in found if r.alert == "PlatformMetricsDeploymentFrequencyDropped")
    assert "week of 2025-03-03 is 5" in drop.message and "baseline of 20" in drop.message


def test_a_regression_of_a_handful_of_events_is_not_reported_until_the_guards_allow_it(tmp_path):
    path = make_history(tmp_path / "w.duckdb", regress=True)
    tiny = {"team tiny", "service tiny-drop"}
    assert not [r for r in _found(path) if r.subject in tiny]
    unguarded = AlertThresholds(
        min_weekly_deployments_baseline=0,
        min_changes_for_lead_time=0,
        min_incidents_for_recovery_time=0,
        min_deployments_for_failure_rate=0,
    )
    assert {(r.alert, r.subject) for r in _found(path, unguarded) if r.subject in tiny} == {
        ("PlatformMetricsDeploymentFrequencyDropped", "service tiny-drop"),
        ("PlatformMetricsLeadTimeRising", "team tiny"),
        ("PlatformMetricsRecoveryTimeRising", "team tiny"),
        ("PlatformMetricsChangeFailureRateHigh", "team tiny"),
    }


def test_steady_history_has_no_regression(tmp_path):
    assert _found(make_history(tmp_path / "w.duckdb", regress=False)) == []


def test_thresholds_decide(tmp_path):
    path = make_history(tmp_path / "w.duckdb", regress=True)
    lenient = AlertThresholds(
        deployment_drop_factor=0.2, lead_time_rise_factor=5, change_failure_ratio_max=0.5
    )
    assert _found(path, lenient) == []


@pytest.fixture
def hook():
    server = _Hook([])
    yield server
    server.close()


def test_regression_check_warns_and_posts_to_the_webhook(tmp_path, hook, caplog):
    path = make_history(tmp_path / "w.duckdb", regress=True)
    config = load_config(DEMO_CONFIG_PATH)
    webhook = WebhookConfig(url=hook.url, kind="slack", max_retries=0)
    config = config.model_copy(
        update={"publish": config.publish.model_copy(update={"webhook": webhook})}
    )

    @dg.asset(key=["publish", "site"])
    def site() -> None:
        return None

    check = build_regression_check(config)
    # The check compares with the real clock; shift the history so its last week is complete.
    today = dt.datetime.now(dt.UTC).date()
    monday = today - dt.timedelta(days=today.weekday())
    shift = (monday - dt.timedelta(weeks=1)) - WEEKS[-1]
    with duckdb.connect(str(path)) as con:
        con.execute(
            f"UPDATE marts.metrics_dora_weekly SET period_start = period_start + INTERVAL {shift.days} DAY"
        )
        con.execute("DELETE FROM marts.metrics_dora_monthly")
    result = dg.materialize(
        [site, check],
        resources={"duckdb": DuckDBResource(database=str(path))},
        raise_on_error=False,
    )
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) == 1 and evaluations[0].passed is False
    assert evaluations[0].severity == dg.AssetCheckSeverity.WARN
    assert len(hook.received) == 1
    path_posted, body = hook.received[0]
    assert path_posted == SECRET_URL_PATH
    assert "weekly deployments of org acme" in body["text"]
    assert SECRET_URL_PATH not in caplog.text
