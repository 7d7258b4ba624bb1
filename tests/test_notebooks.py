"""notebooks/ run headless against one small demo warehouse (built once per session, shared with
tests/test_end_to_end.py: tests/small_demo.py), and the tuning logic behind them
(pipelines/tuning.py) does what the notebook shows."""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest

from pipelines import tuning
from pipelines.config import DEMO_CONFIG_PATH, load_config, parse_config
from pipelines.dbt_cli import DBT_PROJECT_DIR
from pipelines.dbt_docs import DOCS_FILE, offline_problems
from pipelines.slo.budget import budget_remaining

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"


def load_app(name: str):
    spec = importlib.util.spec_from_file_location(f"nb_{name}", NOTEBOOKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app


# --- writing definitions back (no warehouse needed) ------------------------------------------------


@pytest.fixture
def demo_copy(tmp_path):
    path = tmp_path / "organisation.yaml"
    shutil.copyfile(DEMO_CONFIG_PATH, path)
    return path


def _changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    a, b = before.splitlines(), after.splitlines()
    assert len(a) == len(b)
    return [(x, y) for x, y in zip(a, b, strict=True) if x != y]


def test_writing_back_keeps_comments_and_changes_only_the_knob(demo_copy):
    before = demo_copy.read_text(encoding="utf-8")
    config = load_config(demo_copy)
    knobs = dataclasses.replace(tuning.knobs_from_config(config), incident_window_hours=72.0)
    diff = tuning.write_definitions(demo_copy, config, knobs)
    after = demo_copy.read_text(encoding="utf-8")
    assert _changed_lines(before, after) == [
        ("  incident_window_hours: 24", "  incident_window_hours: 72")
    ]
    assert "-  incident_window_hours: 24" in diff and "+  incident_window_hours: 72" in diff
    reloaded = load_config(demo_copy)
    assert reloaded.metrics.incident_window_hours == 72
    assert reloaded.model_copy(update={"metrics": config.metrics}) == config
    # Nothing changed: nothing written.
    assert tuning.write_definitions(demo_copy, reloaded, knobs) == ""


def test_writing_back_quotes_regexes_and_inserts_missing_keys(demo_copy):
    config = load_config(demo_copy)
    knobs = dataclasses.replace(
        tuning.knobs_from_config(config),
        exclude_regex=r"(?i)(health|smoke|preview|docs)",
        bot_authors_regex=r"(?i)(\[bot\]$|^ci-user)",
        lead_time_start="pr_opened",
    )
    before = demo_copy.read_text(encoding="utf-8")
    tuning.write_definitions(demo_copy, config, knobs)
    after = demo_copy.read_text(encoding="utf-8")
    assert set(before.splitlines()) - set(after.splitlines()) == {
        '    exclude_regex: "(?i)(health|smoke|preview)"',
        "  lead_time_start: first_commit",
    }
    assert [line for line in after.splitlines() if line.lstrip().startswith("#")] == [
        line for line in before.splitlines() if line.lstrip().startswith("#")
    ]
    assert tuning.knobs_from_config(load_config(demo_copy)) == knobs


def test_render_definitions_into_a_file_without_those_keys():
    text = "# Acme\norganisation: {name: Acme}  # us\nteams: [{name: a, engineers: 1}]\nservices: [{name: s, team: a}]\n"
    new = tuning.render_definitions(
        text, {"environment_regex": "^prod$", "incident_window_hours": 36}
    )
    assert new.startswith(text)
    metrics = parse_config(new).metrics
    assert metrics.deployment.environment_regex == "^prod$"
    assert metrics.incident_window_hours == 36


def test_an_invalid_definition_is_never_written(demo_copy):
    config = load_config(demo_copy)
    before = demo_copy.read_text(encoding="utf-8")
    bad = dataclasses.replace(tuning.knobs_from_config(config), exclude_regex="(?=lookahead)")
    with pytest.raises(ValueError):
        tuning.apply_knobs(config, bad)
    with pytest.raises(Exception, match="exclude_regex"):
        tuning.write_definitions(demo_copy, config, bad)
    assert demo_copy.read_text(encoding="utf-8") == before


def test_tuning_refuses_the_live_warehouse(tmp_path):
    config = load_config(DEMO_CONFIG_PATH)
    config = config.model_copy(
        update={"warehouse": config.warehouse.model_copy(update={"path": tmp_path / "w.duckdb"})}
    )
    with pytest.raises(ValueError, match="live warehouse"):
        tuning.recompute(tmp_path / "w.duckdb", config)
    assert not (tmp_path / "w.duckdb").exists()


def test_offline_check_flags_cdn_scripts_and_tracking():
    assert offline_problems('<html><script src="assets/x.js"></script></html>') == []
    assert offline_problems('<script src="https://cdn.example/x.js"></script>')
    assert offline_problems('<link href="//fonts.googleapis.com/css" rel="stylesheet">')
    assert offline_problems('{"send_anonymous_usage_stats": true}')


# --- against a small demo warehouse --------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(small_demo_run, tmp_path_factory):
    """A 3-month demo (May to July 2026: two quarters) through the real `refresh` job: the run
    tests/test_end_to_end.py reads too (tests/small_demo.py), made once per session."""
    from assets.project import dbt_project

    config, outcome = small_demo_run.config, small_demo_run.quiet.outcome
    assert (config.demo.months, config.demo.end_date) == (3, dt.date(2026, 7, 31))
    # The notebooks need the marts and the snapshot, not the dashboards: a failing site step (not
    # ours) must not hide them; the dbt docs test checks the site itself.
    assert not outcome.github_failed, list(outcome.github_failed)
    assert (Path(config.publish.snapshot_dir) / "warehouse.duckdb").exists(), "no snapshot"
    # The definitions file the notebooks read (and could write back): this module's own copy.
    config_file = tmp_path_factory.mktemp("notebooks") / "organisation.yaml"
    shutil.copyfile(DEMO_CONFIG_PATH, config_file)
    return SimpleNamespace(
        config=config,
        config_file=config_file,
        snapshot=Path(config.publish.snapshot_dir) / "warehouse.duckdb",
        site=Path(config.publish.site_dir),
        site_built=outcome.success,
        manifest=Path(dbt_project().manifest_path),
    )


def query(path: Path, sql: str, params=()):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def run_tuning(demo, knobs):
    _, defs = load_app("tune_definitions").run(
        defs={
            "config_path": demo.config_file,
            "warehouse_path": demo.snapshot,
            "dbt_project": DBT_PROJECT_DIR,
            "knobs": knobs,
        }
    )
    return defs


def test_tuning_with_the_current_definitions_changes_nothing(demo):
    mtime = demo.snapshot.stat().st_mtime_ns
    current = tuning.knobs_from_config(load_config(demo.config_file))
    defs = run_tuning(demo, current)
    assert defs["changed"] == {}
    assert defs["counts"] == {"fct_deployments": 0, "fct_changes": 0, "fct_incidents": 0}
    deltas = defs["result"].teams.filter(like="_delta")
    assert (deltas.fillna(0) == 0).all().all()
    assert defs["preview"] == "" and defs["written"] is None
    assert demo.snapshot.stat().st_mtime_ns == mtime  # only the scratch copy was written


def test_a_wider_attribution_window_attributes_exactly_the_expected_incidents(demo):
    current = tuning.knobs_from_config(load_config(demo.config_file))
    wider = dataclasses.replace(current, incident_window_hours=24 * 7)
    defs = run_tuning(demo, wider)
    result = defs["result"]
    assert defs["changed"] == {"incident_window_hours": 168}
    teams = result.teams
    assert teams["attributed_incidents_after"].sum() > teams["attributed_incidents_before"].sum()

    # Independently: the incidents that were unattributed and have a successful deployment of
    # their service in the week before they started (within 24 h they would already be).
    expected = {
        incident_id
        for (incident_id,) in query(
            demo.snapshot,
            """
            SELECT DISTINCT i.incident_id FROM marts.fct_incidents AS i
            JOIN marts.fct_deployments AS d ON d.service = i.service AND d.status = 'success'
             AND d.deployed_at <= i.started_at
             AND d.deployed_at >= i.started_at - INTERVAL 168 HOUR
            WHERE i.deployment_id IS NULL
            """,
        )
    }
    changed = result.changes["fct_incidents"]
    assert expected and set(changed["incident_id"]) == expected
    assert set(changed["change"]) == {"changed"}
    assert changed["attribution_before"].isna().all()
    assert set(changed["attribution_after"]) == {"window"}
    delta = teams["attributed_incidents_delta"].sum()
    assert delta == len(expected)
    # Deployments the newly attributed incidents now blame become failures (or already were).
    newly_blamed = set(changed["deployment_id_after"])
    flipped = result.changes["fct_deployments"]
    assert set(flipped["deployment_id"]) <= newly_blamed
    assert flipped["is_failure_after"].all() and not flipped["is_failure_before"].any()
    assert result.changes["fct_changes"].empty
    # The preview diff names only the knob; nothing was written.
    assert "+  incident_window_hours: 168" in defs["preview"]
    assert defs["written"] is None
    assert "incident_window_hours: 24" in demo.config_file.read_text(encoding="utf-8")


def test_explore_notebook_answers_its_questions(demo):
    _, defs = load_app("explore_warehouse").run(
        defs={"warehouse_path": demo.snapshot, "manifest_path": demo.manifest}
    )
    dictionary = defs["dictionary"]
    deployments = dictionary[dictionary["table"] == "fct_deployments"]
    assert "deployment_id" in set(deployments["column"])
    assert (deployments["description"] != "").all()
    unattributed = defs["unattributed"]
    expected = query(
        demo.snapshot, "SELECT incident_id FROM marts.fct_incidents WHERE deployment_id IS NULL"
    )
    assert sorted(unattributed["incident_id"]) == sorted(i for (i,) in expected)
    assert set(unattributed["reason"]) <= {
        "service not mapped",
        "no earlier deployment of the service",
        "latest deployment outside the attribution window",
    }
    growth = defs["lead_time_growth"]
    assert len(growth) >= 1  # Q2 -> Q3 2026
    assert list(growth["lead_time_growth_hours"]) == sorted(
        growth["lead_time_growth_hours"], reverse=True
    )
    assert len(defs["monthly"]) >= 3


def test_slo_explorer_recomputes_with_another_target_and_window(demo):
    slo = "frontend-availability"
    _, defs = load_app("slo_explorer").run(
        defs={
            "warehouse_path": demo.snapshot,
            "slo_picker": SimpleNamespace(value=slo),
            "target_input": SimpleNamespace(value=0.95),
            "window_input": SimpleNamespace(value=7),
        }
    )
    series = defs["series"]
    assert defs["slo"] == slo and defs["target"] == 0.95 and defs["window_days"] == 7
    last_day = series["day"].max()
    ((good, total),) = query(
        demo.snapshot,
        "SELECT sum(good), sum(total) FROM marts.fct_sli_intervals WHERE slo = ? "
        "AND CAST(date_trunc('day', interval_start) AS DATE) > CAST(? AS DATE) - 7",
        [slo, last_day.date()],
    )
    last = series.iloc[-1]
    assert last["budget_remaining"] == pytest.approx(budget_remaining(good, total, 0.95))
    assert last["attainment"] == pytest.approx(good / total)


@pytest.mark.parametrize("name", ["tune_definitions", "explore_warehouse", "slo_explorer"])
def test_notebooks_run_as_scripts(demo, name):
    args = [sys.executable, str(NOTEBOOKS / f"{name}.py"), "--config", str(demo.config_file)]
    args += ["--warehouse", str(demo.snapshot)]
    result = subprocess.run(args, capture_output=True, text=True, timeout=600, cwd=demo.site.parent)
    assert result.returncode == 0, result.stderr[-3000:]


def test_dbt_docs_are_published_offline_beside_the_dashboards(demo):
    from assets.dbt_docs import dbt_docs_dir

    staged = dbt_docs_dir(demo.config) / DOCS_FILE
    html = staged.read_text(encoding="utf-8")
    assert "fct_deployments" in html and "metrics_dora_weekly" in html
    assert "Every configured team and service appears" in html  # column descriptions
    assert offline_problems(html) == []
    if not demo.site_built:
        pytest.fail("the refresh job failed before the site was built; see the demo fixture")
    assert (demo.site / DOCS_FILE).read_bytes() == staged.read_bytes()
