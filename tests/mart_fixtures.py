"""A small warehouse with the marts the site reads, built by the tests themselves (no dbt)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.warehouse import RawRecord, ensure_raw_schema, set_cursor, upsert_raw

TEAMS = ("payments", "search")
SERVICES = {"payments": "checkout-api", "search": "search-api"}
FIRST_WEEK = dt.date(2025, 1, 6)  # a Monday
WEEKS = 8
BUILD_TIME = dt.datetime(2025, 3, 10, 6, 0, tzinfo=dt.UTC)  # after the last week and February


def _dora_row(period_start: dt.date, scope: str, name: str, i: int) -> dict:
    deployments = 6 + (i % 4) * (2 if scope == "org" else 1)
    failed = i % 3 == 0
    return {
        "period_start": period_start,
        "scope": scope,
        "scope_name": name,
        "deployments": deployments,
        "deploy_days": min(5, deployments),
        "lead_time_p50_hours": 20.0 + i,
        "lead_time_p75_hours": 30.0 + i,
        "lead_time_p90_hours": 50.0 + i,
        "n_changes": deployments * 2,
        "change_failure_rate": (1 / deployments) if failed else 0.0,
        "n_failed_deployments": 1 if failed else 0,
        "recovery_time_p50_hours": 2.5 if failed else None,
        "recovery_time_p90_hours": 4.0 if failed else None,
        "n_incidents": 1 if failed else 0,
        "rework_rate": 0.05,
        "performance_level": "high",
    }


def dora_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    weekly, monthly = [], []
    for i in range(WEEKS):
        start = FIRST_WEEK + dt.timedelta(weeks=i)
        weekly.append(_dora_row(start, "org", "acme", i))
        weekly += [_dora_row(start, "team", team, i + k) for k, team in enumerate(TEAMS)]
    for i, month in enumerate((dt.date(2025, 1, 1), dt.date(2025, 2, 1), dt.date(2025, 3, 1))):
        monthly.append(_dora_row(month, "org", "acme", i))
        monthly += [_dora_row(month, "team", team, i + k) for k, team in enumerate(TEAMS)]
    return pd.DataFrame(weekly), pd.DataFrame(monthly)


def deployment_frame() -> pd.DataFrame:
    rows = []
    for i in range(24):
        team = TEAMS[i % 2]
        deployed = dt.datetime(2025, 1, 6, 10, tzinfo=dt.UTC) + dt.timedelta(days=2 * i)
        rows.append(
            {
                "deployment_id": f"dep-{i}",
                "repository": f"acme/{SERVICES[team]}",
                "service": SERVICES[team],
                "team": team,
                "environment": "production",
                "source": "github",
                "commit_sha": f"{i:040x}",
                "started_at": deployed - dt.timedelta(minutes=10),
                "deployed_at": deployed,
                "status": "success",
                "n_changes": 2,
                "is_failure": i % 7 == 0,
                "failure_reason": "incident" if i % 7 == 0 else None,
                "is_rework": False,
                "rework_reason": None,
            }
        )
    return pd.DataFrame(rows)


def change_frame() -> pd.DataFrame:
    rows = []
    for i in range(30):
        team = TEAMS[i % 2]
        first = dt.datetime(2025, 1, 6, 9, tzinfo=dt.UTC) + dt.timedelta(days=i)
        coding, pickup, review, deploy = 3.0 + i % 5, 1.0 + i % 3, 2.0, 4.0
        rows.append(
            {
                "change_id": f"chg-{i}",
                "repository": f"acme/{SERVICES[team]}",
                "service": SERVICES[team],
                "team": team,
                "pr_number": i + 1,
                "author": f"dev{i % 4}",
                "first_commit_at": first,
                "opened_at": first + dt.timedelta(hours=coding),
                "first_review_at": first + dt.timedelta(hours=coding + pickup),
                "merged_at": first + dt.timedelta(hours=coding + pickup + review),
                "deployed_at": first + dt.timedelta(hours=coding + pickup + review + deploy),
                "deployment_id": f"dep-{i % 24}",
                "coding_hours": coding,
                "pickup_hours": pickup,
                "review_hours": review,
                "deploy_hours": deploy,
                "lead_time_hours": coding + pickup + review + deploy,
            }
        )
    return pd.DataFrame(rows)


def incident_frame() -> pd.DataFrame:
    rows = []
    for i in range(4):
        team = TEAMS[i % 2]
        started = dt.datetime(2025, 1, 6, 12, tzinfo=dt.UTC) + dt.timedelta(days=14 * i)
        rows.append(
            {
                "incident_id": f"inc-{i}",
                "source": "pagerduty",
                "service": SERVICES[team],
                "team": team,
                "severity": "SEV2",
                "started_at": started,
                "resolved_at": started + dt.timedelta(hours=3),
                "recovery_hours": 3.0,
                "deployment_id": f"dep-{7 * i}" if i < 3 else None,
                "attribution": "window" if i < 3 else "unattributed",
            }
        )
    return pd.DataFrame(rows)


MART_FRAMES = {
    "fct_deployments": deployment_frame,
    "fct_changes": change_frame,
    "fct_incidents": incident_frame,
}


SURVEY_FILE_DIGEST = "9ca675bff7b2d200946a4800bfd28c9678c0756fa9b27c0fea1e110b82f87c39"


def make_warehouse(path: Path, *, marts: bool = True, raw: bool = True) -> Path:
    """Create a warehouse file at ``path`` with raw tables, sync state and (optionally) the marts."""
    con = duckdb.connect(str(path))
    try:
        con.execute("SET TimeZone = 'UTC'")
        if raw:
            ensure_raw_schema(con)
            upsert_raw(
                con,
                "github_pull_requests",
                "github",
                [
                    RawRecord(f"acme/checkout-api#{i}", "acme/checkout-api", {"n": i})
                    for i in range(3)
                ],
            )
            set_cursor(
                con, "github", "acme/checkout-api", "pull_requests", cursor="c1", items_added=3
            )
            # A loaded survey file: keyed by its SHA-256, its name in the cursor.
            set_cursor(
                con,
                "surveys",
                SURVEY_FILE_DIGEST,
                "survey_file",
                cursor="2025-Q1.csv",
                items_added=0,
            )
        if marts:
            con.execute("CREATE SCHEMA marts")
            weekly, monthly = dora_frames()
            frames = {"metrics_dora_weekly": weekly, "metrics_dora_monthly": monthly}
            frames |= {name: build() for name, build in MART_FRAMES.items()}
            for name, frame in frames.items():
                con.register("_frame", frame)
                con.execute(f"CREATE TABLE marts.{name} AS SELECT * FROM _frame")
                con.unregister("_frame")
    finally:
        con.close()
    return path


def mart_row_counts(path: Path) -> dict[str, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'"
        ).fetchall()
        return {t: con.execute(f"SELECT count(*) FROM marts.{t}").fetchone()[0] for (t,) in tables}
    finally:
        con.close()
