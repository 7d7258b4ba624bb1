"""The staging, intermediate and mart models on dbt's ``spark`` target, compared with DuckDB
model by model (docs/scaling.md#dbt-on-spark, steps 4 to 7).

One raw layer (the embedded demo organisation over one month, synced by every source, plus the
hand-written edge cases of tests/raw_fixtures.py add_edge_case_rows) is built into DuckDB, where
``dbt run`` builds the models, and exported as Parquet, from which the same models are built on a
local Spark session (one session and JVM for the module, tests/spark_support.py) in the three
steps of a Spark build (pipelines/spark_ancestry.py): the models up to commit ancestry, the
ancestry step (the Python walk the DuckDB model runs, per repository on Spark), then
``int_commit_deployments`` from its table and the rest. Every model and seed of the project is
built on both and must have the same columns, types and rows: floats within 1e-9 relative,
timestamps as UTC instants (epoch microseconds), lists element by element. The seven contract
marts of issue 17 are among them (CONTRACT_MARTS).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from pipelines.dbt_cli import DBT_PROJECT_DIR
from pipelines.spark_ancestry import build_on_spark, dbt_session
from tests.spark_support import compare_models, dbt_on_spark, raw_layer_and_duckdb

pytestmark = pytest.mark.spark

# Model folder -> the schema its models build in.
FOLDERS = {
    "models/staging": "staging",
    "models/slo/staging": "staging",
    "models/intermediate": "intermediate",
    "models/slo/intermediate": "intermediate",
    "models/marts": "marts",
    "models/slo/marts": "marts",
}
# The marts issue 17 names for its proof: every portable mart is compared, and these may never
# be left out.
CONTRACT_MARTS = frozenset(
    {
        "fct_deployments",
        "fct_changes",
        "fct_incidents",
        "metrics_dora_weekly",
        "metrics_dora_monthly",
        "metrics_slo_period",
        "metrics_devex_wave",
    }
)

# The run's vars on both engines: a pinned clock, weeks cut in a zone other than the session's
# (UTC), and configuration that makes the models whose rows depend on it non-empty (workflow
# capabilities with regex backslashes, self-service, Argo CD health incidents) and sends the
# metric knobs through their per-service CASE (list literals).
VARS = {
    "as_of": "2026-07-01",
    "timezone": "America/New_York",
    "platform_capabilities": [
        {
            "name": "shared-deploy",
            "description": "the reusable deploy workflow",
            "workflow_regex": r"deploy-pipelines/\.github/workflows/deploy\.yml@",
            "topic": "",
            "golden_path": True,
        },
        {
            "name": "ci",
            "description": "",
            "workflow_regex": r"(?i)/ci\.ya?ml$",
            "topic": "",
            "golden_path": False,
        },
        {
            "name": "observability",
            "description": "",
            "workflow_regex": "",
            "topic": "platform-observability",
            "golden_path": False,
        },
    ],
    # A topic capability, money, a baseline and every task: the platform-value marts' sums,
    # medians and JSON assumptions are compared, not only their nulls.
    "platform_configured": True,
    "platform_currency": "EUR",
    "platform_loaded_hourly_rate": 95.5,
    "platform_attribution_factor": 0.5,
    "platform_working_weeks_per_year": 46,
    "platform_baseline_start": "2026-05-01",
    "platform_baseline_end": "2026-05-31",
    "platform_tasks": [
        "change_lead_time",
        "merge_to_deploy_time",
        "ci_queue_time",
        "deployment_duration",
        "survey_friction",
    ],
    "platform_monthly_cost": 12000,
    "platform_investment": 50000,
    "platform_self_service_workflow_regex": "(?i)^provision",
    "platform_self_service_request_label": "platform-request",
    "argocd_health_incidents": ["argocd"],
    "service_overrides": {
        "checkout-api": {"deployment_branches": [], "deployment_workflow_regex": r"(?i)\bdeploy"},
        "catalog-api": {"deployment_branches": ["main", "release"], "bot_authors_regex": "^ana$"},
    },
}


def model_schemas() -> dict[str, str]:
    """Every model of FOLDERS and every seed (schema marts), by name."""
    return {
        **{
            path.stem: schema
            for folder, schema in FOLDERS.items()
            for path in (DBT_PROJECT_DIR / folder).rglob("*.sql")
        },
        **{path.stem: "marts" for path in (DBT_PROJECT_DIR / "seeds").glob("*.csv")},
    }


def staging_model_names() -> set[str]:
    return {model for model, schema in model_schemas().items() if schema == "staging"}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path, Path]:
    """The raw layer with DuckDB's seeds and models built on it, its Parquet export, and the
    DuckDB run's manifest."""
    return raw_layer_and_duckdb(tmp_path_factory.mktemp("spark-models"), VARS)


