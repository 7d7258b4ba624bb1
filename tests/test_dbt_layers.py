"""The dbt project's layering, read from its parsed manifest (docs/architecture.md#dbt-layers).

- Only the code-host union layer (dbt/models/intermediate/code_host/) reads a code host's staging
  models; every other model, and every unit test, reads the union models. Adding a code host is
  then one more branch per union model, and no metric's SQL changes.
- Every raw table is declared in `_<source>__sources.yml` beside the staging models that read it.
- Every model has its own `.yml`, named after it and next to its SQL.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

import pytest

from pipelines.ingest import RAW_TABLES
from tests.test_dbt_models import run_dbt

CODE_HOST_LAYER = PurePosixPath("models/intermediate/code_host")
REF = re.compile(r"ref\(['\"](\w+)['\"]\)")


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("dbt_parse")
    result = run_dbt(["parse"], tmp / "unused.duckdb", tmp / "target")
    assert result.success, repr(result.exception)
    return result.result


def _models(manifest) -> dict[str, object]:
    return {n.unique_id: n for n in manifest.nodes.values() if n.resource_type == "model"}


def _path(node) -> PurePosixPath:
    return PurePosixPath(node.original_file_path)


def _is_staging(node) -> bool:
    return "staging" in _path(node).parts


def test_only_the_code_host_layer_reads_code_host_staging_models(manifest) -> None:
    models = _models(manifest)
    union = [m for m in models.values() if _path(m).parent == CODE_HOST_LAYER]
    assert {m.name for m in union} >= {
        "int_pull_requests",
        "int_commits",
        "int_commit_parents",
        "int_ci_runs",
        "int_ci_jobs",
        "int_deployment_events",
        "int_releases",
    }
    host_staging = {
        models[dep].name
        for m in union
        for dep in m.depends_on.nodes
        if dep in models and _is_staging(models[dep])
    }
    assert "stg_github__pull_requests" in host_staging

    def outside(model) -> bool:
        return not (_is_staging(model) or _path(model).parent == CODE_HOST_LAYER)

    offenders = [
        (m.name, models[dep].name)
        for m in models.values()
        if outside(m)
        for dep in m.depends_on.nodes
        if dep in models and models[dep].name in host_staging
    ]
    # A unit test's inputs are the refs its model reads: the same rule applies to them.
    by_name = {m.name: m for m in models.values()}
    offenders += [
        (test.name, given.input)
        for test in manifest.unit_tests.values()
        if outside(by_name[test.model])
        for given in test.given
        if REF.fullmatch(given.input) and REF.fullmatch(given.input)[1] in host_staging
    ]
    assert offenders == [], "read the code-host layer (intermediate/code_host/), not staging"


def test_every_raw_table_is_declared_beside_its_staging_models(manifest) -> None:
    models = _models(manifest)
    declared = {s.name: s for s in manifest.sources.values()}
    assert set(RAW_TABLES) <= set(declared), "raw tables without a dbt source"
    misplaced = []
    for table, source in declared.items():
        path = _path(source)
        if not (path.name.startswith("_") and path.name.endswith("__sources.yml")):
            misplaced.append((table, str(path)))
        for model in models.values():
            if source.unique_id in model.depends_on.nodes and _path(model).parent != path.parent:
                misplaced.append((table, str(path), model.name))
    assert misplaced == []


def test_every_model_has_its_own_yml(manifest) -> None:
    wrong = [
        (m.name, m.patch_path)
        for m in _models(manifest).values()
        if m.patch_path is None
        or PurePosixPath(m.patch_path.split("://", 1)[-1]) != _path(m).with_suffix(".yml")
    ]
    assert wrong == []
    ymls = {p.name for p in (Path(__file__).parents[1] / "dbt" / "models").rglob("*.yml")}
    models = {f"{m.name}.yml" for m in _models(manifest).values()}
    assert {y for y in ymls if not y.startswith("_")} == models
