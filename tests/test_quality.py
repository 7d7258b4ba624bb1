"""Great Expectations checks on raw payloads: keys present, timestamps parse, nothing from the future."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines.quality import check_raw_table
from pipelines.warehouse import RawRecord, connect, ensure_raw_table, upsert_raw

NOW = dt.datetime(2026, 6, 30, tzinfo=dt.UTC)


def pr(n: int, **overrides) -> RawRecord:
    payload = {
        "id": n,
        "number": n,
        "state": "closed",
        "created_at": "2026-06-01T10:00:00Z",
        "updated_at": "2026-06-02T10:00:00Z",
    }
    payload.update(overrides)
    return RawRecord(f"o/r#{n}", "o/r", {k: v for k, v in payload.items() if v is not ...})


@pytest.fixture
def con(tmp_path):
    con = connect(tmp_path / "wh.duckdb")
    yield con
    con.close()


def test_clean_payloads_pass(con):
    upsert_raw(con, "github_pull_requests", "github", [pr(1), pr(2)])
    outcome = check_raw_table(con, "github_pull_requests", now=NOW)
    assert outcome.passed, outcome.failures
    assert outcome.rows == 2


def test_empty_table_passes_with_zero_rows(con):
    ensure_raw_table(con, "github_deployments")
    outcome = check_raw_table(con, "github_deployments", now=NOW)
    assert outcome.passed and outcome.rows == 0


def test_missing_key_fails_and_names_the_row(con):
    upsert_raw(con, "github_pull_requests", "github", [pr(1), pr(2, number=...)])
    outcome = check_raw_table(con, "github_pull_requests", now=NOW)
    assert not outcome.passed
    assert "number" in outcome.description and "o/r#2" in outcome.description


def test_unparseable_timestamp_fails(con):
    upsert_raw(con, "github_pull_requests", "github", [pr(1, created_at="yesterday-ish")])
    outcome = check_raw_table(con, "github_pull_requests", now=NOW)
    assert not outcome.passed
    assert "created_at__parses" in outcome.description


def test_timestamp_in_the_future_fails(con):
    upsert_raw(con, "github_pull_requests", "github", [pr(1, updated_at="2026-07-05T00:00:00Z")])
    outcome = check_raw_table(con, "github_pull_requests", now=NOW)
    assert not outcome.passed
    assert "updated_at" in outcome.description and "o/r#1" in outcome.description
