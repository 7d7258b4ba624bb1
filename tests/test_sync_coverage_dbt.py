"""Coverage in dbt: int_sync_coverage's organisation-wide row and period_fully_synced().

A real warehouse with raw.sync_coverage rows as the sync writes them, a real dbt build of the
coverage models and the singular test that exercises the macro, and the macro's SQL compiled by
dbt and evaluated against the built model.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipelines.warehouse import connect, ensure_raw_schema, set_coverage, transaction
from tests.test_dbt_models import failures, query, run_dbt

NOW = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.UTC)
TARGET = NOW - dt.timedelta(days=365)
SELECT = ["stg_sync__coverage", "int_sync_coverage", "period_fully_synced_follows_the_coverage"]


def _warehouse(path: Path, rows: list[tuple[str, str, dt.datetime]]) -> Path:
    con = connect(path)
    ensure_raw_schema(con)
    with transaction(con):
        for scope, entity, synced_from in rows:
            set_coverage(
                con,
                "github",
                scope,
                entity,
                synced_from=synced_from,
                synced_to=NOW,
                target_from=TARGET,
                resume_at=None,
            )
    con.close()
    return path


def _build(tmp_path: Path, rows) -> Path:
    path = _warehouse(tmp_path / "wh.duckdb", rows)
    result = run_dbt(["build", "--select", *SELECT], path, tmp_path / "target")
    assert result.success, failures(result)
    return path


def _fully_synced(tmp_path: Path, path: Path, period_start: str) -> bool:
    """period_fully_synced() as dbt compiles it, evaluated against the built warehouse."""
    result = run_dbt(
        ["compile", "--inline", f'select {{{{ period_fully_synced("{period_start}") }}}}'],
        path,
        tmp_path / "target",
    )
    assert result.success, failures(result)
    sql = result.result.results[0].node.compiled_code
    return query(path, sql)[0][0]


def test_the_org_wide_row_is_the_latest_synced_from_and_only_older_periods_are_incomplete(
    tmp_path,
):
    behind = NOW - dt.timedelta(days=30)
    path = _build(
        tmp_path,
        [
            ("acme/api", "pull_requests", NOW - dt.timedelta(days=120)),
            ("acme/api", "commits", TARGET),
            ("acme/web", "pull_requests", behind),
        ],
    )
    (org,) = query(
        path,
        "select synced_from, target_from, is_complete from intermediate.int_sync_coverage "
        "where is_org_wide",
    )
    assert org == (behind, TARGET, False)
    per_entity = query(
        path,
        "select scope, entity, is_complete from intermediate.int_sync_coverage "
        "where not is_org_wide order by all",
    )
    assert per_entity == [
        ("acme/api", "commits", True),
        ("acme/api", "pull_requests", False),
        ("acme/web", "pull_requests", False),
    ]
    assert _fully_synced(tmp_path, path, "date '2026-06-01'") is True
    assert _fully_synced(tmp_path, path, "date '2026-05-31'") is False


def test_every_period_is_fully_synced_once_the_backfill_is_complete(tmp_path):
    path = _build(tmp_path, [("acme/api", "pull_requests", TARGET)])
    assert _fully_synced(tmp_path, path, "date '2020-01-01'") is True


@pytest.mark.parametrize("rows", [[]], ids=["no coverage recorded"])
def test_a_warehouse_without_coverage_counts_as_fully_synced(tmp_path, rows):
    path = _build(tmp_path, rows)
    assert query(path, "select count(*) from intermediate.int_sync_coverage") == [(0,)]
    assert _fully_synced(tmp_path, path, "date '2020-01-01'") is True
