"""Repository sync through a GitHub-shaped server on 127.0.0.1: incremental, idempotent, crash-safe."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from pipelines.errors import SourceError
from pipelines.github.client import GitHubClient
from pipelines.github.sync import RepositorySync
from pipelines.http import RetryPolicy
from pipelines.warehouse import connect, get_sync_state
from tests.http_server import Reply, ScriptedServer

NOW = dt.datetime(2026, 6, 30, 12, tzinfo=dt.UTC)
FAST = RetryPolicy(max_retries=1, backoff_base=0.01, backoff_max=0.02, max_total_seconds=2)


def pull(number: int, updated: str) -> dict:
    return {
        "id": 1000 + number,
        "number": number,
        "state": "closed",
        "title": f"change {number}",
        "user": {"login": "dev", "type": "User"},
        "created_at": "2026-06-01T00:00:00Z",
        "updated_at": updated,
        "merged_at": updated,
        "merge_commit_sha": f"{number:040d}",
    }


class FakeGitHub:
    """Six pull requests over three pages, newest-updated first; everything else empty."""

    def __init__(self) -> None:
        self.pulls = [pull(n, f"2026-06-{10 + n:02d}T00:00:00Z") for n in range(6, 0, -1)]
        self.fail_pulls_page: int | None = None

    def __call__(self, path: str, headers: dict[str, str]) -> Reply:
        url = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/repos/o/r":
            return Reply(
                body={
                    "full_name": "o/r",
                    "default_branch": "main",
                    "updated_at": "2026-06-01T00:00:00Z",
                }
            )
        if url.path == "/repos/o/r/pulls":
            page, per_page = int(query.get("page", 1)), int(query.get("per_page", 2))
            if page == self.fail_pulls_page:
                return Reply(500)
            items = self.pulls[(page - 1) * per_page : page * per_page]
            more = page * per_page < len(self.pulls)
            link = f'<http://{headers["Host"]}/repos/o/r/pulls?state=all&per_page={per_page}&page={page + 1}>; rel="next"'
            return Reply(body=items, headers={"Link": link} if more else {})
        if url.path.endswith("/actions/runs"):
            return Reply(body={"total_count": 0, "workflow_runs": []})
        return Reply(body=[])


@pytest.fixture
def warehouse(tmp_path):
    con = connect(tmp_path / "wh.duckdb")
    yield con
    con.close()


def run_sync(con, server, entities=("repository", "pull_requests")):
    client = GitHubClient(server.url, retry=FAST, per_page=2)
    with client:
        return RepositorySync(
            con, client, source="github", repository="o/r", backfill_days=365, now=NOW
        ).run(entities)


def count(con, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM raw.{table}").fetchone()[0]


def test_full_sync_lands_every_pull_request_and_sets_the_cursor(warehouse):
    with ScriptedServer(FakeGitHub()) as server:
        report = run_sync(warehouse, server)
    assert count(warehouse, "github_pull_requests") == 6
    assert report.entities["pull_requests"].pages == 3
    assert (
        get_sync_state(warehouse, "github", "o/r", "pull_requests").cursor == "2026-06-16T00:00:00Z"
    )


def test_second_sync_with_no_changes_adds_no_rows_and_stops_on_the_first_page(warehouse):
    fake = FakeGitHub()
    with ScriptedServer(fake) as server:
        run_sync(warehouse, server)
        before = len(server.requests)
        report = run_sync(warehouse, server)
        pulls_requests = [
            p for p, _ in server.requests[before:] if p.startswith("/repos/o/r/pulls")
        ]
    assert count(warehouse, "github_pull_requests") == 6
    assert report.entities["pull_requests"].items == 0
    assert len(pulls_requests) == 1


def test_incremental_sync_fetches_only_what_changed(warehouse):
    fake = FakeGitHub()
    with ScriptedServer(fake) as server:
        run_sync(warehouse, server)
        fake.pulls.insert(0, pull(7, "2026-06-20T00:00:00Z"))
        report = run_sync(warehouse, server)
    assert report.entities["pull_requests"].items == 1
    assert count(warehouse, "github_pull_requests") == 7
    assert (
        get_sync_state(warehouse, "github", "o/r", "pull_requests").cursor == "2026-06-20T00:00:00Z"
    )


def test_sync_killed_between_pages_loses_nothing_and_duplicates_nothing_on_rerun(warehouse):
    fake = FakeGitHub()
    fake.fail_pulls_page = 3
    with ScriptedServer(fake) as server:
        with pytest.raises(SourceError, match="gave up"):
            run_sync(warehouse, server)
        # Pages 1 and 2 landed; the cursor did not move, so the rerun reads them again.
        assert count(warehouse, "github_pull_requests") == 4
        state = get_sync_state(warehouse, "github", "o/r", "pull_requests")
        assert state is None or state.cursor is None
        fake.fail_pulls_page = None
        run_sync(warehouse, server)
    keys = [
        k
        for (k,) in warehouse.execute("SELECT natural_key FROM raw.github_pull_requests").fetchall()
    ]
    assert sorted(keys) == [f"o/r#{n}" for n in range(1, 7)]
    assert (
        get_sync_state(warehouse, "github", "o/r", "pull_requests").cursor == "2026-06-16T00:00:00Z"
    )


def test_changed_payload_replaces_the_stored_one(warehouse):
    fake = FakeGitHub()
    with ScriptedServer(fake) as server:
        run_sync(warehouse, server)
        changed = pull(3, "2026-06-25T00:00:00Z") | {"title": "renamed"}
        fake.pulls = [changed] + [p for p in fake.pulls if p["number"] != 3]
        run_sync(warehouse, server)
    title = warehouse.execute(
        "SELECT payload->>'title' FROM raw.github_pull_requests WHERE natural_key = 'o/r#3'"
    ).fetchone()[0]
    assert title == "renamed"
    assert count(warehouse, "github_pull_requests") == 6
