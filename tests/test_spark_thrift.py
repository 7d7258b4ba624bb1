"""The ``spark_thrift`` target (dbt-spark's thrift method, through PyHive) against a real Spark
Thrift server: HiveThriftServer2 from pyspark's own jars, started here on 127.0.0.1
(tests/spark_support.py ThriftServer; docs/scaling.md#dbt-on-spark).

dbt runs as a user would run it, ``dbt ... --target spark_thrift`` in a subprocess, with the
server's host, port and user in PLATFORM_METRICS_SPARK_HOST/_PORT/_USER. From the raw layer of
tests/test_spark_models.py (exported as Parquet, at a path the server reads), the seven contract
marts of issue 17 and their parents are built in the three steps of a Spark build
(pipelines/spark_ancestry.py build_on_spark): the models up to commit ancestry, the ancestry step,
then the rest. The step cannot go through a Thrift server (it runs Python on Spark: applyInArrow),
so it runs as a Spark job of its own, ``spark-submit pipelines/spark_ancestry.py``, on the same
metastore and warehouse, as it would on a cluster. The server's metastore is an embedded Derby
database that only one JVM can open, so the server is stopped for the step and started again.
The marts are then compared with DuckDB's row for row (tests/spark_support.py compare_models),
through a local session on the server's metastore once the server has stopped.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from pipelines.dbt_cli import DBT_PROJECT_DIR, dbt_executable
from pipelines.offline import tool_env
from pipelines.raw_export import RAW_PARQUET_ENV_VAR
from pipelines.spark_ancestry import NODE, build_on_spark
from pipelines.spark_build import stop_spark
from tests.spark_support import (
    ThriftServer,
    compare_models,
    local_spark_conf,
    raw_layer_and_duckdb,
    spark_submit,
    thrift_server_missing,
)
from tests.test_spark_models import CONTRACT_MARTS, VARS, model_schemas

MISSING = thrift_server_missing()
pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(MISSING is not None, reason=f"spark thrift server: {MISSING}"),
]

# Only what the contract marts need (71 of the project's 104 models and seeds), to keep the
# module's time down.
SELECT = tuple(f"+{mart}" for mart in sorted(CONTRACT_MARTS))
HOST = "127.0.0.1"
USER = "pm-thrift-user-5c1e"
# The server's own default session time zone is not UTC, as a cluster's need not be: UTC comes
# from the spark_thrift profile's server_side_parameters (set:hiveconf: keys; the server ignores
# plain ones).
SERVER_CONF = {"spark.sql.session.timeZone": "America/Los_Angeles"}


class ThriftDbt:
    """``dbt <args> --target spark_thrift`` in a subprocess against ``server``; records every argv
    and output, and the seconds each step took."""

    def __init__(self, server: ThriftServer, raw: Path, target: Path):
        self.server, self.raw, self.target = server, raw, target
        self.argvs: list[list[str]] = []
        self.outputs: list[str] = []
        self.seconds: dict[str, float] = {}
        self.ports: set[int] = set()

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        argv = [
            dbt_executable(),
            *args,
            "--target",
            "spark_thrift",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(self.target),
            "--log-path",
            str(self.target / "logs"),
            "--no-use-colors",
        ]
        env = tool_env(
            {
                **os.environ,
                "PLATFORM_METRICS_SPARK_HOST": HOST,
                "PLATFORM_METRICS_SPARK_PORT": str(self.server.port),
                "PLATFORM_METRICS_SPARK_USER": USER,
                RAW_PARQUET_ENV_VAR: str(self.raw),
            }
        )
        assert self.server.port is not None
        self.ports.add(self.server.port)
        started = time.monotonic()
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=900)
        self.seconds[f"dbt {args[0]} #{len(self.argvs)}"] = time.monotonic() - started
        self.argvs.append(argv)
        self.outputs.append(proc.stdout + proc.stderr)
        if check and proc.returncode != 0:
            raise AssertionError(f"dbt {args[0]} over thrift failed:\n{proc.stdout[-4000:]}")
        return proc

    def ancestry_step(self) -> int:
        """The step as a Spark job of its own on the server's metastore (the server stopped for
        it: embedded Derby), then the server started again; returns the claims. First, what a
        user who forgot the step gets from int_commit_deployments (``no_step``)."""
        self.no_step = self("compile", "--select", NODE, "--vars", json.dumps(VARS), check=False)
        self.server.stop()
        argv, env = spark_submit(self.server.spark_dir, "pipelines/spark_ancestry.py")
        started = time.monotonic()
        proc = subprocess.run(
            argv, capture_output=True, text=True, env=env, cwd=env["PYTHONPATH"], timeout=600
        )
        self.seconds["ancestry step (spark-submit)"] = time.monotonic() - started
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
        claimed = re.search(r"(\d+) commits claimed by deployments", proc.stdout)
        assert claimed, proc.stdout[-2000:]
        started = time.monotonic()
        self.server.start()
        self.seconds["server restart"] = time.monotonic() - started
        return int(claimed.group(1))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path, Path]:
    """The raw layer, DuckDB's seeds and the contract marts with their parents, the export."""
    return raw_layer_and_duckdb(tmp_path_factory.mktemp("spark-thrift"), VARS, select=SELECT)


