"""dbt assets: every model, seed and test of dbt/, keyed ``[schema, name]``; sources map to raw."""

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from assets.project import DBT_PROJECT_DIR, DBT_TARGET_DIR, WAREHOUSE_POOL, dbt_project
from pipelines.config import WAREHOUSE_ENV_VAR, Config
from pipelines.dbt_runs import (
    parse_cache,
    prune_legacy_runs,
    prune_runs,
    reusing_parse,
    run_target,
)
from pipelines.definitions import dbt_vars
from pipelines.offline import refusing_proxy

# Set (to "1") by `platform-metrics run --full-refresh`: the next dbt build rebuilds the incremental
# models from the raw layer (docs/operations.md#incremental-runs).
FULL_REFRESH_ENV_VAR = "PLATFORM_METRICS_FULL_REFRESH"


def dbt_build_args(variables: str, *, full_refresh: bool | None = None) -> list[str]:
    """The dbt command of the ``dbt_models`` asset: ``build`` with the vars; ``--full-refresh``
    when the run asked for one (``full_refresh``; by default the environment says).

    A scheduled run leaves out dbt's unit tests: their inputs are static rows in YAML, so they
    check the SQL, which changes with a new version of the project, not with a day's data (dbt's
    own advice: run them in development and CI). A full refresh, which an upgrade asks for, runs
    them first, as ``make test`` does. Data tests run on every build. Measured at 200 x 24
    (docs/operations.md#incremental-runs): 59 unit tests were 17 s of a 62 s daily build.
    """
    args = ["build", "--vars", variables]
    if full_refresh is None:
        full_refresh = os.environ.get(FULL_REFRESH_ENV_VAR) == "1"
    if full_refresh:
        args.append("--full-refresh")
    else:
        args += ["--exclude-resource-type", "unit_test"]
    return args


class WarehouseTranslator(DagsterDbtTranslator):
    """Asset keys say where a table lives: ``raw/<table>`` for sources, ``<schema>/<model>``."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey(["raw", dbt_resource_props["name"]])
        return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props.get("schema") or "dbt"


def mart_keys() -> list[dg.AssetKey]:
    """Keys of every model in the ``marts`` schema (the tables the site and snapshot publish)."""
    manifest = json.loads(Path(dbt_project().manifest_path).read_text(encoding="utf-8"))
    return sorted(
        (
            dg.AssetKey(["marts", node["name"]])
            for node in manifest["nodes"].values()
            if node["resource_type"] == "model" and node.get("schema") == "marts"
        ),
        key=lambda k: k.to_user_string(),
    )


def build_dbt_assets(config: Config, warehouse_path: Path) -> dg.AssetsDefinition:
    project = dbt_project()
    variables = json.dumps(dbt_vars(config))

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=WarehouseTranslator(),
        pool=WAREHOUSE_POOL,
    )
    def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
        # The dbt profile reads the same variable as Dagster's DuckDBResource.
        os.environ[WAREHOUSE_ENV_VAR] = str(warehouse_path)
        # Its own folder under build/dbt-target/runs, starting from this warehouse's last parse
        # (pipelines/dbt_runs.py: a full parse every run cost about 5 s).
        target = run_target(DBT_TARGET_DIR, context.run.run_id)
        with reusing_parse(target, parse_cache(DBT_TARGET_DIR, warehouse_path)):
            # dagster-dbt runs `dbt --version` (which asks the package index for the latest
            # release) and `dbt build` with a copy of os.environ taken here: both get the
            # refusing proxy.
            with refusing_proxy():
                invocation = dbt.cli(dbt_build_args(variables), context=context, target_path=target)
            yield from invocation.stream()
        prune_runs(DBT_TARGET_DIR)
        prune_legacy_runs(DBT_PROJECT_DIR / "target")

    return dbt_models
