"""DevEx scoring and the success scorecard, seen from the configuration: the dbt defaults match the
instrument, the vars carry the config, and a bad scorecard entry is one clear line.

The formulas themselves are dbt unit tests (int_survey_answers, int_survey_groups,
metrics_devex_wave, metrics_devex_comments, int_scorecard_measures, metrics_success_scorecard),
run by tests/test_dbt_models.py's dbt build.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from pipelines.config import DEMO_CONFIG_PATH, SCORECARD_MEASURES, WAREHOUSE_ENV_VAR, load_config
from pipelines.definitions import dbt_vars
from pipelines.errors import ConfigError
from pipelines.surveys.scoring import scoring_vars

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT = yaml.safe_load((REPO_ROOT / "dbt" / "dbt_project.yml").read_text(encoding="utf-8"))
MINIMAL = """
organisation: {name: Acme}
teams: [{name: web, engineers: 3}]
services: [{name: shop, team: web, repositories: [acme/shop]}]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "org.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_dbt_survey_defaults_equal_the_instrument():
    for name, value in scoring_vars().items():
        assert DBT_PROJECT["vars"][name] == value, name


def test_dbt_scorecard_default_equals_the_config_default(tmp_path):
    configured = dbt_vars(load_config(write(tmp_path, MINIMAL)))["scorecard"]
    default = DBT_PROJECT["vars"]["scorecard"]
    assert configured == default


def test_default_scorecard_is_the_plans_eight_success_metrics(tmp_path):
    config = load_config(write(tmp_path, MINIMAL))
    assert [(m.metric, m.op, m.target) for m in config.scorecard] == [
        ("developer_satisfaction", ">", 4.0),
        ("survey_response_rate", ">", 50),
        ("time_to_first_deployment", "<", 15),
        ("platform_adoption", ">", 80),
        ("slo_compliance", ">", 99),
        ("policy_compliance", ">", 95),
        ("infrastructure_change_failure_rate", "<", 5),
        ("metrics_collection_coverage", ">", 80),
    ]


def test_scorecard_and_threshold_reach_dbt(tmp_path):
    text = MINIMAL + (
        "sources: {surveys: {anonymity_threshold: 7}}\n"
        "scorecard:\n"
        "  - {metric: lead_time, target: 24, op: '<', scope: 'team:web', label: Web lead time}\n"
    )
    variables = dbt_vars(load_config(write(tmp_path, text)))
    assert variables["survey_anonymity_threshold"] == 7
    assert variables["scorecard"] == [
        {
            "metric": "lead_time",
            "label": "Web lead time",
            "target": 24.0,
            "op": "<",
            "at_risk_within": "",
            "scope": "team:web",
        }
    ]
    assert "survey_items" in variables


def test_demo_threshold_defaults_to_five_without_a_surveys_section(tmp_path):
    assert dbt_vars(load_config(write(tmp_path, MINIMAL)))["survey_anonymity_threshold"] == 5
    assert load_config(DEMO_CONFIG_PATH).sources.surveys.anonymity_threshold == 5


def test_every_registered_measure_has_a_unit_and_a_direction():
    import csv

    with (REPO_ROOT / "dbt" / "seeds" / "scorecard_measures.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {r["measure"] for r in rows} == set(SCORECARD_MEASURES)
    assert all(r["better"] in ("higher", "lower") and r["unit"] for r in rows)


@pytest.mark.parametrize(
    ("scorecard", "expected"),
    [
        ("[{metric: happiness, target: 1, op: '>'}]", "'happiness' is not one of the measures"),
        ("[{metric: lead_time, target: 1, op: '=>'}]", "scorecard[0].op"),
        ("[{metric: lead_time, target: 1}]", "scorecard[0].op"),
        (
            "[{metric: developer_satisfaction, target: 4, op: '>', scope: 'team:web'}]",
            "developer_satisfaction is measured for org only",
        ),
        (
            "[{metric: lead_time, target: 24, op: '<', scope: 'team:ops'}]",
            "scorecard[0].scope: 'ops' is not one of the teams ['web']",
        ),
        ("[{metric: lead_time, target: 24, op: '<', scope: 'squad'}]", "must be org, team:<name>"),
        (
            "[{metric: lead_time, target: 24, op: '<'}, {metric: lead_time, target: 12, op: '<'}]",
            "scorecard[1]: lead_time for org appears twice",
        ),
        ("[{metric: lead_time, target: 24, op: '<', at_risk_within: -1}]", "at_risk_within"),
    ],
)
def test_bad_scorecard_entry_is_one_line_naming_the_key(tmp_path, scorecard, expected):
    with pytest.raises(ConfigError) as error:
        load_config(write(tmp_path, MINIMAL + f"scorecard: {scorecard}\n"))
    message = str(error.value)
    assert expected in message
    assert "\n" not in message


def test_anonymity_threshold_below_three_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="anonymity_threshold"):
        load_config(write(tmp_path, MINIMAL + "sources: {surveys: {anonymity_threshold: 2}}\n"))


def _privacy_gate(tmp_path: Path, rows: list[tuple]) -> subprocess.CompletedProcess:
    """Run the dbt privacy gate on a hand-made marts.metrics_devex_wave."""
    tmp_path.mkdir(parents=True)
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute(
            "CREATE TABLE marts.metrics_devex_wave (wave VARCHAR, group_type VARCHAR, "
            "group_value VARCHAR, respondents INTEGER, suppressed BOOLEAN, devex_index DOUBLE, "
            "satisfaction_mean DOUBLE, platform_nps DOUBLE, hours_lost_per_week DOUBLE, "
            "cognitive_load_index DOUBLE)"
        )
        con.executemany(
            "INSERT INTO marts.metrics_devex_wave VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, NULL, NULL)",
            rows,
        )
    command = [
        str(Path(sys.executable).with_name("dbt")),
        "test",
        "--select",
        "no_survey_score_under_the_anonymity_threshold",
        "--project-dir",
        str(REPO_ROOT / "dbt"),
        "--profiles-dir",
        str(REPO_ROOT / "dbt"),
        "--target-path",
        str(tmp_path / "target"),
    ]
    env = {**os.environ, WAREHOUSE_ENV_VAR: str(warehouse)}
    return subprocess.run(command, env=env, capture_output=True, text=True, cwd=tmp_path)


def test_the_dbt_privacy_gate_fails_the_build_on_a_leak(tmp_path):
    clean = [
        ("W1", "org", "all", 12, False, 50.0),
        ("W1", "team", "a", 3, True, None),
        ("W1", "team", "b", 4, True, None),
        ("W1", "team", "c", 5, False, 40.0),
        ("W2", "org", "all", 2, True, None),  # a hidden organisation reveals nothing
        ("W2", "team", "a", 2, True, None),
    ]
    assert _privacy_gate(tmp_path / "clean", clean).returncode == 0
    leaks = [
        ("W1", "org", "all", 12, False, 50.0),
        ("W1", "team", "a", 3, True, 10.0),  # hidden, with a score
        ("W1", "team", "b", 4, False, None),  # under 5, shown
        ("W1", "team", "c", 5, False, 40.0),
    ]
    result = _privacy_gate(tmp_path / "leaky", leaks)
    assert result.returncode == 1
    assert "FAIL 3 no_survey_score_under_the_anonymity_threshold" in result.stdout
