"""The Dagster job ``spark_build`` (assets/spark.py, pipelines/spark_job.py): present only with a
``spark:`` section, export then Spark build outside the ``warehouse`` pool, a schedule in the
organisation's time zone with ``spark.cron``, and runs that really execute.

No Spark here: the build's subprocess is a fake program that records its arguments (the real
Spark build is tests/test_spark_build.py, marked ``spark``). The export runs for real on a small
published snapshot.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import dagster as dg
import pytest

from assets.graph import build_definitions
from assets.spark import K8S_CONFIG_TAG, SPARK_JOB, SPARK_SCHEDULE, spark_run_k8s_config
from dashboards.publish import publish_snapshot
from pipelines import spark_job
from pipelines.config import DEMO_CONFIG_PATH, Config, load_config
from pipelines.errors import ConfigError
from pipelines.raw_export import INDEX_FILE, PART_FILE, read_index
from pipelines.spark_build import local_session_cpus
from tests.test_raw_export import _warehouse

ORG = """
organisation: {name: Acme, timezone: Europe/Berlin}
teams: [{name: web, engineers: 3}]
services: [{name: shop, team: web, repositories: [acme/shop]}]
warehouse: {path: warehouse.duckdb}
publish: {site_dir: site, snapshot_dir: snapshot}
"""
SPARK = "spark: {raw_parquet: export/raw, dir: spark, cron: '15 6 * * 1-5'}\n"

# Stands in for `python -m assets.cli`: records its arguments and whether the export was complete
# when it started, prints like spark-build, fails with exit 2 when $FAKE_SPARK_FAIL is set.
FAKE_CLI = textwrap.dedent(
    """
    import json, os, pathlib, sys
    args = sys.argv[1:]
    raw = pathlib.Path(args[args.index("--raw-parquet") + 1])
    pathlib.Path(os.environ["FAKE_SPARK_RECORD"]).write_text(
        json.dumps({"args": args, "export_complete": (raw / "tables.parquet").is_file()})
    )
    print("Running with dbt=1.11.0")
    if os.environ.get("FAKE_SPARK_FAIL"):
        print("dbt build on spark failed:", file=sys.stderr)
        print("Database Error in model fct_changes (models/marts/fct_changes.sql)", file=sys.stderr)
        sys.exit(2)
    print("spark build done: 7 commits attributed to deployments")
    """
)


def _config(folder: Path, text: str) -> Config:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "org.yaml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


@pytest.fixture(scope="module")
def org(tmp_path_factory) -> tuple[Config, dg.Definitions]:
    """An organisation with a spark: section, its published snapshot (raw tables and three pull
    requests), and its definitions."""
    folder = tmp_path_factory.mktemp("org")
    config = _config(folder, ORG + SPARK)
    warehouse = _warehouse(folder / "warehouse.duckdb")
    publish_snapshot(warehouse, folder / "snapshot")
    return config, build_definitions(config)


@pytest.fixture
def fake_cli(tmp_path, monkeypatch) -> Path:
    """The Spark build's CLI replaced by FAKE_CLI; returns the file it records into."""
    program = tmp_path / "fake_cli.py"
    program.write_text(FAKE_CLI, encoding="utf-8")
    record = tmp_path / "record.json"
    monkeypatch.setattr(spark_job, "CLI", (sys.executable, str(program)))
    monkeypatch.setenv("FAKE_SPARK_RECORD", str(record))
    monkeypatch.delenv("FAKE_SPARK_FAIL", raising=False)
    return record


def _execute(defs: dg.Definitions, tmp_path: Path) -> tuple[dg.ExecuteInProcessResult, list[str]]:
    """A run of the job, and the messages its steps logged."""
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        result = defs.resolve_job_def(SPARK_JOB).execute_in_process(
            instance=instance, raise_on_error=False
        )
        return result, [entry.user_message for entry in instance.all_logs(result.run_id)]


def _step_error(result: dg.ExecuteInProcessResult, step: str) -> str:
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert failure.step_key == step
    return failure.step_failure_data.error.message


