"""What an incremental GitHub sync costs, and which repositories discovery finds.

The no-change target: at most one conditional request per repository and entity, all answered 304
(the demo's fake GitHub computes ETags and 304s like api.github.com)."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines import ingest
from pipelines.demo import scaled_demo_config
from pipelines.errors import SourceNotFoundError
from pipelines.github.client import GitHubClient
from pipelines.github.discovery import RepositoryFilter, discover_repositories
from pipelines.github.sync import ENTITIES
from pipelines.warehouse import connect
from tests.http_server import Reply, ScriptedServer

# A fixed demo history: the demo grows every clock hour, so an unpinned one would make what a
# sync reads depend on the hour the test runs.
END = dt.date(2026, 6, 30)


@pytest.fixture
def demo(tmp_path):
    config = scaled_demo_config(repositories=3, months=2, end_date=END)
    clients = ingest.SourceClients(config)
    con = connect(tmp_path / "wh.duckdb")
    yield config, clients, con
    con.close()


def test_a_no_change_run_costs_one_conditional_request_per_repository_and_entity(demo):
    _, clients, con = demo
    first = ingest.sync_github(con, clients)
    repos = sum(r.scopes for r in first)
    assert repos == 3
    again = ingest.sync_github(con, clients)
    for report in again:
        # api: graphql reads every repository's metadata, tags and releases in one batched
        # query (1 point for the three repositories), so those cost no request at all.
        assert report.batched == {
            "repository_listings": {
                "items": 3,
                "requests": 0,
                "graphql_queries": 1,
                "graphql_points": 1,
            }
        }
        for repo, entities in report.by_scope.items():
            assert set(entities) == set(ENTITIES)
            for entity, cost in entities.items():
                listed = entity in ("repository", "tags", "releases")
                assert cost["requests"] == (0 if listed else 1), (repo, entity, cost)
                assert cost["not_modified"] == (0 if listed else 1), (repo, entity, cost)
                assert cost["items"] == 0
                assert cost["unchanged"], (repo, entity, cost)
    assert sum(r.items for r in again) == 0


def test_a_no_change_rest_run_costs_one_conditional_request_per_repository_and_entity(tmp_path):
    config = scaled_demo_config(repositories=3, months=2, end_date=dt.date(2026, 3, 31))
    github = [s.model_copy(update={"api": "rest"}) for s in config.sources.github]
    config = config.model_copy(
        update={"sources": config.sources.model_copy(update={"github": github})}
    )
    clients = ingest.SourceClients(config)
    con = connect(tmp_path / "rest.duckdb")
    try:
        ingest.sync_github(con, clients)
        again = ingest.sync_github(con, clients)
    finally:
        con.close()
    for report in again:
        assert report.batched == {}
        for repo, entities in report.by_scope.items():
            assert set(entities) == set(ENTITIES)
            for entity, cost in entities.items():
                assert cost["requests"] == 1, (repo, entity, cost)
                assert cost["not_modified"] == 1, (repo, entity, cost)
                assert cost["items"] == 0


def test_a_change_after_a_no_change_run_is_still_picked_up(demo):
    _, clients, con = demo
    ingest.sync_github(con, clients)
    ingest.sync_github(con, clients)
    repo = next(iter(ingest.discover_github_repositories(clients).values()))[0]
    data = clients.demo_organisation.repo(repo)
    pr = max(data.pulls, key=lambda p: p["updated_at"])
    changed = dict(pr, title="retitled", updated_at="2099-01-01T00:00:00Z")
    data.pulls[data.pulls.index(pr)] = changed
    data.views.clear()
    report = ingest.sync_github(con, clients, repositories=[repo])[0]
    assert report.by_scope[repo]["pull_requests"]["items"] == 1
    title = con.execute(
        "SELECT payload->>'title' FROM raw.github_pull_requests WHERE natural_key = ?",
        [f"{repo}#{pr['number']}"],
    ).fetchone()[0]
    assert title == "retitled"


def repo(name: str, **fields) -> dict:
    return {"full_name": name, "archived": False, "fork": False, "topics": []} | fields


def test_discovery_filters_and_falls_back_from_organisation_to_user():
    org_repos = [
        repo("acme/api", topics=["service"]),
        repo("acme/old", archived=True, topics=["service"]),
        repo("acme/fork-of-x", fork=True, topics=["service"]),
        repo("acme/docs", topics=["docs"]),
        repo("acme/sandbox-1", topics=["service"]),
    ]

    def handler(path: str, headers: dict[str, str]) -> Reply:
        if path.startswith("/orgs/acme/repos"):
            return Reply(body=org_repos)
        if path.startswith("/orgs/ada/"):
            return Reply(404, {"message": "Not Found"})
        if path.startswith("/users/ada/repos"):
            return Reply(body=[repo("ada/dotfiles")])
        return Reply(404, {"message": "Not Found"})

    keep = RepositoryFilter(name_regex=r"^acme/(?!sandbox)|^ada/", topics=("service",))
    with ScriptedServer(handler) as server, GitHubClient(server.url) as client:
        assert discover_repositories(client, ["acme"], ["other/explicit"], keep) == [
            "acme/api",
            "other/explicit",
        ]
        everything = RepositoryFilter(include_archived=True, include_forks=True)
        assert discover_repositories(client, ["acme", "ada"], [], everything) == sorted(
            [r["full_name"] for r in org_repos] + ["ada/dotfiles"]
        )
        with pytest.raises(SourceNotFoundError, match="no organisation or user 'nobody'"):
            discover_repositories(client, ["nobody"], [])


def test_partition_keys_name_the_source_only_when_it_is_not_the_default():
    assert ingest.github_partition_key("github", "acme/api") == "acme/api"
    assert ingest.github_partition_key("ghe", "acme/api") == "ghe:acme/api"
    assert ingest.parse_github_partition_key("acme/api") == ("github", "acme/api")
    assert ingest.parse_github_partition_key("ghe:acme/api") == ("ghe", "acme/api")


def test_resync_forgets_the_cursors_and_reads_the_history_again(demo):
    _, clients, con = demo
    first = ingest.sync_github(con, clients)[0]
    repo = sorted(first.by_scope)[0]
    items = sum(e["items"] for e in first.by_scope[repo].values())
    key = ingest.github_partition_key("github", repo)
    again = ingest.sync_github(con, clients, partition_keys=[key], resync=True)[0]
    assert sum(e["items"] for e in again.by_scope[repo].values()) == items
    assert again.by_scope[repo]["pull_requests"]["not_modified"] == 0
