"""dbt on a local pyspark session inside the test process, for the modules marked ``spark``
(tests/test_spark_target.py, tests/test_spark_models.py; docs/scaling.md#dbt-on-spark), the
comparison of Spark's relations with DuckDB's (``compare_models``), and a local Spark Thrift server
for tests/test_spark_thrift.py (``thrift_server``).

``dbt_on_spark(spark_dir, raw)`` yields ``invoke(*args)``: ``dbt <args> --target spark`` through
dbtRunner (pipelines/spark_build.py, what ``platform-metrics spark-build`` runs), so every
invocation of a module shares one Spark session and JVM (the first starts it from the profile's
settings, dbt-spark calls ``SparkSession.builder...getOrCreate()``; the later ones reuse it). The
JVM is stopped when the block ends, so the next module starts its own.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import duckdb

from pipelines.dbt_cli import run_dbt
from pipelines.raw_export import export_raw_parquet
from pipelines.spark_job import stop_process_group
from pipelines.warehouse import connect
from tests.prometheus_server import free_port
from tests.raw_fixtures import sync_every_source_raw_layer

# DuckDB's type -> Spark's, for every type a compared model has. DuckDB's sum of integers is a
# HUGEINT (128 bits), Spark's a bigint.
SPARK_TYPES = {
    "BIGINT": "bigint",
    "HUGEINT": "bigint",
    "INTEGER": "int",
    "DOUBLE": "double",
    "BOOLEAN": "boolean",
    "VARCHAR": "string",
    "JSON": "string",
    "TIMESTAMP WITH TIME ZONE": "timestamp",
    "VARCHAR[]": "array<string>",
    "DATE": "date",
}


@contextlib.contextmanager
def dbt_on_spark(spark_dir: Path, raw: Path) -> Iterator[Callable[..., list[str]]]:
    """pipelines.spark_build.spark_dbt: a failed invocation raises DbtError with dbt's log tail."""
    from pipelines.spark_build import spark_dbt

    with spark_dbt(spark_dir, raw) as invoke:
        yield invoke


def comparable(value):
    """A value as both engines' Python rows can be compared: instants as epoch microseconds
    (DuckDB gives aware datetimes, pyspark naive ones in this process's local time)."""
    if isinstance(value, dt.datetime):
        return round(value.timestamp() * 1_000_000)
    if isinstance(value, list | tuple):
        return tuple(comparable(v) for v in value)
    return value


def raw_layer_and_duckdb(
    root: Path, variables: Mapping[str, object], select: Sequence[str] = ()
) -> tuple[Path, Path, Path]:
    """The raw layer of every source (tests/raw_fixtures.py) with DuckDB's seeds and models (or
    ``select``) built on it, its Parquet export, and the DuckDB run's manifest."""
    raw = root / "landed.duckdb"  # not raw.duckdb: its catalog would clash with schema raw
    con = connect(raw)
    try:
        sync_every_source_raw_layer(con, root / "inbox")
        export_raw_parquet(con, root / "raw-parquet")
    finally:
        con.close()
    warehouse = root / "warehouse.duckdb"
    shutil.copy(raw, warehouse)
    selection = ["--select", *select] if select else []
    run_dbt(["seed"], warehouse=warehouse, target_path=root / "duckdb-target", variables=variables)
    run_dbt(
        ["run", *selection],
        warehouse=warehouse,
        target_path=root / "duckdb-target",
        variables=variables,
    )
    return warehouse, root / "raw-parquet", root / "duckdb-target" / "manifest.json"


def _duckdb_relation(con: duckdb.DuckDBPyConnection, schema: str, model: str):
    columns = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, model],
    ).fetchall()
    return columns, con.execute(f"SELECT * FROM {schema}.{model}").fetchall()


def _sort_key(row: tuple) -> str:
    """Rows sort alike on both engines even where floats differ in the last bits."""
    return repr(tuple(f"{v:.6e}" if isinstance(v, float) else v for v in row))


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=0)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _rows(rows) -> list[tuple]:
    return sorted((tuple(comparable(v) for v in row) for row in rows), key=_sort_key)


