"""Progressive backfill: the first sync reads the newest window, later runs walk back to
``backfill_days``; a run cut short (killed, or stopped at the budget reserve) resumes from the
page it reached, with no duplicate and no gap.

The demo's fake GitHub is served over a real socket (127.0.0.1) to the production client; each
progressive warehouse ends with exactly the rows of a warehouse synced in one go.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from pipelines import ingest
from pipelines.demo import scaled_demo_config
from pipelines.demo.fake_api import DemoTransport
from pipelines.errors import SourceError
from pipelines.github.client import GitHubClient
from pipelines.github.credentials import BudgetExhausted, CredentialPool, TokenCredential
from pipelines.github.sync import RAW_TABLES, WINDOWED, RepositorySync, coverage_line
from pipelines.http import RetryPolicy
from pipelines.warehouse import connect, ensure_raw_table, get_coverage
from tests.http_server import Reply, ScriptedServer

BACKFILL, INITIAL, STEP = 150, 30, 40
FAST = RetryPolicy(max_retries=0, backoff_base=0.01, backoff_max=0.02, max_total_seconds=5)
# Jobs are a per-week sample, filled in the order runs arrive: compared apart (below).
COMPARED = tuple(t for t in RAW_TABLES if t != "github_workflow_jobs")


class SocketDemo:
    """The demo's fake GitHub behind a real HTTP server. A request for which ``fail_when`` says
    so is answered 404: the run dies there, as a killed process would, with what it committed
    kept."""

    def __init__(self, transport: DemoTransport) -> None:
        self.transport = transport
        self.fail_when: Callable[[str], bool] = lambda path: False
        self.server = ScriptedServer(self._get, self._post)

    def _get(self, path: str, headers: dict[str, str]) -> Reply:
        return self._forward("GET", path, headers, b"")

    def _post(self, path: str, headers: dict[str, str], body: bytes) -> Reply:
        return self._forward("POST", path, headers, body)

    def _forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        if self.fail_when(path):
            return Reply(404, {"message": "Not Found"})
        request = httpx.Request(method, self.server.url + path, headers=headers, content=body)
        response = self.transport.handle_request(request)
        response.read()
        keep = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return Reply(response.status_code, response.content, keep)

    def __enter__(self) -> SocketDemo:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(*exc)


def _demo(now: dt.datetime | None = None):
    # A fixed history: without end_date it ends at the last full hour, so request counts (and a
    # budget that must run out mid-window) would change with the clock.
    config = scaled_demo_config(repositories=1, months=6, end_date=dt.date(2026, 3, 31))
    clients = ingest.SourceClients(config)
    repo = next(iter(ingest.discover_github_repositories(clients).values()))[0]
    return clients, repo, now or clients.now()


@pytest.fixture(scope="module")
def demo():
    return _demo()


def _client(url: str, pool: CredentialPool | None = None) -> GitHubClient:
    if pool is None:
        return GitHubClient(url, token="demo-token", retry=FAST, per_page=20)
    return GitHubClient(url, credentials=pool, retry=FAST, per_page=20)


def _sync(con, client, demo, api: str, *, progressive: bool = True) -> RepositorySync:
    _, repo, now = demo
    return RepositorySync(
        con,
        client,
        source="github",
        repository=repo,
        backfill_days=BACKFILL,
        now=now,
        api=api,
        initial_window_days=INITIAL if progressive else None,
        backfill_step_days=STEP if progressive else None,
    )


def _warehouse(path: Path):
    con = connect(path)
    for table in RAW_TABLES:
        ensure_raw_table(con, table)
    return con


def _rows(con) -> dict[str, set[str]]:
    return {
        t: {k for (k,) in con.execute(f"SELECT natural_key FROM raw.{t}").fetchall()}
        for t in COMPARED
    }


@pytest.fixture(scope="module", params=["rest", "graphql"])
def reference(request, demo, tmp_path_factory):
    """The rows of the same repository synced in one go (``backfill_days`` at once)."""
    api = request.param
    con = _warehouse(tmp_path_factory.mktemp(f"reference_{api}") / "wh.duckdb")
    with SocketDemo(DemoTransport(demo[0].demo_organisation)) as fake:
        with _client(fake.server.url) as client:
            _sync(con, client, demo, api, progressive=False).run()
    rows = _rows(con)
    con.close()
    assert all(rows[t] for t in ("github_pull_requests", "github_deployments", "github_commits"))
    return api, rows


def _coverage(con, demo) -> dict[str, dt.datetime]:
    _, repo, _ = demo
    return {e: get_coverage(con, "github", repo, e).synced_from for e in WINDOWED}


def _run_until_complete(con, url: str, demo, api: str, limit: int = 8) -> int:
    _, _, now = demo
    target = now - dt.timedelta(days=BACKFILL)
    for n in range(1, limit + 1):
        with _client(url) as client:
            _sync(con, client, demo, api).run()
        if all(c <= target for c in _coverage(con, demo).values()):
            return n
    raise AssertionError(f"not complete after {limit} runs: {_coverage(con, demo)}")


def test_first_sync_reads_the_newest_window_and_later_runs_walk_back_to_backfill_days(
    reference, demo, tmp_path
):
    api, expected = reference
    clients, repo, now = demo
    con = _warehouse(tmp_path / "wh.duckdb")
    with SocketDemo(DemoTransport(clients.demo_organisation)) as fake:
        with _client(fake.server.url) as client:
            _sync(con, client, demo, api).run()
        first = _coverage(con, demo)
        # The newest window; or all of it when a listing ended inside it (nothing older exists).
        assert set(first.values()) <= {
            now - dt.timedelta(days=INITIAL),
            now - dt.timedelta(days=BACKFILL),
        }, first
        # Commits are queried by date (since/until), so their window never ends early.
        assert first["commits"] == now - dt.timedelta(days=INITIAL)
        oldest_commit = con.execute("SELECT min(updated_at) FROM raw.github_commits").fetchone()[0]
        assert oldest_commit >= now - dt.timedelta(days=INITIAL)
        assert _rows(con)["github_commits"] < expected["github_commits"]
        line = coverage_line(con, "github", [repo])
        assert line == (
            f"GitHub synced back to {now - dt.timedelta(days=INITIAL):%Y-%m-%d}; "
            f"backfilling to {now - dt.timedelta(days=BACKFILL):%Y-%m-%d}"
        )

        with _client(fake.server.url) as client:
            report = _sync(con, client, demo, api).run()
        second = _coverage(con, demo)
        assert set(second.values()) <= {
            now - dt.timedelta(days=INITIAL + STEP),
            now - dt.timedelta(days=BACKFILL),  # a listing that ended: nothing older exists
        }, second
        assert sum(e.backfill_items for e in report.entities.values()) > 0

        runs = _run_until_complete(con, fake.server.url, demo, api)
        # Complete: a run with nothing changed costs one conditional request per entity, a 304.
        with _client(fake.server.url) as client:
            quiet = _sync(con, client, demo, api).run()
    # 30 days, then 40-day steps to 150 days: at most 3 more runs.
    assert runs <= 3
    for entity, cost in quiet.entities.items():
        assert (cost.requests, cost.not_modified, cost.items) == (1, 1, 0), (entity, cost)
    assert _rows(con) == expected
    assert coverage_line(con, "github", [repo]) == ""
    con.close()


def test_a_run_that_dies_mid_backfill_resumes_with_no_duplicate_and_no_gap(
    reference, demo, tmp_path
):
    api, expected = reference
    clients, repo, _ = demo
    con = _warehouse(tmp_path / "wh.duckdb")
    with SocketDemo(DemoTransport(clients.demo_organisation)) as fake:
        with _client(fake.server.url) as client:
            _sync(con, client, demo, api).run()
        before = _coverage(con, demo)

        # The second run dies on the second page of the commits' step back.
        def second_commits_page(path: str) -> bool:
            parts = urlsplit(path)
            query = parse_qs(parts.query)
            return (
                parts.path.endswith("/commits") and "until" in query and query.get("page") == ["2"]
            )

        fake.fail_when = second_commits_page
        with pytest.raises(SourceError), _client(fake.server.url) as client:
            _sync(con, client, demo, api).run()
        died = get_coverage(con, "github", repo, "commits")
        assert died.synced_from == before["commits"], "coverage moved before its window ended"
        assert died.resume_at == "2", "the page reached was not recorded"
        fake.fail_when = lambda path: False
        _run_until_complete(con, fake.server.url, demo, api)
    assert _rows(con) == expected
    con.close()


def test_a_budget_stop_mid_window_resumes_from_that_page_not_from_the_start(demo, tmp_path):
    clients, repo, _ = demo
    transport = DemoTransport(clients.demo_organisation, rate_limit=5000)
    con = _warehouse(tmp_path / "wh.duckdb")

    def pool(reserve: int) -> CredentialPool:
        return CredentialPool([TokenCredential("token 1", token="demo-token")], reserve=reserve)

    def pull_pages(requests) -> list[int]:
        pages = []
        for path, _ in requests:
            parts = urlsplit(path)
            if parts.path.endswith("/pulls"):
                pages.append(int(parse_qs(parts.query).get("page", ["1"])[0]))
        return pages

    with SocketDemo(transport) as fake:
        with _client(fake.server.url) as client:
            _sync(con, client, demo, "rest").run(["repository", "pull_requests"])
        # Room for the increment's 304 and a few backfill pages (each 20 pull requests, and a
        # request for the reviews and commits of each in the window), then the reserve.
        with _client(fake.server.url, pool(transport._remaining - 30)) as client:
            with pytest.raises(BudgetExhausted):
                _sync(con, client, demo, "rest").run(["repository", "pull_requests"])
        stopped = get_coverage(con, "github", repo, "pull_requests")
        assert stopped.resume_at is not None and int(stopped.resume_at) > 1
        landed = con.execute("SELECT count(*) FROM raw.github_pull_requests").fetchone()[0]
        seen = len(fake.server.requests)
        with _client(fake.server.url, pool(0)) as client:
            _sync(con, client, demo, "rest").run(["repository", "pull_requests"])
        resumed = pull_pages(fake.server.requests[seen:])
    # The increment's conditional first page (304), then the walk continues at the stored page.
    assert resumed[0] == 1 and resumed[1] == int(stopped.resume_at), resumed
    assert 1 not in resumed[1:]
    after = con.execute("SELECT count(*) FROM raw.github_pull_requests").fetchone()[0]
    assert after > landed
    con.close()


def test_a_run_that_dies_in_the_first_window_resumes_from_that_page(demo, tmp_path):
    clients, repo, _ = demo
    transport = DemoTransport(clients.demo_organisation, rate_limit=5000)
    con = _warehouse(tmp_path / "wh.duckdb")
    pool = CredentialPool([TokenCredential("token 1", token="demo-token")], reserve=0)
    with SocketDemo(transport) as fake:
        # The first sync's walk through the newest window dies at its second list page.
        def second_page(path: str) -> bool:
            parts = urlsplit(path)
            return parts.path.endswith("/pulls") and parse_qs(parts.query).get("page") == ["2"]

        fake.fail_when = second_page
        with pytest.raises(SourceError), _client(fake.server.url, pool) as client:
            _sync(con, client, demo, "rest").run(["repository", "pull_requests"])
        stopped = get_coverage(con, "github", repo, "pull_requests")
        assert stopped.resume_at == "2"
        fake.fail_when = lambda path: False
        seen = len(fake.server.requests)
        with _client(fake.server.url, pool) as client:
            _sync(con, client, demo, "rest").run(["repository", "pull_requests"])
        lists = [
            parse_qs(urlsplit(p).query).get("page", ["1"])[0]
            for p, _ in fake.server.requests[seen:]
            if urlsplit(p).path.endswith("/pulls")
        ]
    # The increment (from the first run's clock), then the walk continues at page 2.
    assert lists[0] == "1" and lists[1] == "2", lists
    assert "1" not in lists[1:], "the walk started again from the top"


# A second run in its own process, killed outright (SIGKILL) by the server mid-walk.
CHILD = """
import datetime as dt, sys
from pathlib import Path
from tests.test_github_backfill import _client, _demo, _sync, _warehouse
demo = _demo(dt.datetime.fromisoformat(sys.argv[3]))
con = _warehouse(Path(sys.argv[1]))
with _client(sys.argv[2]) as client:
    _sync(con, client, demo, sys.argv[4]).run()