def test_without_a_spark_section_there_is_no_spark_build_job_or_schedule():
    defs = build_definitions(load_config(DEMO_CONFIG_PATH))
    assert SPARK_JOB not in {job.name for job in defs.jobs}
    assert SPARK_SCHEDULE not in {s.name for s in defs.schedules}


def test_the_spark_build_job_exports_then_builds_outside_the_warehouse_pool(org):
    _, defs = org
    job = defs.resolve_job_def(SPARK_JOB)
    # Two steps, the build after the export: it depends on the export's output.
    dependencies = {node.name: deps for node, deps in job.dependencies.items()}
    assert dependencies == {
        "export_raw": {},
        "spark_dbt": {"raw_export": dg.DependencyDefinition("export_raw", "result")},
    }
    for node in job.graph.nodes:
        assert node.definition.pool is None, node.name
        assert "warehouse" not in (node.definition.tags or {}).values(), node.name


def test_the_spark_build_job_asks_kubernetes_for_the_cpus_of_its_local_session(org):
    _, defs = org
    job = defs.resolve_job_def(SPARK_JOB)
    # Dagster keeps a tag as JSON; K8sRunLauncher reads this one for the run's pod.
    tag = json.loads(job.tags[K8S_CONFIG_TAG])
    assert tag == spark_run_k8s_config()
    # Keys of dagster-k8s's USER_DEFINED_K8S_JOB_CONFIG_SCHEMA (dagster_k8s/job.py).
    assert set(tag) <= {
        "container_config",
        "pod_template_spec_metadata",
        "pod_spec_config",
        "job_config",
        "job_metadata",
        "job_spec_config",
        "merge_behavior",
    }
    assert tag["container_config"]["resources"]["requests"]["cpu"] == str(local_session_cpus())
    # The other jobs keep the launcher's resources.
    for other in defs.jobs:
        if other.name != SPARK_JOB:
            assert K8S_CONFIG_TAG not in (other.tags or {}), other.name


def test_the_session_cpus_come_from_the_spark_targets_master(tmp_path, monkeypatch):
    assert local_session_cpus() == 2  # dbt/profiles.yml: local[2]
    profiles = tmp_path / "profiles.yml"
    profiles.write_text(
        "platform_metrics:\n  outputs:\n    spark:\n      server_side_parameters:\n"
        "        spark.master: 'local[*]'\n",
        encoding="utf-8",
    )
    monkeypatch.setattr("pipelines.spark_build.DBT_PROJECT_DIR", tmp_path)
    with pytest.raises(ConfigError, match=r"spark.master 'local\[\*\]' is not local\[N\]"):
        local_session_cpus()


def test_spark_cron_schedules_the_job_in_the_organisation_time_zone(org):
    _, defs = org
    schedule = defs.resolve_schedule_def(SPARK_SCHEDULE)
    assert schedule.job_name == SPARK_JOB
    assert schedule.cron_schedule == "15 6 * * 1-5"
    assert schedule.execution_timezone == "Europe/Berlin"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_without_spark_cron_the_job_exists_without_a_schedule(tmp_path):
    defs = build_definitions(_config(tmp_path, ORG + "spark: {}\n"))
    assert SPARK_JOB in {job.name for job in defs.jobs}
    assert SPARK_SCHEDULE not in {s.name for s in defs.schedules}


def test_a_run_exports_the_snapshot_then_runs_spark_build_with_the_configured_paths(
    org, fake_cli, tmp_path
):
    config, defs = org
    result, messages = _execute(defs, tmp_path)
    assert result.success
    raw = config.source_file.parent / "export" / "raw"
    assert read_index(raw)["github_pull_requests"] == 3
    assert (raw / "github_pull_requests" / PART_FILE).is_file()
    assert (raw / "sync_state" / PART_FILE).is_file()
    record = json.loads(fake_cli.read_text())
    assert record["export_complete"]
    assert record["args"] == [
        "spark-build",
        "--config",
        str(config.source_file),
        "--raw-parquet",
        str(raw),
        "--spark-dir",
        str(config.source_file.parent / "spark"),
        "--command",
        "build",
    ]
    assert any("exported" in m and "raw tables (3 rows)" in m for m in messages), messages
    assert "spark build done: 7 commits attributed to deployments" in messages


