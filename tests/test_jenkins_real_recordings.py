"""Real Jenkins payloads (DevLake's e2e recordings) served in Jenkins' API shape on 127.0.0.1 and
synced by the production client; then built by dbt and compared with DevLake's own derived tables
(cicd_pipelines, cicd_pipeline_commits) where the definitions agree.

What the recordings hold and what the fake makes of them:
- a freestyle job ``Test-jenkins-dir/test-jenkins-sub-dir/test-sub-sub-dir/devlake``: 13 builds of
  ``allBuilds[...]`` (DevLake's test data: some hand-made, numbers 10001-10005, two still building;
  their recorded request URLs name other jobs, so the fake files each build under the job DevLake's
  ``params`` say it belongs to, as DevLake's derived tables do). The job's folder also holds
  ``test-job`` (known only from ``_tool_jenkins_jobs``, no builds). One more recorded build
  belongs to ``pipeline-test2`` at the controller's top level: served there, outside the folder we
  configure, so it must not be synced (DevLake's derived tables, scoped to the devlake job, leave
  it out too).
- a multibranch pipeline ``github_org/devlake-jenkins`` (``_raw_jenkins_api_jobs_multibranch``: its
  4 branch jobs) with 15 builds of those branches.
- not served (we do not read them): stages (``wfapi``), DevLake's ``_tool_*`` rows.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from pipelines.demo.fake_jenkins import FOLDER, MULTIBRANCH, FakeJenkins
from pipelines.jenkins.client import JenkinsClient
from pipelines.jenkins.config import JenkinsSourceConfig
from pipelines.jenkins.source import sync_controller
from pipelines.warehouse import connect
from tests.conftest import SHARED_REAL
from tests.http_server import ScriptedServer
from tests.test_gitlab_real_recordings import rows, when
from tests.test_gitlab_sync import build_code_host_layer, new_warehouse

FREESTYLE_JOB = "Test-jenkins-dir/test-jenkins-sub-dir/test-sub-sub-dir/devlake"
MULTIBRANCH_JOB = "github_org/devlake-jenkins"


def read(path: Path) -> list[dict]:
    csv.field_size_limit(10**9)
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def recorded_jenkins(folder: Path) -> FakeJenkins:
    raw = folder / "raw_tables"
    freestyle: dict[str, list[dict]] = {}
    for row in read(raw / "_raw_jenkins_api_builds.csv"):
        freestyle.setdefault(json.loads(row["params"])["FullName"], []).append(
            json.loads(row["data"])
        )
    branches: dict[str, list[dict]] = {}
    for row in read(raw / "_raw_jenkins_api_builds_multibranch.csv"):
        branches.setdefault(json.loads(row["input"])["Name"], []).append(json.loads(row["data"]))
    branch_jobs = [
        {**json.loads(row["data"]), "builds": branches.get(json.loads(row["data"])["name"], [])}
        for row in read(raw / "_raw_jenkins_api_jobs_multibranch.csv")
    ]
    test_job = read(raw / "_tool_jenkins_jobs.csv")[0]
    sub_sub = {
        "_class": FOLDER,
        "name": "test-sub-sub-dir",
        "jobs": [
            {
                "_class": "hudson.model.FreeStyleProject",
                "name": "devlake",
                "builds": freestyle.pop(FREESTYLE_JOB),
            },
            {"_class": test_job["class"], "name": test_job["name"], "builds": []},
        ],
    }
    top_level = [
        {
            "_class": FOLDER,
            "name": "Test-jenkins-dir",
            "jobs": [{"_class": FOLDER, "name": "test-jenkins-sub-dir", "jobs": [sub_sub]}],
        },
        {
            "_class": FOLDER,
            "name": "github_org",
            "jobs": [{"_class": MULTIBRANCH, "name": "devlake-jenkins", "jobs": branch_jobs}],
        },
    ]
    # What is left belongs to jobs at the top level (pipeline-test2).
    for name, builds in freestyle.items():
        top_level.append(
            {"_class": "hudson.model.FreeStyleProject", "name": name, "builds": builds}
        )
    return FakeJenkins(top_level)


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    folder = SHARED_REAL / "devlake-e2e" / "jenkins"
    if not folder.is_dir():
        pytest.skip(f"real Jenkins recordings not found at {folder} (../shared is absent)")
    fake = recorded_jenkins(folder)
    tmp = tmp_path_factory.mktemp("jenkins_real")
    db = new_warehouse(tmp)
    con = connect(db)
    with ScriptedServer(fake) as server, JenkinsClient(server.url, builds_per_request=4) as client:
        source = JenkinsSourceConfig(
            base_url=server.url,
            folders=["Test-jenkins-dir"],
            jobs=[MULTIBRANCH_JOB],
            deployment_job_regex=r"/devlake$",
        )
        sync_controller(con, client, source)
    con.close()
    build_code_host_layer(db, tmp / "target")
    con = connect(db)
    yield folder, con
    con.close()


def snapshot(folder: Path, name: str) -> list[dict]:
    return read(folder / "snapshot_tables" / f"{name}.csv")


def build_of(devlake_id: str) -> str:
    """``jenkins:JenkinsBuild:1:<job>#<n>`` -> ``<job>#<n>``, our build key."""
    return devlake_id.split(":", 3)[3]