@pytest.fixture(scope="module")
def thrift_build(built, tmp_path_factory):
    """The seeds and the contract marts built over thrift; yields the recorder (argv, output,
    times) once the server has stopped. Prints the times (pytest -s)."""
    _, raw, _ = built
    spark_dir = tmp_path_factory.mktemp("thrift-server")
    # Seeds and models (dbt build without the data tests) in each of the two dbt runs.
    args = ["--resource-type", "seed", "--resource-type", "model", "--vars", json.dumps(VARS)]
    with ThriftServer(spark_dir, SERVER_CONF) as server:
        started = time.monotonic()
        server.start()
        first_start = time.monotonic() - started
        dbt = ThriftDbt(server, raw, spark_dir / "dbt-target")
        dbt.seconds["server start"] = first_start
        dbt.claims = build_on_spark(dbt, "build", select=SELECT, args=args, step=dbt.ancestry_step)
    dbt.seconds["total"] = time.monotonic() - started
    print("\nspark thrift: " + ", ".join(f"{k} {v:.1f} s" for k, v in dbt.seconds.items()))
    yield dbt


@pytest.fixture(scope="module")
def server_tables(thrift_build):
    """A local session on the stopped server's metastore and warehouse, to read what it built."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.enableHiveSupport()
    for key, value in local_spark_conf(thrift_build.server.spark_dir).items():
        builder = builder.config(key, value)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SPARK_LOCAL_IP", HOST)
        try:
            yield builder.getOrCreate()
        finally:
            stop_spark()


def test_the_contract_marts_built_over_thrift_equal_duckdbs(built, thrift_build, server_tables):
    warehouse, _, _ = built
    assert thrift_build.claims > 0
    marts = {model: schema for model, schema in model_schemas().items() if model in CONTRACT_MARTS}
    assert set(marts) == CONTRACT_MARTS
    mismatches = compare_models(warehouse, server_tables, marts)
    assert not mismatches, mismatches


def test_without_the_ancestry_step_the_thrift_build_says_what_to_run(thrift_build):
    """A thrift user who runs int_commit_deployments before the ancestry step gets the steps to
    run, not Spark's "table or view not found"."""
    assert thrift_build.no_step.returncode != 0
    message = thrift_build.no_step.stdout
    assert "ancestry.commit_deployments does not exist" in message
    assert "spark-submit pipelines/spark_ancestry.py" in message


def test_the_servers_host_port_and_user_never_reach_argv_or_dbts_logs(thrift_build):
    """They come from the environment (dbt/profiles.yml): not in any dbt argv, nor in dbt's
    output, its log file or the artifacts of the target folder."""
    assert thrift_build.ports
    secrets = [HOST, USER]
    ports = [re.compile(rf"(?<!\d){port}(?!\d)") for port in thrift_build.ports]
    for argv in thrift_build.argvs:
        assert not [arg for arg in argv if any(secret in arg for secret in secrets)], argv
        assert not [arg for arg in argv if any(port.search(arg) for port in ports)], argv
    written = [*thrift_build.outputs]
    written += [
        path.read_text(errors="replace")
        for path in thrift_build.target.rglob("*")
        if path.is_file() and path.suffix in (".log", ".json")
    ]
    assert written
    for text in written:
        for secret in secrets:
            assert secret not in text
        for port in ports:
            assert not port.search(text), port.pattern