@pytest.fixture(scope="module")
def spark_models(built, tmp_path_factory):
    """The same seeds and models built on Spark (the raw export registered by on-run-start):
    dbt seed, then the three steps of a Spark build. Prints the build's wall-clock time (JVM
    start and raw registration included; pytest -s)."""

    _, raw, _ = built
    with dbt_on_spark(tmp_path_factory.mktemp("spark-session"), raw) as invoke:
        started = time.monotonic()
        invoke("seed", "--vars", json.dumps(VARS))
        claims = build_on_spark(invoke, "run", args=["--vars", json.dumps(VARS)])
        print(f"\nspark build: {time.monotonic() - started:.1f} s")
        assert claims > 0
        # The session dbt started (on a worker thread) for the module's comparisons.
        yield dbt_session()


def test_the_comparison_covers_every_model_and_seed_of_the_project(built):
    """No model escapes the comparison: every enabled model and seed of the DuckDB run's manifest
    is one this module compares (a model in a new folder fails here until FOLDERS has it)."""
    _, _, manifest_path = built
    manifest = json.loads(manifest_path.read_text())
    in_project = {
        node["name"]: node["schema"]
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "seed")
    }
    assert in_project == model_schemas()


def test_every_model_and_seed_builds_on_spark_with_duckdbs_columns_and_rows(built, spark_models):
    warehouse, _, _ = built
    session = spark_models
    models = model_schemas()
    assert len(staging_model_names()) >= 45
    assert sum(schema == "intermediate" for schema in models.values()) >= 27
    # Issue 17's proof: the contract marts, built on Spark from the same raw layer, equal DuckDB's.
    assert set(models) >= CONTRACT_MARTS, sorted(CONTRACT_MARTS - set(models))
    assert {"dora_benchmarks", "scorecard_measures"} <= set(models)
    assert models["int_commit_deployments"] == "intermediate"
    on_spark = {
        (r.namespace, r.tableName)
        for schema in sorted(set(FOLDERS.values()))
        for r in session.sql(f"SHOW TABLES IN {schema}").collect()
    }
    expected = {(schema, model) for model, schema in models.items()}
    assert expected <= on_spark, sorted(expected - on_spark)
    mismatches = compare_models(warehouse, session, models)
    assert not mismatches, mismatches


def test_the_comparison_sees_the_silent_traps(spark_models):
    """The raw layer holds what Spark would get wrong without a word (the row-for-row
    comparison above then fails): a regex whose backslash Spark's string literals would drop,
    strings with backslashes and quotes, list elements without the key, an unfinished build and
    an empty first-match list; the vars add regexes with backslashes and sub-second instants."""
    session = spark_models
    repositories = {
        r.build_key: r.repository
        for r in session.sql(
            "SELECT build_key, repository FROM staging.stg_jenkins__builds"
        ).collect()
    }
    # (?:\.git)? with the backslash lost matches any character before "git": payments/d.
    assert repositories["edge/ci#0"] == "payments/digit"
    assert repositories["edge/ci#3"] == "payments/legit"
    assert repositories["edge/ci#9"] is None  # no build data at all
    title = session.sql(
        "SELECT title, labels FROM staging.stg_github__pull_requests "
        "WHERE pull_request_key = 'appstore/edge-cases#0'"
    ).collect()[0]
    assert "back\\slash 'single' \"double\"" in title.title
    assert title.labels == ["a\\b", None, "é"]  # the element without a name is left out
    # Argo CD spells: ids from epoch seconds rounded half to even (08:00:00.5 -> ...800), the
    # causes read by regexes with \s and \b (backslashes Spark's literals would drop).
    spells = {
        r.external_id: r
        for r in session.sql(
            "SELECT external_id, cause_commit_sha, cause_revert_pr, cause_deployment_id "
            "FROM intermediate.int_incidents_unified WHERE source = 'argocd'"
        ).collect()
    }
    first = spells["argocd/recommendations-production/degraded/1781078400"]
    assert first.cause_commit_sha == "abc1234"
    revert = spells["argocd/recommendations-production/degraded/1781949602"]
    assert (revert.cause_revert_pr, revert.cause_deployment_id) == ("42", "17")