def compare_models(warehouse: Path, session, models: dict[str, str]) -> list[tuple]:
    """(model, ...) for every model whose Spark relation differs from DuckDB's: first the column
    names and types, then the rows."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        mismatches = []
        for model, schema in sorted(models.items()):
            columns, duck_rows = _duckdb_relation(con, schema, model)
            assert duck_rows, f"{model} is empty on DuckDB: the comparison would prove nothing"
            frame = session.table(f"{schema}.{model}")
            expected_types = [(name, SPARK_TYPES[kind]) for name, kind in columns]
            if frame.dtypes != expected_types:
                mismatches.append((model, expected_types, frame.dtypes))
                continue
            duck, spark = _rows(duck_rows), _rows(frame.collect())
            if len(spark) != len(duck):
                mismatches.append((model, "rows", len(duck), len(spark)))
                continue
            for d, s in zip(duck, spark, strict=True):
                if not _same(d, s):
                    differ = [
                        (name, x, y)
                        for (name, _), x, y in zip(columns, d, s, strict=True)
                        if not _same(x, y)
                    ]
                    mismatches.append((model, d[0], differ))
                    break
        return mismatches
    finally:
        con.close()


# --- A local Spark Thrift server (tests/test_spark_thrift.py) -----------------------------------

THRIFT_SERVER_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"
THRIFT_SERVER_JAR = "spark-hive-thriftserver_2.13-*.jar"
# The project's root: what spark-submit's Python (the ancestry step) imports pipelines from.
REPO_ROOT = Path(__file__).resolve().parent.parent


def thrift_server_missing() -> str | None:
    """Why a local Thrift server cannot start here (None: it can): Java, pyspark's bundled
    Thrift server jar, and PyHive (dbt-spark's thrift method) are needed."""
    import importlib.util
    import shutil

    if shutil.which("java") is None:
        return "java not found (Debian: apt-get install openjdk-17-jre-headless)"
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark not installed (pip install -c requirements.lock -e '.[spark]')"
    if not any((spark_home() / "jars").glob(THRIFT_SERVER_JAR)):
        return f"pyspark ships no {THRIFT_SERVER_JAR} in {spark_home() / 'jars'}"
    if (
        importlib.util.find_spec("pyhive") is None
        or importlib.util.find_spec("thrift_sasl") is None
    ):
        return "PyHive not installed (the spark extra has dbt-spark[PyHive])"
    return None


def spark_home() -> Path:
    """pyspark's folder: a Spark distribution (bin/spark-submit, jars/)."""
    import importlib.util

    spec = importlib.util.find_spec("pyspark")
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).parent


def local_spark_conf(spark_dir: Path) -> dict[str, str]:
    """The ``spark`` target's settings (dbt/profiles.yml, its server_side_parameters rendered
    with PLATFORM_METRICS_SPARK_DIR=spark_dir), for a JVM of its own: local[2], UTC, the web UI
    off, the driver on loopback, the Derby metastore, tables and scratch files under spark_dir."""
    import jinja2
    import yaml

    from pipelines.dbt_cli import DBT_PROJECT_DIR
    from pipelines.raw_export import SPARK_DIR_ENV_VAR

    profile = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())
    settings = profile["platform_metrics"]["outputs"]["spark"]["server_side_parameters"]
    env = {SPARK_DIR_ENV_VAR: str(spark_dir.absolute())}
    return {
        key: jinja2.Template(str(value)).render(env_var=lambda name, *default: env[name])
        for key, value in settings.items()
    }


def spark_submit(
    spark_dir: Path, *args: str, conf: dict[str, str] | None = None
) -> tuple[list[str], dict[str, str]]:
    """argv and environment of pyspark's ``bin/spark-submit`` with the local settings (``conf``
    overrides some)."""
    import os

    confs = [
        arg
        for key, value in {**local_spark_conf(spark_dir), **(conf or {})}.items()
        for arg in ("--conf", f"{key}={value}")
    ]
    env = {
        **os.environ,
        "SPARK_HOME": str(spark_home()),
        "SPARK_LOCAL_IP": "127.0.0.1",
        # Python tasks (the ancestry step's applyInArrow) on this interpreter and this checkout.
        "PYSPARK_PYTHON": sys.executable,
        "PYTHONPATH": str(REPO_ROOT),
    }
    return [str(spark_home() / "bin" / "spark-submit"), *confs, *args], env


class ThriftServer:
    """A Spark Thrift server (HiveThriftServer2, the server a cluster exposes to dbt's thrift
    method) from pyspark's own jars: local[2], the ``spark`` target's settings with its Derby
    metastore, tables and scratch files under ``spark_dir`` (local_spark_conf), on 127.0.0.1 and a
    free port, in a process group of its own. ``start()`` returns the port once it accepts
    connections; ``stop()`` stops the whole group; a ``with`` block stops it at the end. Its log is
    spark_dir/thrift-server.log."""

    def __init__(self, spark_dir: Path, conf: dict[str, str] | None = None, timeout: float = 300):
        self.spark_dir = spark_dir
        self.conf = conf or {}
        self.timeout = timeout
        self.process: subprocess.Popen | None = None
        self.port: int | None = None
        self.log = spark_dir / "thrift-server.log"

    def start(self) -> int:
        assert self.process is None, "already started"
        port = free_port()
        argv, env = spark_submit(
            self.spark_dir,
            "--class",
            THRIFT_SERVER_CLASS,
            "--name",
            "platform-metrics-thrift",
            "--hiveconf",
            "hive.server2.thrift.bind.host=127.0.0.1",
            "--hiveconf",
            f"hive.server2.thrift.port={port}",
            "spark-internal",
            conf=self.conf,
        )
        self.spark_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        deadline = time.monotonic() + self.timeout
        while True:
            if self.process.poll() is not None:
                code = self.process.returncode
                self.process = None
                raise RuntimeError(f"the Thrift server exited ({code}): {_tail(self.log)}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    self.port = port
                    return port
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"the Thrift server did not listen in {self.timeout} s: {_tail(self.log)}"
                )
            time.sleep(0.5)

    def stop(self) -> None:
        if self.process is not None:
            stop_process_group(self.process)
        self.process = self.port = None

    def __enter__(self) -> ThriftServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _tail(log: Path, lines: int = 20) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
