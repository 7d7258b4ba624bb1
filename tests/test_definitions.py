"""The Dagster definitions: they load with Dagster's own validator, and the asset graph is as
documented (a renamed asset, job or schedule shows up here in review)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from assets.graph import build_definitions
from pipelines.config import DEMO_CONFIG_PATH, load_config


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    return build_definitions(load_config(DEMO_CONFIG_PATH))


def test_dagster_definitions_validate_passes(tmp_path):
    env = {
        **os.environ,
        "DAGSTER_HOME": str(tmp_path),
        "PLATFORM_METRICS_CONFIG": str(DEMO_CONFIG_PATH),
    }
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("dagster")),
            "definitions",
            "validate",
            "-m",
            "assets.definitions",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def test_asset_graph_has_ingest_dbt_and_publish_layers(defs):
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    for expected in (
        "raw/org_services",
        "raw/github_pull_requests",
        "raw/github_workflow_jobs",
        "raw/pagerduty_incidents",
        "raw/survey_responses",
        "staging/stg_github__pull_requests",
        "marts/fct_changes",
        "marts/fct_deployments",
        "marts/fct_incidents",
        "marts/metrics_dora_weekly",
        "marts/metrics_dora_monthly",
        "publish/site",
        "publish/analyst_snapshot",
    ):
        assert expected in keys, expected


def test_publishing_depends_on_every_mart(defs):
    graph = defs.resolve_asset_graph()
    site_parents = {
        k.to_user_string() for k in graph.get(dg.AssetKey(["publish", "site"])).parent_keys
    }
    marts = {k.to_user_string() for k in graph.get_all_asset_keys() if k.path[0] == "marts"}
    seeds = {"marts/dora_benchmarks", "marts/scorecard_measures"}  # static reference data
    assert marts - seeds <= site_parents


def test_jobs_and_schedules_are_as_documented(defs):
    assert {job.name for job in defs.jobs} >= {"refresh", "ingest", "publish_reports"}
    schedules = {s.name: s for s in defs.schedules}
    # The demo has two partitioned sources (GitHub, then GitLab): the second one's job gets its own
    # schedule at the same time (docs/operations.md).
    assert set(schedules) == {
        "daily_refresh",
        "daily_gitlab_sync",
        "weekly_report",
        "monthly_report",
    }
    assert schedules["daily_refresh"].cron_schedule == "0 5 * * *"
    assert schedules["daily_gitlab_sync"].cron_schedule == "0 5 * * *"
    assert schedules["daily_gitlab_sync"].job_name == "gitlab_sync"
    assert schedules["weekly_report"].cron_schedule == "0 7 * * 1"
    assert schedules["monthly_report"].cron_schedule == "0 7 1 * *"
    assert {s.execution_timezone for s in schedules.values()} == {"Europe/Berlin"}


def test_every_step_that_opens_the_warehouse_is_in_the_single_writer_pool(defs):
    graph = defs.resolve_asset_graph()
    for assets_def in graph.assets_defs:
        if assets_def.is_executable:
            assert assets_def.op.pool == "warehouse", assets_def.node_def.name
    for checks_def in defs.asset_checks:
        assert checks_def.op.pool == "warehouse", checks_def.node_def.name


def test_raw_payload_checks_are_blocking(defs):
    specs = [spec for checks_def in defs.asset_checks for spec in checks_def.check_specs]
    assert {s.asset_key.to_user_string() for s in specs} >= {
        "raw/github_pull_requests",
        "raw/pagerduty_incidents",
    }
    assert all(s.blocking for s in specs if s.asset_key.path[0] == "raw")


def test_delivery_regressions_warn_on_the_site_without_blocking_it(defs):
    specs = [spec for checks_def in defs.asset_checks for spec in checks_def.check_specs]
    regression = [s for s in specs if s.name == "no_delivery_regression"]
    assert [s.asset_key.to_user_string() for s in regression] == ["publish/site"]
    assert not regression[0].blocking


SNAPSHOT = Path(__file__).parent / "fixtures" / "asset_graph.json"


def test_the_asset_graph_matches_its_checked_in_snapshot(defs):
    """Assets (group, deps, partitioning), checks (blocking or not), jobs, schedules and sensors of
    the demo configuration. After an intended change regenerate it (assets/graph_snapshot.py) and
    review the diff."""
    import json

    from assets.graph_snapshot import describe

    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    actual = describe(defs)
    for part in ("jobs", "schedules", "sensors", "checks"):
        assert actual[part] == expected[part], part
    assert sorted(actual["assets"]) == sorted(expected["assets"])
    assert actual["assets"] == expected["assets"]
