"""metrics_cognitive_load_signals on the hand-written raw warehouse (tests/fixtures/raw_mini).

The dbt unit tests in dbt/models/marts/metrics_cognitive_load_signals.yml (and the three
intermediate models' .yml) pin each rule on small inputs; they run in test_dbt_models.py's
`dbt build`. This checks the mart end to end on the fixture warehouse, by hand from its files
(time zone UTC, the dbt_project.yml default):

payments (5 engineers, 2 on call) owns checkout and billing, with repositories acme/checkout-api
and acme/billing (created 2023); platform (4, 1) owns ci-tools, which has no repository.
Activity starts with alice's and dave's commits of Fri 2024-03-01 (week of 02-26) and ends with
alice's PR#6 (03-13, week of 03-11). Every pull request is closed within the week it was opened
(PR#5: 03-06 to 03-08), so no pull request is open at a week's end; PR#3 is dependabot's.
Active developers (home team payments for all four, who opened pull requests only there):
02-26 alice, dave; 03-04 alice, bob, dave; 03-11 alice, carol; each in one repository.
Incidents: Q1, Q4 (03-06), Q3 (03-07) in the week of 03-04, Q2 (03-14) in the week of 03-11.
The only Actions job is billing's `Deploy` job: a deployment workflow, not CI.
platform has no activity at all and is shown from the organisation's first week.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.test_dbt_models import build_raw_warehouse, failures, query, run_dbt

COLUMNS = (
    "team, week, engineers, on_call, services_owned, repositories_owned, services_per_engineer, "
    "repositories_per_engineer, incidents, incidents_per_on_call, open_prs, active_developers, "
    "open_prs_per_developer, repos_touched_per_developer, ci_runs, ci_queue_p50_seconds, "
    "ci_run_p50_seconds"
)
WEEKS = [dt.date(2024, 2, 26), dt.date(2024, 3, 4), dt.date(2024, 3, 11)]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("cognitive_load")
    path = tmp / "warehouse.duckdb"
    build_raw_warehouse(path)
    result = run_dbt(["run", "--select", "+metrics_cognitive_load_signals"], path, tmp / "target")
    assert result.success, failures(result)
    return path


def signals(path: Path) -> dict[tuple[str, dt.date], dict]:
    names = [c.strip() for c in COLUMNS.split(",")]
    rows = query(path, f"select {COLUMNS} from marts.metrics_cognitive_load_signals")
    return {(r[0], r[1]): dict(zip(names, r, strict=True)) for r in rows}


def test_every_team_has_every_week(warehouse: Path) -> None:
    rows = signals(warehouse)
    assert sorted(rows) == [(team, week) for team in ("payments", "platform") for week in WEEKS]


def test_payments_signals(warehouse: Path) -> None:
    rows = signals(warehouse)
    for week in WEEKS:
        row = rows[("payments", week)]
        assert (row["engineers"], row["on_call"]) == (5, 2)
        assert (row["services_owned"], row["repositories_owned"]) == (2, 2)
        assert row["services_per_engineer"] == pytest.approx(0.4)
        assert row["repositories_per_engineer"] == pytest.approx(0.4)
        assert (row["open_prs"], row["open_prs_per_developer"]) == (0, 0)
        assert row["repos_touched_per_developer"] == pytest.approx(1.0)
        # billing's Deploy job is a deployment, not CI.
        assert (row["ci_runs"], row["ci_queue_p50_seconds"], row["ci_run_p50_seconds"]) == (
            0,
            None,
            None,
        )
    incidents = [rows[("payments", w)]["incidents"] for w in WEEKS]
    assert incidents == [0, 3, 1]
    per_on_call = [rows[("payments", w)]["incidents_per_on_call"] for w in WEEKS]
    assert per_on_call == [0, pytest.approx(1.5), pytest.approx(0.5)]
    assert [rows[("payments", w)]["active_developers"] for w in WEEKS] == [2, 3, 2]


def test_a_team_without_activity_shows_its_scope_with_zeros(warehouse: Path) -> None:
    rows = signals(warehouse)
    for week in WEEKS:
        row = rows[("platform", week)]
        assert (row["engineers"], row["on_call"], row["services_owned"]) == (4, 1, 1)
        assert row["repositories_owned"] == 0
        assert row["services_per_engineer"] == pytest.approx(0.25)
        assert (row["incidents"], row["open_prs"], row["active_developers"], row["ci_runs"]) == (
            0,
            0,
            0,
            0,
        )
        assert row["repos_touched_per_developer"] is None


def test_home_teams_and_bots(warehouse: Path) -> None:
    home = query(
        warehouse,
        "select developer, home_team, home_team_pull_requests "
        "from intermediate.int_developer_home_teams order by developer",
    )
    assert home == [
        ("alice", "payments", 2),
        ("bob", "payments", 2),
        ("carol", "payments", 1),
        ("dave", "payments", 1),
    ]
    bots = query(
        warehouse,
        "select count(*) from intermediate.int_developer_activity where developer like '%[bot]'",
    )
    assert bots == [(0,)]
    # billing's `Deploy` job is a CI job of the code-host layer but nobody's feedback loop.
    assert query(warehouse, "select count(*) from intermediate.int_ci_jobs") == [(1,)]
    assert query(warehouse, "select count(*) from intermediate.int_ci_feedback_jobs") == [(0,)]
