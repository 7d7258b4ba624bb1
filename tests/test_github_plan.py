"""``platform-metrics plan``: the estimate from a few cheap calls matches what the sync then costs."""

from __future__ import annotations

import datetime as dt
import math

import httpx
import pytest

from assets.cli import main
from pipelines import ingest
from pipelines.demo import demo_transport, generate_organisation, scaled_demo_config
from pipelines.github.client import GitHubClient
from pipelines.github.plan import ASSUMPTIONS, format_plan, plan_organisation, plan_source
from pipelines.github.sync import JobSelection, job_selection
from pipelines.warehouse import connect
from tests.http_server import Reply, ScriptedServer

# A fixed demo history: the demo grows every clock hour, so an unpinned one would make what a
# sync reads depend on the hour the test runs.
END = dt.date(2026, 6, 30)


@pytest.fixture(scope="module")
def demo():
    return scaled_demo_config(repositories=3, months=2, end_date=END)


def _by(plan, entity):
    return [r for r in plan.rows if r.entity == entity]


def test_the_plan_counts_what_the_first_sync_then_lands_and_estimates_its_requests(demo, tmp_path):
    (plan,) = plan_organisation(demo)
    assert plan.repositories == 3
    # The plan's own cost: a handful of requests per repository, nothing like the sync's.
    assert plan.probe_requests <= 9 * plan.repositories

    # rest_requests is what the REST path costs: compare it with a sync on that path.
    rest_source = demo.sources.github[0].model_copy(update={"api": "rest"})
    rest = demo.model_copy(
        update={"sources": demo.sources.model_copy(update={"github": [rest_source]})}
    )
    con = connect(tmp_path / "wh.duckdb")
    (report,) = ingest.sync_github(con, ingest.SourceClients(rest))
    landed = {
        table: con.execute(f"SELECT count(*) FROM raw.{table}").fetchone()[0]
        for table in ("github_pull_requests", "github_workflow_runs", "github_issues")
    }
    con.close()
    assert sum(r.items for r in _by(plan, "pull_requests")) == landed["github_pull_requests"]
    assert sum(r.items for r in _by(plan, "workflow_runs")) == landed["github_workflow_runs"]
    assert sum(r.items for r in _by(plan, "issues")) == landed["github_issues"]
    spent = report.requests["requests"] - report.requests["discovery_requests"]
    assert plan.rest_requests == pytest.approx(spent, rel=0.25)
    # The GraphQL bulk path for pull requests and deployments costs far less.
    bulk = [r for r in plan.rows if r.graphql_points is not None]
    assert {r.entity for r in bulk} == {
        "pull_requests",
        "deployments",
        "workflow_runs",
        # Batched listings: 25 repositories' metadata, tags and releases a point.
        "repository",
        "tags",
        "releases",
    }
    assert sum(r.graphql_points for r in bulk) < sum(r.rest_requests for r in bulk) / 10
    assert plan.cost_with_graphql < plan.rest_requests
    listed = [r for r in plan.rows if r.entity in ("repository", "tags", "releases")]
    assert all(r.cost("graphql") == 0 for r in listed)  # no tag or release overflows a page
    assert plan.listing_points == 1
    assert plan.first_run_cost == sum(r.cost("graphql") for r in plan.window_rows) + 1


def test_a_smaller_job_sample_plans_fewer_requests(demo):
    org = generate_organisation(demo)
    source = demo.sources.github[0]
    now = ingest.SourceClients(demo).now()
    repos = org.repositories[:2]
    with GitHubClient(transport=demo_transport(org)) as client:
        full = plan_source(client, source, repos, now=now, jobs=JobSelection(), credentials=1)
        sampled = plan_source(
            client, source, repos, now=now, jobs=JobSelection((), 1), credentials=1
        )
    runs = sum(r.items for r in _by(full, "workflow_runs"))
    assert runs > 0
    assert full.rest_requests - sampled.rest_requests > runs / 2


