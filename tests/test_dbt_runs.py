"""The pipeline's dbt build: its own folder per run, the last parse reused, old folders pruned."""

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from pipelines.config import load_config
from pipelines.dbt_cli import DBT_PROJECT_DIR, run_dbt
from pipelines.dbt_runs import (
    GENERATED_DIRS,
    PARTIAL_PARSE_FILE,
    parse_cache,
    prune_legacy_runs,
    prune_runs,
    reusing_parse,
    run_target,
)
from pipelines.definitions import dbt_vars


def test_the_next_build_of_a_warehouse_starts_from_the_last_builds_parse_unless_vars_changed(
    tmp_path,
):
    """Three ``dbt parse`` runs of one warehouse, each in its own run folder and through
    :func:`reusing_parse`, as three pipeline builds start, with the demo organisation's vars; the
    third with one var edited."""
    warehouse = tmp_path / "warehouse.duckdb"
    variables = json.loads(json.dumps(dbt_vars(load_config(None))))
    cache = parse_cache(tmp_path / "dbt-target", warehouse)
    logs = []
    for run_id, run_vars in (
        ("run-one", variables),
        ("run-two", variables),
        ("run-three", {**variables, "an_edited_var": 1}),
    ):
        target = run_target(tmp_path / "dbt-target", run_id)
        assert not target.exists()
        with reusing_parse(target, cache):
            run_dbt(["parse"], warehouse=warehouse, target_path=target, variables=run_vars)
        assert cache.is_file()
        logs.append((target / "logs" / "dbt.log").read_text(encoding="utf-8"))
    first, second, edited = logs
    assert "Starting full parse" in first
    assert "Partial parsing enabled" in second, second[-3000:]
    assert "Starting full parse" not in second
    assert "Unable to do partial parsing" not in second
    assert "Unable to do partial parsing because config vars" in edited


def test_each_warehouse_keeps_its_own_parse(tmp_path):
    one = parse_cache(tmp_path, tmp_path / "a" / "warehouse.duckdb")
    other = parse_cache(tmp_path, tmp_path / "b" / "warehouse.duckdb")
    assert one != other
    assert one == parse_cache(tmp_path, tmp_path / "a" / "warehouse.duckdb")


def test_a_failed_build_still_leaves_its_parse_and_a_crash_never_half_a_file(tmp_path):
    cache = tmp_path / "partial-parse" / "w.msgpack"
    target = tmp_path / "runs" / "dbt_models-x"
    with pytest.raises(RuntimeError), reusing_parse(target, cache):
        (target / PARTIAL_PARSE_FILE).write_bytes(b"parsed")
        raise RuntimeError("a data test failed")
    assert cache.read_bytes() == b"parsed"
    assert [p.name for p in cache.parent.iterdir()] == ["w.msgpack"]

    # The next block starts from it; a block whose dbt wrote no parse leaves the cache alone.
    target = tmp_path / "runs" / "dbt_models-y"
    with reusing_parse(target, cache):
        assert (target / PARTIAL_PARSE_FILE).read_bytes() == b"parsed"
        (target / PARTIAL_PARSE_FILE).unlink()
    assert cache.read_bytes() == b"parsed"


def test_only_the_newest_run_folders_are_kept(tmp_path):
    runs = tmp_path / "runs"
    made = []
    for i in range(14):
        folder = run_target(tmp_path, f"run{i:05d}")
        folder.mkdir(parents=True)
        (folder / "run_results.json").write_text("{}")
        stamp = time.time() - 1000 + i
        os.utime(folder, (stamp, stamp))
        made.append(folder)
    other = runs / "notes"
    other.mkdir()
    deleted = prune_runs(tmp_path, keep=10)
    assert sorted(deleted) == sorted(made[:4])
    assert sorted(p for p in runs.iterdir() if p != other) == sorted(made[4:])
    assert other.is_dir()
    assert prune_runs(tmp_path / "nothing-here") == []


def test_run_folders_older_builds_left_in_dbts_target_folder_are_deleted(tmp_path):
    legacy = [tmp_path / "dbt_models-1a2b3c4d-0f0f0f0", tmp_path / "dbt_models-5e6f7a8b-1e1e1e1"]
    for folder in legacy:
        (folder / "compiled").mkdir(parents=True)
        (folder / "run_results.json").write_text("{}")
    kept = [tmp_path / "manifest.json", tmp_path / "compiled", tmp_path / "dbt_models.txt"]
    kept[0].write_text("{}")
    kept[1].mkdir()
    kept[2].write_text("not a folder")
    assert prune_legacy_runs(tmp_path) == sorted(legacy)
    assert sorted(tmp_path.iterdir()) == sorted(kept)
    assert prune_legacy_runs(tmp_path / "nothing-here") == []


# The disabled model whose change made dbt-core 1.11's partial parse drop the enabled one of the
# same name (the DuckDB Python model int_commit_deployments) from the manifest.
SPARK_TWIN = Path("models", "intermediate", "spark", "int_commit_deployments.sql")


