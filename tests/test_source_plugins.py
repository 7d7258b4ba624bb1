"""Sources are plugins: the registry drives the config's ``sources:``, the raw tables, the payload
checks, the ingest assets, partitions, jobs, schedules, sensors, the runner and the CLI.

The proof of the seam is ``tests/toy_source.py``: a source registered from the tests only, served by
a real HTTP server on 127.0.0.1, that gets all of the above without an edit outside its module.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets import cli
from assets.graph import build_definitions
from assets.runner import run_pipeline
from pipelines import sources as source_registry
from pipelines.config import DEMO_CONFIG_PATH, load_config, parse_config
from pipelines.errors import ConfigError
from pipelines.github import sync as github_sync
from pipelines.gitlab import sync as gitlab_sync
from pipelines.ingest import ensure_raw_tables
from pipelines.pagerduty import sync as pagerduty_sync
from pipelines.slo import prometheus
from pipelines.slo.definitions import DEFINITION_TABLES
from pipelines.source import Partitioning
from pipelines.surveys import loader as survey_loader
from tests import toy_source
from tests.http_server import Reply, ScriptedServer

BUILDS = {
    "api": [
        {"id": 1, "status": "success", "finished_at": "2026-01-05T10:00:00Z"},
        {"id": 2, "status": "failed", "finished_at": "2026-01-06T10:00:00Z"},
    ],
    "web": [{"id": 7, "status": "success", "finished_at": "2026-01-07T10:00:00Z"}],
}


def _toy_api(path: str, headers: dict[str, str]) -> Reply:
    if path == "/projects":
        return Reply(body=[{"name": name} for name in BUILDS])
    project = path.removeprefix("/projects/").removesuffix("/builds")
    if project in BUILDS:
        return Reply(body=BUILDS[project])
    return Reply(status=404, body={"message": "not found"})


def _config_text(tmp_path: Path, base_url: str) -> str:
    return f"""
organisation: {{name: Acme}}
teams: [{{name: web, engineers: 3}}]
services: [{{name: shop, team: web, repositories: [acme/shop]}}]
warehouse: {{path: {tmp_path / "warehouse.duckdb"}}}
publish: {{site_dir: {tmp_path / "site"}, snapshot_dir: {tmp_path / "snapshot"}}}
sources:
  toyci: [{{base_url: "{base_url}"}}]