def _bridge(transport: httpx.MockTransport):
    """Serve the demo's fake GitHub on a real socket."""

    def handler(path: str, headers: dict[str, str]) -> Reply:
        response = transport.handle_request(
            httpx.Request("GET", f"https://api.github.com{path}", headers=headers)
        )
        response.read()
        passed = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length",)}
        return Reply(response.status_code, response.content, passed)

    return handler


def test_the_plan_works_over_a_real_socket_and_prints_a_table_a_total_and_its_assumptions(demo):
    org = generate_organisation(demo)
    source = demo.sources.github[0]
    now = dt.datetime.now(dt.UTC)
    with ScriptedServer(_bridge(demo_transport(org))) as server:
        with GitHubClient(server.url) as client:
            plan = plan_source(
                client,
                source,
                org.repositories,
                now=now,
                jobs=job_selection(source, demo.metrics),
                credentials=2,
            )
        asked = [path for path, _ in server.requests]
    assert any(p.startswith("/search/issues?") and "is%3Apr" in p for p in asked)
    assert plan.probe_requests == len(asked)
    text = format_plan([plan])
    for repo in org.repositories:
        assert repo in text
    assert "token-hours" in text and "with 2 credential(s)" in text
    assert all(a in text for a in ASSUMPTIONS)


def test_the_plan_command_runs_on_the_demo(capsys):
    assert main(["plan"]) == 0
    out = capsys.readouterr().out
    assert "pull_requests" in out and "workflow_runs" in out
    assert "total:" in out and "token-hours" in out


def test_the_plan_shows_the_first_runs_window_and_estimates_what_that_run_then_costs(
    demo, tmp_path
):
    """With initial_window_days under backfill_days, the first run reads only the newest window:
    the plan's first-run cost is what the first (GraphQL) sync then bills, the history more."""
    source = demo.sources.github[0].model_copy(
        update={"initial_window_days": 30, "backfill_step_days": 90, "api": "graphql"}
    )
    config = demo.model_copy(
        update={"sources": demo.sources.model_copy(update={"github": [source]})}
    )
    (plan,) = plan_organisation(config)
    assert plan.initial_window_days == 30 and plan.window_since > plan.since
    runs = {r.entity: r for r in plan.window_rows if r.repository == plan.rows[0].repository}
    assert runs["workflow_runs"].items < plan.rows[6].items
    # That first run skips each entity's empty increment, so its window sends no probe: the
    # GraphQL path's REST requests for pull requests and deployments are none (the whole
    # history's estimate, read at once, counts one probe each).
    whole = {r.entity: r for r in plan.rows if r.repository == plan.rows[0].repository}
    for entity in ("pull_requests", "deployments"):
        assert (runs[entity].graphql_rest_requests, whole[entity].graphql_rest_requests) == (0, 1)
    # It defers the REST queue-time sample to the runs that follow: its runs' REST requests are
    # the run listing's pages only; the whole history's count the sample (and the probe) too.
    per_page = config.sources.github[0].per_page
    listing = max(1, math.ceil(runs["workflow_runs"].items / per_page))
    assert runs["workflow_runs"].graphql_rest_requests == listing
    history_listing = max(1, math.ceil(whole["workflow_runs"].items / per_page)) + 1
    assert whole["workflow_runs"].graphql_rest_requests > history_listing
    assert plan.first_run_cost < plan.history_cost < plan.rest_requests

    con = connect(tmp_path / "wh.duckdb")
    (report,) = ingest.sync_github(con, ingest.SourceClients(config))
    con.close()
    billed = (
        report.requests["requests"]
        - report.requests["discovery_requests"]
        - report.requests["not_modified"]
        + report.requests["graphql_points"]
    )
    assert plan.first_run_cost == pytest.approx(billed, rel=0.35)
    text = format_plan([plan])
    assert "first run (newest 30 days)" in text and "whole history" in text
    as_json = plan.as_dict()
    assert as_json["first_run_cost"] == plan.first_run_cost
    assert len(as_json["window_rows"]) == len(as_json["rows"])
