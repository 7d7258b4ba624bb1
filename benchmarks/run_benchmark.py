"""Benchmark: a large demo organisation through ingest, dbt build and publish; prints one JSON object.

    .venv/bin/python benchmarks/run_benchmark.py [--repositories 200] [--months 24] [--activity 1.0]

Ingest goes through the production clients and the in-process fake API (so requests are counted as
GitHub would bill them); a second ingest with no changes measures the incremental cost. dbt runs
in-process through dbtRunner. Not a test: nothing here asserts a duration.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
for name, value in {
    "DAGSTER_DISABLE_TELEMETRY": "yes",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
}.items():
    os.environ.setdefault(name, value)


def progress(phase: str, result: dict) -> dict:
    """Each phase on stderr as it ends, so a long run that fails late still tells what it measured."""
    print(json.dumps({phase: result}), file=sys.stderr, flush=True)
    return result


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ingest(config, con) -> dict:
    from pipelines import ingest as ingest_mod
    from pipelines.organisation import write_organisation

    clients = ingest_mod.SourceClients(config)
    started = time.perf_counter()
    ingest_mod.ensure_raw_tables(con)
    write_organisation(con, config)
    github = ingest_mod.sync_github(con, clients)
    pagerduty = ingest_mod.sync_pagerduty(con, clients)
    seconds = time.perf_counter() - started
    items = sum(r.items for r in github + pagerduty)
    requests = sum(r.requests.get("requests", 0) for r in github + pagerduty)
    return {
        "seconds": round(seconds, 2),
        "items": items,
        "items_per_second": round(items / seconds, 1) if seconds else None,
        "requests": requests,
        "not_modified": sum(r.requests.get("not_modified", 0) for r in github + pagerduty),
        "by_entity": {e: n for r in github + pagerduty for e, n in r.by_entity.items()},
    }


def dbt_build(config, warehouse: Path, target: Path) -> dict:
    """``dbt build`` in its own process, as the Dagster asset runs it (and so DuckDB's file is free
    again for the publishing step afterwards)."""
    from pipelines.config import WAREHOUSE_ENV_VAR
    from pipelines.definitions import dbt_vars

    env = {**os.environ, WAREHOUSE_ENV_VAR: str(warehouse)}
    command = [
        str(Path(sys.executable).with_name("dbt")),
        "build",
        "--quiet",
        "--project-dir",
        str(REPO_ROOT / "dbt"),
        "--profiles-dir",
        str(REPO_ROOT / "dbt"),
        "--target-path",
        str(target),
        "--vars",
        json.dumps(dbt_vars(config)),
    ]
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "success": result.returncode == 0,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
        **({"error": result.stdout[-2000:] + result.stderr[-2000:]} if result.returncode else {}),
    }


def publish(config, warehouse: Path, out: Path) -> dict:
    from dashboards.leadership import write_leadership_reports
    from dashboards.publish import publish_snapshot
    from dashboards.site import build_site

    started = time.perf_counter()
    reports = write_leadership_reports(
        warehouse, out / "leadership", organisation=config.organisation.name
    )
    reports_seconds = time.perf_counter() - started
    started = time.perf_counter()
    site = build_site(
        warehouse, out / "site", organisation=config.organisation.name, extra_files=reports.files
    )
    site_seconds = time.perf_counter() - started
    started = time.perf_counter()
    snapshot = publish_snapshot(warehouse, out / "snapshot")
    return {
        "leadership_reports_seconds": round(reports_seconds, 2),
        "site_seconds": round(site_seconds, 2),
        "site_bytes": site.bytes,  # the whole published version: pages, plotly.js, reports
        "pages": len(site.pages),
        "snapshot_seconds": round(time.perf_counter() - started, 2),
        "snapshot_tables": len(snapshot.tables),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repositories", type=int, default=200)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--activity", type=float, default=1.0)
    parser.add_argument("--workdir", type=Path, help="keep outputs here (default: a temp folder)")
    parser.add_argument(
        "--ingest-only", action="store_true", help="only the two ingests (no dbt, no publishing)"
    )
    args = parser.parse_args()

    from pipelines.demo import scaled_demo_config
    from pipelines.warehouse import connect, raw_row_counts

    work = args.workdir or Path(tempfile.mkdtemp(prefix="pm-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    warehouse = (work / "warehouse.duckdb").resolve()
    warehouse.unlink(missing_ok=True)
    config = scaled_demo_config(
        repositories=args.repositories, months=args.months, activity=args.activity
    )
    report: dict = {
        "benchmark": "platform-metrics end to end",
        "repositories": args.repositories,
        "months": args.months,
        "activity": args.activity,
        "python": platform.python_version(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
    }
    con = connect(warehouse)
    try:
        report["ingest_first"] = progress("ingest_first", ingest(config, con))
        report["ingest_no_change"] = progress("ingest_no_change", ingest(config, con))
        report["raw_rows"] = raw_row_counts(con)
    finally:
        con.close()
    if args.ingest_only:
        print(json.dumps(report, indent=2))
        return
    report["dbt_build"] = progress("dbt_build", dbt_build(config, warehouse, work / "dbt-target"))
    report["publish"] = progress("publish", publish(config, warehouse, work))
    report["warehouse_bytes"] = warehouse.stat().st_size
    report["peak_rss_mib"] = round(peak_rss_mib(), 1)
    report["workdir"] = str(work)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
