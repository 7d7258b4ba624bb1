"""The GraphQL bulk path: the same staging rows as REST, billed as GitHub bills, faults named.

The demo's fake API serves one repository both ways (REST items, and GraphQL nodes made from the
same items); the production client and sync land each into its own warehouse and a real dbt run
builds the staging models of both.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from pipelines import ingest
from pipelines.demo import demo_transport, scaled_demo_config
from pipelines.errors import SourceAuthError, SourceError
from pipelines.github import graphql as gql
from pipelines.github.client import GitHubClient
from pipelines.github.sync import RAW_TABLES, RepositorySync
from pipelines.http import RetryPolicy
from pipelines.warehouse import connect, ensure_raw_table, get_sync_state
from tests.http_server import Reply, ScriptedServer
from tests.test_dbt_models import failures, query, run_dbt

# A fixed demo history: the demo grows every clock hour, so an unpinned one would make what a
# sync reads depend on the hour the test runs.
END = dt.date(2026, 6, 30)

STAGING = (
    "stg_github__pull_requests",
    "stg_github__pull_request_reviews",
    "stg_github__pull_request_commits",
    "stg_github__deployments",
    "stg_github__deployment_statuses",
)
# REST-only fields of a deployment: GraphQL's Deployment has no such fields (ADR 0008).
REST_ONLY = {"stg_github__deployments": ("is_production_environment", "is_transient_environment")}
ENTITIES = ("repository", "pull_requests", "deployments")
FAST = RetryPolicy(max_retries=2, backoff_base=0.01, backoff_max=0.02, max_total_seconds=5)


@pytest.fixture(scope="module")
def demo():
    config = scaled_demo_config(repositories=2, months=3, end_date=END)
    clients = ingest.SourceClients(config)
    source = config.sources.github[0]
    repo = next(iter(ingest.discover_github_repositories(clients).values()))[0]
    return clients, source, repo


def sync(path: Path, demo, api: str, entities=ENTITIES, **options) -> dict:
    """Sync ``entities`` of the demo repository on ``api`` into ``path``; the client's counts."""
    clients, source, repo = demo
    con = connect(path)
    try:
        for table in RAW_TABLES:
            ensure_raw_table(con, table)
        with clients.client("github", source) as client:
            RepositorySync(
                con,
                client,
                source=source.name,
                repository=repo,
                backfill_days=source.backfill_days,
                now=clients.now(),
                api=api,
                **options,
            ).run(entities)
            return client.stats.as_dict()
    finally:
        con.close()


# When a row was fetched, and the incremental fingerprint beside it, are the load's bookkeeping,
# not what GitHub said: the two paths fetch at different moments.
LOAD_BOOKKEEPING = ("fetched_at", "definitions_hash")


def staging_rows(path: Path, model: str) -> tuple[list[str], list[tuple]]:
    """The model's columns, less the load's bookkeeping, and its rows in that order."""
    columns = [
        r[0]
        for r in query(
            path,
            "select column_name from information_schema.columns where table_schema = 'staging' "
            "and table_name = ? order by ordinal_position",
            [model],
        )
        if r[0] not in LOAD_BOOKKEEPING
    ]
    listed = ", ".join(f'"{c}"' for c in columns)
    return columns, query(path, f"select {listed} from staging.{model} order by all")


