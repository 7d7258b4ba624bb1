"""dbt's spark targets (dbt/profiles.yml), read as text: no Spark needed.

The local ``spark`` target is proven on a real session by tests/test_spark_target.py; these pin
what must hold for every user: DuckDB stays the default, the session is UTC and offline, and the
cluster target takes its connection from the environment only.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parent.parent / "dbt"


def _outputs() -> dict:
    profile = yaml.safe_load((PROJECT / "profiles.yml").read_text())["platform_metrics"]
    assert profile["target"] == "duckdb"  # the default build is DuckDB's
    return profile["outputs"]


def test_spark_session_target_is_utc_offline_and_kept_under_its_folder():
    spark = _outputs()["spark"]
    assert (spark["type"], spark["method"]) == ("spark", "session")
    params = spark["server_side_parameters"]
    assert params["spark.sql.session.timeZone"] == "UTC"
    assert params["spark.ui.enabled"] == "false"
    assert params["spark.driver.bindAddress"] == "127.0.0.1"
    # Nothing fetched at run time: no packages, repositories or remote jars.
    assert not [k for k in params if re.match(r"spark\.jars", k)]
    for key in (
        "spark.sql.warehouse.dir",
        "spark.hadoop.javax.jdo.option.ConnectionURL",
        "spark.local.dir",
    ):
        assert "env_var('PLATFORM_METRICS_SPARK_DIR')" in params[key], key


def test_spark_thrift_target_takes_its_connection_from_the_environment():
    thrift = _outputs()["spark_thrift"]
    assert (thrift["type"], thrift["method"]) == ("spark", "thrift")
    for key in ("host", "port", "user"):
        assert str(thrift[key]).startswith("{{ env_var('PLATFORM_METRICS_SPARK_"), key
    assert not {"password", "token"} & set(thrift)
    # A Thrift server applies a client's session setting only as set:hiveconf:<key>
    # (tests/test_spark_thrift.py shows a plain key ignored).
    params = thrift["server_side_parameters"]
    assert params["set:hiveconf:spark.sql.session.timeZone"] == "UTC"
    assert params["set:hiveconf:spark.sql.ansi.enabled"] == "false"
    assert not [k for k in params if not k.startswith("set:hiveconf:")]


def test_the_raw_registration_hook_runs_on_the_spark_target_only():
    project = yaml.safe_load((PROJECT / "dbt_project.yml").read_text())
    assert project["on-run-start"] == ["{{ register_raw_parquet() }}"]
    macro = (PROJECT / "macros" / "spark_raw.sql").read_text()
    assert "{%- if target.type != 'spark' or not execute -%}{{ return('') }}" in macro
