"""The dbt project, built end to end on a small hand-written raw warehouse.

tests/fixtures/raw_mini/*.json hold real GitHub REST / PagerDuty v2 item shapes (one file per raw
table, each a list of {natural_key, scope, parent_key?, updated_at?, payload}); org.json holds the
organisation tables. The expected values below are computed by hand from those files:

checkout-api (GitHub Deployments, service checkout, team payments)
  Commit graph: eee <- a1 (PR#1 squash) <- a2 (merge of PR#2) <- a4 (revert PR#4) <- a6 (PR#6);
  attribution is by commit ancestry (int_commit_deployments): D101 claims a1, eee; D103 claims a2;
  D105 (environment "prod", a second production environment) claims a4 and, being that
  environment's first deployment, a2, a1, eee too (PR#1 and PR#2 keep their earlier deployments).
  D101 production: created 03-05 10:00, success 03-05 10:20, inactive 03-06 09:30 (= updated_at)
  D102 production: failure 03-06 09:15
  D103 production: success 03-06 09:30
  D104 staging (not production), D105 "prod": success 03-12 15:10
  PR#1 alice: first commit 03-03 15:00, opened 03-04 09:00, reviewed by bob 03-04 13:00 (alice's own
       comment at 10:00 does not count), merged 03-05 09:00 -> D101; lead time 43h20m
  PR#2 bob: commit 03-05 10:30, merged 03-06 08:00 -> D103 (D102 failed); lead time 23h
  PR#3 dependabot[bot]: excluded.  PR#4 carol, reverts PR#1: 03-12 09:50 -> D105; lead time 5h20m;
       D101 is therefore a failure (revert) and D105 rework (revert)
  PR#5 closed unmerged.  PR#6 merged 03-13 10:00, never deployed.
billing (no GitHub Deployments: Actions "Deploy" runs on main)
  run 201 success, updated 03-07 12:30; run 205 failure 03-08 10:00; smoke check / CI / feature
  branch / in-progress runs are not deployments.  PR#10 dave: 03-07 08:00 -> run 201 (commit b1);
  lead 4h30m. checkout-api's run 207 created GitHub Deployment D101 (same SHA, during the run): deduplicated.
Incidents: Q1 (checkout 03-06 20:00-22:00) and Q4 (checkout 03-06 21:00-03-07 01:00) -> D103;
  Q3 (billing 03-07 14:00-14:30) -> run 201; Q2 (checkout 03-14 18:00, D105 is 50h45m before)
  unattributed.
Week of 2024-03-04, org: 3 deployments on 3 days, 5 attempts, all failed (D102 and run 205 by
  status, D103 and run 201 by incident, D101 by the revert) -> CFR 1.0; lead times 43.33/23/4.5 -> p50 23.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from pipelines.ingest import RAW_TABLES, ensure_raw_tables
from pipelines.slo.definitions import ensure_definition_tables
from pipelines.warehouse import (
    RawRecord,
    ensure_raw_schema,
    ensure_raw_table,
    open_warehouse,
    upsert_raw,
)

duckdb = pytest.importorskip("duckdb")
dbt_main = pytest.importorskip("dbt.cli.main")

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_DIR = REPO_ROOT / "dbt"
FIXTURES = Path(__file__).parent / "fixtures" / "raw_mini"

ORG_TABLES = {
    "org_teams": "team VARCHAR, engineers INTEGER, on_call INTEGER",
    "org_services": "service VARCHAR, team VARCHAR, tier VARCHAR",
    "org_repositories": "repository VARCHAR, service VARCHAR, team VARCHAR",
    "org_pagerduty_services": "pagerduty_service_id VARCHAR, service VARCHAR",
    "org_incident_services": "source VARCHAR, kind VARCHAR, external_service VARCHAR, service VARCHAR",
}
SOURCE_INSTANCE = {"pagerduty": "pagerduty", "survey": "surveys"}
FETCHED_AT = dt.datetime(2024, 3, 15, 6, 0, tzinfo=dt.UTC)


def build_raw_warehouse(path: Path) -> None:
    """Write the fixture payloads into raw.* exactly as the ingest step does."""
    with open_warehouse(path) as con:
        ensure_raw_schema(con)
        for table in RAW_TABLES:
            ensure_raw_table(con, table)
            file = FIXTURES / f"{table}.json"
            if not file.exists():
                continue
            records = [
                RawRecord(
                    natural_key=item["natural_key"],
                    scope=item["scope"],
                    payload=item["payload"],
                    updated_at=item.get("updated_at"),
                    parent_key=item.get("parent_key"),
                )
                for item in json.loads(file.read_text(encoding="utf-8"))
            ]
            source = SOURCE_INSTANCE.get(table.split("_")[0], "github")
            upsert_raw(con, table, source, records, fetched_at=FETCHED_AT)
        org = json.loads((FIXTURES / "org.json").read_text(encoding="utf-8"))
        for table, columns in ORG_TABLES.items():
            con.execute(f"CREATE OR REPLACE TABLE raw.{table} ({columns})")
            names = [c.split()[0] for c in columns.split(", ")]
            rows = [tuple(row[n] for n in names) for row in org.get(table, [])]
            if rows:
                placeholders = ", ".join("?" for _ in names)
                con.executemany(f"INSERT INTO raw.{table} VALUES ({placeholders})", rows)
        ensure_definition_tables(con)  # no SLOs: the SLO models build empty


def run_dbt(args: list[str], warehouse: Path, target_path: Path) -> dbt_main.dbtRunnerResult:
    env = {"PLATFORM_METRICS_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return dbt_main.dbtRunner().invoke(
            [
                *args,
                "--project-dir",
                str(DBT_DIR),
                "--profiles-dir",
                str(DBT_DIR),
                "--target-path",
                str(target_path),
                "--log-path",
                str(target_path / "logs"),
                "--quiet",
            ]
        )
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def failures(result: dbt_main.dbtRunnerResult) -> list[str]:
    if result.exception is not None:
        return [repr(result.exception)]
    return [
        f"{r.node.unique_id}: {r.status} {r.message}"
        for r in (result.result or [])
        if str(r.status) not in ("success", "pass")
    ]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("dbt_build")
    path = tmp / "warehouse.duckdb"
    build_raw_warehouse(path)
    result = run_dbt(["build"], path, tmp / "target")
    assert result.success, failures(result)
    return path


def query(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    # Not read-only: dbt-duckdb may still hold the file open in this process (same config needed).
    with duckdb.connect(str(path)) as con:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(sql, params or []).fetchall()


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def test_schemas_hold_the_layers(warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select table_schema, table_name from information_schema.tables "
        "where table_schema in ('staging', 'intermediate', 'marts')",
    )
    by_schema: dict[str, set[str]] = {}
    for schema, name in rows:
        by_schema.setdefault(schema, set()).add(name)
    assert {"stg_github__commits", "stg_pagerduty__incidents", "stg_org__teams"} <= by_schema[
        "staging"
    ]
    assert {"int_deployments", "int_changes", "int_incidents"} <= by_schema["intermediate"]
    assert {
        "fct_changes",
        "fct_deployments",
        "fct_incidents",
        "metrics_dora_weekly",
        "metrics_dora_monthly",
    } <= by_schema["marts"]


def test_commit_parents_are_a_varchar_list(warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select n_parents, parent_shas from staging.stg_github__commits "
        "where repository = 'acme/checkout-api' order by committed_at",
    )
    assert [r[0] for r in rows] == [0, 1, 2, 1, 1]
    assert rows[2][1] == ["a1" * 20, "c201" * 10]


def test_deployments_use_first_success_status_and_actions_fallback(warehouse: Path) -> None:
    rows = {
        r[0]: r[1:]
        for r in query(
            warehouse,
            "select deployment_id, source, status, deployed_at, is_failure, failure_reason, "
            "is_rework, n_changes from marts.fct_deployments",
        )
    }
    assert set(rows) == {
        "acme/checkout-api/deployment/101",
        "acme/checkout-api/deployment/102",
        "acme/checkout-api/deployment/103",
        "acme/checkout-api/deployment/105",
        "acme/billing/run/201",
        "acme/billing/run/205",
    }
    assert rows["acme/checkout-api/deployment/101"] == (
        "github_deployment",
        "success",
        utc("2024-03-05T10:20:00"),
        True,
        "revert",
        False,
        1,
    )
    assert rows["acme/checkout-api/deployment/102"][1:5] == (
        "failure",
        utc("2024-03-06T09:15:00"),
        True,
        "failed_status",
    )
    assert rows["acme/checkout-api/deployment/103"][3:] == (True, "incident", False, 1)
    assert rows["acme/checkout-api/deployment/105"][5:] == (True, 1)
    assert rows["acme/billing/run/201"][:3] == (
        "github_actions",
        "success",
        utc("2024-03-07T12:30:00"),
    )


def test_changes_carry_the_pull_request_title_and_its_web_page(warehouse: Path) -> None:
    rows = {
        r[0]: r[1:]
        for r in query(
            warehouse, "select change_id, title, url, repo, repository from marts.fct_changes"
        )
    }
    assert rows["acme/checkout-api#1"][:2] == (
        "Add cart cache",
        "https://github.com/acme/checkout-api/pull/1",
    )
    assert rows["acme/billing#10"][:2] == (
        "Retry failed invoices",
        "https://github.com/acme/billing/pull/10",
    )
    # `repo` is deprecated but kept for one release: still identical to `repository`.
    assert all(repo == repository for _, _, repo, repository in rows.values())


def test_change_stages_and_lead_time(warehouse: Path) -> None:
    rows = {
        r[0]: r[1:]
        for r in query(
            warehouse,
            "select change_id, deployment_id, coding_hours, pickup_hours, review_hours, "
            "deploy_hours, lead_time_hours from marts.fct_changes",
        )
    }
    assert set(rows) == {
        "acme/checkout-api#1",
        "acme/checkout-api#2",
        "acme/checkout-api#4",
        "acme/checkout-api#6",
        "acme/billing#10",
    }
    deployment, coding, pickup, review, deploy, lead = rows["acme/checkout-api#1"]
    assert deployment == "acme/checkout-api/deployment/101"
    assert (coding, pickup, review) == (18, 4, 20)
    assert deploy == pytest.approx(80 / 60)
    assert lead == pytest.approx(43 + 20 / 60)
    assert rows["acme/checkout-api#2"][0] == "acme/checkout-api/deployment/103"
    assert rows["acme/checkout-api#2"][5] == pytest.approx(23)
    assert rows["acme/billing#10"][5] == pytest.approx(4.5)
    assert rows["acme/checkout-api#6"][0] is None and rows["acme/checkout-api#6"][5] is None
    # carol's review came after the merge: PR#6 has no first review.
    assert rows["acme/checkout-api#6"][2] is None


def test_incidents_carry_their_page_in_the_source(warehouse: Path) -> None:
    urls = dict(query(warehouse, "select incident_id, url from marts.fct_incidents"))
    assert urls["Q1CHK"] == "https://acme.pagerduty.com/incidents/Q1CHK"
    assert urls["Q2CHK"] == "https://acme.pagerduty.com/incidents/Q2CHK"


def test_incident_attribution_window(warehouse: Path) -> None:
    rows = dict(
        (r[0], r[1:])
        for r in query(
            warehouse,
            "select incident_id, deployment_id, attribution, recovery_hours, service, team "
            "from marts.fct_incidents",
        )
    )
    assert rows["Q1CHK"] == (
        "acme/checkout-api/deployment/103",
        "window",
        2,
        "checkout",
        "payments",
    )
    assert rows["Q4CHK"][:2] == ("acme/checkout-api/deployment/103", "window")
    assert rows["Q3BIL"][:2] == ("acme/billing/run/201", "window")
    assert rows["Q2CHK"][:2] == (None, None)


def test_weekly_org_metrics(warehouse: Path) -> None:
    (row,) = query(
        warehouse,
        "select deployments, deploy_days, n_changes, lead_time_p50_hours, change_failure_rate, "
        "n_failed_deployments, n_incidents, recovery_time_p50_hours, rework_rate, performance_level "
        "from marts.metrics_dora_weekly "
        "where scope = 'org' and period_start = date '2024-03-04'",
    )
    deployments, days, n_changes, p50, cfr, n_failed, n_incidents, recovery, rework, level = row
    assert (deployments, days, n_changes) == (3, 3, 3)
    assert p50 == pytest.approx(23)
    assert cfr == pytest.approx(1.0)
    assert n_failed == 5
    assert (n_incidents, recovery) == (3, 2)
    assert rework == 0
    assert level == "insufficient data"


def test_every_period_and_scope_is_present(warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select period_start, scope, scope_name, deployments, change_failure_rate, rework_rate "
        "from marts.metrics_dora_weekly order by period_start, scope, scope_name",
    )
    periods = sorted({r[0] for r in rows})
    assert periods == [dt.date(2024, 3, 4), dt.date(2024, 3, 11)]
    scopes = {(r[1], r[2]) for r in rows}
    assert scopes == {
        ("org", "all"),
        ("team", "payments"),
        ("team", "platform"),
        ("service", "checkout"),
        ("service", "billing"),
        ("service", "ci-tools"),
    }
    assert len(rows) == 12
    by_key = {(r[0], r[1], r[2]): r[3:] for r in rows}
    # ci-tools never deploys: zero deployments, no rate.
    assert by_key[(dt.date(2024, 3, 4), "service", "ci-tools")] == (0, None, None)
    assert by_key[(dt.date(2024, 3, 4), "service", "checkout")][:2] == (2, pytest.approx(1.0))
    # Week 2: D105 ships the revert PR#4.
    assert by_key[(dt.date(2024, 3, 11), "org", "all")] == (1, 0, 1)
    monthly = query(
        warehouse,
        "select deployments, change_failure_rate from marts.metrics_dora_monthly "
        "where scope = 'org' and period_start = date '2024-03-01'",
    )
    assert monthly == [(4, pytest.approx(5 / 6))]


def test_vars_change_definitions(tmp_path: Path) -> None:
    """lead_time_start=pr_opened starts PR#1's lead time at its opening (03-04 09:00)."""
    copy = tmp_path / "warehouse.duckdb"
    build_raw_warehouse(copy)
    result = run_dbt(
        ["run", "--select", "+fct_changes", "--vars", '{"lead_time_start": "pr_opened"}'],
        copy,
        tmp_path / "target",
    )
    assert result.success, failures(result)
    (row,) = query(
        copy,
        "select lead_time_hours from marts.fct_changes where change_id = 'acme/checkout-api#1'",
    )
    assert row[0] == pytest.approx(25 + 20 / 60)


def test_builds_on_an_empty_warehouse(tmp_path: Path) -> None:
    """A fresh install: every raw table exists but holds nothing (no source configured yet)."""
    path = tmp_path / "warehouse.duckdb"
    with open_warehouse(path) as con:
        ensure_raw_tables(con)  # what the ingest step does before any source syncs
        for table, columns in ORG_TABLES.items():
            con.execute(f"CREATE TABLE raw.{table} ({columns})")
    result = run_dbt(
        ["build", "--select", "resource_type:model", "resource_type:seed"],
        path,
        tmp_path / "target",
    )
    assert result.success, failures(result)
    assert query(path, "select count(*) from marts.metrics_dora_weekly") == [(0,)]