"""


@pytest.fixture
def toy():
    with source_registry.registered(toy_source.SOURCE) as source:
        yield source


def test_unregistered_source_section_is_an_unknown_key():
    with pytest.raises(ConfigError, match=r"sources\.toyci: unknown key"):
        parse_config(_config_text(Path("/tmp"), "http://127.0.0.1:1"))


def test_registered_source_gets_its_config_section(toy):
    config = parse_config(_config_text(Path("/tmp"), "http://127.0.0.1:1"))
    assert [i.base_url for i in config.sources.toyci] == ["http://127.0.0.1:1"]
    # Its model's validation and the common duplicate-name rule apply to it like to any source.
    with pytest.raises(
        ConfigError, match=r"sources\.toyci\[0\]\.base_url: required key is missing"
    ):
        parse_config(_config_text(Path("/tmp"), "x").replace('base_url: "x"', "max_retries: 1"))
    doubled = _config_text(Path("/tmp"), "u").replace(
        '[{base_url: "u"}]', "[{base_url: u}, {base_url: v}]"
    )
    with pytest.raises(ConfigError, match=r"sources\.toyci names: 'toyci' appears twice"):
        parse_config(doubled)


def test_registered_source_gets_its_raw_table_and_payload_check(toy, tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_raw_tables(con)
    columns = [r[0] for r in con.execute("DESCRIBE raw.toyci_builds").fetchall()]
    assert columns[:2] == ["source", "natural_key"] and "payload" in columns
    from pipelines.quality import check_raw_table

    con.execute(
        "INSERT INTO raw.toyci_builds VALUES ('toyci', 'api#9', 'api', NULL, "
        """'{"id": 9, "finished_at": "2026-01-01T00:00:00Z"}', NULL, now())"""
    )
    outcome = check_raw_table(con, "toyci_builds")
    assert not outcome.passed and "status" in outcome.description


def test_registered_source_gets_asset_partitions_jobs_schedule_and_sensor(toy, tmp_path):
    config = parse_config(_config_text(tmp_path, "http://127.0.0.1:1"))
    defs = build_definitions(config)
    graph = defs.resolve_asset_graph()
    asset = graph.get(dg.AssetKey(["raw", "toyci_builds"])).assets_def
    assert asset.node_def.name == "toyci"
    assert asset.partitions_def == dg.DynamicPartitionsDefinition(name="toyci_projects")
    assert asset.op.pool == "warehouse"
    assert {s.asset_key.path[-1] for c in defs.asset_checks for s in c.check_specs} >= {
        "toyci_builds"
    }
    # Its own partitioned job; `refresh` and `ingest` leave it out, the daily schedule runs it.
    assert "toyci_sync" in {j.name for j in defs.jobs}
    refresh = defs.resolve_job_def("refresh").asset_layer.selected_asset_keys
    assert dg.AssetKey(["raw", "toyci_builds"]) not in refresh
    schedules = {s.name: s for s in defs.schedules}
    assert schedules["daily_refresh"].job_name == "toyci_sync"
    assert {"toyci_project_discovery", "refresh_after_github_sync"} <= {
        s.name for s in defs.sensors
    }


def test_registered_source_is_synced_per_partition_by_the_runner(toy, tmp_path):
    with ScriptedServer(_toy_api) as server:
        config = parse_config(_config_text(tmp_path, server.url))
        defs = build_definitions(config)
        with dg.DagsterInstance.ephemeral() as instance:
            outcome = run_pipeline(defs, config, instance, job="ingest")
            partitions = instance.get_dynamic_partitions("toyci_projects")
    assert outcome.success, list(outcome.github_failed)
    assert sorted(partitions) == ["toyci:api", "toyci:web"]
    assert sorted(outcome.github_synced) == sorted(partitions)
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    rows = con.execute("SELECT natural_key, scope FROM raw.toyci_builds ORDER BY 1").fetchall()
    assert rows == [(f"{p}#{b['id']}", p) for p in sorted(BUILDS) for b in BUILDS[p]]
    assert {p for p, _ in server.requests} == {
        "/projects",
        "/projects/api/builds",
        "/projects/web/builds",
    }


def test_registered_source_is_listed_by_the_sources_command(toy, tmp_path, capsys):
    path = tmp_path / "org.yaml"
    path.write_text(_config_text(tmp_path, "http://127.0.0.1:1"), encoding="utf-8")
    assert cli.main(["sources", "--config", str(path), "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["toyci"]["raw_tables"] == ["toyci_builds"]
    assert rows["toyci"]["partitioning"] == "repository"
    assert rows["toyci"]["enabled"] and rows["toyci"]["instances"] == ["toyci"]
    assert not rows["github"]["enabled"] and rows["github"]["instances"] == []
    assert cli.main(["sources", "--config", str(path)]) == 0
    text = capsys.readouterr().out
    assert "toyci: enabled, 1 instance (toyci)" in text
    assert "raw tables: raw.toyci_builds" in text


def test_a_source_cannot_take_another_sources_table_or_name(toy):
    import dataclasses

    for change in (
        {"name": "github"},
        {
            "name": "x",
            "config_key": "x",
            "partitions_name": "p",
            "job": "j",
            "discovery_sensor": "s",
        },
    ):
        clash = dataclasses.replace(toy_source.SOURCE, **change)
        with pytest.raises(ValueError, match="two sources declare"):
            source_registry.register(clash)
    assert source_registry.all_sources()[-1] is toy_source.SOURCE


def test_every_table_a_builtin_sync_writes_is_declared_by_its_source():
    declared = {s.name: set(s.table_names) for s in source_registry.BUILTIN_SOURCES}
    assert set(github_sync.RAW_TABLES) == declared["github"]
    assert set(gitlab_sync.RAW_TABLES) == declared["gitlab"]
    assert set(pagerduty_sync.RAW_TABLES) == declared["pagerduty"]
    assert set(survey_loader.RAW_TABLES) == declared["surveys"]
    assert {*DEFINITION_TABLES, *prometheus.RAW_TABLES} == declared["prometheus"]
    partitioned = [
        s for s in source_registry.BUILTIN_SOURCES if s.partitioning != Partitioning.NONE
    ]
    assert [s.name for s in partitioned] == ["github", "gitlab"]


def test_sources_command_reports_what_the_configuration_enables():
    config = load_config(DEMO_CONFIG_PATH)
    result = subprocess.run(
        [sys.executable, "-m", "assets.cli", "sources", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert list(rows) == [s.name for s in source_registry.BUILTIN_SOURCES]
    for source in source_registry.BUILTIN_SOURCES:
        row = rows[source.name]
        assert row["raw_tables"] == list(source.table_names)
        assert row["instances"] == source.instance_names(config)
        assert row["enabled"] == source.enabled(config)
    assert rows["github"]["instances"] == [s.name for s in config.sources.github]


def test_resync_clears_a_registered_sources_partition_cursors(toy, tmp_path, capsys):
    from pipelines.warehouse import get_sync_state, open_warehouse, set_cursor

    path = tmp_path / "org.yaml"
    path.write_text(_config_text(tmp_path, "http://127.0.0.1:1"), encoding="utf-8")
    with open_warehouse(tmp_path / "warehouse.duckdb") as con:
        set_cursor(con, "toyci", "api", "builds", cursor="2026-01-01")
        set_cursor(con, "toyci", "web", "builds", cursor="2026-01-01")
    argv = ["resync", "--config", str(path), "--source", "toyci", "--repository", "api"]
    assert cli.main(argv) == 0
    with open_warehouse(tmp_path / "warehouse.duckdb") as con:
        assert get_sync_state(con, "toyci", "api", "builds") is None
        assert get_sync_state(con, "toyci", "web", "builds").cursor == "2026-01-01"
    assert cli.main([*argv[:3], "--source", "nope", "--repository", "api"]) == 2
    assert "--source 'nope': not a partitioned source" in capsys.readouterr().err


def test_resync_refuses_a_repository_the_github_source_does_not_own(tmp_path, capsys):
    config = load_config(DEMO_CONFIG_PATH)
    source = config.sources.github[0]
    owner = "not-" + "-".join(source.organisations or ["x"])
    argv = ["resync", "--config", str(DEMO_CONFIG_PATH), "--source", source.name]
    code = cli.main([*argv, "--repository", f"{owner}/repo"])
    assert code == 2
    assert f"not a repository of source {source.name!r}" in capsys.readouterr().err
