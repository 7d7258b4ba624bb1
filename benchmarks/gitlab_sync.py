"""Benchmark: GitLab projects synced over a real socket; prints one JSON object.

    .venv/bin/python benchmarks/gitlab_sync.py [--projects 20] [--items 200] [--per-page 100]

Each project has ``--items`` merge requests, default-branch commits, pipelines (2 jobs each) and
deployments (tests/gitlab_api.py's fake of the GitLab API on 127.0.0.1, fixtures of
tests/test_gitlab_sync.py). Syncs every project through the production client and ProjectSync into
a fresh DuckDB file, then again with nothing new, and reports requests, rows and seconds of each.
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

from pipelines.demo.fake_gitlab import FakeGitLab  # noqa: E402
from pipelines.gitlab.client import GitLabClient  # noqa: E402
from pipelines.gitlab.sync import ProjectSync  # noqa: E402
from pipelines.ingest import ensure_raw_tables  # noqa: E402
from pipelines.warehouse import connect, raw_row_counts  # noqa: E402
from tests.http_server import ScriptedServer  # noqa: E402
from tests.test_gitlab_sync import NOW, make_project  # noqa: E402


def sync_all(db: Path, url: str, paths: list[str], per_page: int) -> dict:
    con = connect(db)
    started = time.monotonic()
    try:
        with GitLabClient(f"{url}/api/v4", per_page=per_page) as client:
            for path in paths:
                ProjectSync(
                    con, client, source="gitlab", project=path, backfill_days=365, now=NOW
                ).run()
            requests = client.stats.requests
        rows = sum(n for t, n in raw_row_counts(con).items() if t.startswith("gitlab_"))
    finally:
        con.close()
    return {"requests": requests, "rows": rows, "seconds": round(time.monotonic() - started, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=20)
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--per-page", type=int, default=100)
    args = parser.parse_args()
    # Items 6 hours apart: --items 200 spans 50 days, inside the 365-day backfill.
    paths = [f"bench/p{i}" for i in range(args.projects)]
    fake = FakeGitLab([make_project(100 + i, p, n=args.items) for i, p in enumerate(paths)])
    with tempfile.TemporaryDirectory() as tmp, ScriptedServer(fake) as server:
        db = Path(tmp) / "warehouse.duckdb"
        con = connect(db)
        ensure_raw_tables(con)
        con.close()
        first = sync_all(db, server.url, paths, args.per_page)
        again = sync_all(db, server.url, paths, args.per_page)
    print(
        json.dumps(
            {
                "projects": args.projects,
                "items_per_entity": args.items,
                "per_page": args.per_page,
                "measured_on": dt.date.today().isoformat(),
                "first_sync": first,
                "no_change_sync": again,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