@pytest.fixture(scope="module")
def both(demo, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("graphql_parity")
    out = {}
    for api in ("rest", "graphql"):
        path = tmp / f"{api}.duckdb"
        stats = sync(path, demo, api)
        result = run_dbt(["run", "--select", *STAGING], path, tmp / f"target_{api}")
        assert result.success, failures(result)
        out[api] = (path, stats)
    return out


def assert_same_staging_rows(
    rest_path: Path, graphql_path: Path, model: str, rest_only: tuple[str, ...] = ()
) -> None:
    """``model`` has the same columns and rows in both warehouses, except that the ``rest_only``
    columns are null on the GraphQL side (GraphQL has no such field)."""
    rest_cols, rest = staging_rows(rest_path, model)
    gql_cols, graphql = staging_rows(graphql_path, model)
    assert rest_cols == gql_cols
    assert rest, f"the demo has no {model} rows: the comparison would prove nothing"
    skip = [rest_cols.index(c) for c in rest_only]
    for i in skip:
        assert all(row[i] is None for row in graphql), rest_cols[i]

    def keep(rows):
        return sorted(tuple(v for j, v in enumerate(r) if j not in skip) for r in rows)

    assert keep(graphql) == keep(rest)


@pytest.mark.parametrize("model", STAGING)
def test_rest_and_graphql_paths_give_the_same_staging_rows(both, model):
    assert_same_staging_rows(both["rest"][0], both["graphql"][0], model, REST_ONLY.get(model, ()))


def test_graphql_path_bills_points_not_a_request_per_item(both):
    rest, graphql = both["rest"][1], both["graphql"][1]
    assert graphql["graphql_points"] >= graphql["graphql_queries"] > 0
    # REST left to the GraphQL path: the repository and the two conditional probes.
    assert graphql["requests"] == 3
    assert rest["graphql_queries"] == 0
    assert graphql["requests"] + graphql["graphql_points"] < rest["requests"] / 10


def test_a_no_change_graphql_run_costs_one_conditional_request_per_entity(demo, tmp_path):
    path = tmp_path / "wh.duckdb"
    sync(path, demo, "graphql")
    again = sync(path, demo, "graphql")
    assert again["requests"] == len(ENTITIES)
    assert again["not_modified"] == len(ENTITIES)
    assert again["graphql_queries"] == 0


def test_query_cost_follows_githubs_documented_example():
    # docs.github.com "Calculating a rate limit score": 100 repositories x 50 issues x 60 labels
    # needs 1 + 100 + 5,000 = 5,101 requests: 51 points.
    query = """query { viewer { login repositories(first: 100) { edges { node { id
      issues(first: 50) { edges { node { id labels(first: 60) { edges { node { name } } } } } }
    } } } } }"""
    assert gql.query_requests(query) == (5101, 100 + 5000 + 300_000)
    assert gql.query_cost(query) == 51
    assert gql.query_cost('query { repository(owner: "o", name: "r") { id } }') == 1
    assert gql.query_cost(gql.PULL_REQUESTS, {"first": 50, "nested": 50}) == 2
    assert gql.query_cost(gql.DEPLOYMENTS, {"first": 100, "nested": 50}) == 1


def test_node_ids_decode_to_rest_ids():
    # A real deployment status id (facebook/OpenBIC, repository 335709078) and a legacy id.
    assert gql.node_id_numbers("DES_kwDOFAKDls78VYGk")[0] == 335709078
    assert gql.database_id(base64_text("016:DeploymentStatus12345")) == 12345
    assert gql.database_id(gql.encode_node_id("DES", 7, 3_000_000_001)) == 3_000_000_001
    assert gql.database_id("not-an-id") is None


def base64_text(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()


def test_graphql_url_for_github_and_enterprise_server():
    assert gql.graphql_url("https://api.github.com") == "https://api.github.com/graphql"
    assert gql.graphql_url("https://ghe.example/api/v3/") == "https://ghe.example/api/graphql"


# --- faults, over a real socket ----------------------------------------------------------------


def pr_node(number: int, updated: str) -> dict:
    empty = {"pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": []}
    return {
        "databaseId": 100 + number,
        "number": number,
        "title": f"change {number}",
        "body": "",
        "state": "MERGED",
        "isDraft": False,
        "createdAt": "2026-06-01T00:00:00Z",
        "updatedAt": updated,
        "closedAt": updated,
        "mergedAt": updated,
        "author": {"__typename": "Bot", "login": "dependabot"},
        "headRefName": "b",
        "headRefOid": "a" * 40,
        "baseRefName": "main",
        "mergeCommit": {"oid": f"{number:040d}"},
        "potentialMergeCommit": None,
        "labels": {"nodes": [{"name": "deps"}]},
        "reviews": empty,
        "commits": empty,
    }


class GraphQLServer:
    """Two pages of pull requests; ``script`` replaces the answer of the n-th query."""

    def __init__(self) -> None:
        self.pages = [
            [pr_node(4, "2026-06-14T00:00:00Z"), pr_node(3, "2026-06-13T00:00:00Z")],
            [pr_node(2, "2026-06-12T00:00:00Z"), pr_node(1, "2026-06-11T00:00:00Z")],
        ]
        self.script: dict[int, Reply] = {}
        self.queries: list[dict] = []

    def get(self, path: str, headers: dict[str, str]) -> Reply:
        if path.startswith("/repos/o/r/pulls"):
            return Reply(body=[{"number": 4}], headers={"ETag": '"p1"'})
        return Reply(404, {"message": "Not Found"})

    def post(self, path: str, headers: dict[str, str], body: bytes) -> Reply:
        assert path == "/graphql"
        request = json.loads(body)
        self.queries.append(request)
        n = len(self.queries)
        if n in self.script:
            return self.script[n]
        after = request["variables"].get("after")
        page = int(after) if after else 0
        return Reply(
            body={
                "data": {
                    "rateLimit": {"cost": 2, "remaining": 4990, "resetAt": "2026-06-30T13:00:00Z"},
                    "repository": {
                        "pullRequests": {
                            "pageInfo": {
                                "hasNextPage": page + 1 < len(self.pages),
                                "endCursor": str(page + 1),
                            },
                            "nodes": self.pages[page],
                        }
                    },
                }
            },
            headers={"X-RateLimit-Resource": "graphql", "X-RateLimit-Remaining": "4990"},
        )


def run_pulls(server: ScriptedServer, tmp_path: Path, token: str = "ghp_secret123"):
    con = connect(tmp_path / "wh.duckdb")
    client = GitHubClient(server.url, token=token, retry=FAST, per_page=2, sleep=lambda s: None)
    try:
        sync_ = RepositorySync(
            con,
            client,
            source="gh",
            repository="o/r",
            backfill_days=60,
            now=dt.datetime(2026, 6, 30, tzinfo=dt.UTC),
            api="graphql",
        )
        sync_.run(["pull_requests"])
        return con, client
    except BaseException:
        con.close()
        raise


def keys(con) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "SELECT natural_key FROM raw.github_pull_requests ORDER BY natural_key"
        ).fetchall()
    ]


