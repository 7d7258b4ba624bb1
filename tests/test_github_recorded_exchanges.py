"""Whole recorded GitHub HTTP exchanges (PyGithub's and octokit's fixtures, with their real headers)
replayed to the production client and sync: real Link headers, real rate-limit headers, real errors.
Read from ../shared; nothing is copied into the project."""

from __future__ import annotations

import ast
import datetime as dt
import json
from pathlib import Path

import httpx
import pytest

from pipelines.errors import SourceError
from pipelines.github.client import GitHubClient
from pipelines.github.sync import RepositorySync
from pipelines.warehouse import connect

NOW = dt.datetime(2012, 6, 1, tzinfo=dt.UTC)


def pygithub_exchanges(path: Path) -> list[dict]:
    """PyGithub's format: 11 lines per exchange (scheme, verb, host, port, path, request headers,
    request body, status, response headers as a Python list of pairs, response body, blank)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    out = []
    for i in range(0, len(lines) - 9, 11):
        out.append(
            {
                "method": lines[i + 1],
                "path": lines[i + 4],
                "status": int(lines[i + 7]),
                "headers": ast.literal_eval(lines[i + 8]),
                "body": lines[i + 9],
            }
        )
    return out


def octokit_exchanges(folder: Path) -> list[dict]:
    data = json.loads((folder / "normalized-fixture.json").read_text(encoding="utf-8"))
    return [
        {
            "method": e["method"].upper(),
            "path": e["path"],
            "status": e["status"],
            "headers": list((e.get("headers") or {}).items()),
            "body": json.dumps(e["response"]),
        }
        for e in data
    ]


class Replay(httpx.MockTransport):
    """Answers a request with the recorded exchange for its path and query; a first request whose
    query we choose differently (per_page, since) gets the recording of the same path, and a
    next page past the end of the recording is an empty page."""

    def __init__(self, exchanges: list[dict]):
        self.exchanges = exchanges
        self.served: list[str] = []
        super().__init__(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        target = request.url.raw_path.decode()
        match = next((e for e in self.exchanges if e["path"] == target), None)
        path = target.split("?")[0]
        followed_link = any(k in request.url.params for k in ("page", "last_sha", "after"))
        if match is None and followed_link:
            # A next page the recording stopped before: the list ends here.
            self.served.append(target)
            return httpx.Response(200, json=[])
        if match is None:
            match = next(e for e in self.exchanges if e["path"].split("?")[0] == path)
        self.served.append(match["path"])
        headers = [
            (k, str(v))
            for k, v in match["headers"]
            if k.lower()
            not in ("content-length", "transfer-encoding", "content-encoding", "status")
        ]
        return httpx.Response(match["status"], headers=headers, content=match["body"].encode())


@pytest.fixture
def pygithub(shared_real) -> Path:
    return shared_real / "github-recordings" / "pygithub"


@pytest.fixture
def octokit(shared_real) -> Path:
    return shared_real / "github-recordings" / "octokit-fixtures"


def test_recorded_commit_pages_follow_real_link_headers_into_the_warehouse(pygithub, tmp_path):
    exchanges = pygithub_exchanges(pygithub / "Repository.testGetCommits.txt")
    recorded = {c["sha"] for e in exchanges for c in json.loads(e["body"])}
    transport = Replay(exchanges)
    con = connect(tmp_path / "wh.duckdb")
    with GitHubClient(transport=transport) as client:
        sync = RepositorySync(
            con,
            client,
            source="github",
            repository="PyGithub/PyGithub",
            backfill_days=4000,
            now=NOW,
        )
        sync.default_branch = "master"
        sync.sync_commits()
        assert client.stats.rate_limit_waits == 0  # x-ratelimit-remaining is far from 0
    # Every recorded page was reached through its Link header (cursor-style last_sha links).
    assert {e["path"] for e in exchanges} <= set(transport.served)
    shas = {s for (s,) in con.execute("SELECT payload->>'sha' FROM raw.github_commits").fetchall()}
    assert shas == recorded
    con.close()


@pytest.mark.parametrize(
    "recording, path, key",
    [
        ("Repository.testGetPulls.txt", "/repos/PyGithub/PyGithub/pulls", None),
        ("Repository.testGetIssues.txt", "/repos/PyGithub/PyGithub/issues", None),
        (
            "Repository.testGetWorkflowRuns.txt",
            "/repos/PyGithub/PyGithub/actions/runs",
            "workflow_runs",
        ),
        ("Repository.testGetDeployments.txt", "/repos/PyGithub/PyGithub/deployments", None),
    ],
)
def test_recorded_lists_parse_with_their_real_headers(pygithub, recording, path, key):
    exchanges = pygithub_exchanges(pygithub / recording)
    listing = next(e for e in exchanges if e["path"].split("?")[0] == path)
    body = json.loads(listing["body"])
    expected = body[key] if key else body
    with GitHubClient(transport=Replay(exchanges)) as client:
        pages = list(client.paginate(path, items_key=key))
    assert pages[0].items == expected[: len(pages[0].items)]
    assert pages[0].etag == dict((k.lower(), v) for k, v in listing["headers"]).get("etag")


def test_octokit_paginate_issues_reads_all_five_pages(octokit, tmp_path):
    exchanges = octokit_exchanges(octokit / "paginate-issues")
    with GitHubClient(transport=Replay(exchanges), per_page=3) as client:
        pages = list(client.paginate("/repos/octokit-fixture-org/paginate-issues/issues"))
    assert [len(p.items) for p in pages] == [3, 3, 3, 3, 1]
    assert [i["number"] for p in pages for i in p.items] == list(range(13, 0, -1))
    assert client.stats.requests == 5


def test_octokit_error_scenario_is_one_line_naming_the_url_and_githubs_message(octokit):
    exchanges = octokit_exchanges(octokit / "errors")
    for exchange in exchanges:
        exchange["method"] = "GET"  # replayed as the answer to a read
    with GitHubClient(transport=Replay(exchanges)) as client, pytest.raises(SourceError) as info:
        client.get_object("/repos/octokit-fixture-org/errors/labels")
    message = str(info.value)
    assert "\n" not in message
    assert "https://api.github.com/repos/octokit-fixture-org/errors/labels" in message
    assert "HTTP 422" in message and "Validation Failed" in message
