"""Incremental dbt models: a daily run gives the same warehouse as a full rebuild.

A small generated organisation (3 repositories x 4 months, through the production clients and the
fake API) is built twice from the same final raw layer:

- incremental: yesterday's raw layer (the newest day held back, pipelines/demo/replay.py) built in
  full, then the day landed with a later fetched_at, together with late-arriving updates to old
  rows (an old deployment's success status turned failure, an old pull request re-titled, an old
  deployment status moved to another deployment, an old SLI sample corrected) and a plain
  ``dbt build``;
- full: ``dbt build --full-refresh`` of the final raw layer.

Every mart and every incremental model must hold the same rows (EXCEPT ALL both ways). Further
tests run one incremental model on its own to show what it reads: only rows fetched since its newest
(less the lookback), everything when its stored fingerprint is not this run's, and from scratch on
--full-refresh.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.dbt_cli import run_dbt
from pipelines.definitions import dbt_vars
from pipelines.demo import scaled_demo_config
from pipelines.demo.replay import hold_back_newest_day, land_held_back
from pipelines.warehouse import connect, upsert_raw
from tests.raw_fixtures import sli_sample as _sli_sample
from tests.raw_fixtures import sync_demo_raw_layer

END = dt.date(2026, 6, 30)
AS_OF = "2026-07-01"  # one clock for every build: is_complete is the same both ways
YESTERDAY = dt.datetime(2026, 6, 19, 6, 0, tzinfo=dt.UTC)  # when yesterday's raw rows were fetched
TODAY = dt.datetime(2026, 6, 30, 23, 0, tzinfo=dt.UTC)  # when the day's rows were fetched

INCREMENTAL_MODELS = (
    "stg_github__commits",
    "stg_github__pull_requests",
    "stg_github__pull_request_commits",
    "stg_github__pull_request_reviews",
    "stg_github__workflow_runs",
    "stg_github__workflow_jobs",
    "stg_github__deployments",
    "stg_github__deployment_statuses",
    "stg_prometheus__sli_samples",
    "stg_pagerduty__incidents",
)


def _config():
    return scaled_demo_config(repositories=3, months=4, end_date=END)


def _variables(**extra) -> dict:
    return {**dbt_vars(_config()), "as_of": AS_OF, **extra}


def _dbt(command: list[str], warehouse: Path, target: Path, **extra) -> str:
    return run_dbt(command, warehouse=warehouse, target_path=target, variables=_variables(**extra))


def _generate(path: Path) -> None:
    """Yesterday's raw layer: the generated history less its newest day, fetched YESTERDAY."""
    con = connect(path)
    try:
        sync_demo_raw_layer(con, _config(), sli_hours=48)
        for table in _payload_tables(con):
            con.execute(f"UPDATE raw.{table} SET fetched_at = ?", [YESTERDAY])
        held = hold_back_newest_day(con)
        assert held.get("github_pull_requests") and held.get("github_deployments"), held
    finally:
        con.close()


def _payload_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    from pipelines.demo.replay import payload_tables

    return payload_tables(con)


