"""Benchmark: Argo CD applications synced over a real socket; prints one JSON object.

    .venv/bin/python benchmarks/argocd_sync.py [--applications 500] [--history 10]

Each application has ``--history`` sync-history entries (tests/argocd_api.py's fake of the Argo CD
API on 127.0.0.1). Syncs every application through the production client into a fresh DuckDB
file, then again with nothing new, and reports requests, response bytes, rows and seconds of each.
Not a test: nothing here asserts a duration.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from pipelines.argocd.client import ArgoCDClient  # noqa: E402
from pipelines.argocd.sync import RepositoryMap, sync_applications  # noqa: E402
from pipelines.demo.fake_argocd import FakeArgoCD, application, history_entry  # noqa: E402
from pipelines.ingest import ensure_raw_tables  # noqa: E402
from pipelines.warehouse import connect  # noqa: E402
from tests.http_server import ScriptedServer  # noqa: E402

NOW = dt.datetime(2026, 6, 30, 12, tzinfo=dt.UTC)


def run(db: Path, url: str, repositories: RepositoryMap) -> dict:
    con = connect(db)
    started = time.monotonic()
    try:
        with ArgoCDClient(f"{url}/api/v1") as client:
            report = sync_applications(
                con, client, source="argocd", repositories=repositories, now=NOW
            )
            requests = client.stats.requests
    finally:
        con.close()
    return {
        "seconds": round(time.monotonic() - started, 3),
        "requests": requests,
        "applications": report.applications,
        "history_landed": report.history,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applications", type=int, default=500)
    parser.add_argument("--history", type=int, default=10)
    args = parser.parse_args()
    apps = []
    for a in range(args.applications):
        url = f"https://github.com/acme/service-{a}.git"
        history = [
            history_entry(i, f"{a:020x}{i:020x}", NOW - dt.timedelta(hours=i), url)
            for i in range(args.history)
        ]
        apps.append(application(f"service-{a}", url, history))
    repositories = RepositoryMap({f"s{a}": [f"acme/service-{a}"] for a in range(args.applications)})
    body_bytes = len(json.dumps({"items": apps}).encode())
    with tempfile.TemporaryDirectory() as tmp, ScriptedServer(FakeArgoCD(apps)) as server:
        db = Path(tmp) / "warehouse.duckdb"
        con = connect(db)
        ensure_raw_tables(con)
        con.close()
        first = run(db, server.url, repositories)
        again = run(db, server.url, repositories)
    print(
        json.dumps(
            {
                "applications": args.applications,
                "history_per_application": args.history,
                "response_bytes": body_bytes,
                "first_sync": first,
                "second_sync_nothing_new": again,
            }
        )
    )


if __name__ == "__main__":
    main()
