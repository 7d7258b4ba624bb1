"""Workflow jobs in bulk through GraphQL: check runs of 100 runs a query, the same staging rows as
REST for the fields both have, a small REST sample for queue times, faults named.

The parity test uses the demo's fake API (REST jobs, and check runs made from the same jobs); the
fault tests a scripted GitHub on a real 127.0.0.1 socket.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from pipelines.config import GitHubSourceConfig
from pipelines.demo import demo_transport
from pipelines.errors import SourceError
from pipelines.github import graphql as gql
from pipelines.github.client import GitHubClient
from pipelines.github.credentials import build_pool
from pipelines.github.sync import JobSelection, RepositorySync, job_selection
from pipelines.http import RetryPolicy
from pipelines.warehouse import connect, get_sync_state, gone_keys, reset_sync_state
from tests import test_github_graphql
from tests.http_server import Reply, ScriptedServer
from tests.test_dbt_models import failures, query, run_dbt
from tests.test_github_graphql import staging_rows, sync

# The demo repository the GraphQL parity tests use (a module-scoped fixture).
demo = test_github_graphql.demo
FAST = RetryPolicy(max_retries=1, backoff_base=0.01, backoff_max=0.02, max_total_seconds=2)
NOW = dt.datetime(2026, 6, 30, 12, tzinfo=dt.UTC)
# What a check run does not carry: the REST job's queued-at time, runner and runner labels.
REST_ONLY = ("created_at", "runner_name", "runner_labels")


# --- parity with REST, on the demo's fake API -------------------------------------------------------


def sync_runs(path: Path, demo, api: str, selection: JobSelection) -> dict:
    return sync(path, demo, api, ("workflow_runs",), jobs=selection)


@pytest.fixture(scope="module")
def both(demo, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("jobs_parity")
    clients, source, _ = demo
    configured = job_selection(source, clients.config.metrics)
    no_queue_sample = JobSelection(configured.deployment_workflows, configured.sample_per_week)
    out = {}
    for api in ("rest", "graphql"):
        path = tmp / f"{api}.duckdb"
        stats = sync_runs(path, demo, api, no_queue_sample)
        result = run_dbt(["run", "--select", "stg_github__workflow_jobs"], path, tmp / f"t_{api}")
        assert result.success, failures(result)
        out[api] = (path, stats)
    return out


def test_rest_and_graphql_jobs_give_the_same_staging_rows_for_the_fields_both_have(both):
    columns, rest = staging_rows(both["rest"][0], "stg_github__workflow_jobs")
    _, graphql = staging_rows(both["graphql"][0], "stg_github__workflow_jobs")
    assert len(rest) > 50, "too few jobs for the comparison to prove anything"
    only = [columns.index(c) for c in REST_ONLY]
    assert all(row[i] is None for row in graphql for i in only)
    assert all(row[columns.index("created_at")] is not None for row in rest)

    def shared(rows):
        return sorted(tuple(v for j, v in enumerate(r) if j not in only) for r in rows)

    assert shared(graphql) == shared(rest)


def test_graphql_jobs_cost_a_point_per_hundred_runs_not_a_request_per_run(both):
    rest, graphql = both["rest"][1], both["graphql"][1]
    (runs_read,) = query(
        both["graphql"][0], "select count(distinct parent_key) from raw.github_workflow_jobs"
    )[0]
    assert runs_read > 20
    # REST: one jobs request per run read; GraphQL: one query per 100 runs, 1 point each.
    assert rest["requests"] - graphql["requests"] == runs_read
    assert graphql["graphql_queries"] == graphql["graphql_points"] == -(-runs_read // 100)


def test_the_fake_api_bills_the_jobs_query_by_githubs_formula_and_nulls_an_unknown_run(demo):
    clients, _, repo = demo
    transport = demo_transport(clients.demo_organisation)
    with GitHubClient("https://api.github.com", token="t", transport=transport) as client:
        runs = client.get(f"/repos/{repo}/actions/runs", {"per_page": 100}).data["workflow_runs"]
        ids = [r["node_id"] for r in runs[:99]] + ["WFR_gone"]
        with pytest.raises(SourceError, match="NOT_FOUND"):
            client.graphql(gql.WORKFLOW_JOBS, {"ids": ids, "jobs": 100}, operation="WorkflowJobs")
        data = client.graphql(
            gql.WORKFLOW_JOBS,
            {"ids": ids, "jobs": 100},
            operation="WorkflowJobs",
            tolerate=lambda e: e.get("type") == "NOT_FOUND",
        )
    assert data["rateLimit"]["cost"] == 1 and client.stats.graphql_points == 2
    assert data["nodes"][-1] is None and all(data["nodes"][:-1])
    first = data["nodes"][0]["checkSuite"]["checkRuns"]["nodes"][0]
    assert set(first) == {
        "id",
        "databaseId",
        "name",
        "status",
        "conclusion",
        "startedAt",
        "completedAt",
    }


def test_query_cost_counts_each_listed_runs_check_runs_as_one_request():
    hundred = {"ids": [f"WFR_{i}" for i in range(100)], "jobs": 100}
    assert gql.query_requests(gql.WORKFLOW_JOBS, hundred) == (100, 10_000)
    assert gql.query_cost(gql.WORKFLOW_JOBS, hundred) == 1
    assert gql.query_cost(gql.WORKFLOW_JOBS, {"ids": ["WFR_1"], "jobs": 100}) == 1
    assert gql.query_cost(gql.WORKFLOW_RUN_JOBS, {"id": "WFR_1"}) == 1


# --- a scripted GitHub on a real socket ---------------------------------------------------------------


def run_item(run_id: int, day: str, name: str = "CI") -> dict:
    created = f"{day}T10:{run_id % 60:02d}:00Z"
    return {
        "id": run_id,
        "node_id": f"WFR_{run_id}",
        "name": name,
        "event": "push",
        "status": "completed",
        "conclusion": "success",
        "run_attempt": 1,
        "head_branch": "main",
        "head_sha": f"{run_id:040d}",
        "created_at": created,
        "updated_at": created,
    }


def rest_job(run: dict, k: int) -> dict:
    return {
        "id": run["id"] * 10 + k,
        "node_id": f"CR_{run['id'] * 10 + k}",
        "run_id": run["id"],
        "run_attempt": 1,
        "name": f"job {k}",
        "workflow_name": run["name"],
        "head_branch": "main",
        "head_sha": run["head_sha"],
        "status": "completed",
        "conclusion": "success",
        "created_at": run["created_at"],
        "started_at": run["created_at"],
        "completed_at": run["updated_at"],
        "runner_name": "r1",
        "labels": ["ubuntu-latest"],
    }


def check_run(job: dict) -> dict:
    return {
        "id": job["node_id"],
        "databaseId": job["id"],
        "name": job["name"],
        "status": "COMPLETED",
        "conclusion": "SUCCESS",
        "startedAt": job["started_at"],
        "completedAt": job["completed_at"],
    }


RATE = {"cost": 1, "remaining": 4990, "resetAt": "2026-06-30T13:00:00Z"}


class ActionsServer:
    """Six CI runs in each of two weeks (one a month before NOW), two jobs each; ``script``
    replaces the answer of the n-th GraphQL query; ``gone`` runs answer NOT_FOUND."""

    def __init__(self, jobs_per_run: int = 2) -> None:
        self.runs = [run_item(1000 + k, "2026-06-22") for k in range(6)]
        self.runs += [run_item(2000 + k, "2026-05-25") for k in range(6)]
        self.runs.sort(key=lambda r: r["created_at"], reverse=True)
        self.jobs = {r["id"]: [rest_job(r, k) for k in range(jobs_per_run)] for r in self.runs}
        self.script: dict[int, Reply] = {}
        self.gone: set[str] = set()
        # Runs deleted on GitHub after they were listed: their REST jobs answer 404.
        self.deleted: set[int] = set()
        self.overflow: set[str] = set()
        self.queries: list[dict] = []
        self.rest_jobs: list[int] = []
        # Answer 304 to a runs listing sent with its ETag (the probe of an unchanged run).
        self.not_modified = False
        self.probes_not_modified = 0

    def get(self, path: str, headers: dict[str, str]) -> Reply:
        url = urlsplit(path)
        if url.path == "/repos/o/r/actions/runs":
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            per_page = int(query.get("per_page", 100))
            if self.not_modified and headers.get("If-None-Match") == '"runs"':
                self.probes_not_modified += 1
                return Reply(304, None, headers={"ETag": '"runs"'})
            runs = self.runs
            if "created" in query:
                start, end = query["created"].split("..")
                runs = [r for r in runs if start <= r["created_at"] <= end]
            body = {"total_count": len(runs), "workflow_runs": runs[:per_page]}
            return Reply(body=body, headers={"ETag": '"runs"'})
        if url.path.endswith("/jobs"):
            run_id = int(url.path.split("/")[-2])
            self.rest_jobs.append(run_id)
            if run_id in self.deleted:
                return Reply(404, {"message": "Not Found"})
            jobs = self.jobs[run_id]
            return Reply(body={"total_count": len(jobs), "jobs": jobs})
        return Reply(404, {"message": "Not Found"})

    def post(self, path: str, headers: dict[str, str], body: bytes) -> Reply:
        request = json.loads(body)
        self.queries.append(request)
        if len(self.queries) in self.script:
            return self.script[len(self.queries)]
        variables = request["variables"]
        if "WorkflowRunJobs" in request["query"]:
            run = next(r for r in self.runs if r["node_id"] == variables["id"])
            rest = [check_run(j) for j in self.jobs[run["id"]][1:]]
            connection = {"pageInfo": {"hasNextPage": False, "endCursor": "2"}, "nodes": rest}
            node = {"checkSuite": {"checkRuns": connection}}
            return Reply(body={"data": {"rateLimit": RATE, "node": node}})
        nodes, errors = [], []
        for i, node_id in enumerate(variables["ids"]):
            if node_id in self.gone:
                nodes.append(None)
                errors.append({"type": "NOT_FOUND", "path": ["nodes", i], "message": "gone"})
                continue
            run = next(r for r in self.runs if r["node_id"] == node_id)
            checks = [check_run(j) for j in self.jobs[run["id"]]]
            more = node_id in self.overflow
            connection = {
                "pageInfo": {"hasNextPage": more, "endCursor": "1"},
                "nodes": checks[:1] if more else checks,
            }
            nodes.append(
                {"id": node_id, "databaseId": run["id"], "checkSuite": {"checkRuns": connection}}
            )
        answer = {"data": {"rateLimit": RATE, "nodes": nodes}}
        if errors:
            answer["errors"] = errors
        return Reply(body=answer, headers={"X-RateLimit-Resource": "graphql"})


TOKEN = "ghp_jobs_secret"


def run_sync(
    server: ScriptedServer, db: Path, selection: JobSelection, **window: int
) -> RepositorySync:
    source = GitHubSourceConfig(name="gh", token=TOKEN, repositories=["o/r"])
    con = connect(db)
    try:
        with GitHubClient(
            server.url, credentials=build_pool(source), retry=FAST, per_page=100
        ) as client:
            sync = RepositorySync(
                con,
                client,
                source="gh",
                repository="o/r",
                backfill_days=60,
                now=NOW,
                api="graphql",
                jobs=selection,
                **window,
            )
            sync.run(["workflow_runs"])
            return sync
    finally:
        con.close()


def landed(db: Path) -> list[tuple[str, str | None]]:
    con = connect(db)
    try:
        return con.execute(
            "SELECT natural_key, payload->>'$.created_at' FROM raw.github_workflow_jobs ORDER BY 1"
        ).fetchall()
    finally:
        con.close()


EVERY_RUN = JobSelection(sample_per_week=None)


def test_jobs_of_all_runs_land_from_one_query_as_rest_jobs_without_queued_at(tmp_path):
    fake = ActionsServer()
    with ScriptedServer(fake.get, post_handler=fake.post) as server:
        run_sync(server, tmp_path / "wh.duckdb", EVERY_RUN)
    rows = landed(tmp_path / "wh.duckdb")
    assert len(rows) == 24 and all(created is None for _, created in rows)
    assert len(fake.queries) == 1 and len(fake.queries[0]["variables"]["ids"]) == 12
    assert fake.rest_jobs == []
    con = connect(tmp_path / "wh.duckdb")
    job = json.loads(
        con.execute("SELECT payload FROM raw.github_workflow_jobs ORDER BY natural_key").fetchone()[
            0
        ]
    )
    con.close()
    assert job | {"created_at": None} == {
        **rest_job(next(r for r in fake.runs if r["id"] == 1000), 0),
        "created_at": None,
        "runner_name": None,
        "labels": None,
    }


def test_a_small_rest_sample_per_week_brings_queue_times_in_the_newest_days_only(tmp_path):
    fake = ActionsServer()
    sample = JobSelection(sample_per_week=None, queue_sample_per_week=2, queue_sample_days=14)
    with ScriptedServer(fake.get, post_handler=fake.post) as server:
        run_sync(server, tmp_path / "wh.duckdb", sample)
        # Two runs of the recent week (not of the week a month back) are read again by REST.
        assert len(fake.rest_jobs) == 2 and all(1000 <= r < 1100 for r in fake.rest_jobs)
        first = list(fake.rest_jobs)
        fake.rest_jobs.clear()
        run_sync(server, tmp_path / "wh.duckdb", sample)
    # A second sync reads nothing again: the sample is full and the runs unchanged.
    assert fake.rest_jobs == [] and len(fake.queries) == 1
    rows = landed(tmp_path / "wh.duckdb")
    with_queue = {key for key, created in rows if created is not None}
    assert with_queue == {f"o/r/job/{r * 10 + k}" for r in first for k in range(2)}


def test_a_progressive_first_sync_defers_the_queue_sample_to_the_next_run_that_reads_runs(
    tmp_path,
):
    """The first sync reads the newest 14 days (here one page of runs, which crosses the
    window's start and so lands whole, the older week too), jobs by GraphQL and no REST: the first
    dashboards cost about the list pages. The next run (its increment) reads the deferred sample: the same runs a sync reading everything at once
    picks, the week's quota and no more. A third run reads no sample again, and an unchanged
    fourth costs its one conditional request."""
    sample = JobSelection(sample_per_week=None, queue_sample_per_week=2, queue_sample_days=14)
    window = {"initial_window_days": 14, "backfill_step_days": 60}
    fake = ActionsServer()
    with ScriptedServer(fake.get, post_handler=fake.post) as server:
        run_sync(server, tmp_path / "at_once.duckdb", sample)
        at_once = set(fake.rest_jobs)
        fake.rest_jobs.clear()

        first = run_sync(server, tmp_path / "wh.duckdb", sample, **window)
        assert "workflow_runs" in first._skipped
        assert fake.rest_jobs == []
        assert all(created is None for _, created in landed(tmp_path / "wh.duckdb"))
        assert len(landed(tmp_path / "wh.duckdb")) == 24  # both weeks' runs' jobs: one page

        run_sync(server, tmp_path / "wh.duckdb", sample, **window)
        # Two runs of the recent week, those the at-once sync read; the older week is read by
        # GraphQL only (older than queue_sample_days).
        assert sorted(fake.rest_jobs) == sorted(at_once) and len(at_once) == 2
        assert all(1000 <= r < 1100 for r in fake.rest_jobs)
        fake.rest_jobs.clear()

        third = run_sync(server, tmp_path / "wh.duckdb", sample, **window)
        assert fake.rest_jobs == [] and third.client.stats.graphql_queries == 0

        # Nothing changed: one conditional request, answered 304, and nothing more.
        fake.not_modified = True
        fourth = run_sync(server, tmp_path / "wh.duckdb", sample, **window)
        assert fake.probes_not_modified == 1 and fake.rest_jobs == []
        assert (fourth.client.stats.requests, fourth.client.stats.graphql_queries) == (1, 0)
    rows = landed(tmp_path / "wh.duckdb")
    assert len(rows) == 24
    with_queue = {key for key, created in rows if created is not None}
    assert with_queue == {f"o/r/job/{r * 10 + k}" for r in at_once for k in range(2)}


def test_a_deferred_sample_run_deleted_since_the_first_sync_does_not_fail_the_next(tmp_path):
    """Its REST jobs answer 404: logged, not asked again; the week's quota is still filled (by
    the next run in the deterministic order, by the next sync that reads runs: here the first
    sync's one page of runs held the whole history, so no backfill step follows in the same
    sync), and a later run asks nothing."""
    sample = JobSelection(sample_per_week=None, queue_sample_per_week=2, queue_sample_days=14)
    window = {"initial_window_days": 14, "backfill_step_days": 60}
    fake = ActionsServer()
    with ScriptedServer(fake.get, post_handler=fake.post) as server:
        run_sync(server, tmp_path / "at_once.duckdb", sample)
        gone, kept = sorted(fake.rest_jobs)
        fake.rest_jobs.clear()
        run_sync(server, tmp_path / "wh.duckdb", sample, **window)
        fake.runs = [r for r in fake.runs if r["id"] != gone]
        fake.deleted.add(gone)
        run_sync(server, tmp_path / "wh.duckdb", sample, **window)
        assert sorted(fake.rest_jobs) == sorted([gone, kept])
        fake.rest_jobs.clear()
        run_sync(server, tmp_path / "wh.duckdb", sample, **window)
        (another,) = fake.rest_jobs
        assert another not in (gone, kept)
        fake.rest_jobs.clear()
        run_sync(server, tmp_path / "wh.duckdb", sample, **window)
        assert fake.rest_jobs == []
    with_queue = {key for key, created in landed(tmp_path / "wh.duckdb") if created is not None}
    assert with_queue == {f"o/r/job/{r * 10 + k}" for r in (kept, another) for k in range(2)}


def test_a_deleted_sample_run_is_not_asked_again_by_later_syncs_even_while_its_week_is_short(
    tmp_path,
):
    """A quota no week fills (5 a week among 2 candidates): the deleted run's stratum stays short,
    so without a record of the 404 every later sync that reads runs would ask for it again."""
    sample = JobSelection(sample_per_week=None, queue_sample_per_week=5, queue_sample_days=14)
    window = {"initial_window_days": 14, "backfill_step_days": 60}
    fake = ActionsServer()
    fake.runs = [r for r in fake.runs if r["id"] in (1000, 1001, 2000, 2001)]
    db = tmp_path / "wh.duckdb"
    with ScriptedServer(fake.get, post_handler=fake.post) as server:
        run_sync(server, db, sample, **window)  # the first window: the sample is deferred
        gone = 1001
        fake.runs = [r for r in fake.runs if r["id"] != gone]
        fake.deleted.add(gone)
        run_sync(server, db, sample, **window)
        assert fake.rest_jobs.count(gone) == 1
        con = connect(db)
        try:
            assert gone_keys(con, "gh", "o/r") == {f"o/r/run/{gone}"}
        finally:
            con.close()
        for new in (3000, 3001):  # later syncs that read runs again (a new run each time)
            fake.rest_jobs.clear()
            fake.runs.insert(0, run_item(new, "2026-06-29"))
            fake.jobs[new] = [rest_job(fake.runs[0], k) for k in range(2)]
            run_sync(server, db, sample, **window)
            assert gone not in fake.rest_jobs
            assert fake.rest_jobs, "no REST jobs read: the sync did not read runs, proves nothing"
    con = connect(db)
    try:
        reset_sync_state(con, "gh", "o/r")
        assert gone_keys(con, "gh", "o/r") == set()
    finally:
        con.close()


def test_a_run_with_more_jobs_than_a_page_is_read_on_by_itself(tmp_path):
    fake = ActionsServer()
    fake.overflow = {"WFR_1003"}
    with ScriptedServer(fake.get, post_handler=fake.post) as server:
        run_sync(server, tmp_path / "wh.duckdb", EVERY_RUN)
    assert "WorkflowRunJobs" in fake.queries[1]["query"]
    assert fake.queries[1]["variables"] == {"id": "WFR_1003", "after": "1"}
    assert len(landed(tmp_path / "wh.duckdb")) == 24


def test_a_deleted_run_is_a_null_node_and_the_other_runs_jobs_land(tmp_path):
    fake = ActionsServer()
    fake.gone = {"WFR_1002"}
    with ScriptedServer(fake.get, post_handler=fake.post) as server:
        sync = run_sync(server, tmp_path / "wh.duckdb", EVERY_RUN)
    keys = {key for key, _ in landed(tmp_path / "wh.duckdb")}
    assert len(keys) == 22 and "o/r/job/10020" not in keys
    assert sync.report.entities["workflow_runs"].graphql_points == 1


@pytest.mark.parametrize(
    "answer, expected",
    [
        (
            {
                "data": {"nodes": [None]},
                "errors": [{"type": "SERVICE_UNAVAILABLE", "message": "try later"}],
            },
            "GitHub GraphQL WorkflowJobs answered SERVICE_UNAVAILABLE: try later (gh token 1)",
        ),
        (
            {
                "data": {
                    "rateLimit": {"cost": 0, "remaining": 0, "resetAt": "2099-01-01T00:00:00Z"}
                },
                "errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded"}],
            },
            "GitHub GraphQL rate limit: the reset is",
        ),
        ({"data": {"nodes": []}}, "sent 0 nodes for 12 runs (gh token 1)"),
    ],
)
def test_a_failed_jobs_query_is_one_line_naming_repository_and_credential_and_a_rerun_completes(
    tmp_path, answer, expected
):
    fake = ActionsServer()
    fake.script[1] = Reply(body=answer)
    db = tmp_path / "wh.duckdb"
    with ScriptedServer(fake.get, post_handler=fake.post) as server:
        with pytest.raises(SourceError) as caught:
            run_sync(server, db, EVERY_RUN)
        message = str(caught.value)
        assert message.startswith("gh: o/r: ") and expected in message
        assert "gh token 1" in message
        assert "\n" not in message and TOKEN not in message
        # Runs landed, no job of the failed query, and the cursor did not move.
        assert landed(db) == []
        con = connect(db)
        assert con.execute("SELECT count(*) FROM raw.github_workflow_runs").fetchone()[0] == 12
        assert get_sync_state(con, "gh", "o/r", "workflow_runs") is None
        con.close()
        fake.script.clear()
        run_sync(server, db, EVERY_RUN)
    rows = landed(db)
    assert len(rows) == len({key for key, _ in rows}) == 24


# --- the fake API: a budget per credential, payloads of a real size --------------------------------


def test_the_fake_api_gives_each_credential_its_own_budget_and_counts_it(demo):
    clients, _, repo = demo
    transport = demo_transport(clients.demo_organisation, rate_limit=2, enforce_rate_limit=True)
    options = {
        "transport": transport,
        "retry": RetryPolicy(max_retries=0),
        "sleep": lambda seconds: None,  # the client waits for the reset before a spent budget
    }
    with (
        GitHubClient("https://api.github.com", token="tok-a", **options) as a,
        GitHubClient("https://api.github.com", token="tok-b", **options) as b,
    ):
        a.get(f"/repos/{repo}")
        a.get(f"/repos/{repo}/tags")
        with pytest.raises(SourceError, match="rate limit"):
            a.get(f"/repos/{repo}/releases")
        # The other credential's budget is untouched by the first one's.
        assert b.get(f"/repos/{repo}").headers["X-RateLimit-Remaining"] == "1"
        b.graphql(
            gql.DEPLOYMENTS,
            {"owner": repo.split("/")[0], "name": repo.split("/")[1], "first": 100, "nested": 50},
            operation="Deployments",
        )
    counts = sorted((dict(c) for c in transport.stats.by_credential.values()), key=len)
    assert counts == [{"requests": 2}, {"requests": 1, "graphql_points": 1}]
    assert all("tok-" not in key for key in transport.stats.by_credential)


def test_realistic_payloads_make_listed_items_as_large_as_real_ones_and_sync_the_same(
    demo, tmp_path
):
    clients, _, repo = demo
    plain = demo_transport(clients.demo_organisation)
    real = demo_transport(clients.demo_organisation, realistic_payloads=True)
    items = {}
    for name, transport in (("plain", plain), ("real", real)):
        with GitHubClient("https://api.github.com", token="t", transport=transport) as client:
            items[name] = client.get(f"/repos/{repo}/pulls", {"state": "all"}).data
    sizes = [len(json.dumps(p, separators=(",", ":"))) for p in items["real"]]
    assert min(sizes) >= 15_000 > max(len(json.dumps(p)) for p in items["plain"])
    assert [{k: v for k, v in p.items() if k != "fake_api_padding"} for p in items["real"]] == (
        items["plain"]
    )
    assert real.stats.bytes_sent > 5 * plain.stats.bytes_sent