def test_every_recorded_build_of_the_configured_jobs_lands_verbatim(synced) -> None:
    folder, con = synced
    landed = {
        key: json.loads(payload)
        for key, payload in con.execute(
            "SELECT natural_key, payload FROM raw.jenkins_builds"
        ).fetchall()
    }
    expected = {}
    for row in read(folder / "raw_tables" / "_raw_jenkins_api_builds.csv"):
        data, job = json.loads(row["data"]), json.loads(row["params"])["FullName"]
        if job == FREESTYLE_JOB:
            expected[f"{job}#{data['number']}"] = data
    for row in read(folder / "raw_tables" / "_raw_jenkins_api_builds_multibranch.csv"):
        data = json.loads(row["data"])
        expected[f"{json.loads(row['input'])['FullName']}#{data['number']}"] = data
    assert landed == expected
    assert not any(k.startswith("pipeline-test2") for k in landed)  # outside the folders
    jobs = {k for (k,) in con.execute("SELECT natural_key FROM raw.jenkins_jobs").fetchall()}
    assert jobs == {
        FREESTYLE_JOB,
        FREESTYLE_JOB.replace("/devlake", "/test-job"),
        *(f"{MULTIBRANCH_JOB}/{b}" for b in ("main", "PR-2", "feature-1", "feature-2")),
    }


def test_builds_agree_with_devlakes_cicd_pipelines(synced) -> None:
    """The same 28 builds. Where the two differ, by definition:
    - status: DevLake says IN_PROGRESS for a build still `building`; ours in_progress, the same.
    - result: SUCCESS and FAILURE agree (success, failure). ABORTED is DevLake's FAILURE, our
      cancelled. UNSTABLE is DevLake's empty result (unmapped in the recorded version), our failure
      (the build ran; its tests failed). The recording's NOT_BUILD is not a Jenkins result
      (Jenkins says NOT_BUILT): DevLake leaves it empty, we pass it through lower case.
    - created_date: DevLake cuts the start to whole seconds; ours keeps Jenkins' milliseconds.
    - finished_date: DevLake's is its cut start plus the duration, so it is up to a second early;
      the durations agree exactly (ours is null-free: the duration of a running build is Jenkins'
      `duration`, 0 or what the recording says, as DevLake's).
    """
    folder, con = synced
    ours = {
        r["workflow_run_key"]: r
        for r in rows(con, "SELECT * FROM intermediate.int_ci_runs WHERE source = 'jenkins'")
    }
    builds = {r["build_key"]: r for r in rows(con, "SELECT * FROM staging.stg_jenkins__builds")}
    theirs = {
        build_of(r["id"]): r
        for name in ("cicd_pipelines", "cicd_pipelines_multibranch")
        for r in snapshot(folder, name)
    }
    assert set(ours) == set(theirs) and len(ours) == 28
    result_map = {
        ("IN_PROGRESS", "SUCCESS"): ("in_progress", None),
        ("IN_PROGRESS", "FAILURE"): ("in_progress", None),
        ("DONE", "SUCCESS"): ("completed", "success"),
        ("DONE", "FAILURE"): ("completed", "failure"),
        ("DONE", "ABORTED"): ("completed", "cancelled"),
        ("DONE", "UNSTABLE"): ("completed", "failure"),
        ("DONE", "NOT_BUILD"): ("completed", "not_build"),
    }
    for key, dl in theirs.items():
        run, build = ours[key], builds[key]
        assert (run["status"], run["conclusion"]) == result_map[
            (dl["status"], dl["original_result"])
        ], key
        started = when(run["run_started_at"])
        assert started.replace(microsecond=0) == when(dl["created_date"]), key
        assert build["duration_seconds"] == pytest.approx(float(dl["duration_sec"])), key
        if dl["finished_date"]:
            assert when(dl["finished_date"]) - when(dl["created_date"]) == (
                build["finished_at"] - build["started_at"]
            ), key
        else:
            assert build["finished_at"] is None and run["status"] == "in_progress", key


