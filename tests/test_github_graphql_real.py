"""Real GitHub GraphQL nodes (DevLake's recordings) replayed over 127.0.0.1 through the production
client and sync, then built by dbt: the staging rows say what the recording says.

The recordings: 161 pull requests of apache/incubator-devlake with nested commits and reviews
(2024-08), and the deployments of facebook/OpenBIC. DevLake re-serialised GitHub's keys in Go's
CapitalCase (``DatabaseId``, ``MergedAt``); the server below gives them back GitHub's camelCase and
answers the client's own queries from them (pages, cursors, nested overflow). The deployment
recording holds each deployment's ``latestStatus`` only, so that is its one status.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from pipelines.github import graphql as gql
from pipelines.github.client import GitHubClient
from pipelines.github.sync import RAW_TABLES, RepositorySync
from pipelines.warehouse import connect, ensure_raw_table
from tests.http_server import Reply, ScriptedServer
from tests.test_dbt_models import failures, query, run_dbt

PRS = "devlake-e2e/github_graphql_2024-08_commit724699278/raw_tables/_raw_github_graphql_prs.csv"
DEPLOYMENTS = "devlake-e2e/github_graphql/raw_tables/_raw_github_graphql_deployment.csv"
PR_REPO = "apache/incubator-devlake"
DEPLOY_REPO = "facebook/OpenBIC"
NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def camel(value: Any) -> Any:
    """DevLake's ``MergedAt`` -> GitHub's ``mergedAt``, all the way down."""
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value


def recorded(path: Path) -> list[dict]:
    csv.field_size_limit(10**9)
    with open(path, newline="", encoding="utf-8") as f:
        nodes = {}
        for row in csv.DictReader(f):
            node = camel(json.loads(row["data"]))
            nodes[node["databaseId"]] = node
    return list(nodes.values())


def page(items: list, first: int, after: str | None) -> dict:
    start = int(after) if after else 0
    end = start + first
    return {
        "pageInfo": {"hasNextPage": end < len(items), "endCursor": str(end)},
        "nodes": items[start:end],
    }


class RecordedGraphQL:
    def __init__(self, real: Path) -> None:
        self.pulls = sorted(recorded(real / PRS), key=lambda n: n["updatedAt"], reverse=True)
        self.by_number = {n["number"]: n for n in self.pulls}
        self.deployments = sorted(
            recorded(real / DEPLOYMENTS), key=lambda n: n["createdAt"], reverse=True
        )
        self.by_id = {n["id"]: n for n in self.deployments}
        self.operations: list[str] = []

    def get(self, path: str, headers: dict[str, str]) -> Reply:
        # The REST side of the GraphQL path: the repository and the two conditional probes.
        repo = "/".join(path.split("?")[0].strip("/").split("/")[1:3])
        if path.startswith(f"/repos/{repo}?") or path == f"/repos/{repo}":
            return Reply(body={"full_name": repo, "default_branch": "main"})
        return Reply(body=[{"probe": path}], headers={"ETag": '"probe"'})

    def post(self, path: str, headers: dict[str, str], body: bytes) -> Reply:
        request = json.loads(body)
        v = request["variables"]
        operation = request["query"].split("(")[0].split()[-1]
        self.operations.append(operation)
        rate = {"cost": gql.query_cost(request["query"], v), "remaining": 4900}
        if operation == "PullRequests":
            connection = page(self.pulls, v["first"], v["after"])
            connection["nodes"] = [self.pull(n, v["nested"]) for n in connection["nodes"]]
            data = {"repository": {"pullRequests": connection}}
        elif operation in ("PullRequestReviews", "PullRequestCommits"):
            field = "reviews" if operation == "PullRequestReviews" else "commits"
            nodes = self.by_number[v["number"]][field]["nodes"]
            data = {"repository": {"pullRequest": {field: page(nodes, 100, v["after"])}}}
        elif operation == "Deployments":
            connection = page(self.deployments, v["first"], v["after"])
            connection["nodes"] = [self.deployment(n) for n in connection["nodes"]]
            data = {"repository": {"deployments": connection}}
        else:
            return Reply(body={"errors": [{"message": f"unexpected {operation}"}]})
        return Reply(body={"data": {"rateLimit": rate, **data}})

    def pull(self, node: dict, nested: int) -> dict:
        return {
            **node,
            "reviews": page(node["reviews"]["nodes"], nested, None),
            "commits": page(node["commits"]["nodes"], nested, None),
        }

    def deployment(self, node: dict) -> dict:
        latest = node["latestStatus"]
        status = {**latest, "createdAt": latest["updatedAt"]}
        return {**node, "statuses": page([status], 100, None)}


@pytest.fixture(scope="module")
def replayed(tmp_path_factory):
    from tests.conftest import SHARED_REAL

    if not SHARED_REAL.is_dir():
        pytest.skip(f"real recordings not found at {SHARED_REAL} (../shared is absent)")
    fake = RecordedGraphQL(SHARED_REAL)
    tmp = tmp_path_factory.mktemp("graphql_real")
    path = tmp / "wh.duckdb"
    con = connect(path)
    for table in RAW_TABLES:
        ensure_raw_table(con, table)
    with ScriptedServer(fake.get, post_handler=fake.post) as server:
        client = GitHubClient(server.url, token="t", sleep=lambda s: None)
        for repo, entity in ((PR_REPO, "pull_requests"), (DEPLOY_REPO, "deployments")):
            RepositorySync(
                con,
                client,
                source="github",
                repository=repo,
                backfill_days=3650,
                now=NOW,
                api="graphql",
            ).run([entity])
    con.close()
    models = [
        "stg_github__pull_requests",
        "stg_github__pull_request_reviews",
        "stg_github__pull_request_commits",
        "stg_github__deployments",
        "stg_github__deployment_statuses",
    ]
    result = run_dbt(["run", "--select", *models], path, tmp / "target")
    assert result.success, failures(result)
    return fake, path, client


def test_real_pull_requests_keep_their_merge_times_states_and_merge_commits(replayed):
    fake, path, _ = replayed
    rows = {
        r[0]: r[1:]
        for r in query(
            path,
            "select pr_number, merged_at, state, merge_commit_sha, head_sha, author, labels "
            f"from staging.stg_github__pull_requests where repository = '{PR_REPO}'",
        )
    }
    assert len(rows) == len(fake.pulls) == 161
    for node in fake.pulls:
        merged_at, state, merge_sha, head_sha, author, labels = rows[node["number"]]
        expected = node["mergedAt"]
        assert (merged_at.isoformat() if merged_at else None) == (
            expected.replace("Z", "+00:00") if expected else None
        )
        assert state == ("open" if node["state"] == "OPEN" else "closed")
        if node["state"] == "MERGED":
            assert merge_sha == node["mergeCommit"]["oid"]
        assert head_sha == node["headRefOid"]
        assert author == node["author"]["login"]
        assert list(labels or []) == [x["name"] for x in node["labels"]["nodes"]]


def test_real_reviews_keep_their_ids_states_and_reviewers(replayed):
    fake, path, _ = replayed
    got = sorted(
        query(
            path,
            "select cast(split_part(pull_request_key, '#', 2) as int), review_id, state, reviewer "
            "from staging.stg_github__pull_request_reviews",
        )
    )
    expected = sorted(
        (n["number"], r["databaseId"], r["state"], (r.get("author") or {}).get("login"))
        for n in fake.pulls
        for r in n["reviews"]["nodes"]
    )
    assert got == expected and len(got) > 80


def test_real_commits_keep_their_shas_even_past_a_nested_page(replayed):
    fake, path, _ = replayed
    got = sorted(
        query(
            path,
            "select cast(split_part(pull_request_key, '#', 2) as int), sha "
            "from staging.stg_github__pull_request_commits",
        )
    )
    expected = sorted(
        (n["number"], c["commit"]["oid"]) for n in fake.pulls for c in n["commits"]["nodes"]
    )
    assert got == expected
    # The recording has a pull request with 100 commits: more than one nested page.
    assert "PullRequestCommits" in fake.operations


def test_real_deployments_and_their_status_land_with_rest_ids(replayed):
    fake, path, _ = replayed
    deployments = {
        r[0]: r[1:]
        for r in query(
            path,
            "select github_deployment_id, commit_sha, environment, ref "
            "from staging.stg_github__deployments",
        )
    }
    assert set(deployments) == {n["databaseId"] for n in fake.deployments}
    for node in fake.deployments:
        assert deployments[node["databaseId"]] == (
            node["commitOid"],
            node["environment"],
            node["ref"]["name"],
        )
    statuses = query(
        path,
        "select d.github_deployment_id, s.status_id, s.state from "
        "staging.stg_github__deployment_statuses s join staging.stg_github__deployments d "
        "using (deployment_key)",
    )
    expected = {
        (
            n["databaseId"],
            gql.database_id(n["latestStatus"]["id"]),
            n["latestStatus"]["state"].lower(),
        )
        for n in fake.deployments
    }
    assert set(statuses) == expected
    assert all(status_id for _, status_id, _ in statuses)


def test_replay_billed_the_points_the_queries_cost(replayed):
    _, _, client = replayed
    assert client.stats.graphql_queries == len(replayed[0].operations)
    # 161 pull requests: 4 pages of 50 at 2 points, 1 page of deployments, 1 nested overflow.
    assert client.stats.graphql_points == 4 * 2 + 1 + 1
