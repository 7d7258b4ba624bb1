"""Metric definitions -> dbt vars (pipelines/definitions.py): a pure function, per-service overrides."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipelines.config import parse_config
from pipelines.definitions import dbt_vars
from pipelines.errors import ConfigError

DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt" / "dbt_project.yml"
BASE = """
organisation: {name: Acme}
teams: [{name: web, engineers: 3}]
services:
  - {name: shop, team: web, repositories: [acme/shop]}
  - {name: lib, team: web, repositories: [acme/lib]}
"""


def test_default_vars_equal_the_dbt_project_defaults():
    project_vars = yaml.safe_load(DBT_PROJECT.read_text(encoding="utf-8"))["vars"]
    variables = dbt_vars(parse_config(BASE))
    assert set(variables) <= set(project_vars)
    for name, value in variables.items():
        if name not in ("timezone",):
            assert value == project_vars[name], name


def test_service_overrides_carry_only_the_keys_the_service_sets():
    config = parse_config(
        BASE
        + """
metrics:
  incident_window_hours: 12
  services:
    lib:
      deployment: {sources: [tags], tag_regex: '^release-'}
      failure_causes: [failed_deploy, incident]
    shop:
      lead_time_start: pr_opened
"""
    )
    variables = dbt_vars(config)
    assert variables["incident_window_hours"] == 12
    assert variables["service_overrides"] == {
        "lib": {
            "deployment_sources": ["tags"],
            "deployment_tag_regex": "^release-",
            "failure_causes": ["failed_deploy", "incident"],
        },
        "shop": {"lead_time_start": "pr_opened"},
    }
    assert dbt_vars(config) == variables  # pure: same config, same vars


def test_override_of_an_unknown_service_is_an_error_naming_it():
    with pytest.raises(ConfigError, match=r"metrics\.services\.shopp"):
        parse_config(BASE + "metrics: {services: {shopp: {lead_time_start: pr_opened}}}\n")


def test_override_regex_is_checked_like_the_organisation_one():
    with pytest.raises(ConfigError, match="RE2"):
        parse_config(BASE + "metrics: {services: {lib: {deployment: {tag_regex: '(?<=v)1'}}}}\n")