def _land_the_day(path: Path) -> dict[str, str]:
    """The day's rows and late-arriving changes to old rows, all fetched TODAY. Returns the keys
    of the changed old rows."""
    con = connect(path)
    try:
        land_held_back(con, fetched_at=TODAY)
        old = "2026-05-15"  # weeks old, yet within the rolling mart's rolling_lookback_days
        (status_key, _parent) = con.execute(
            "SELECT natural_key, parent_key FROM raw.github_deployment_statuses "
            "WHERE payload ->> '$.state' = 'success' AND payload ->> '$.environment' = 'production'"
            " AND updated_at < ?::TIMESTAMPTZ ORDER BY natural_key LIMIT 1",
            [old],
        ).fetchone()
        con.execute(
            "UPDATE raw.github_deployment_statuses SET fetched_at = ?, "
            'payload = json_merge_patch(payload, \'{"state": "failure"}\') WHERE natural_key = ?',
            [TODAY, status_key],
        )
        (pr_key,) = con.execute(
            "SELECT natural_key FROM raw.github_pull_requests WHERE payload ->> '$.merged_at' "
            "IS NOT NULL AND updated_at < ?::TIMESTAMPTZ ORDER BY natural_key LIMIT 1",
            [old],
        ).fetchone()
        con.execute(
            "UPDATE raw.github_pull_requests SET fetched_at = ?, payload = json_merge_patch("
            'payload, \'{"title": "Hotfix: retitled long after the merge"}\') '
            "WHERE natural_key = ?",
            [TODAY, pr_key],
        )
        # An old status whose parent changes: its row moves to another (older) deployment.
        (moved_key, new_parent) = con.execute(
            "SELECT s.natural_key, d.natural_key FROM raw.github_deployment_statuses AS s "
            "JOIN raw.github_deployments AS d ON d.scope = s.scope AND d.natural_key <> s.parent_key"
            " WHERE s.updated_at < ?::TIMESTAMPTZ AND s.natural_key <> ? "
            "ORDER BY s.natural_key, d.natural_key LIMIT 1",
            [old, status_key],
        ).fetchone()
        con.execute(
            "UPDATE raw.github_deployment_statuses SET fetched_at = ?, parent_key = ? "
            "WHERE natural_key = ?",
            [TODAY, new_parent, moved_key],
        )
        # An old incident whose urgency PagerDuty changed long after it was resolved.
        (incident_key,) = con.execute(
            "SELECT natural_key FROM raw.pagerduty_incidents WHERE payload ->> '$.urgency' = 'high'"
            " AND updated_at < ?::TIMESTAMPTZ ORDER BY natural_key LIMIT 1",
            [old],
        ).fetchone()
        con.execute(
            "UPDATE raw.pagerduty_incidents SET fetched_at = ?, "
            'payload = json_merge_patch(payload, \'{"urgency": "low"}\') WHERE natural_key = ?',
            [TODAY, incident_key],
        )
        start = int(dt.datetime(2026, 6, 1, tzinfo=dt.UTC).timestamp())
        upsert_raw(
            con,
            "prometheus_sli_samples",
            "prometheus",
            [_sli_sample(start, 0.5)]  # an old sample corrected
            + [_sli_sample(start + 3600 * i, 0.999) for i in range(48, 72)],
            fetched_at=TODAY,
        )
    finally:
        con.close()
    return {
        "status": status_key,
        "pull_request": pr_key,
        "moved": moved_key,
        "incident": incident_key,
    }


NO_TESTS = ["--exclude-resource-type", "test", "unit_test"]


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("incremental")
    incremental = tmp / "incremental.duckdb"
    _generate(incremental)
    # The data tests run once, on the daily incremental build, where the module needs them; the
    # unit tests do not read the warehouse (tests/test_dbt_models.py runs them).
    _dbt(["build", *NO_TESTS], incremental, tmp / "target-incremental")
    changed = _land_the_day(incremental)
    full = tmp / "full.duckdb"
    shutil.copy(incremental, full)
    _dbt(["build", "--exclude-resource-type", "unit_test"], incremental, tmp / "target-incremental")
    _dbt(["build", "--full-refresh", *NO_TESTS], full, tmp / "target-full")
    (tmp / "changed.json").write_text(json.dumps(changed), encoding="utf-8")
    return {"incremental": incremental, "full": full, "tmp": tmp}


def _differences(a: Path, b: Path, schema: str, tables: list[str] | None = None) -> dict:
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
        names = tables or [
            n
            for (n,) in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'b' "
                "AND table_schema = ? AND table_type = 'BASE TABLE' ORDER BY table_name",
                [schema],
            ).fetchall()
        ]
        out = {}
        for name in names:
            counts = con.execute(
                f"SELECT (SELECT count(*) FROM a.{schema}.{name}), "
                f"(SELECT count(*) FROM b.{schema}.{name}), "
                f"(SELECT count(*) FROM (FROM a.{schema}.{name} EXCEPT ALL "
                f"FROM b.{schema}.{name})), "
                f"(SELECT count(*) FROM (FROM b.{schema}.{name} EXCEPT ALL "
                f"FROM a.{schema}.{name}))"
            ).fetchone()
            out[name] = counts
        return out
    finally:
        con.close()


def test_a_daily_incremental_run_gives_every_mart_of_a_full_rebuild_row_for_row(builds):
    diffs = _differences(builds["incremental"], builds["full"], "marts")
    assert "metrics_dora_rolling_28d" in diffs
    assert len(diffs) >= 20, sorted(diffs)  # every mart, not a handful
    assert any(rows for rows, *_ in diffs.values())
    assert {name: d for name, d in diffs.items() if d[0] != d[1] or d[2] or d[3]} == {}