def _project_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    shutil.copytree(DBT_PROJECT_DIR, copy, ignore=shutil.ignore_patterns(*GENERATED_DIRS))
    return copy


def _edit(path: Path) -> None:
    path.write_text(path.read_text(encoding="utf-8") + "\n-- edited\n", encoding="utf-8")
    later = time.time() + 5  # newer than any manifest written before
    os.utime(path, (later, later))


def _has_commit_ancestry(target: Path) -> bool:
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    return "model.platform_metrics.int_commit_deployments" in manifest["nodes"]


def test_a_changed_project_file_gives_a_new_parse_cache_and_the_old_one_goes(tmp_path):
    project = _project_copy(tmp_path)
    target_dir = tmp_path / "dbt-target"
    warehouse, other = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    before = parse_cache(target_dir, warehouse, project)
    others = parse_cache(target_dir, other, project)
    for cache in (before, others):
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(b"old parse")
    _edit(project / SPARK_TWIN)
    after = parse_cache(target_dir, warehouse, project)
    assert after != before
    # Files dbt writes into the project are not the project.
    (project / "logs").mkdir(exist_ok=True)
    (project / "logs" / "dbt.log").write_text("a run", encoding="utf-8")
    assert parse_cache(target_dir, warehouse, project) == after
    target = run_target(target_dir, "run-one")
    with reusing_parse(target, after):
        assert not (target / PARTIAL_PARSE_FILE).exists()  # nothing to start from
        (target / PARTIAL_PARSE_FILE).write_bytes(b"new parse")
    assert after.read_bytes() == b"new parse"
    assert not before.exists()
    assert others.read_bytes() == b"old parse"  # another warehouse's


def test_after_the_project_changes_the_next_build_parses_every_model_again(tmp_path):
    """Two ``dbt parse`` runs of one warehouse through :func:`reusing_parse`, as two pipeline
    builds, with the Spark twin of int_commit_deployments edited between them (an upgrade)."""
    project = _project_copy(tmp_path)
    warehouse = tmp_path / "warehouse.duckdb"
    targets = []
    for run_id in ("before-upgrade", "after-upgrade"):
        target = run_target(tmp_path / "dbt-target", run_id)
        with reusing_parse(target, parse_cache(tmp_path / "dbt-target", warehouse, project)):
            run_dbt(["parse"], warehouse=warehouse, target_path=target, project_dir=project)
        targets.append(target)
        _edit(project / SPARK_TWIN)
    assert all(_has_commit_ancestry(t) for t in targets)


def test_the_prepared_manifest_is_parsed_in_full_when_the_project_changed(tmp_path, monkeypatch):
    """The manifest Dagster loads its assets from (assets/project.py), prepared again after a
    project file changed."""
    import assets.project

    project = _project_copy(tmp_path)
    target = tmp_path / "dbt-target"
    monkeypatch.setattr(assets.project, "DBT_PROJECT_DIR", project)
    monkeypatch.setattr(assets.project, "DBT_TARGET_DIR", target)
    prepare = assets.project.dbt_project.__wrapped__
    prepare()
    assert _has_commit_ancestry(target)
    _edit(project / SPARK_TWIN)
    prepare()
    assert _has_commit_ancestry(target)


_PREPARE_AT_ONCE = """
import sys, time
from pathlib import Path
import assets.project as project
project.DBT_PROJECT_DIR, project.DBT_TARGET_DIR = Path(sys.argv[1]), Path(sys.argv[2])
Path(sys.argv[3]).touch()  # imported: ready
go = Path(sys.argv[4])
while not go.exists():
    time.sleep(0.01)
project.dbt_project.__wrapped__()
print(len(project.PREPARED_BY_THIS_PROCESS))
"""


def test_two_processes_preparing_the_manifest_at_once_parse_it_once(tmp_path):
    """Two code servers (or test workers) that start together with no manifest: one parses, the
    other waits for it and reads the finished manifest rather than parsing again over it."""
    import subprocess
    import sys

    project = _project_copy(tmp_path)
    target = tmp_path / "dbt-target"
    go = tmp_path / "go"
    env = {**os.environ, "PLATFORM_METRICS_WAREHOUSE": str(tmp_path / "w.duckdb")}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _PREPARE_AT_ONCE, project, target, tmp_path / f"ready{i}", go],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=Path(__file__).resolve().parent.parent,
        )
        for i in range(2)
    ]
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"ready{i}").exists() for i in range(2)):
        assert time.monotonic() < deadline, "the two processes never got ready"
        assert all(p.poll() is None for p in processes), [p.communicate() for p in processes]
        time.sleep(0.05)
    go.touch()
    outcomes = [p.communicate(timeout=300) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outcomes
    assert sorted(int(out.split()[-1]) for out, _ in outcomes) == [0, 1], outcomes
    assert _has_commit_ancestry(target)
