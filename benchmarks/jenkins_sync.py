"""Benchmark: a Jenkins controller synced over a real socket; prints one JSON object.

    .venv/bin/python benchmarks/jenkins_sync.py [--jobs 50] [--builds 500] [--per-request 100]

``--jobs`` freestyle jobs in one folder, each with ``--builds`` finished builds carrying the git
plugin's build data (tests/jenkins_api.py's fake of the Jenkins JSON API on 127.0.0.1, builds of
tests/test_jenkins_sync.py). Syncs the folder through the production client into a fresh DuckDB
file, then again with nothing new, and reports requests, rows and seconds of each.
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

from pipelines.demo.fake_jenkins import FakeJenkins, folder, job  # noqa: E402
from pipelines.ingest import ensure_raw_tables  # noqa: E402
from pipelines.jenkins.client import JenkinsClient  # noqa: E402
from pipelines.jenkins.config import JenkinsSourceConfig  # noqa: E402
from pipelines.jenkins.source import sync_controller  # noqa: E402
from pipelines.warehouse import connect, raw_row_counts  # noqa: E402
from tests.http_server import ScriptedServer  # noqa: E402
from tests.test_jenkins_sync import build  # noqa: E402


def sync_all(db: Path, url: str, per_request: int, max_builds: int) -> dict:
    con = connect(db)
    started = time.monotonic()
    source = JenkinsSourceConfig(
        base_url=url,
        folders=["bench"],
        deployment_job_regex="deploy",
        max_builds_per_job=max_builds,
    )
    try:
        with JenkinsClient(url, builds_per_request=per_request) as client:
            sync_controller(con, client, source)
            requests = client.stats.requests
        rows = sum(n for t, n in raw_row_counts(con).items() if t.startswith("jenkins_"))
    finally:
        con.close()
    return {"requests": requests, "rows": rows, "seconds": round(time.monotonic() - started, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--builds", type=int, default=500)
    parser.add_argument("--per-request", type=int, default=100)
    args = parser.parse_args()
    jobs = [
        job(
            f"{'deploy' if i % 5 == 0 else 'build'}-{i}",
            [build(n, commit=n) for n in range(1, args.builds + 1)],
        )
        for i in range(args.jobs)
    ]
    fake = FakeJenkins([folder("bench", *jobs)])
    with tempfile.TemporaryDirectory() as tmp, ScriptedServer(fake) as server:
        db = Path(tmp) / "warehouse.duckdb"
        con = connect(db)
        ensure_raw_tables(con)
        con.close()
        first = sync_all(db, server.url, args.per_request, args.builds)
        again = sync_all(db, server.url, args.per_request, args.builds)
    print(
        json.dumps(
            {
                "jobs": args.jobs,
                "builds_per_job": args.builds,
                "builds_per_request": args.per_request,
                "measured_on": dt.date.today().isoformat(),
                "first_sync": first,
                "no_change_sync": again,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
