"""The publishing quality gate: check outcomes on the data-quality page, and a failed gate that keeps
the previous site while its data-quality page says why."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from dashboards.gate import CheckStatus
from dashboards.gate_notice import publish_gate_notice
from dashboards.site import build_site, versions_dir
from tests.mart_fixtures import BUILD_TIME, make_warehouse

DBT_TESTS = Path(__file__).resolve().parent.parent / "dbt" / "tests"
PASSED = CheckStatus("raw/github_deployments", "payloads_are_well_formed", True, "42 rows ok")
FAILED = CheckStatus(
    "raw/github_commits",
    "payloads_are_well_formed",
    False,
    "raw.github_commits: 3 rows with a timestamp in the future",
    BUILD_TIME,
)


def test_the_data_quality_page_leads_with_failures_and_a_summary_and_folds_passed_checks(tmp_path):
    warehouse = make_warehouse(tmp_path / "w.duckdb")
    site = build_site(
        warehouse, tmp_path / "site", organisation="Acme", now=BUILD_TIME, checks=[PASSED, FAILED]
    ).path

    html = (site / "data-quality.html").read_text()
    summary = "Checks: 1 failed (1 blocking), 1 passed, 0 not run yet, of n = 2."
    assert summary in html
    assert html.index(summary) < html.index("<td>FAILED</td>") < html.index("<details>")
    assert "3 rows with a timestamp in the future" in html
    folded = html[html.index("<details>") : html.index("</details>")]
    assert "Passed checks (n = 1)" in folded and "42 rows ok" in folded
    assert "<td>FAILED</td>" not in folded


def test_without_check_outcomes_the_page_says_so(tmp_path):
    warehouse = make_warehouse(tmp_path / "w.duckdb")
    site = build_site(warehouse, tmp_path / "site", organisation="Acme", now=BUILD_TIME).path
    assert "no check outcomes were passed to this build" in (site / "data-quality.html").read_text()


def test_a_failed_gate_keeps_the_previous_site_and_says_why(tmp_path):
    warehouse = make_warehouse(tmp_path / "w.duckdb")
    previous = build_site(warehouse, tmp_path / "site", organisation="Acme", now=BUILD_TIME)
    index_before = (previous.path / "index.html").read_bytes()
    later = BUILD_TIME + dt.timedelta(days=1)

    version = publish_gate_notice(
        warehouse, previous.path, organisation="Acme", checks=[PASSED, FAILED], now=later
    )

    assert version is not None and previous.path.resolve() == version.resolve()
    assert (previous.path / "index.html").read_bytes() == index_before  # numbers kept
    assert (previous.version_dir / "index.html").exists()  # the old version is still there
    quality = (previous.path / "data-quality.html").read_text()
    assert "Publishing gate failed" in quality
    assert "raw/github_commits · payloads_are_well_formed" in quality
    assert previous.version_dir.name in quality
    assert sorted(p.name for p in versions_dir(previous.path).iterdir()) == [
        previous.version_dir.name,
        version.name,
    ]


def test_without_a_previous_site_a_failed_gate_publishes_nothing(tmp_path):
    warehouse = make_warehouse(tmp_path / "w.duckdb")
    site_dir = tmp_path / "site"
    assert publish_gate_notice(warehouse, site_dir, organisation="Acme", checks=[FAILED]) is None
    assert not site_dir.exists()


def test_the_no_deployment_before_its_commit_dbt_test_exists():
    sql = (DBT_TESTS / "no_deployment_before_its_commit.sql").read_text()
    assert "ref('fct_deployments')" in sql and "ref('stg_github__commits')" in sql
    assert "deployed_at < committed_at" in sql