def test_graphql_pull_requests_land_with_points_recorded_and_bot_logins_as_rest(tmp_path):
    fake = GraphQLServer()
    with ScriptedServer(fake.get, post_handler=fake.post) as server:
        con, client = run_pulls(server, tmp_path)
    assert keys(con) == ["o/r#1", "o/r#2", "o/r#3", "o/r#4"]
    assert client.stats.graphql_points == 4 and client.stats.graphql_queries == 2
    login, kind = con.execute(
        "SELECT payload->>'$.user.login', payload->>'$.user.type' FROM raw.github_pull_requests "
        "LIMIT 1"
    ).fetchone()
    assert (login, kind) == ("dependabot[bot]", "Bot")
    assert get_sync_state(con, "gh", "o/r", "pull_requests").cursor == "2026-06-14T00:00:00Z"
    con.close()


@pytest.mark.parametrize(
    "answer, expected",
    [
        (
            {
                "data": {"repository": {"pullRequests": None}},
                "errors": [{"type": "MAX_NODE_LIMIT_EXCEEDED", "message": "too many nodes"}],
            },
            "MAX_NODE_LIMIT_EXCEEDED: too many nodes",
        ),
        (
            {
                "data": {"repository": None},
                "errors": [{"type": "FORBIDDEN", "message": "Resource not accessible"}],
            },
            "set 'api: rest' for this source",
        ),
        ({"data": {"repository": None}}, "returned no repository"),
        (
            {
                "data": {"repository": {"pullRequests": {"nodes": [pr_node(2, "x")]}}},
                "errors": [{"type": "SERVICE_UNAVAILABLE", "message": "partial"}],
            },
            "SERVICE_UNAVAILABLE: partial",
        ),
    ],
)
def test_graphql_errors_are_one_line_naming_source_and_repository_and_nothing_half_written(
    tmp_path, answer, expected
):
    fake = GraphQLServer()
    fake.script[2] = Reply(body=answer)
    with ScriptedServer(fake.get, post_handler=fake.post) as server:
        with pytest.raises(SourceError) as caught:
            run_pulls(server, tmp_path)
        message = str(caught.value)
        assert message.startswith("gh: o/r: ") and expected in message
        assert "\n" not in message and "ghp_secret123" not in message
        con = connect(tmp_path / "wh.duckdb")
        # The first page landed whole; the cursor did not move, so a re-run redoes the rest.
        assert keys(con) == ["o/r#3", "o/r#4"]
        assert get_sync_state(con, "gh", "o/r", "pull_requests") is None
        con.close()
        fake.script.clear()
        con, _ = run_pulls(server, tmp_path)
    assert keys(con) == ["o/r#1", "o/r#2", "o/r#3", "o/r#4"]
    assert con.execute("SELECT count(*) FROM raw.github_pull_requests").fetchone()[0] == 4
    con.close()


def test_rate_limited_query_waits_for_reset_at_and_is_retried(tmp_path):
    fake = GraphQLServer()
    reset = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    fake.script[1] = Reply(
        body={
            "data": {"rateLimit": {"cost": 0, "remaining": 0, "resetAt": reset}},
            "errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded"}],
        }
    )
    with ScriptedServer(fake.get, post_handler=fake.post) as server:
        con, client = run_pulls(server, tmp_path)
    assert keys(con) == ["o/r#1", "o/r#2", "o/r#3", "o/r#4"]
    assert client.stats.rate_limit_waits == 1
    assert 20 < client.stats.waited_seconds <= 32
    con.close()


def test_secondary_limit_on_a_graphql_post_waits_retry_after(tmp_path):
    fake = GraphQLServer()
    fake.script[1] = Reply(
        403, {"message": "You have exceeded a secondary rate limit"}, {"Retry-After": "3"}
    )
    with ScriptedServer(fake.get, post_handler=fake.post) as server:
        con, client = run_pulls(server, tmp_path)
    assert keys(con) == ["o/r#1", "o/r#2", "o/r#3", "o/r#4"]
    assert client.stats.waited_seconds == 3
    con.close()


