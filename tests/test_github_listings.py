"""Batched repository listings (api: graphql): several repositories' metadata, tags and newest
releases in one GraphQL query, the same staging rows as REST, and REST wherever a listing is
missing or overflows (pipelines/github/listings.py)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from pipelines import ingest
from pipelines.demo import scaled_demo_config
from pipelines.github import graphql as gql
from pipelines.github.client import GitHubClient
from pipelines.github.listings import fetch_listings
from pipelines.http import RetryPolicy
from pipelines.warehouse import connect
from tests.http_server import Reply, ScriptedServer
from tests.test_dbt_models import failures, run_dbt
from tests.test_github_graphql import assert_same_staging_rows

FAST = RetryPolicy(max_retries=1, backoff_base=0.01, backoff_max=0.02, max_total_seconds=2)
LISTED = ("repository", "tags", "releases")
STAGING = ("stg_github__repositories", "stg_github__tags", "stg_github__releases")
# REST-only: GraphQL's Release has no target_commitish (docs/raw-contract.md).
REST_ONLY = {"stg_github__releases": ("target_commitish",)}


# The demo's mobile repositories (every fourth, from the fourth) are the ones with tags and releases.
MOBILE = "appstore/mobile-svc-003"


# A past last day pins the generated history (it grows with the clock otherwise): on it the mobile
# repository has 11 releases and tags, 4 of them in the newest 30 days.
END = dt.date(2026, 3, 31)


def demo_config(api: str, repositories: int = 4, months: int = 3, **github):
    config = scaled_demo_config(repositories=repositories, months=months, end_date=END)
    sources = [s.model_copy(update={"api": api, **github}) for s in config.sources.github]
    return config.model_copy(
        update={"sources": config.sources.model_copy(update={"github": sources})}
    )


def sync(path: Path, config, **options):
    con = connect(path)
    try:
        return ingest.sync_github(con, ingest.SourceClients(config), **options)
    finally:
        con.close()


def raw(path: Path, sql: str) -> list[tuple]:
    con = connect(path)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("listings")
    out = {}
    for api in ("rest", "graphql"):
        path = tmp / f"{api}.duckdb"
        reports = sync(path, demo_config(api))
        result = run_dbt(["run", "--select", *STAGING], path, tmp / f"target_{api}")
        assert result.success, failures(result)
        out[api] = (path, reports)
    return out


@pytest.mark.parametrize("model", STAGING)
def test_batched_listings_give_the_same_staging_rows_as_rest(both, model):
    assert_same_staging_rows(both["rest"][0], both["graphql"][0], model, REST_ONLY.get(model, ()))


def test_four_repositories_listings_cost_one_point_and_no_request(both):
    (report,) = both["graphql"][1]
    assert report.batched["repository_listings"] == {
        "items": 4,
        "requests": 0,
        "graphql_queries": 1,
        "graphql_points": 1,
    }
    for repo, entities in report.by_scope.items():
        for entity in LISTED:
            assert entities[entity]["requests"] == 0, (repo, entity)
    assert all(report.by_scope[MOBILE][e]["items"] > 0 for e in LISTED)
    (rest,) = both["rest"][1]
    assert rest.batched == {}
    assert all(rest.by_scope[r][e]["requests"] >= 1 for r in rest.by_scope for e in LISTED)


def test_twenty_five_repositories_share_a_point():
    query = gql.repository_listings_query(gql.LISTINGS_PER_QUERY)
    assert gql.query_cost(query) == 1
    with pytest.raises(ValueError):
        gql.repository_listings_query(gql.LISTINGS_PER_QUERY + 1)


def test_tags_and_releases_past_one_page_are_read_on_by_rest_with_nothing_missing(tmp_path):
    # Two items a page: the mobile repository overflows, so REST reads the tags whole and the
    # release walk goes on from REST's page 2 after the listing's page 1. Only that repository is
    # synced: at two items a page every entity of four repositories took minutes.
    options = {"per_page": 2, "initial_window_days": 30, "backfill_days": 90}
    rest_path, gql_path = tmp_path / "rest.duckdb", tmp_path / "graphql.duckdb"
    seen = {}
    for run in ("first window", "walk back"):
        sync(rest_path, demo_config("rest", **options), repositories=[MOBILE])
        (report,) = sync(gql_path, demo_config("graphql", **options), repositories=[MOBILE])
        for table in ("github_tags", "github_releases"):
            sql = f"SELECT natural_key FROM raw.{table} ORDER BY 1"
            rows = raw(gql_path, sql)
            assert rows == raw(rest_path, sql), (run, table)
            assert len(rows) > 2, f"{run}: no overflow in {table}: proves nothing"
            seen[run, table] = len(rows)
    assert seen["walk back", "github_releases"] > seen["first window", "github_releases"]
    assert report.by_scope[MOBILE]["tags"]["requests"] >= 1
    assert report.by_scope[MOBILE]["releases"]["requests"] >= 1


def test_an_unchanged_listing_writes_nothing_and_a_changed_one_lands(tmp_path):
    config = demo_config("graphql")
    path = tmp_path / "wh.duckdb"
    sync(path, config)
    before = raw(path, "SELECT natural_key, fetched_at FROM raw.github_tags ORDER BY 1")
    (again,) = sync(path, config)
    assert raw(path, "SELECT natural_key, fetched_at FROM raw.github_tags ORDER BY 1") == before
    for entities in again.by_scope.values():
        assert all(entities[e]["items"] == 0 and entities[e]["unchanged"] for e in LISTED)
    clients = ingest.SourceClients(config)
    repo = MOBILE
    release = clients.demo_organisation.repo(repo).releases[0]
    release["name"] = "renamed"
    con = connect(path)
    try:
        (changed,) = ingest.sync_github(con, clients, repositories=[repo])
        assert changed.by_scope[repo]["releases"]["items"] == 1
        (name,) = con.execute(
            "SELECT payload->>'name' FROM raw.github_releases WHERE natural_key = ?",
            [f"{repo}/release/{release['id']}"],
        ).fetchone()
    finally:
        con.close()
    assert name == "renamed"


class ListingsServer:
    """GraphQL over 127.0.0.1 answering ``RepositoryListings`` from ``answer(variables)``."""

    def __init__(self, answer) -> None:
        self.answer = answer
        self.queries: list[dict] = []

    def get(self, path, headers) -> Reply:
        return Reply(404, {"message": "Not Found"})

    def post(self, path, headers, body) -> Reply:
        request = json.loads(body)
        self.queries.append(request)
        return self.answer(request["variables"])


def listing_node(i: int, owner: str, name: str) -> dict:
    return {
        "id": f"R_{i}",
        "databaseId": 100 + i,
        "name": name,
        "nameWithOwner": f"{owner}/{name}",
        "url": f"https://github.com/{owner}/{name}",
        "isPrivate": False,
        "isArchived": False,
        "createdAt": "2025-01-01T00:00:00Z",
        "pushedAt": "2026-06-01T00:00:00Z",
        "updatedAt": "2026-06-01T00:00:00Z",
        "owner": {"login": owner},
        "defaultBranchRef": {"name": "main"},
        "repositoryTopics": {"nodes": [{"topic": {"name": "service"}}]},
        "refs": {
            "pageInfo": {"hasNextPage": False},
            "nodes": [
                {
                    "name": "v2",
                    "target": {"__typename": "Tag", "oid": "t" * 40, "target": {"oid": "c" * 40}},
                },
                {"name": "v1", "target": {"__typename": "Commit", "oid": "d" * 40}},
            ],
        },
        "releases": {"pageInfo": {"hasNextPage": False}, "nodes": []},
    }


def test_a_repository_the_query_cannot_read_is_left_to_rest_and_the_others_are_listed():
    def answer(variables):
        data, errors = {"rateLimit": {"cost": 1, "remaining": 4999}}, []
        for i in range(len(variables) // 2):
            owner, name = variables[f"owner{i}"], variables[f"name{i}"]
            if name == "secret":
                data[f"r{i}"] = None
                errors.append(
                    {"type": "NOT_FOUND", "path": [f"r{i}"], "message": "Could not resolve"}
                )
            else:
                data[f"r{i}"] = listing_node(i, owner, name)
        return Reply(body={"data": data, "errors": errors})

    fake = ListingsServer(answer)
    with ScriptedServer(fake.get, post_handler=fake.post) as server:
        with GitHubClient(server.url, token="ghp_secret123", retry=FAST) as client:
            found, report = fetch_listings(
                client, ["o/a", "o/secret", "o/b"], source="gh", per_query=2
            )
    assert sorted(found) == ["o/a", "o/b"]
    assert (report.queries, report.graphql_points, report.failures) == (2, 2, [])
    # An annotated tag is peeled to its commit, as REST lists it.
    assert found["o/a"].tags == [
        {"name": "v2", "commit": {"sha": "c" * 40}},
        {"name": "v1", "commit": {"sha": "d" * 40}},
    ]
    assert found["o/a"].repository["topics"] == ["service"]
    assert found["o/a"].repository["full_name"] == "o/a"


@pytest.mark.parametrize(
    "reply",
    [
        Reply(502, {"message": "Bad Gateway"}),
        Reply(401, {"message": "Bad credentials"}),
        Reply(body={"data": None, "errors": [{"type": "INTERNAL", "message": "boom"}]}),
    ],
    ids=["outage", "credentials", "query_error"],
)
def test_a_failed_listings_query_leaves_its_repositories_to_rest_in_one_line(reply, caplog):
    fake = ListingsServer(lambda variables: reply)
    with ScriptedServer(fake.get, post_handler=fake.post) as server:
        with GitHubClient(server.url, token="ghp_secret123", retry=FAST) as client:
            found, report = fetch_listings(client, ["o/a", "o/b"], source="gh")
    assert found == {}
    (line,) = report.failures
    assert line.startswith("gh: listings of o/a and 1 more by REST: ")
    assert "\n" not in line and "ghp_secret123" not in line
    assert "ghp_secret123" not in caplog.text


def test_a_failed_listings_query_gives_the_rows_of_a_rest_sync(tmp_path, monkeypatch):
    # The whole listings query fails (an outage): every entity falls back to REST, and the rows
    # are those of a REST sync.
    from pipelines.github import listings

    def broken(client, batch, page):
        raise listings.SourceError("GitHub GraphQL RepositoryListings answered INTERNAL: boom")

    monkeypatch.setattr(listings, "_fetch", broken)
    rest_path, gql_path = tmp_path / "rest.duckdb", tmp_path / "graphql.duckdb"
    sync(rest_path, demo_config("rest"))
    (report,) = sync(gql_path, demo_config("graphql"))
    assert report.batched["repository_listings"]["items"] == 0
    for table in ("github_repositories", "github_tags", "github_releases"):
        sql = f"SELECT natural_key, payload FROM raw.{table} ORDER BY 1"
        assert raw(gql_path, sql) == raw(rest_path, sql), table
