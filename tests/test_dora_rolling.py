"""metrics_dora_rolling_28d against a recomputation in Python, window by window.

The mart computes its 28-day windows with window functions over each fact once
(dbt/macros/dora_metrics.sql, rolling_frame); this module recomputes every window of every scope
the slow way, from the fact tables of the small demo run (tests/small_demo.py) in the published
snapshot: the facts whose day, in the organisation's time zone, falls within period_start ..
period_start + 27, their counts and their interpolated quantiles (numpy's linear method is
percentile_cont's).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

WINDOW_DAYS = 28


@pytest.fixture(scope="module")
def snapshot(small_demo_run):
    config = small_demo_run.config
    path = Path(config.publish.snapshot_dir) / "warehouse.duckdb"
    assert path.exists(), f"the small demo run published no snapshot:\n{small_demo_run.console}"
    with duckdb.connect(str(path), read_only=True) as con:
        facts = {
            "deployments": con.sql(
                "select deployed_at as at, team, service, status, is_failure, is_rework "
                "from marts.fct_deployments"
            ).df(),
            "changes": con.sql(
                "select deployed_at as at, team, service, lead_time_hours "
                "from marts.fct_changes where deployed_at is not null"
            ).df(),
            "incidents": con.sql(
                "select resolved_at as at, team, service, recovery_hours "
                "from marts.fct_incidents where resolved_at is not null"
            ).df(),
        }
        mart = con.sql("select * from marts.metrics_dora_rolling_28d").df()
    timezone = config.organisation.timezone
    for frame in facts.values():
        frame["day"] = pd.to_datetime(frame["at"], utc=True).dt.tz_convert(timezone).dt.date
    return facts, mart


def scope_rows(frame: pd.DataFrame, scope: str, name: str) -> pd.DataFrame:
    if scope == "org":
        return frame
    return frame[frame[scope] == name]


def in_window(frame: pd.DataFrame, start: dt.date) -> pd.DataFrame:
    end = start + dt.timedelta(days=WINDOW_DAYS - 1)
    return frame[(frame["day"] >= start) & (frame["day"] <= end)]


def quantile(values: pd.Series, q: float) -> float | None:
    values = values.dropna().to_numpy(dtype=float)
    return float(np.percentile(values, q * 100)) if len(values) else None


def expected_window(facts: dict[str, pd.DataFrame], scope: str, name: str, start: dt.date) -> dict:
    deployments = in_window(scope_rows(facts["deployments"], scope, name), start)
    changes = in_window(scope_rows(facts["changes"], scope, name), start)
    incidents = in_window(scope_rows(facts["incidents"], scope, name), start)
    succeeded = deployments[deployments["status"] == "success"]
    return {
        "deployments": len(succeeded),
        "deploy_days": succeeded["day"].nunique(),
        "n_failed_deployments": int(deployments["is_failure"].sum()),
        "n_changes": len(changes),
        "lead_time_p50_hours": quantile(changes["lead_time_hours"], 0.5),
        "lead_time_p75_hours": quantile(changes["lead_time_hours"], 0.75),
        "lead_time_p90_hours": quantile(changes["lead_time_hours"], 0.9),
        "n_incidents": len(incidents),
        "recovery_time_p50_hours": quantile(incidents["recovery_hours"], 0.5),
        "recovery_time_p90_hours": quantile(incidents["recovery_hours"], 0.9),
        "change_failure_rate": (
            int(deployments["is_failure"].sum()) / len(deployments) if len(deployments) else None
        ),
        "rework_rate": (
            int(succeeded["is_rework"].sum()) / len(succeeded) if len(succeeded) else None
        ),
    }


def same(actual, expected) -> bool:
    if expected is None or actual is None or pd.isna(actual):
        return (expected is None) == (actual is None or pd.isna(actual))
    return abs(float(actual) - float(expected)) <= 1e-9 * max(1.0, abs(float(expected)))


def test_the_rolling_windows_run_from_the_first_to_the_last_day_with_data(snapshot):
    facts, mart = snapshot
    days = pd.concat([frame["day"] for frame in facts.values()])
    first = days.min() - dt.timedelta(days=WINDOW_DAYS - 1)
    last = days.max() - dt.timedelta(days=WINDOW_DAYS - 1)
    starts = sorted(pd.to_datetime(mart["period_start"]).dt.date.unique())
    assert starts[0] == first and starts[-1] == last
    assert len(starts) == (last - first).days + 1, "a day without its window"
    ends = pd.to_datetime(mart["period_end"]).dt.date
    assert (ends - pd.to_datetime(mart["period_start"]).dt.date == dt.timedelta(days=27)).all()


def test_every_rolling_window_holds_the_facts_of_its_28_days(snapshot):
    facts, mart = snapshot
    fact_scopes = {("org", "all")}
    for frame in facts.values():
        for scope in ("team", "service"):
            fact_scopes |= {(scope, name) for name in frame[scope].dropna().unique()}
    assert fact_scopes <= set(zip(mart["scope"], mart["scope_name"], strict=True))
    assert mart["deployments"].sum() > 0 and mart["n_changes"].sum() > 0
    assert mart["n_incidents"].sum() > 0 and mart["lead_time_p90_hours"].notna().any()

    wrong = []
    for row in mart.itertuples(index=False):
        start = pd.Timestamp(row.period_start).date()
        expected = expected_window(facts, row.scope, row.scope_name, start)
        for column, value in expected.items():
            if not same(getattr(row, column), value):
                wrong.append(
                    (start, row.scope, row.scope_name, column, getattr(row, column), value)
                )
    assert not wrong, f"{len(wrong)} values differ from the recomputation, e.g. {wrong[:5]}"