def test_an_overflowing_nested_connection_is_paginated_on_its_own(tmp_path):
    fake = GraphQLServer()
    node = fake.pages[0][0]
    review = {
        "databaseId": 1,
        "state": "APPROVED",
        "submittedAt": "2026-06-13T00:00:00Z",
        "author": {"__typename": "User", "login": "rev"},
        "commit": {"oid": "a" * 40},
    }
    node["reviews"] = {"pageInfo": {"hasNextPage": True, "endCursor": "R1"}, "nodes": [review]}
    more = dict(review, databaseId=2, state="COMMENTED")
    fake.script[2] = Reply(
        body={
            "data": {
                "rateLimit": {"cost": 1, "remaining": 4000, "resetAt": "2026-06-30T13:00:00Z"},
                "repository": {
                    "pullRequest": {
                        "reviews": {
                            "pageInfo": {"hasNextPage": False, "endCursor": "R2"},
                            "nodes": [more],
                        }
                    }
                },
            }
        }
    )
    with ScriptedServer(fake.get, post_handler=fake.post) as server:
        con, _ = run_pulls(server, tmp_path)
    assert "PullRequestReviews" in fake.queries[1]["query"]
    assert fake.queries[1]["variables"] == {"owner": "o", "name": "r", "number": 4, "after": "R1"}
    states = con.execute(
        "SELECT list(payload->>'$.state' ORDER BY natural_key) FROM raw.github_pull_request_reviews"
    ).fetchone()[0]
    assert states == ["APPROVED", "COMMENTED"]
    con.close()


def test_a_revoked_credential_on_graphql_names_source_and_repository_not_the_token(tmp_path):
    fake = GraphQLServer()
    fake.script[1] = Reply(401, {"message": "Bad credentials"})
    with ScriptedServer(fake.get, post_handler=fake.post) as server:
        with pytest.raises(SourceAuthError) as caught:
            run_pulls(server, tmp_path)
    message = str(caught.value)
    assert message.startswith("gh: o/r: GitHub refused ") and "Bad credentials" in message
    assert "ghp_secret123" not in message


def test_fake_api_bills_graphql_points_per_credential_with_rate_limit_object(demo):
    clients, _, repo = demo
    transport = demo_transport(clients.demo_organisation)
    owner, name = repo.split("/")
    variables = {"owner": owner, "name": name, "first": 50, "after": None, "nested": 50}
    with GitHubClient("https://api.github.com", token="tok-a", transport=transport) as a:
        data = a.graphql(gql.PULL_REQUESTS, variables, operation="PullRequests")
        a.get(f"/repos/{repo}")
    with GitHubClient("https://ghe.example/api/v3", token="tok-b", transport=transport) as b:
        b.graphql(gql.DEPLOYMENTS, {**variables, "first": 100}, operation="Deployments")
    assert data["rateLimit"]["cost"] == 2 and a.stats.graphql_points == 2
    assert data["rateLimit"]["remaining"] == 5000 - 2
    assert b.stats.graphql_points == 1 and a.stats.requests == 1
    assert transport.stats.graphql_points == 3
    billed = sorted(
        (dict(c) for c in transport.stats.by_credential.values()),
        key=lambda c: c["graphql_points"],
    )
    assert billed == [{"graphql_points": 1}, {"graphql_points": 2, "requests": 1}]
    assert all("tok-" not in key for key in transport.stats.by_credential)
    assert len(data["repository"]["pullRequests"]["nodes"]) == 50


def test_fake_api_answers_rate_limited_when_the_points_run_out(demo):
    clients, _, repo = demo
    transport = demo_transport(clients.demo_organisation, rate_limit=3, enforce_rate_limit=True)
    owner, name = repo.split("/")
    variables = {"owner": owner, "name": name, "first": 50, "after": None, "nested": 50}
    no_retry = RetryPolicy(max_retries=0)
    with GitHubClient("https://api.github.com", transport=transport, retry=no_retry) as client:
        client.graphql(gql.PULL_REQUESTS, variables, operation="PullRequests")
        with pytest.raises(SourceError, match="RATE_LIMITED"):
            client.graphql(gql.PULL_REQUESTS, variables, operation="PullRequests")
    assert transport.stats.rate_limited == 1


def test_a_page_promising_more_but_empty_stops_without_moving_the_cursor(tmp_path):
    fake = GraphQLServer()
    fake.pages.insert(1, [])
    with ScriptedServer(fake.get, post_handler=fake.post) as server:
        with pytest.raises(SourceError, match="said more pages follow but sent an empty page"):
            run_pulls(server, tmp_path)
    con = connect(tmp_path / "wh.duckdb")
    assert keys(con) == ["o/r#3", "o/r#4"]
    assert get_sync_state(con, "gh", "o/r", "pull_requests") is None
    con.close()