def test_the_rolling_mart_takes_in_late_changes_older_than_its_lookback(builds):
    diffs = _differences(
        builds["incremental"], builds["full"], "marts", ["metrics_dora_rolling_28d"]
    )
    assert {name: d for name, d in diffs.items() if d[0] != d[1] or d[2] or d[3]} == {}


def test_the_rolling_mart_recomputes_only_the_windows_of_days_whose_facts_changed(builds, tmp_path):
    """Its first window is marked (deployments -1): a run with no fact changed keeps the mark (the
    window is older than the lookback, so not recomputed); once a fact of a day in that window
    changes, the run recomputes it."""
    warehouse = tmp_path / "rolling.duckdb"
    shutil.copy(builds["incremental"], warehouse)
    rolling = "marts.metrics_dora_rolling_28d"
    con = duckdb.connect(str(warehouse))
    try:
        (first,) = con.execute(f"SELECT min(period_start) FROM {rolling}").fetchone()
        con.execute(f"UPDATE {rolling} SET deployments = -1 WHERE period_start = ?", [first])
    finally:
        con.close()

    def marked() -> int:
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            return con.execute(
                f"SELECT count(*) FROM {rolling} WHERE deployments = -1 AND period_start = ?",
                [first],
            ).fetchone()[0]
        finally:
            con.close()

    select = ["run", "--select", "metrics_dora_rolling_28d"]
    _dbt(select, warehouse, tmp_path / "target")
    assert marked() > 0, "an unchanged old window was recomputed"

    # A deployment on the last day of that first window fails now.
    timezone = _config().organisation.timezone
    con = duckdb.connect(str(warehouse))
    try:
        changed = con.execute(
            "UPDATE marts.fct_deployments SET status = 'failure', is_failure = true "
            "WHERE deployment_id = (SELECT min(deployment_id) FROM marts.fct_deployments "
            "WHERE status = 'success' AND "
            "cast(timezone(?, deployed_at) AS date) BETWEEN ? AND ? + 27)",
            [timezone, first, first],
        ).fetchone()
    finally:
        con.close()
    assert changed == (1,)
    _dbt(select, warehouse, tmp_path / "target")
    assert marked() == 0, "a window whose facts changed kept its old row"


def test_incremental_models_hold_the_rows_of_a_full_rebuild(builds):
    diffs = _differences(builds["incremental"], builds["full"], "staging", list(INCREMENTAL_MODELS))
    assert {name: d for name, d in diffs.items() if d[0] != d[1] or d[2] or d[3]} == {}
    assert diffs["stg_prometheus__sli_samples"][0] == 72


def test_late_updates_to_old_rows_reach_the_incremental_models(builds):
    changed = json.loads((builds["tmp"] / "changed.json").read_text(encoding="utf-8"))
    con = duckdb.connect(str(builds["incremental"]), read_only=True)
    try:
        (state,) = con.execute(
            "SELECT state FROM staging.stg_github__deployment_statuses "
            "WHERE deployment_status_key = ?",
            [changed["status"]],
        ).fetchone()
        (title,) = con.execute(
            "SELECT title FROM staging.stg_github__pull_requests WHERE pull_request_key = ?",
            [changed["pull_request"]],
        ).fetchone()
        moved = con.execute(
            "SELECT count(*) FROM staging.stg_github__deployment_statuses "
            "WHERE deployment_status_key = ?",
            [changed["moved"]],
        ).fetchone()
        (value,) = con.execute(
            "SELECT sample_value FROM staging.stg_prometheus__sli_samples "
            "ORDER BY sampled_at LIMIT 1"
        ).fetchone()
        (urgency,) = con.execute(
            "SELECT urgency FROM staging.stg_pagerduty__incidents WHERE incident_id = ?",
            [changed["incident"]],
        ).fetchone()
    finally:
        con.close()
    assert state == "failure"
    assert title.startswith("Hotfix")
    assert moved == (1,)  # replaced under its key, not duplicated under the old parent
    assert value == 0.5
    assert urgency == "low"