def test_a_failing_spark_build_fails_the_run_with_its_exit_code_and_last_lines(
    org, fake_cli, tmp_path, monkeypatch
):
    _, defs = org
    monkeypatch.setenv("FAKE_SPARK_FAIL", "1")
    result, _ = _execute(defs, tmp_path)
    assert not result.success
    assert result.is_node_success("export_raw")
    message = _step_error(result, "spark_dbt")
    assert "platform-metrics spark-build exited with code 2" in message
    assert "Database Error in model fct_changes" in message
    assert json.loads(fake_cli.read_text())["export_complete"]


def test_a_failing_export_fails_the_run_and_the_spark_build_never_starts(fake_cli, tmp_path):
    config = _config(tmp_path / "org", ORG + SPARK)  # no snapshot published
    result, _ = _execute(build_definitions(config), tmp_path)
    assert not result.success
    message = _step_error(result, "export_raw")
    assert not result.is_node_success("spark_dbt")
    assert str(config.source_file.parent / "snapshot" / "warehouse.duckdb") in message
    assert not fake_cli.exists()
    assert not (config.source_file.parent / "export" / "raw" / INDEX_FILE).exists()


def _previous_export(tmp_path: Path) -> Path:
    """A real export of a small warehouse, to copy its index from."""
    from pipelines.raw_export import export_raw_file

    out = tmp_path / "a-previous-export"
    export_raw_file(_warehouse(tmp_path / "previous.duckdb"), out)
    return out


@pytest.mark.parametrize("spark_dir", ["export/raw", "export/raw/spark"])
def test_a_spark_dir_inside_the_export_fails_before_anything_is_deleted(
    fake_cli, tmp_path, spark_dir
):
    config = _config(
        tmp_path / "org", ORG + f"spark: {{raw_parquet: export/raw, dir: {spark_dir}}}\n"
    )
    folder = config.source_file.parent
    publish_snapshot(_warehouse(folder / "warehouse.duckdb"), folder / "snapshot")
    # The second run: a previous export (its index) holds the session's folder.
    raw = folder / "export" / "raw"
    kept = config.source_file.parent / spark_dir / "metastore_db" / "keep"
    kept.parent.mkdir(parents=True)
    kept.write_text("the session's metastore")
    (raw / INDEX_FILE).write_bytes((_previous_export(tmp_path) / INDEX_FILE).read_bytes())
    result, _ = _execute(build_definitions(config), tmp_path)
    assert not result.success
    message = _step_error(result, "export_raw")
    assert "spark.dir" in message and "inside spark.raw_parquet" in message
    assert kept.read_text() == "the session's metastore"
    assert not fake_cli.exists()


def test_the_real_cli_accepts_the_command_the_job_builds(tmp_path):
    """Without the fake: the command is `python -m assets.cli spark-build ...`, and the CLI parses
    it (a folder that is not an export is refused before any Spark starts, or the extra is
    missing; either is one line, exit 2, never a usage error)."""
    config = _config(tmp_path, ORG + SPARK)
    command = spark_job.spark_build_command(config)
    assert command[:4] == [sys.executable, "-m", "assets.cli", "spark-build"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr
    assert "usage:" not in result.stderr
    assert (
        "not an export of the raw layer" in result.stderr
        or "needs the optional extra" in result.stderr
    ), result.stderr
    with pytest.raises(spark_job.SparkJobError, match=r"exited with code 2; its last lines:\n"):
        spark_job.run_spark_build(config, echo=lambda line: None)


def test_a_stopped_build_takes_its_whole_process_group_with_it(tmp_path, monkeypatch):
    """Ctrl-C or a terminated run while the build runs: the build and what it started (Spark's
    JVM; here a sleeping grandchild) are stopped, not left running."""
    program = tmp_path / "slow_cli.py"
    program.write_text(
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(600)\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(spark_job, "CLI", (sys.executable, str(program)))
    config = _config(tmp_path, ORG + SPARK)
    grandchild: list[int] = []

    def interrupt(line: str) -> None:
        grandchild.append(int(line))
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        spark_job.run_spark_build(config, echo=interrupt)
    (pid,) = grandchild
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie waiting for its (killed) parent's reaper has ended too.
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    return True
