"""Benchmark: a large demo organisation through ingest, dbt build and publish; prints one JSON object.

    .venv/bin/python benchmarks/run_benchmark.py [--repositories 200] [--months 24] [--activity 1.0]
        [--initial-window-days 30 [--backfill-step-days 90]] [--realistic-payloads]

Ingest goes through the production clients and the in-process fake API (so requests are counted as
GitHub would bill them); a second ingest with no changes measures the incremental cost. dbt runs
in-process through dbtRunner. Not a test: nothing here asserts a duration.

With ``--initial-window-days`` the first ingest reads only the newest window (progressive
backfill); ``seconds_to_first_publish`` is then that ingest (plus dbt and publishing unless
``--ingest-only``), and ``ingest_backfill`` the later runs that walk back to ``backfill_days``.
"""

from __future__ import annotations

import argparse
import datetime as dt
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


# What one token may spend in an hour, REST requests and GraphQL points alike.
TOKEN_BUDGET_PER_HOUR = 5000


def hours_by_budget(rest: int, points: int) -> float:
    """Hours of one token on github.com, where REST requests and GraphQL points are two budgets
    of 5,000 an hour each, spent side by side: the larger of the two decides."""
    return round(max(rest, points) / TOKEN_BUDGET_PER_HOUR, 2)


def list_pages_minimum(con, since) -> int:
    """Pages a list-only crawl of the GitHub rows landed since ``since`` needs at 100 per page:
    per raw table and repository, ceil(rows / 100)."""
    from pipelines.github.sync import RAW_TABLES

    pages = 0
    for table in RAW_TABLES:
        (n,) = con.execute(
            f"SELECT coalesce(sum(ceil(n / 100.0)), 0) FROM (SELECT count(*) AS n "
            f"FROM raw.{table} WHERE fetched_at >= ? GROUP BY scope)",
            [since],
        ).fetchone()
        pages += int(n)
    return pages


TRANSPORT_OPTIONS: dict = {}


def ingest(config, con) -> dict:
    import datetime as dt

    from pipelines import ingest as ingest_mod
    from pipelines.organisation import write_organisation

    clients = ingest_mod.SourceClients(config, transport_options=TRANSPORT_OPTIONS)
    since = con.execute("SELECT now()").fetchone()[0] - dt.timedelta(seconds=1)
    started = time.perf_counter()
    ingest_mod.ensure_raw_tables(con)
    write_organisation(con, config)
    github = ingest_mod.sync_github(con, clients)
    pagerduty = ingest_mod.sync_pagerduty(con, clients)
    seconds = time.perf_counter() - started
    items = sum(r.items for r in github + pagerduty)
    requests = sum(r.requests.get("requests", 0) for r in github + pagerduty)
    # As GitHub bills it: REST requests that were not 304s, plus GraphQL points where reported.
    cost = sum(
        r.requests.get("requests", 0)
        - r.requests.get("not_modified", 0)
        + r.requests.get("graphql_points", 0)
        for r in github
    )
    minimum = list_pages_minimum(con, since)
    return {
        "seconds": round(seconds, 2),
        "items": items,
        "items_per_second": round(items / seconds, 1) if seconds else None,
        "requests": requests,
        "not_modified": sum(r.requests.get("not_modified", 0) for r in github + pagerduty),
        # GitHub GraphQL queries and the points GitHub billed for them (api: graphql).
        "graphql_queries": sum(r.requests.get("graphql_queries", 0) for r in github),
        "graphql_points": sum(r.requests.get("graphql_points", 0) for r in github),
        "by_entity": {e: n for r in github + pagerduty for e, n in r.by_entity.items()},
        "rate_limit_cost": cost,
        "list_pages_minimum": minimum,
        "cost_per_list_page": round(cost / minimum, 2) if minimum else None,
        "token_hours": round(cost / TOKEN_BUDGET_PER_HOUR, 2),
        "token_hours_by_budget": hours_by_budget(
            cost - sum(r.requests.get("graphql_points", 0) for r in github),
            sum(r.requests.get("graphql_points", 0) for r in github),
        ),
        # Where the GitHub budget goes: REST requests sent (of them answered 304, free) and
        # GraphQL points per entity.
        "github_cost_by_entity": _cost_by_entity(github),
        # What the fake API billed each credential (a fingerprint, never the token), and sent.
        "by_credential": clients.transport.stats.as_dict()["by_credential"],
        "bytes_sent": clients.transport.stats.bytes_sent,
    }