def _one_model(builds, *flags: str, **extra) -> None:
    _dbt(
        ["run", "--select", "stg_github__commits", *flags],
        builds["incremental"],
        builds["tmp"] / "target-one",
        **extra,
    )


def _plant(path: Path, where: str) -> None:
    """Mark the staging rows of old commits, so a run that reprocesses them shows it."""
    con = duckdb.connect(str(path))
    try:
        con.execute(f"UPDATE staging.stg_github__commits SET author_name = 'planted' WHERE {where}")
    finally:
        con.close()


def _planted(path: Path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(
            "SELECT count(*) FROM staging.stg_github__commits WHERE author_name = 'planted'"
        ).fetchone()[0]
    finally:
        con.close()


def test_an_incremental_run_reads_only_rows_fetched_within_the_lookback(builds):
    _plant(builds["incremental"], f"fetched_at <= TIMESTAMPTZ '{YESTERDAY.isoformat()}'")
    planted = _planted(builds["incremental"])
    assert planted > 100
    _one_model(builds)  # newest fetched_at is TODAY: yesterday's rows are older than 3 days
    assert _planted(builds["incremental"]) == planted
    _one_model(builds, incremental_lookback_days=30)  # they are within 30 days
    assert _planted(builds["incremental"]) == 0


def test_a_changed_model_fingerprint_reprocesses_every_row(builds):
    _plant(builds["incremental"], "true")
    con = duckdb.connect(str(builds["incremental"]))
    try:
        con.execute("UPDATE staging.stg_github__commits SET definitions_hash = 'older release'")
    finally:
        con.close()
    _one_model(builds)
    assert _planted(builds["incremental"]) == 0


def test_full_refresh_rebuilds_an_incremental_model_from_raw(builds):
    _plant(builds["incremental"], "true")
    _one_model(builds, "--full-refresh")
    assert _planted(builds["incremental"]) == 0


def test_a_negative_lookback_is_refused_with_one_line(builds):
    from pipelines.dbt_cli import DbtError

    with pytest.raises(DbtError, match="incremental_lookback_days must be 0 or more"):
        _one_model(builds, incremental_lookback_days=-1)


@pytest.mark.parametrize("command", ["run --config org.yaml", "demo"])
def test_the_full_refresh_flag_reaches_the_dbt_build_of_that_run(command, monkeypatch):
    from assets.cli import _parser, _request_full_refresh
    from assets.dbt import FULL_REFRESH_ENV_VAR, dbt_build_args

    monkeypatch.delenv(FULL_REFRESH_ENV_VAR, raising=False)
    _request_full_refresh(_parser().parse_args([*command.split(), "--full-refresh"]))
    assert dbt_build_args("{}") == ["build", "--vars", "{}", "--full-refresh"]
    _request_full_refresh(_parser().parse_args(command.split()))  # the next run is incremental
    assert dbt_build_args("{}")[:3] == ["build", "--vars", "{}"]
    assert "--full-refresh" not in dbt_build_args("{}")


def test_a_scheduled_build_runs_the_data_tests_but_not_the_unit_tests_a_full_refresh_runs(
    monkeypatch, tmp_path
):
    """What dbt would run with the asset's arguments (``dbt ls`` with the same selection flags):
    every model and data test on every run; the unit tests only with a full refresh."""
    from assets.dbt import FULL_REFRESH_ENV_VAR, dbt_build_args

    def listed(args: list[str]) -> set[str]:
        # After "build --vars <vars>"; --full-refresh selects nothing (and dbt ls has no such flag).
        flags = [a for a in args[3:] if a != "--full-refresh"]
        result = run_dbt(
            ["ls", "--output", "json", "--output-keys", "resource_type", *flags],
            warehouse=tmp_path / "unused.duckdb",
            target_path=tmp_path / "target",
        )
        return {
            json.loads(line)["resource_type"]
            for line in result.output.splitlines()
            if line.startswith("{")
        }

    monkeypatch.delenv(FULL_REFRESH_ENV_VAR, raising=False)
    scheduled = listed(dbt_build_args("{}"))
    assert {"model", "test", "seed"} <= scheduled and "unit_test" not in scheduled
    monkeypatch.setenv(FULL_REFRESH_ENV_VAR, "1")
    assert "unit_test" in listed(dbt_build_args("{}"))
