"""The demo's warehouse holds one generated history: a run at a later hour starts from a fresh one.

Without ``demo.end_date`` the demo's history ends at the last full hour, and another horizon gives a
different history (new SHAs; the same PR numbers, run, deployment and review ids naming other
items), not a longer one. The incremental ingest then mixed two histories in raw, and dbt's tests
failed (``no_deployment_before_its_commit``, ``pickup_hours`` >= 0). See pipelines/demo/history.py.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines import ingest
from pipelines.config import (
    CONFIG_ENV_VAR,
    DEMO_CONFIG_PATH,
    WAREHOUSE_ENV_VAR,
    Config,
    load_config,
)
from pipelines.demo.generator import generate_organisation, pinned_clock
from pipelines.demo.history import demo_run, history_identity
from pipelines.errors import WarehouseError

H = dt.datetime(2026, 11, 20, 10, 20, tzinfo=dt.UTC)
REPOSITORIES = ["appstore/catalog-api", "appstore/service-templates"]


def demo_config(tmp: Path, months: int = 1) -> Config:
    """The embedded demo with no end date (history up to the clock's last full hour), in ``tmp``."""
    config = load_config(DEMO_CONFIG_PATH)
    sources = config.sources.model_copy(
        update={"surveys": config.sources.surveys.model_copy(update={"inbox": tmp / "inbox"})}
    )
    return config.model_copy(
        update={
            "demo": config.demo.model_copy(update={"end_date": None, "months": months}),
            "warehouse": config.warehouse.model_copy(update={"path": tmp / "warehouse.duckdb"}),
            "publish": config.publish.model_copy(
                update={"site_dir": tmp / "site", "snapshot_dir": tmp / "snapshot"}
            ),
            "sources": sources,
        }
    )


def ingest_github(config: Config, now: dt.datetime, said: list[str]) -> dict:
    """One demo run's GitHub ingest of REPOSITORIES, at ``now``, as `platform-metrics demo` does."""
    with demo_run(config, now=now, say=said.append) as identity:
        with duckdb.connect(str(config.warehouse_path())) as con:
            ingest.ensure_raw_tables(con)
            ingest.sync_github(con, ingest.SourceClients(config), repositories=REPOSITORIES)
    return identity


def test_identity_changes_exactly_when_the_generated_history_does():
    config = load_config(DEMO_CONFIG_PATH)
    config = config.model_copy(update={"demo": config.demo.model_copy(update={"months": 1})})
    same_hour = generate_organisation(config, now=H + dt.timedelta(minutes=30))
    later = generate_organisation(config, now=H + dt.timedelta(hours=3))
    first = generate_organisation(config, now=H)
    repo = REPOSITORIES[0]
    assert history_identity(same_hour) == history_identity(first)
    assert same_hour.repo(repo).pulls == first.repo(repo).pulls
    assert history_identity(later) != history_identity(first)
    # Not a longer history but another one: no commit in common (this is why the warehouse resets;
    # if the generator ever keeps its past when the horizon moves, the reset can go).
    shas = {c["sha"] for c in first.repo(repo).history}
    assert shas.isdisjoint(c["sha"] for c in later.repo(repo).history)


def test_pinned_clock_gives_every_organisation_of_a_run_the_same_horizon():
    config = load_config(DEMO_CONFIG_PATH)
    with pinned_clock(H):
        a = generate_organisation(config)
        b = generate_organisation(config)
    assert a.horizon == b.horizon == H.replace(minute=0)
    assert generate_organisation(config).horizon != a.horizon  # the real clock again


def test_a_demo_run_at_a_later_hour_does_not_mix_two_histories_in_raw(tmp_path):
    config = demo_config(tmp_path)
    said: list[str] = []
    ingest_github(config, H, said)
    processed = tmp_path / "inbox" / "processed"
    processed.mkdir(parents=True)
    for name in ("2026-Q3.csv", "2026-Q3.invited.yaml", "2026-Q3.20261120T102000Z.csv"):
        (processed / name).write_text("x", encoding="utf-8")
    (processed / "engineering-pulse.csv").write_text("not the demo's", encoding="utf-8")
    ingest_github(config, H + dt.timedelta(minutes=20), said)  # same hour: incremental
    assert said == []

    identity = ingest_github(config, H + dt.timedelta(days=1), said)

    assert len(said) == 1 and "starting from a fresh demo warehouse" in said[0], said
    assert identity["horizon"] in said[0]
    assert sorted(p.name for p in processed.iterdir()) == ["engineering-pulse.csv"]
    org = generate_organisation(config, now=H + dt.timedelta(days=1))
    with duckdb.connect(str(config.warehouse_path()), read_only=True) as con:
        # dbt's pickup_hours >= 0: no review before its pull request was opened.
        (early_reviews,) = con.execute(
            """
            SELECT count(*) FROM raw.github_pull_request_reviews AS r
            JOIN raw.github_pull_requests AS p
                ON p.source = r.source AND p.natural_key = r.parent_key
            WHERE (r.payload->>'submitted_at')::TIMESTAMPTZ
                < (p.payload->>'created_at')::TIMESTAMPTZ
            """
        ).fetchone()
        assert early_reviews == 0
        for repo in REPOSITORIES:
            data = org.repo(repo)
            commits = {
                sha
                for (sha,) in con.execute(
                    "SELECT payload->>'sha' FROM raw.github_commits WHERE scope = ?", [repo]
                ).fetchall()
            }
            # Every commit (so every deployment's commit) is of this run's history (all of it but
            # the oldest, before the backfill window).
            assert commits and commits <= {c["sha"] for c in data.history}, repo
            pulls = {
                number: created
                for number, created in con.execute(
                    "SELECT (payload->>'number')::INTEGER, payload->>'created_at' "
                    "FROM raw.github_pull_requests WHERE scope = ?",
                    [repo],
                ).fetchall()
            }
            assert pulls == {p["number"]: p["created_at"] for p in data.pulls}, repo


def test_the_demo_never_removes_a_warehouse_of_another_organisation(tmp_path):
    config = demo_config(tmp_path)
    path = config.warehouse_path()
    with duckdb.connect(str(path)) as con:
        ingest.ensure_raw_tables(con)
        con.execute(
            "INSERT INTO raw.github_repositories (source, natural_key, scope, payload, fetched_at) "
            "VALUES ('github', 'acme/shop', 'acme/shop', '{}', now())"
        )
        con.execute(
            "INSERT INTO raw.sync_state (source, scope, entity, items_total) "
            "VALUES ('github', 'acme/shop', 'repository', 1)"
        )
    with pytest.raises(WarehouseError, match="another organisation's data \\(acme/shop\\)"):
        with demo_run(config, now=H, say=pytest.fail):
            pass
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.github_repositories").fetchone()[0] == 1


def test_the_demo_command_runs_the_pipeline_inside_one_demo_history(tmp_path, monkeypatch, capsys):
    """`platform-metrics demo`/`run` wire demo_run around the pipeline, only for a demo config."""
    import assets.graph
    import assets.runner
    from assets import cli

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv(CONFIG_ENV_VAR, str(DEMO_CONFIG_PATH))
    monkeypatch.setenv(WAREHOUSE_ENV_VAR, str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setattr(assets.graph, "build_definitions", lambda config: dg.Definitions())
    horizons = []

    def fake_pipeline(defs, config, instance, **kwargs):
        horizons.append(generate_organisation(config).horizon)
        with duckdb.connect(str(config.warehouse_path()), read_only=True) as con:
            (recorded,) = con.execute(
                "SELECT cursor FROM raw.sync_state WHERE source = 'demo'"
            ).fetchone()
        horizons.append(recorded)
        refresh = type(
            "Ok",
            (),
            {
                "success": True,
                "get_asset_materialization_events": lambda self: [],
                "get_asset_check_evaluations": lambda self: [],
            },
        )()
        return assets.runner.PipelineOutcome(refresh=refresh)

    monkeypatch.setattr(assets.runner, "run_pipeline", fake_pipeline)
    config = demo_config(tmp_path)
    assert cli._run(config, config_path=DEMO_CONFIG_PATH) == 0
    horizon, recorded = horizons
    assert f'"horizon": "{horizon.isoformat()[:19]}Z"' in recorded
    assert "starting from a fresh" not in capsys.readouterr().out
