"""Configuration: the demo loads, and every kind of bad input gives one clear line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.config import DEMO_CONFIG_PATH, load_config, parse_config
from pipelines.definitions import dbt_vars
from pipelines.errors import ConfigError

MINIMAL = """
organisation: {name: Acme}
teams: [{name: web, engineers: 3}]
services: [{name: shop, team: web, repositories: [acme/shop]}]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "org.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_demo_configuration_loads_with_its_fake_sources():
    config = load_config(DEMO_CONFIG_PATH)
    assert config.is_demo
    assert {t.name for t in config.teams} == {"storefront", "payments", "platform", "mobile"}
    assert 10 <= len(config.services) <= 15
    assert config.sources.github and config.sources.pagerduty


def test_no_path_and_no_env_loads_the_demo(monkeypatch):
    monkeypatch.delenv("PLATFORM_METRICS_CONFIG", raising=False)
    assert load_config().organisation.name == "App Store"


def test_minimal_config_gets_dora_defaults(tmp_path):
    config = load_config(write(tmp_path, MINIMAL))
    assert config.metrics.incident_window_hours == 24
    assert config.metrics.benchmark == "dora_2024"
    assert not config.is_demo


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("organisation: [unclosed", "malformed YAML"),
        ("", "the file is empty"),
        ("- a\n- b\n", "expected a mapping at the top level"),
        (MINIMAL + "colour: blue\n", "colour: unknown key"),
        (MINIMAL.replace("engineers: 3", "engineers: three"), "teams[0].engineers"),
        (
            MINIMAL.replace("team: web,", "team: mobile,"),
            "services[0].team: 'mobile' is not one of the teams",
        ),
        (MINIMAL.replace("acme/shop", "shop"), "is not of the form owner/name"),
        (
            "organisation: {name: Acme}\nteams: [{name: web, engineers: 3}]\n",
            "services: required key is missing",
        ),
        (
            MINIMAL + "metrics: {deployment: {workflow_regex: '(unclosed'}}\n",
            "not a valid RE2 regular expression",
        ),
        (
            MINIMAL + "metrics: {bot_authors_regex: 'bot(?=s)'}\n",
            "not a valid RE2 regular expression",
        ),
        (
            MINIMAL + "sources: {github: [{organisations: [a]}, {organisations: [b]}]}\n",
            "sources.github names: 'github' appears twice",
        ),
        (MINIMAL + "organisation_typo: 1\n", "organisation_typo: unknown key"),
        (MINIMAL.replace("name: Acme", "name: Acme, timezone: Mars/Olympus"), "unknown time zone"),
        (MINIMAL + "schedules: {refresh_cron: 'daily'}\n", "not a five-field cron expression"),
        (
            MINIMAL + "schedules: {weekly_report_cron: '0 7 * * 8'}\n",
            "schedules.weekly_report_cron: '0 7 * * 8' is not a valid cron expression (day of week '8' is not in 0-7)",
        ),
        (MINIMAL + "sources: {github: [{name: gh}]}\n", "give 'organisations' or 'repositories'"),
        (MINIMAL + "spark: {raw_parquet: x, sessions: 2}\n", "spark.sessions: unknown key"),
        (MINIMAL + "spark: {command: test}\n", "spark.command: Input should be 'build' or 'run'"),
        (MINIMAL + "spark: {dir: [a, b]}\n", "spark.dir: Input is not a valid path"),
        (MINIMAL + "spark: {cron: 'daily'}\n", "spark.cron: 'daily' is not a five-field cron"),
        (
            MINIMAL + "spark: {cron: '0 24 * * *'}\n",
            "spark.cron: '0 24 * * *' is not a valid cron expression (hour '24' is not in 0-23)",
        ),
        (
            MINIMAL + "spark: {cron: '*/0 * * * *'}\n",
            "spark.cron: '*/0 * * * *' is not a valid cron expression (minute '*/0')",
        ),
        (MINIMAL + "spark: [build]\n", "spark: Input should be a valid dictionary"),
    ],
)
def test_bad_config_names_file_key_and_problem(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert expected in message, message
    assert "\n" not in message


def test_unset_secret_variable_names_the_key_that_needs_it(tmp_path, monkeypatch):
    monkeypatch.delenv("PM_TEST_TOKEN", raising=False)
    path = write(
        tmp_path,
        MINIMAL + "sources: {github: [{organisations: [acme], token: '${PM_TEST_TOKEN}'}]}\n",
    )
    with pytest.raises(
        ConfigError,
        match=r"sources\.github\[0\]\.token: environment variable PM_TEST_TOKEN is not set",
    ):
        load_config(path)


def test_secret_from_environment_is_kept_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("PM_TEST_TOKEN", "ghp_supersecret")
    path = write(
        tmp_path,
        MINIMAL + "sources: {github: [{organisations: [acme], token: '${PM_TEST_TOKEN}'}]}\n",
    )
    config = load_config(path)
    assert config.sources.github[0].token.get_secret_value() == "ghp_supersecret"
    assert "ghp_supersecret" not in repr(config)
    assert "ghp_supersecret" not in str(config.model_dump())


def test_env_default_is_used_when_variable_is_unset(tmp_path, monkeypatch):
    monkeypatch.delenv("PM_UNSET", raising=False)
    config = parse_config(MINIMAL + "sources: {surveys: {salt: '${PM_UNSET:-fallback}'}}\n")
    assert config.sources.surveys.salt.get_secret_value() == "fallback"


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_config(tmp_path / "nope.yaml")


def test_relative_paths_resolve_against_the_config_folder(tmp_path):
    config = load_config(write(tmp_path, MINIMAL + "warehouse: {path: data/wh.duckdb}\n"))
    assert config.warehouse_path() == tmp_path / "data" / "wh.duckdb"
    assert config.publish.site_dir == Path("build/site")  # defaults stay under ./build


def test_a_warehouse_path_in_the_file_keeps_the_warehouse_sections_other_settings(tmp_path):
    config = load_config(
        write(
            tmp_path,
            MINIMAL + "warehouse: {path: data/wh.duckdb, incremental_lookback_days: 9}\n",
        )
    )
    assert config.warehouse_path() == tmp_path / "data" / "wh.duckdb"
    assert config.warehouse.incremental_lookback_days == 9


def test_no_spark_section_means_no_spark_settings(tmp_path):
    assert load_config(write(tmp_path, MINIMAL)).spark is None
    assert load_config(DEMO_CONFIG_PATH).spark is None


def test_a_spark_section_loads_with_its_paths_relative_to_the_config_folder(tmp_path):
    spark = (
        "spark: {raw_parquet: data/raw, dir: /srv/spark, cron: '30 6 * * MON-FRI', command: run}"
    )
    config = load_config(write(tmp_path, MINIMAL + spark + "\n"))
    assert config.spark.raw_parquet == tmp_path / "data" / "raw"
    assert config.spark.dir == Path("/srv/spark")
    assert config.spark.cron == "30 6 * * MON-FRI"
    assert config.spark.command == "run"
    assert config.source_file == (tmp_path / "org.yaml").absolute()


def test_an_empty_spark_section_takes_the_defaults_under_build(tmp_path):
    spark = load_config(write(tmp_path, MINIMAL + "spark: {}\n")).spark
    assert (spark.raw_parquet, spark.dir) == (Path("build/raw-parquet"), Path("build/spark"))
    assert spark.cron is None and spark.command == "build"


def test_dbt_vars_follow_the_metric_definitions(tmp_path):
    config = load_config(
        write(
            tmp_path, MINIMAL + "metrics: {incident_window_hours: 6, lead_time_start: pr_opened}\n"
        )
    )
    variables = dbt_vars(config)
    assert variables["incident_window_hours"] == 6
    assert variables["lead_time_start"] == "pr_opened"
    assert variables["timezone"] == "UTC"
    assert variables["deployment_environment_regex"] == r"^prod(uction)?$"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assets.cli", *args], capture_output=True, text=True, timeout=120
    )


def test_cli_validate_bad_config_prints_one_line_and_exits_non_zero(tmp_path):
    path = write(tmp_path, MINIMAL + "colour: blue\n")
    result = _cli("validate", "--config", str(path))
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"error: {path}: colour: unknown key (check its spelling; see docs/configuration.md)"
    )
    assert "Traceback" not in result.stderr


def test_cli_validate_good_config_summarises_it(tmp_path):
    result = _cli("validate", "--config", str(write(tmp_path, MINIMAL)))
    assert result.returncode == 0, result.stderr
    assert "Acme: 1 teams, 1 services, 1 repositories" in result.stdout