"""


def test_a_run_killed_mid_backfill_resumes_with_no_duplicate_and_no_gap(reference, demo, tmp_path):
    api, expected = reference
    clients, repo, now = demo
    path = tmp_path / "wh.duckdb"
    con = _warehouse(path)
    with SocketDemo(DemoTransport(clients.demo_organisation)) as fake:
        with _client(fake.server.url) as client:
            _sync(con, client, demo, api).run()
        before = _coverage(con, demo)
        con.close()
        child: list[subprocess.Popen] = []

        def kill_at_second_commits_page(path_: str) -> bool:
            parts = urlsplit(path_)
            query = parse_qs(parts.query)
            hit = parts.path.endswith("/commits") and "until" in query
            if hit and query.get("page") == ["2"]:
                os.kill(child[0].pid, signal.SIGKILL)
                child[0].wait()
                return True
            return False

        fake.fail_when = kill_at_second_commits_page
        root = Path(__file__).resolve().parents[1]
        child.append(
            subprocess.Popen(
                [sys.executable, "-c", CHILD, str(path), fake.server.url, now.isoformat(), api],
                cwd=root,
                env={**os.environ, "PYTHONPATH": str(root)},
            )
        )
        assert child[0].wait(timeout=300) == -signal.SIGKILL
        fake.fail_when = lambda path_: False
        con = _warehouse(path)
        died = get_coverage(con, "github", repo, "commits")
        assert died.synced_from == before["commits"], "coverage moved before its window ended"
        assert died.resume_at == "2", "the page reached was not recorded"
        _run_until_complete(con, fake.server.url, demo, api)
    assert _rows(con) == expected
    con.close()


class RecordingDemo(SocketDemo):
    """The socket demo that also notes each GraphQL query: (operation, variables)."""

    def __init__(self, transport: DemoTransport) -> None:
        super().__init__(transport)
        self.queries: list[tuple[str, dict]] = []

    def _post(self, path: str, headers: dict[str, str], body: bytes) -> Reply:
        payload = json.loads(body or b"{}")
        operation = str(payload.get("query", "")).split("(")[0].split()[-1]
        self.queries.append((operation, payload.get("variables") or {}))
        return super()._post(path, headers, body)


# The listings the windowed entities read (not a pull request's reviews or a run's jobs).
LISTINGS = ("/pulls", "/commits", "/releases", "/deployments", "/actions/runs", "/issues")


def _listing_requests(requests, repo: str) -> list[tuple[str, dict[str, list[str]]]]:
    found = []
    for path, _ in requests:
        parts = urlsplit(path)
        if parts.path in {f"/repos/{repo}{listing}" for listing in LISTINGS}:
            found.append((parts.path.removeprefix(f"/repos/{repo}"), parse_qs(parts.query)))
    return found


def test_the_walk_back_reads_no_listing_page_twice_across_its_windows(reference, demo, tmp_path):
    """A window ends on the page that crosses its start; that page lands whole (its older items
    are the next window's first) and the next window starts after it, so walking back window by
    window reads each page of a listing once, and lands the same rows as one sync."""
    api, expected = reference
    clients, repo, _ = demo
    con = _warehouse(tmp_path / "wh.duckdb")
    with RecordingDemo(DemoTransport(clients.demo_organisation)) as fake:
        runs = _run_until_complete(con, fake.server.url, demo, api)
        lists = _listing_requests(fake.server.requests, repo)
        queries = list(fake.queries)
    assert runs >= 3, "the walk should cross windows"
    # Page 1 of a listing is also what the increments ask for; the walk's later pages (REST page
    # numbers, GraphQL cursors) are asked once each. Workflow runs: the walk reads the unfiltered
    # listing (the increments ask created= windows).
    walked = [
        (path, repr(sorted(q.items())))
        for path, q in lists
        if path in ("/pulls", "/deployments", "/issues", "/releases", "/actions/runs")
        and q.get("page", ["1"]) != ["1"]
        and "created" not in q
    ]
    assert [w for w in walked if w[0] == "/actions/runs"], "the runs walk should pass page 1"
    cursors = [
        (operation, variables["after"])
        for operation, variables in queries
        if operation in ("PullRequests", "Deployments") and variables.get("after")
    ]
    assert walked or cursors
    assert len(walked) == len(set(walked)), sorted(walked)
    assert len(cursors) == len(set(cursors)), sorted(cursors)
    assert _rows(con) == expected
    con.close()


@pytest.mark.parametrize("api", ["rest", "graphql"])
def test_a_progressive_first_sync_spends_no_request_or_query_on_an_empty_increment(
    api, demo, tmp_path
):
    """No probe, no "since now" query, no page read twice: only the walk through the newest
    window (whose first pages are the listings' tops) is billed."""
    clients, repo, _ = demo
    con = _warehouse(tmp_path / "wh.duckdb")
    with RecordingDemo(DemoTransport(clients.demo_organisation)) as fake:
        with _client(fake.server.url) as client:
            report = _sync(con, client, demo, api).run()
        lists = _listing_requests(fake.server.requests, repo)
        queries = list(fake.queries)
    assert lists and all(e.pages > 0 for n, e in report.entities.items() if n in WINDOWED)
    # The probes of commits, issues and (GraphQL) pull requests are one-item pages.
    assert [q for _, q in lists if q.get("per_page") == ["1"]] == []
    # Each listing page is read once: the increment and the walk no longer both read the top.
    urls = [(p, sorted((k, tuple(v)) for k, v in q.items())) for p, q in lists]
    assert len(urls) == len({repr(u) for u in urls}), "a listing page was read twice"
    # Workflow runs: the walk down the unfiltered listing from its top, no "created=now..now".
    runs = [q for p, q in lists if p == "/actions/runs"]
    assert runs and not [q for q in runs if "created" in q], runs
    assert [q.get("page", ["1"]) for q in runs] == [[str(n)] for n in range(1, len(runs) + 1)]
    # Commits by date up to now, issues as one newest-updated listing: the walk's queries only.
    assert all("until" in q for p, q in lists if p == "/commits")
    assert all("since" not in q for p, q in lists if p == "/issues")
    if api == "graphql":
        # No REST probe of what GraphQL reads, and each connection read from its top once.
        assert not [p for p, _ in lists if p in {"/pulls", "/deployments"}]
        for operation in ("PullRequests", "Deployments"):
            tops = [v for o, v in queries if o == operation and v.get("after") is None]
            assert len(tops) == 1, (operation, tops)
    con.close()


@pytest.mark.parametrize("api", ["rest", "graphql"])
def test_after_a_progressive_first_sync_an_unchanged_run_costs_one_conditional_request_each(
    api, demo, tmp_path, monkeypatch
):
    """Where the walk's first page is the next increment's request (workflow runs; REST pull
    requests, releases, deployments), its ETag makes the next unchanged run's increment one 304. Where it is
    not, the next probe is unconditional once; from the run after, every increment is one 304."""
    clients, _, _ = demo
    con = _warehouse(tmp_path / "wh.duckdb")
    with SocketDemo(DemoTransport(clients.demo_organisation)) as fake:
        with _client(fake.server.url) as client:
            _sync(con, client, demo, api).run()
        # The increments alone (nothing changed): the walk's further steps are not under test.
        monkeypatch.setattr(RepositorySync, "_backfill_step", lambda self, entity: None)
        costs = []
        for _ in range(2):
            with _client(fake.server.url) as client:
                costs.append(_sync(con, client, demo, api).run().entities)
    free = {"repository", "tags", "releases", "workflow_runs"} | (
        {"pull_requests", "deployments"} if api == "rest" else set()
    )
    for entity, cost in costs[0].items():
        if entity in free:
            assert (cost.requests, cost.not_modified, cost.graphql_queries) == (1, 1, 0), entity
        else:
            assert cost.not_modified == 0 and not cost.unchanged, (entity, cost)
    for entity, cost in costs[1].items():
        assert (cost.requests, cost.not_modified, cost.graphql_queries) == (1, 1, 0), entity
        assert cost.unchanged, entity
    con.close()


def _second_page_of(listing: str) -> Callable[[str], bool]:
    def fails(path: str) -> bool:
        parts = urlsplit(path)
        return parts.path.endswith(listing) and parse_qs(parts.query).get("page") == ["2"]

    return fails


# Listings with a second page in the newest window on both paths (REST pull requests: above).
@pytest.mark.parametrize("listing", ["/commits", "/actions/runs"])
def test_a_progressive_first_sync_killed_mid_window_resumes_with_no_gap_and_no_duplicate(
    listing, reference, demo, tmp_path
):
    """The first sync (no increment) dies on the second page of a listing in its newest window;
    the coverage it opened has not moved (the commits' walk continues at that page; a runs window
    cut short is read again), and the runs that follow end with exactly the rows of a sync in one
    go (a page read twice upserts: one row a key)."""
    api, expected = reference
    clients, repo, now = demo
    con = _warehouse(tmp_path / "wh.duckdb")
    with SocketDemo(DemoTransport(clients.demo_organisation)) as fake:
        fake.fail_when = _second_page_of(listing)
        with pytest.raises(SourceError), _client(fake.server.url) as client:
            _sync(con, client, demo, api).run()
        entity = {"/commits": "commits", "/actions/runs": "workflow_runs"}
        died = get_coverage(con, "github", repo, entity[listing])
        assert died is not None and died.synced_from == now, "coverage moved before the window"
        assert died.synced_to == now
        if listing == "/commits":
            assert died.resume_at == "2", "the page reached was not recorded"
        fake.fail_when = lambda path: False
        _run_until_complete(con, fake.server.url, demo, api)
    assert _rows(con) == expected
    con.close()


def test_a_runs_backfill_left_mid_way_by_the_created_windows_version_restarts_at_the_top(
    reference, demo, tmp_path
):
    """Before 2026-12-06 a runs step stored no position (``resume_at`` null, ``synced_from`` at
    the window's start). Such a warehouse walks the run listing again from its top, reading down
    to its coverage once, and ends with exactly the rows of a sync in one go."""
    api, expected = reference
    clients, repo, _ = demo
    con = _warehouse(tmp_path / "wh.duckdb")
    with SocketDemo(DemoTransport(clients.demo_organisation)) as fake:
        with _client(fake.server.url) as client:
            _sync(con, client, demo, api).run()  # the newest window
        coverage = get_coverage(con, "github", repo, "workflow_runs")
        assert coverage.resume_at, "the runs walk should be mid-way with a stored page"
        con.execute(
            "UPDATE raw.sync_coverage SET resume_at = NULL "
            "WHERE source = 'github' AND entity = 'workflow_runs'"
        )
        fake.server.requests.clear()
        with _client(fake.server.url) as client:
            _sync(con, client, demo, api).run()
        runs_pages = [
            q.get("page", ["1"])[0]
            for path, q in _listing_requests(fake.server.requests, repo)
            if path == "/actions/runs" and "created" not in q
        ]
        # The increment's probe (page 1), then the walk from the top again.
        assert runs_pages[:3] == ["1", "1", "2"], runs_pages
        _run_until_complete(con, fake.server.url, demo, api)
    assert _rows(con) == expected
    con.close()