def backfill(config, con, max_runs: int = 100) -> dict:
    """Ingest again until every repository's coverage reaches ``backfill_days``."""
    runs = []
    while len(runs) < max_runs:
        (complete,) = con.execute(
            "SELECT coalesce(bool_and(synced_from <= target_from), true) FROM raw.sync_coverage"
        ).fetchone()
        if complete:
            break
        runs.append(ingest(config, con))
    cost = sum(r["rate_limit_cost"] for r in runs)
    return {
        "runs": len(runs),
        "seconds": round(sum(r["seconds"] for r in runs), 2),
        "items": sum(r["items"] for r in runs),
        "rate_limit_cost": cost,
        "cost_per_run": [r["rate_limit_cost"] for r in runs],
        # The two budgets of a token on github.com: GraphQL points and the rest (REST requests).
        "graphql_points": sum(r["graphql_points"] for r in runs),
        "rest_cost": cost - sum(r["graphql_points"] for r in runs),
        "token_hours": round(cost / TOKEN_BUDGET_PER_HOUR, 2),
        "token_hours_by_budget": hours_by_budget(
            cost - sum(r["graphql_points"] for r in runs), sum(r["graphql_points"] for r in runs)
        ),
        # Where the backfill's budget went: REST requests and GraphQL points per entity, all runs.
        "github_cost_by_entity": _sum_cost_by_entity(r["github_cost_by_entity"] for r in runs),
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


def _cost_by_entity(reports) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for report in reports:
        for entities in [*report.by_scope.values(), report.batched]:
            for entity, cost in entities.items():
                row = out.setdefault(
                    entity, {"requests": 0, "not_modified": 0, "graphql_points": 0}
                )
                for key in row:
                    row[key] += cost.get(key, 0)
    return out


def _sum_cost_by_entity(per_run) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for entities in per_run:
        for entity, cost in entities.items():
            row = out.setdefault(entity, {"requests": 0, "not_modified": 0, "graphql_points": 0})
            for key in row:
                row[key] += cost[key]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repositories", type=int, default=200)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--activity", type=float, default=1.0)
    parser.add_argument("--workdir", type=Path, help="keep outputs here (default: a temp folder)")
    parser.add_argument(
        "--ingest-only", action="store_true", help="only the two ingests (no dbt, no publishing)"
    )
    parser.add_argument(
        "--initial-window-days",
        type=int,
        help="progressive backfill: the first ingest reads this many newest days (default: all)",
    )
    parser.add_argument("--backfill-step-days", type=int, default=90)
    parser.add_argument(
        "--github-api",
        choices=("graphql", "rest"),
        default="graphql",
        help="how pull requests and deployments are read (the source's 'api' setting)",
    )
    parser.add_argument(
        "--realistic-payloads",
        action="store_true",
        help="the fake API grows listed items to the size of real ones (a pull request ~15 KB)",
    )
    parser.add_argument(
        "--end-date",
        type=dt.date.fromisoformat,
        help="the demo history's last day (YYYY-MM-DD; default: it ends at the last full hour, "
        "so runs in different clock hours see different histories): pin it to compare two runs",
    )
    args = parser.parse_args()
    TRANSPORT_OPTIONS["realistic_payloads"] = args.realistic_payloads

    from pipelines.demo import scaled_demo_config
    from pipelines.warehouse import connect, raw_row_counts

    work = args.workdir or Path(tempfile.mkdtemp(prefix="pm-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    warehouse = (work / "warehouse.duckdb").resolve()
    warehouse.unlink(missing_ok=True)
    config = scaled_demo_config(
        repositories=args.repositories,
        months=args.months,
        activity=args.activity,
        end_date=args.end_date,
    )
    window = (
        {
            "initial_window_days": args.initial_window_days,
            "backfill_step_days": args.backfill_step_days,
        }
        if args.initial_window_days
        else {}
    )
    github = [
        s.model_copy(update={"api": args.github_api, **window}) for s in config.sources.github
    ]
    config = config.model_copy(
        update={"sources": config.sources.model_copy(update={"github": github})}
    )
    report: dict = {
        "benchmark": "platform-metrics end to end",
        "repositories": args.repositories,
        "months": args.months,
        "activity": args.activity,
        "github_api": args.github_api,
        "initial_window_days": args.initial_window_days,
        "end_date": args.end_date.isoformat() if args.end_date else None,
        "realistic_payloads": args.realistic_payloads,
        "python": platform.python_version(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
    }
    con = connect(warehouse)
    try:
        report["ingest_first"] = progress("ingest_first", ingest(config, con))
        report["seconds_to_first_publish"] = report["ingest_first"]["seconds"]
        if args.initial_window_days:
            report["ingest_backfill"] = progress("ingest_backfill", backfill(config, con))
            report["full_rate_limit_cost"] = (
                report["ingest_first"]["rate_limit_cost"]
                + report["ingest_backfill"]["rate_limit_cost"]
            )
            report["full_token_hours"] = round(
                report["full_rate_limit_cost"] / TOKEN_BUDGET_PER_HOUR, 2
            )
            points = (
                report["ingest_first"]["graphql_points"]
                + report["ingest_backfill"]["graphql_points"]
            )
            report["full_token_hours_by_budget"] = hours_by_budget(
                report["full_rate_limit_cost"] - points, points
            )
        report["ingest_no_change"] = progress("ingest_no_change", ingest(config, con))
        report["raw_rows"] = raw_row_counts(con)
    finally:
        con.close()
    if args.ingest_only:
        print(json.dumps(report, indent=2))
        return
    report["dbt_build"] = progress("dbt_build", dbt_build(config, warehouse, work / "dbt-target"))
    report["publish"] = progress("publish", publish(config, warehouse, work))
    # dbt and publishing measured on the whole history: an upper bound for the first window's.
    report["seconds_to_first_publish"] = round(
        report["seconds_to_first_publish"]
        + report["dbt_build"]["seconds"]
        + report["publish"]["site_seconds"]
        + report["publish"]["snapshot_seconds"],
        2,
    )
    report["warehouse_bytes"] = warehouse.stat().st_size
    report["peak_rss_mib"] = round(peak_rss_mib(), 1)
    report["workdir"] = str(work)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
