"""Benchmark: the dbt build (full and incremental) at 1x, 4x and 10x of 200 repositories x 24 months.

    .venv/bin/python benchmarks/transform_scale.py [--scales 1 4 10] [--base-repositories 20]
        [--months 24] [--memory-limit 8GB] [--workdir DIR] [--realistic-payloads]

1. Generates an organisation of ``--base-repositories`` x ``--months`` through the production
   clients and the in-process fake API (as benchmarks/run_benchmark.py does) once; with
   ``--realistic-payloads`` the fake API grows listed items to the size of real ones (a pull
   request about 15 KB, a workflow run 11.6 KB, from the recordings in shared/fixtures/real), else
   they keep the demo generator's sizes (about 530 bytes a raw row on average).
2. For each scale S, multiplies its raw tables by SQL into a new warehouse: S x 200 /
   base-repositories copies of every repository (copy k of ``appstore/x`` is ``appstore/x-xk``,
   every GitHub id of 9+ digits gets the prefix ``9kkk``, PagerDuty ids the suffix ``Xk``), with the
   same payloads, shapes and timestamps; the organisation tables (services, repositories,
   PagerDuty services, sync coverage) are multiplied the same way. 1x is 200 repositories x 24
   months, like ``make benchmark``.
3. Holds back the rows of the newest day (updated_at within 24 h of the newest), builds everything
   (``dbt build --full-refresh``: the full cost), lands the held-back rows (a day of new activity,
   with a new fetched_at) and runs ``dbt build`` again (the daily incremental cost).

Each dbt build runs in its own process with DuckDB's ``memory_limit`` set through the
``PLATFORM_METRICS_DUCKDB_MEMORY_LIMIT`` environment variable (dbt/profiles.yml); peak memory is
the child's maximum resident set (getrusage RUSAGE_CHILDREN, as run_benchmark.py measures it).
Prints one JSON object; each phase also goes to stderr as it ends. Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from run_benchmark import TRANSPORT_OPTIONS, ingest, progress  # noqa: E402

REFERENCE_REPOSITORIES = 200  # 1x
DBT_PROJECT = REPO_ROOT / "dbt"  # --project-dir: another checkout's dbt/, to compare before/after
# Raw tables keyed by repository (scope = "owner/name") and the ones keyed otherwise.
PAGERDUTY_TABLES = ("pagerduty_incidents",)
STATE_TABLES = ("sync_state", "sync_coverage", "sync_gone")  # as pipelines.warehouse
# As a daily sync would have left them: each row fetched an hour after its last update (rows with no
# update time, tags, 400 days before the generation), not all at the minute of one first sync.
STEADY_FETCHED_AT = (
    "least(fetched_at, coalesce(updated_at, fetched_at - INTERVAL 400 DAY) + INTERVAL 1 HOUR)"
)


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _copy_expr(column: str, short: str, k: str) -> str:
    """A repository-scoped text (key, scope or payload) as copy ``k`` has it."""
    return (
        f"regexp_replace(replace({column}, {short}, {short} || '-x' || {k}), "
        f"'\\b([0-9]{{9,}})\\b', '9' || lpad({k}::varchar, 3, '0') || '\\1', 'g')"
    )


def multiply_raw(base: Path, out: Path, copies: int) -> dict[str, int]:
    """Write ``out``: the raw layer of ``base`` with every repository (and PagerDuty service)
    ``copies`` times; copy 0 is the original. Returns the row count of each raw table."""
    from pipelines.warehouse import connect, ensure_raw_table

    out.unlink(missing_ok=True)
    con = connect(out)
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute(f"ATTACH '{base}' AS base (READ_ONLY)")
        tables = [
            name
            for (name,) in con.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_catalog = 'base' AND table_schema = 'raw' ORDER BY table_name"
            ).fetchall()
        ]
        columns = {
            name: [
                c
                for (c,) in con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_catalog = "
                    "'base' AND table_schema = 'raw' AND table_name = ? ORDER BY ordinal_position",
                    [name],
                ).fetchall()
            ]
            for name in tables
        }
        con.execute("CREATE TEMP TABLE copies AS SELECT range AS k FROM range(?)", [copies])
        counts: dict[str, int] = {}
        for table in tables:
            cols = columns[table]
            payload_shape = cols[:4] == ["source", "natural_key", "scope", "parent_key"]
            if payload_shape:
                ensure_raw_table(con, table)
            elif table not in STATE_TABLES:  # ensure_raw_table made those already
                con.execute(f"CREATE TABLE raw.{table} AS SELECT * FROM base.raw.{table} LIMIT 0")
            select = _copy_select(table, cols, payload_shape)
            con.execute(f"INSERT INTO raw.{table} {select}")
            (counts[table],) = con.execute(f"SELECT count(*) FROM raw.{table}").fetchone()
        con.execute("DETACH base")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return counts


def _copy_select(table: str, cols: list[str], payload_shape: bool) -> str:
    k = "copies.k"
    base = f"base.raw.{table}"
    if table in PAGERDUTY_TABLES:
        # natural_key is the incident id, scope the PagerDuty service id.
        sid = f"{base}.scope"
        svc = "coalesce(pds.service, '\\x00')"
        return f"""
            SELECT source,
                   CASE WHEN {k} = 0 THEN natural_key ELSE natural_key || 'X' || {k} END,
                   CASE WHEN {k} = 0 THEN {sid} ELSE {sid} || 'X' || {k} END,
                   parent_key,
                   CASE WHEN {k} = 0 THEN payload ELSE replace(replace(replace(payload::varchar,
                       natural_key, natural_key || 'X' || {k}), {sid}, {sid} || 'X' || {k}),
                       {svc}, {svc} || '-x' || {k})::JSON END,
                   updated_at, {STEADY_FETCHED_AT}
            FROM {base}
            LEFT JOIN base.raw.org_pagerduty_services AS pds ON pds.pagerduty_service_id = {sid}
            CROSS JOIN copies"""
    if payload_shape:
        short = "split_part(scope, '/', -1)"
        keep_or = lambda col: f"CASE WHEN {k} = 0 THEN {col} ELSE {_copy_expr(col, short, k)} END"  # noqa: E731
        return f"""
            SELECT source, {keep_or("natural_key")}, {keep_or("scope")}, {keep_or("parent_key")},
                   CASE WHEN {k} = 0 THEN payload
                        ELSE ({_copy_expr("payload::varchar", short, k)})::JSON END,
                   updated_at, {STEADY_FETCHED_AT}
            FROM {base} CROSS JOIN copies"""
    renamed = {
        "service": f"CASE WHEN {k} = 0 THEN service ELSE service || '-x' || {k} END",
        "repository": f"CASE WHEN {k} = 0 THEN repository ELSE repository || '-x' || {k} END",
        "pagerduty_service_id": (
            f"CASE WHEN {k} = 0 THEN pagerduty_service_id ELSE pagerduty_service_id || 'X' || {k} END"
        ),
        "scope": f"CASE WHEN {k} = 0 THEN scope ELSE scope || '-x' || {k} END",
    }
    multiplied = table in {
        "org_services",
        "org_repositories",
        "org_pagerduty_services",
        "sync_state",
        "sync_coverage",
    }
    if not multiplied:
        return f"SELECT * FROM {base}"
    exprs = ", ".join(renamed.get(c, c) for c in cols)
    where = " WHERE scope LIKE '%/%'" if table in STATE_TABLES else ""
    extra = ""
    if table in STATE_TABLES:
        # Org-wide state rows (scope without a repository) are kept once.
        extra = f" UNION ALL SELECT * FROM {base} WHERE scope NOT LIKE '%/%'"
    return f"SELECT {exprs} FROM {base} CROSS JOIN copies{where}{extra}"


def hold_back_newest_day(warehouse: Path) -> dict[str, int]:
    from pipelines.demo.replay import hold_back_newest_day as hold
    from pipelines.warehouse import connect

    con = connect(warehouse)
    try:
        held = hold(con)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return held


def land_held_back(warehouse: Path) -> int:
    from pipelines.demo.replay import land_held_back as land
    from pipelines.warehouse import connect

    con = connect(warehouse)
    try:
        landed = land(con)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return landed


def dbt_build(
    config, warehouse: Path, target: Path, memory_limit: str, *, full_refresh: bool
) -> dict:
    """``dbt build`` in its own process; its wall time, peak RSS and the slowest models."""
    from assets.dbt import dbt_build_args
    from pipelines.config import WAREHOUSE_ENV_VAR
    from pipelines.definitions import dbt_vars
    from pipelines.offline import tool_env

    env = {
        **tool_env(),
        WAREHOUSE_ENV_VAR: str(warehouse),
        "PLATFORM_METRICS_DUCKDB_MEMORY_LIMIT": memory_limit,
    }
    # The pipeline's own dbt arguments (assets/dbt.py): a daily build leaves out the unit tests.
    command, *pipeline_flags = dbt_build_args(
        json.dumps(dbt_vars(config)), full_refresh=full_refresh
    )
    command = [
        str(Path(sys.executable).with_name("dbt")),
        command,
        "--quiet",
        "--project-dir",
        str(DBT_PROJECT),
        "--profiles-dir",
        str(DBT_PROJECT),
        "--target-path",
        str(target),
        "--log-path",
        str(target / "logs"),
        *pipeline_flags,
    ]
    # A child's peak RSS is only readable after it ends, and RUSAGE_CHILDREN keeps the maximum
    # over all children: run each build from a fresh helper process so each reading is its own.
    wrapper = (
        "import resource, subprocess, sys, json, time\n"
        "t = time.perf_counter()\n"
        "r = subprocess.run(json.loads(sys.argv[1]), capture_output=True, text=True)\n"
        "print(json.dumps({'rc': r.returncode, 'seconds': time.perf_counter() - t,\n"
        "  'rss': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,\n"
        "  'tail': (r.stdout[-1500:] + r.stderr[-1500:]) if r.returncode else ''}))\n"
    )
    load_before = load_average()
    proc = subprocess.run(
        [sys.executable, "-c", wrapper, json.dumps(command)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    out = json.loads(proc.stdout)
    result = {
        "seconds": round(out["seconds"], 2),
        "success": out["rc"] == 0,
        "peak_rss_mib": round(out["rss"], 1),
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "slowest_nodes": slowest_nodes(target / "run_results.json"),
    }
    if out["rc"]:
        result["error"] = out["tail"]
    return result


def slowest_nodes(run_results: Path, n: int = 12) -> dict[str, float]:
    """Where the build's time went: run_results.json's execution_time of the slowest nodes."""
    if not run_results.exists():
        return {}
    results = json.loads(run_results.read_text(encoding="utf-8"))["results"]
    ranked = sorted(results, key=lambda r: r.get("execution_time") or 0, reverse=True)[:n]
    return {r["unique_id"].split(".", 1)[1]: round(r["execution_time"], 2) for r in ranked}


def measure_scale(config, base: Path, work: Path, scale: int, base_repositories: int, args) -> dict:
    copies = scale * REFERENCE_REPOSITORIES // base_repositories
    warehouse = (work / f"warehouse-{scale}x.duckdb").resolve()
    started = time.perf_counter()
    counts = multiply_raw(base, warehouse, copies)
    result: dict = {
        "copies_of_base": copies,
        "repositories": copies * base_repositories,
        "multiply_seconds": round(time.perf_counter() - started, 2),
        "raw_rows": sum(n for t, n in counts.items() if t not in STATE_TABLES),
    }
    result["held_back_rows"] = sum(hold_back_newest_day(warehouse).values())
    result["raw_bytes"] = warehouse.stat().st_size
    target = work / f"dbt-target-{scale}x"
    result["full"] = dbt_build(config, warehouse, target, args.memory_limit, full_refresh=True)
    progress(f"full_{scale}x", result["full"])
    result["warehouse_bytes_after_full"] = warehouse.stat().st_size
    result["landed_rows"] = land_held_back(warehouse)
    result["incremental"] = dbt_build(
        config, warehouse, target, args.memory_limit, full_refresh=False
    )
    progress(f"incremental_{scale}x", result["incremental"])
    result["warehouse_bytes"] = warehouse.stat().st_size
    if not args.keep:
        warehouse.unlink()
        shutil.rmtree(target, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 4, 10])
    parser.add_argument("--base-repositories", type=int, default=20)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument(
        "--memory-limit", default="8GB", help="DuckDB memory_limit for each dbt build"
    )
    parser.add_argument("--workdir", type=Path, help="keep outputs here (default: a temp folder)")
    parser.add_argument("--base", type=Path, help="an already generated base warehouse to reuse")
    parser.add_argument("--keep", action="store_true", help="keep each scale's warehouse")
    parser.add_argument(
        "--project-dir", type=Path, help="build another checkout's dbt project (default: this one)"
    )
    parser.add_argument(
        "--realistic-payloads",
        action="store_true",
        help="generate the base with listed items as large as real ones (a pull request ~15 KB)",
    )
    args = parser.parse_args()
    TRANSPORT_OPTIONS["realistic_payloads"] = args.realistic_payloads
    global DBT_PROJECT
    DBT_PROJECT = (args.project_dir or DBT_PROJECT).resolve()
    if REFERENCE_REPOSITORIES % args.base_repositories:
        parser.error(f"--base-repositories must divide {REFERENCE_REPOSITORIES}")

    from pipelines.demo import scaled_demo_config
    from pipelines.warehouse import connect

    work = (args.workdir or Path(tempfile.mkdtemp(prefix="pm-scale-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    config = scaled_demo_config(repositories=args.base_repositories, months=args.months)
    report: dict = {
        "benchmark": "platform-metrics transform scale",
        "reference": f"1x = {REFERENCE_REPOSITORIES} repositories x {args.months} months",
        "base_repositories": args.base_repositories,
        "months": args.months,
        "memory_limit": args.memory_limit,
        "realistic_payloads": args.realistic_payloads,
        "dbt_project": str(DBT_PROJECT),
        "python": platform.python_version(),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_average_at_start": load_average(),
        },
    }
    base = args.base
    if base is None:
        base = work / "base.duckdb"
        base.unlink(missing_ok=True)
        con = connect(base)
        try:
            report["generate"] = progress("generate", ingest(config, con))
        finally:
            con.close()
    report["scales"] = {}
    for scale in args.scales:
        report["scales"][f"{scale}x"] = progress(
            f"scale_{scale}x",
            measure_scale(config, base.resolve(), work, scale, args.base_repositories, args),
        )
    report["peak_rss_mib_benchmark_process"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
    )
    report["workdir"] = str(work)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
