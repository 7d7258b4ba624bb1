"""Workflow jobs only where a metric needs them: deployment workflows, and a bounded CI sample.

Served over a real socket by a GitHub-shaped server on 127.0.0.1 that counts the jobs requests.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from pipelines.config import GitHubSourceConfig, MetricDefinitions
from pipelines.github.client import GitHubClient
from pipelines.github.sync import JobSelection, RepositorySync, job_selection
from pipelines.http import RetryPolicy
from pipelines.warehouse import connect
from tests.http_server import Reply, ScriptedServer

# A fixed demo history: the demo grows every clock hour, so an unpinned one would make what a
# sync reads depend on the hour the test runs.
END = dt.date(2026, 6, 30)

NOW = dt.datetime(2026, 6, 30, 12, tzinfo=dt.UTC)
FAST = RetryPolicy(max_retries=1, backoff_base=0.01, backoff_max=0.02, max_total_seconds=2)
# Two ISO weeks: Monday 8 June and Monday 15 June 2026.
WEEKS = ("2026-06-08", "2026-06-15")


def run(run_id: int, day: str, name: str, status: str = "completed", updated: str = "") -> dict:
    created = f"{day}T10:{run_id % 60:02d}:00Z"
    return {
        "id": run_id,
        "name": name,
        "event": "push",
        "status": status,
        "conclusion": "success" if status == "completed" else None,
        "created_at": created,
        "updated_at": updated or created,
        "head_sha": f"{run_id:040d}",
    }


class RunsServer:
    """12 CI runs and 2 deploy runs in each of two weeks; one job per run."""

    def __init__(self) -> None:
        self.runs = []
        for w, monday in enumerate(WEEKS):
            for k in range(12):
                self.runs.append(run(1000 + 100 * w + k, monday, "CI"))
            for k in range(2):
                self.runs.append(run(5000 + 100 * w + k, monday, "Deploy to production"))
        self.runs.sort(key=lambda r: r["created_at"], reverse=True)
        self.jobs_requested: list[int] = []

    def __call__(self, path: str, headers: dict[str, str]) -> Reply:
        url = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/repos/o/r/actions/runs":
            page, per_page = int(query.get("page", 1)), int(query.get("per_page", 100))
            items = self.runs[(page - 1) * per_page : page * per_page]
            more = page * per_page < len(self.runs)
            link = (
                f"<http://{headers['Host']}/repos/o/r/actions/runs?per_page={per_page}"
                f'&page={page + 1}>; rel="next"'
            )
            body = {"total_count": len(self.runs), "workflow_runs": items}
            return Reply(body=body, headers={"Link": link} if more else {})
        if url.path.startswith("/repos/o/r/actions/runs/") and url.path.endswith("/jobs"):
            run_id = int(url.path.split("/")[-2])
            self.jobs_requested.append(run_id)
            source = next(r for r in self.runs if r["id"] == run_id)
            job = {
                "id": run_id * 10,
                "run_id": run_id,
                "name": "build",
                "status": "completed",
                "conclusion": "success",
                "created_at": source["created_at"],
                "started_at": source["created_at"],
                "completed_at": source["updated_at"],
            }
            return Reply(body={"total_count": 1, "jobs": [job]})
        return Reply(404, {"message": "Not Found"})


@pytest.fixture
def warehouse(tmp_path):
    con = connect(tmp_path / "wh.duckdb")
    yield con
    con.close()


def sync(con, server, selection: JobSelection, per_page: int = 5) -> None:
    with GitHubClient(server.url, retry=FAST, per_page=per_page) as client:
        RepositorySync(
            con,
            client,
            source="github",
            repository="o/r",
            backfill_days=60,
            now=NOW,
            jobs=selection,
        ).run(["workflow_runs"])


def _runs_with_jobs(con) -> set[int]:
    rows = con.execute("SELECT DISTINCT parent_key FROM raw.github_workflow_jobs").fetchall()
    return {int(key.rsplit("/", 1)[1]) for (key,) in rows}


SAMPLE = JobSelection(deployment_workflows=(r"(?i)deploy",), sample_per_week=3)


def test_ci_jobs_are_a_bounded_sample_per_week_and_deployment_runs_are_always_read(warehouse):
    fake = RunsServer()
    with ScriptedServer(fake) as server:
        sync(warehouse, server, SAMPLE)
    read = _runs_with_jobs(warehouse)
    deploys = {r["id"] for r in fake.runs if r["name"] != "CI"}
    assert deploys <= read
    for w in range(2):
        ci_in_week = {r for r in read if 1000 + 100 * w <= r < 1100 + 100 * w}
        assert len(ci_in_week) == 3
    assert len(fake.jobs_requested) == len(read) == 4 + 2 * 3
    # Every run itself is stored, sampled or not.
    assert warehouse.execute("SELECT count(*) FROM raw.github_workflow_runs").fetchone()[0] == 28


def test_a_fresh_sync_with_other_page_boundaries_picks_the_same_sample(tmp_path):
    picked = []
    for per_page in (5, 100):
        con = connect(tmp_path / f"wh{per_page}.duckdb")
        with ScriptedServer(RunsServer()) as server:
            sync(con, server, SAMPLE, per_page=per_page)
        picked.append(_runs_with_jobs(con))
        con.close()
    assert picked[0] == picked[1]


def test_a_second_sync_reads_no_jobs_of_runs_already_stored_and_unchanged(warehouse):
    fake = RunsServer()
    with ScriptedServer(fake) as server:
        sync(warehouse, server, SAMPLE)
        first = set(_runs_with_jobs(warehouse))
        fake.jobs_requested.clear()
        sync(warehouse, server, SAMPLE)
    assert fake.jobs_requested == []
    assert _runs_with_jobs(warehouse) == first


def test_a_rerun_of_a_sampled_run_reads_its_jobs_again_without_growing_the_sample(warehouse):
    fake = RunsServer()
    with ScriptedServer(fake) as server:
        sync(warehouse, server, SAMPLE)
        sampled_ci = sorted(r for r in _runs_with_jobs(warehouse) if r < 5000)
        target = next(r for r in fake.runs if r["id"] == sampled_ci[0])
        target["updated_at"] = "2026-06-20T00:00:00Z"
        fake.jobs_requested.clear()
        sync(warehouse, server, SAMPLE)
    assert fake.jobs_requested == [sampled_ci[0]]
    assert sorted(r for r in _runs_with_jobs(warehouse) if r < 5000) == sampled_ci


def test_runs_still_in_progress_are_not_sampled_until_they_complete(warehouse):
    fake = RunsServer()
    for r in fake.runs:
        if r["name"] == "CI":
            r["status"] = "in_progress"
    with ScriptedServer(fake) as server:
        sync(warehouse, server, SAMPLE)
    assert _runs_with_jobs(warehouse) == {r["id"] for r in fake.runs if r["name"] != "CI"}


def test_without_a_sample_size_every_completed_run_has_its_jobs_read(warehouse):
    fake = RunsServer()
    with ScriptedServer(fake) as server:
        sync(warehouse, server, JobSelection())
    assert _runs_with_jobs(warehouse) == {r["id"] for r in fake.runs}


def _metrics(**deployment) -> MetricDefinitions:
    return MetricDefinitions.model_validate({"deployment": deployment})


def test_deployment_jobs_are_needed_only_where_a_job_regex_reads_deployments_from_jobs():
    source = GitHubSourceConfig(
        repositories=["o/r"],
        workflow_jobs_sample_per_week=7,
        workflow_jobs_queue_sample_per_week=1,
        workflow_jobs_queue_sample_days=14,
    )
    queue = {"queue_sample_per_week": 1, "queue_sample_days": 14}
    assert job_selection(source, _metrics()) == JobSelection((), 7, **queue)
    with_jobs = job_selection(source, _metrics(job_regex="^deploy$", workflow_regex="(?i)ship"))
    assert with_jobs == JobSelection(("(?i)ship",), 7, **queue)
    assert with_jobs.is_deployment({"name": "Ship it"})
    assert not with_jobs.is_deployment({"name": "CI"})
    no_actions = _metrics(job_regex="^deploy$", sources=["github_deployments"])
    assert job_selection(source, no_actions) == JobSelection((), 7, **queue)


def test_a_service_override_job_regex_adds_that_services_deployment_workflow():
    source = GitHubSourceConfig(repositories=["o/r"])
    metrics = MetricDefinitions.model_validate(
        {"services": {"pay": {"deployment": {"job_regex": "^release$", "workflow_regex": "^Pay"}}}}
    )
    selection = job_selection(source, metrics)
    assert selection.deployment_workflows == ("^Pay",)
    assert selection.sample_per_week == 10


def test_the_demo_dora_numbers_are_the_same_with_a_job_sample_as_with_every_job(tmp_path):
    """Deployments come from jobs only where a job_regex needs them: sampling changes no DORA row."""
    from pipelines import ingest
    from pipelines.dbt_cli import run_dbt
    from pipelines.definitions import dbt_vars
    from pipelines.demo import scaled_demo_config
    from pipelines.organisation import write_organisation

    demo = scaled_demo_config(repositories=3, months=3, end_date=END)
    source = demo.sources.github[0]
    every_job = demo.model_copy(
        update={
            "sources": demo.sources.model_copy(
                update={
                    "github": [source.model_copy(update={"workflow_jobs_sample_per_week": None})]
                }
            )
        }
    )
    results = {}
    for name, config in (("sample", demo), ("every", every_job)):
        path = tmp_path / f"{name}.duckdb"
        con = connect(path)
        ingest.ensure_raw_tables(con)
        write_organisation(con, config)
        ingest.sync_github(con, ingest.SourceClients(config))
        jobs = con.execute("SELECT count(*) FROM raw.github_workflow_jobs").fetchone()[0]
        con.close()
        run_dbt(
            ["build", "--select", "+metrics_dora_monthly", "--exclude", "resource_type:test"],
            warehouse=path,
            target_path=tmp_path / f"target-{name}",
            variables=dbt_vars(config),
        )
        con = connect(path)
        results[name] = (
            jobs,
            con.execute("SELECT * FROM marts.metrics_dora_monthly ORDER BY ALL").fetchall(),
            con.execute("SELECT count(*) FROM marts.fct_deployments").fetchone()[0],
        )
        con.close()
    assert results["sample"][0] < results["every"][0] / 2
    assert results["sample"][2] == results["every"][2] > 0
    assert results["sample"][1] == results["every"][1]
