"""Real GitHub payloads (DevLake's recordings of panjf2000/ants) served on 127.0.0.1 and synced by
the production client, pagination and all: every distinct item lands with its payload unchanged."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import defaultdict
from urllib.parse import parse_qs, urlsplit

import pytest

from pipelines.github.client import GitHubClient
from pipelines.github.sync import RepositorySync
from pipelines.warehouse import connect
from tests.http_server import Reply, ScriptedServer

REPO = "panjf2000/ants"
NOW = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)


def read_raw(folder, name: str) -> list[dict]:
    csv.field_size_limit(10**9)
    with open(folder / f"_raw_github_api_{name}.csv", newline="", encoding="utf-8") as f:
        return [
            row | {"data": json.loads(row["data"]), "input": json.loads(row["input"] or "null")}
            for row in csv.DictReader(f)
        ]


def distinct(items: list[dict]) -> dict[int, dict]:
    return {item["id"]: item for item in items}


class RecordedGitHub:
    def __init__(self, folder) -> None:
        self.pulls = sorted(
            distinct([r["data"] for r in read_raw(folder, "pull_requests")]).values(),
            key=lambda p: p["updated_at"],
            reverse=True,
        )
        self.reviews: dict[int, list] = defaultdict(list)
        for row in read_raw(folder, "pull_request_reviews"):
            self.reviews[row["input"]["Number"]].append(row["data"])
        self.pr_commits: dict[int, list] = defaultdict(list)
        for row in read_raw(folder, "pull_request_commits"):
            self.pr_commits[row["input"]["Number"]].append(row["data"])
        self.runs = sorted(
            distinct([r["data"] for r in read_raw(folder, "runs")]).values(),
            key=lambda r: r["created_at"],
            reverse=True,
        )
        self.jobs: dict[int, list] = defaultdict(list)
        for row in read_raw(folder, "jobs"):
            self.jobs[row["input"]["ID"]].append(row["data"])
        self.issues = [r["data"] for r in read_raw(folder, "issues")]

    def page(self, items, query, headers, path):
        page, per_page = int(query.get("page", 1)), int(query.get("per_page", 30))
        chunk = items[(page - 1) * per_page : page * per_page]
        link = {}
        if page * per_page < len(items):
            link = {
                "Link": f'<http://{headers["Host"]}{path}?per_page={per_page}&page={page + 1}>; rel="next"'
            }
        return chunk, link

    def __call__(self, path: str, headers: dict[str, str]) -> Reply:
        url = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        parts = url.path.strip("/").split("/")
        base = f"/repos/{REPO}"
        if url.path == base:
            return Reply(
                body={
                    "full_name": REPO,
                    "default_branch": "master",
                    "updated_at": "2022-12-01T00:00:00Z",
                }
            )
        if url.path == f"{base}/pulls":
            items, link = self.page(self.pulls, query, headers, url.path)
            return Reply(body=items, headers=link)
        if url.path.startswith(f"{base}/pulls/") and parts[-1] in ("reviews", "commits"):
            source = self.reviews if parts[-1] == "reviews" else self.pr_commits
            items, link = self.page(source.get(int(parts[-2]), []), query, headers, url.path)
            return Reply(body=items, headers=link)
        if url.path == f"{base}/actions/runs":
            items, link = self.page(self.runs, query, headers, url.path)
            return Reply(body={"total_count": len(self.runs), "workflow_runs": items}, headers=link)
        if url.path.endswith("/jobs"):
            jobs = self.jobs.get(int(parts[-2]), [])
            return Reply(body={"total_count": len(jobs), "jobs": jobs})
        if url.path == f"{base}/issues":
            items, link = self.page(self.issues, query, headers, url.path)
            return Reply(body=items, headers=link)
        return Reply(body=[])


@pytest.fixture
def synced(shared_real, tmp_path):
    fake = RecordedGitHub(shared_real / "devlake-e2e" / "github" / "raw_tables")
    con = connect(tmp_path / "wh.duckdb")
    with ScriptedServer(fake) as server, GitHubClient(server.url, per_page=7) as client:
        RepositorySync(
            con, client, source="github", repository=REPO, backfill_days=4000, now=NOW
        ).run()
    yield fake, con
    con.close()


def payloads(con, table: str) -> dict[int, dict]:
    rows = con.execute(f"SELECT payload FROM raw.{table}").fetchall()
    return {item["id"]: item for item in (json.loads(p) for (p,) in rows)}


def test_every_recorded_pull_request_lands_verbatim(synced):
    fake, con = synced
    landed = payloads(con, "github_pull_requests")
    assert len(fake.pulls) == 49  # 50 rows, one duplicate
    assert landed == {p["id"]: p for p in fake.pulls}


def test_reviews_and_pr_commits_land_under_their_pull_request(synced):
    fake, con = synced
    expected_reviews = {r["id"] for items in fake.reviews.values() for r in items}
    assert set(payloads(con, "github_pull_request_reviews")) == expected_reviews
    parents = con.execute(
        "SELECT DISTINCT parent_key FROM raw.github_pull_request_commits ORDER BY 1"
    ).fetchall()
    assert {p for (p,) in parents} == {f"{REPO}#{n}" for n in fake.pr_commits}
    n_commits = con.execute("SELECT count(*) FROM raw.github_pull_request_commits").fetchone()[0]
    assert n_commits == len({(n, c["sha"]) for n, items in fake.pr_commits.items() for c in items})


def test_runs_land_with_odd_statuses_and_jobs_only_for_completed_runs(synced):
    fake, con = synced
    runs = payloads(con, "github_workflow_runs")
    assert runs == {r["id"]: r for r in fake.runs}
    statuses = {r["status"] for r in runs.values()}
    assert "completed" in statuses and len(statuses) > 1  # the hand-edited odd spellings survive
    completed = {r["id"] for r in fake.runs if r["status"] == "completed"}
    expected_jobs = {
        j["id"] for run_id, jobs in fake.jobs.items() if run_id in completed for j in jobs
    }
    assert set(payloads(con, "github_workflow_jobs")) == expected_jobs


def test_issues_land_without_pull_requests(synced):
    fake, con = synced
    issues = payloads(con, "github_issues")
    assert issues == {i["id"]: i for i in fake.issues if "pull_request" not in i}