def test_commits_agree_with_devlakes_cicd_pipeline_commits(synced) -> None:
    """Every build DevLake gave a commit has that commit, remote URL and (after our normalising)
    branch; builds without the git plugin's build data have none on either side. DevLake's branch
    is the build data's ref verbatim (refs/remotes/origin/main) for the freestyle job and the
    branch job's name for the multibranch one; ours strips refs/remotes/<remote>/, and the
    multibranch build data names the same branch, so both agree after that."""
    folder, con = synced
    builds = {r["build_key"]: r for r in rows(con, "SELECT * FROM staging.stg_jenkins__builds")}
    theirs = {
        build_of(r["pipeline_id"]): r
        for name in ("cicd_pipeline_commits", "cicd_pipeline_commits_multibranch")
        for r in snapshot(folder, name)
    }
    assert len(theirs) == 16
    for key, build in builds.items():
        if key not in theirs:
            assert build["commit_sha"] is None, key
            continue
        dl = theirs[key]
        assert build["commit_sha"] == dl["commit_sha"], key
        assert build["remote_url"] == dl["repo_url"], key
        assert build["branch"] == dl["branch"].removeprefix("refs/remotes/origin/"), key
    runs = rows(con, "SELECT event FROM intermediate.int_ci_runs WHERE source = 'jenkins'")
    # Freestyle builds started by a user; multibranch builds by branch events and indexing.
    assert {r["event"] for r in runs} == {"workflow_dispatch", "push"}
    repositories = {b["repository"] for b in builds.values() if b["repository"]}
    assert repositories == {"merico-dev/lake", "gustavobini/devlake-jenkins"}


def test_deployment_builds_agree_with_devlakes_deployment_type(synced) -> None:
    """DevLake typed every build of the freestyle job DEPLOYMENT (environment PRODUCTION) and none
    of the multibranch ones; our regex picks the same job, so the same 13 builds are deployments,
    each with a created event, and a status event once finished with a result that is a
    deployment outcome (not the recording's NOT_BUILD)."""
    folder, con = synced
    theirs = {
        build_of(r["id"])
        for name in ("cicd_pipelines", "cicd_pipelines_multibranch")
        for r in snapshot(folder, name)
        if r["type"] == "DEPLOYMENT"
    }
    events = rows(
        con,
        "SELECT deployment_key, event_kind, environment, state FROM "
        "intermediate.int_deployment_events WHERE source = 'jenkins'",
    )
    created = {e["deployment_key"] for e in events if e["event_kind"] == "created"}
    assert created == theirs and len(created) == 13
    assert {e["environment"] for e in events} == {"production"}
    statuses = {e["deployment_key"]: e["state"] for e in events if e["event_kind"] == "status"}
    assert statuses[f"{FREESTYLE_JOB}#10003"] == "cancelled"
    assert statuses[f"{FREESTYLE_JOB}#10005"] == "failure"
    assert f"{FREESTYLE_JOB}#10004" not in statuses  # NOT_BUILD
    assert f"{FREESTYLE_JOB}#27" not in statuses  # still building
    assert f"{FREESTYLE_JOB}#10001" not in statuses and f"{FREESTYLE_JOB}#10002" not in statuses
    assert len(statuses) == 13 - 3 - 1  # three still building (27, 10001, 10002), one not built
