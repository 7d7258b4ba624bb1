"""Jenkins sync over a real socket: the production client and sync against tests/jenkins_api.py
serving small fixtures of our own in Jenkins' API shape (folders, a multibranch pipeline, freestyle
jobs), into a real DuckDB file; then the staging and code-host models built by dbt over what landed
(docs/sources/jenkins.md)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from pipelines.config import load_config
from pipelines.demo.fake_gitlab import FakeGitLab
from pipelines.demo.fake_jenkins import MULTIBRANCH, PIPELINE, FakeJenkins, folder, job
from pipelines.errors import SourceAuthError
from pipelines.http import RetryPolicy
from pipelines.jenkins.client import JenkinsClient, job_path
from pipelines.jenkins.config import JenkinsSourceConfig
from pipelines.jenkins.source import sync_controller
from pipelines.slo.definitions import ensure_definition_tables
from pipelines.warehouse import connect, get_sync_state
from tests.http_server import ScriptedServer
from tests.test_config import MINIMAL
from tests.test_dbt_models import ORG_TABLES, failures, run_dbt
from tests.test_gitlab_sync import PATH as GITLAB_PATH
from tests.test_gitlab_sync import TOKEN as GITLAB_TOKEN
from tests.test_gitlab_sync import build_code_host_layer, make_project, new_warehouse
from tests.test_gitlab_sync import sync as gitlab_sync
from tests.test_gitlab_sync import ts as gitlab_ts

USER = "metrics-reader"
TOKEN = "11aa22bb33cc44dd-jenkins-secret"
FAST = RetryPolicy(max_retries=3, backoff_base=0.01, backoff_max=0.05, max_total_seconds=10)
T0 = int(dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC).timestamp() * 1000)
REMOTE = "git@github.com:acme/checkout.git"


def sha(i: int) -> str:
    return f"{i:040x}"


def build(
    number: int,
    *,
    result: str | None = "SUCCESS",
    commit: int | None = None,
    remote: str = REMOTE,
    **extra,
):
    """A build as ``allBuilds[...]`` sends it: causes, then the git plugin's build data."""
    actions: list[dict] = [
        {
            "_class": "hudson.model.CauseAction",
            "causes": [
                {
                    "_class": "hudson.model.Cause$UserIdCause",
                    "shortDescription": "Started by user dev",
                    "userId": "dev",
                }
            ],
        },
        {},
    ]
    if commit is not None:
        actions.append(
            {
                "_class": "hudson.plugins.git.util.BuildData",
                "lastBuiltRevision": {
                    "SHA1": sha(commit),
                    "branch": [{"name": "refs/remotes/origin/main"}],
                },
                "remoteUrls": [remote],
            }
        )
    return {
        "_class": "hudson.model.FreeStyleBuild",
        "number": number,
        "result": result,
        "building": result is None,
        "timestamp": T0 + number * 3_600_000,
        "duration": 0 if result is None else 90_000,
        "fullDisplayName": f"build #{number}",
        "actions": actions,
        **extra,
    }


def controller(n: int = 7) -> FakeJenkins:
    """platform/ (folder) holds deploy-checkout (n builds, commits 1..n) and checkout (multibranch:
    main, feature%2Fx); tools/lint sits in another folder, outside what is configured."""
    return FakeJenkins(
        [
            folder(
                "platform",
                job("deploy-checkout", [build(i, commit=i) for i in range(1, n + 1)]),
                folder(
                    "checkout",
                    job("main", [build(1, commit=100), build(2, commit=101)], PIPELINE),
                    job("feature%2Fx", [build(1, result="FAILURE", commit=200)], PIPELINE),
                    cls=MULTIBRANCH,
                ),
            ),
            folder("tools", job("lint", [build(1)])),
        ],
        user=USER,
        token=TOKEN,
    )


def config(**overrides) -> JenkinsSourceConfig:
    fields = {
        "base_url": "http://127.0.0.1",
        "user": USER,
        "token": TOKEN,
        "folders": ["platform"],
        "deployment_job_regex": r"(^|/)deploy-",
    }
    return JenkinsSourceConfig(**{**fields, **overrides})


def sync(db: Path, server: ScriptedServer, source: JenkinsSourceConfig | None = None, **kw):
    source = source or config()
    con = connect(db)
    try:
        with JenkinsClient(
            server.url, user=USER, token=TOKEN, retry=FAST, builds_per_request=3, **kw
        ) as client:
            return sync_controller(con, client, source)
    finally:
        con.close()


def build_keys(db: Path) -> list[str]:
    con = connect(db)
    try:
        return [
            r[0]
            for r in con.execute(
                "SELECT natural_key FROM raw.jenkins_builds ORDER BY natural_key"
            ).fetchall()
        ]
    finally:
        con.close()


FULL_KEYS = sorted(
    [f"platform/deploy-checkout#{i}" for i in range(1, 8)]
    + ["platform/checkout/main#1", "platform/checkout/main#2", "platform/checkout/feature%2Fx#1"]
)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return new_warehouse(tmp_path)


def test_folders_and_multibranch_pipelines_are_walked_and_every_build_lands_once(db: Path) -> None:
    with ScriptedServer(controller()) as server:
        report = sync(db, server)
    assert build_keys(db) == FULL_KEYS
    assert report.scopes == 3 and report.items == 10
    con = connect(db)
    jobs = con.execute("SELECT natural_key, scope FROM raw.jenkins_jobs ORDER BY 1").fetchall()
    con.close()
    assert jobs == [
        ("platform/checkout/feature%2Fx", "platform/checkout/feature%2Fx"),
        ("platform/checkout/main", "platform/checkout/main"),
        ("platform/deploy-checkout", "platform/deploy-checkout"),
    ]


def test_builds_are_read_with_one_tree_query_per_page_of_a_job(db: Path) -> None:
    with ScriptedServer(controller()) as server:
        sync(db, server)
        paths = [urlsplit(p) for p, _ in server.requests]
    build_reads = [p for p in paths if "allBuilds" in parse_qs(p.query).get("tree", [""])[0]]
    by_job = {p.path: 0 for p in build_reads}
    for p in build_reads:
        by_job[p.path] += 1
    # 7 builds at 3 per request: {0,3} {3,6} {6,9}; the branches fit in one request each.
    assert by_job == {
        f"{job_path('platform/deploy-checkout')}/api/json": 3,
        f"{job_path('platform/checkout/main')}/api/json": 1,
        f"{job_path('platform/checkout/feature%2Fx')}/api/json": 1,
    }
    tree = parse_qs(build_reads[0].query)["tree"][0]
    assert "lastBuiltRevision[SHA1" in tree and "remoteUrls" in tree


def test_a_multibranch_branch_with_a_slash_is_asked_for_with_jenkins_double_encoding(
    db: Path,
) -> None:
    with ScriptedServer(controller()) as server:
        sync(db, server)
        raw_paths = [p.split("?")[0] for p, _ in server.requests]
    assert "/job/platform/job/checkout/job/feature%252Fx/api/json" in raw_paths


def test_second_sync_reads_only_builds_after_the_cursor(db: Path) -> None:
    fake = controller()
    with ScriptedServer(fake) as server:
        sync(db, server)
        deploy = fake.node(["platform", "deploy-checkout"])[0]
        deploy["builds"] += [build(8, commit=8), build(9, commit=9)]
        server.requests.clear()
        report = sync(db, server)
        build_reads = [p for p, _ in server.requests if "allBuilds" in p]
    assert report.items == 2
    assert len(build_reads) == 3  # one request per job: each reaches its cursor at once
    con = connect(db)
    state = get_sync_state(con, "jenkins", "platform/deploy-checkout", "builds")
    con.close()
    assert state is not None and state.cursor == "9"
    assert len(build_keys(db)) == len(FULL_KEYS) + 2


def test_a_running_build_is_read_again_until_it_finishes(db: Path) -> None:
    fake = controller()
    deploy = fake.node(["platform", "deploy-checkout"])[0]
    deploy["builds"] += [build(8, result=None, commit=8), build(9, commit=9)]
    with ScriptedServer(fake) as server:
        sync(db, server)
        con = connect(db)
        assert get_sync_state(con, "jenkins", "platform/deploy-checkout", "builds").cursor == "7"
        con.close()
        deploy["builds"][7] = build(8, result="FAILURE", commit=8)
        sync(db, server)
    con = connect(db)
    row = con.execute(
        "SELECT payload ->> '$.result', payload ->> '$.building' FROM raw.jenkins_builds "
        "WHERE natural_key = 'platform/deploy-checkout#8'"
    ).fetchone()
    cursor = get_sync_state(con, "jenkins", "platform/deploy-checkout", "builds").cursor
    con.close()
    assert row == ("FAILURE", "false")
    assert cursor == "9"


def test_first_sync_reads_at_most_max_builds_per_job(db: Path) -> None:
    with ScriptedServer(controller(n=10)) as server:
        sync(db, server, config(max_builds_per_job=4))
    keys = [k for k in build_keys(db) if k.startswith("platform/deploy-checkout#")]
    assert sorted(keys) == sorted(f"platform/deploy-checkout#{i}" for i in (7, 8, 9, 10))


def test_deployment_jobs_are_the_jobs_matching_the_regex(db: Path) -> None:
    with ScriptedServer(controller()) as server:
        sync(db, server)
        con = connect(db)
        assert con.execute(
            "SELECT source, scope, payload ->> '$.environment' FROM raw.jenkins_deployment_jobs"
        ).fetchall() == [("jenkins", "platform/deploy-checkout", "production")]
        con.close()
        sync(db, server, config(deployment_job_regex=None))
    con = connect(db)
    assert con.execute("SELECT count(*) FROM raw.jenkins_deployment_jobs").fetchone() == (0,)
    con.close()


def test_a_job_named_directly_and_a_multibranch_pipeline_named_in_jobs(db: Path) -> None:
    source = config(folders=[], jobs=["tools/lint", "platform/checkout"])
    with ScriptedServer(controller()) as server:
        sync(db, server, source)
    assert build_keys(db) == [
        "platform/checkout/feature%2Fx#1",
        "platform/checkout/main#1",
        "platform/checkout/main#2",
        "tools/lint#1",
    ]


def test_wrong_token_is_one_clear_line_without_the_secret(db: Path) -> None:
    with ScriptedServer(controller()) as server:
        con = connect(db)
        with (
            pytest.raises(SourceAuthError) as info,
            JenkinsClient(server.url, user=USER, token="wrong", retry=FAST) as client,
        ):
            sync_controller(con, client, config())
        con.close()
        sent = server.requests[0][1]["Authorization"]
    message = str(info.value)
    assert "401" in message and "\n" not in message
    assert "wrong" not in message and sent.startswith("Basic ") and sent[6:] not in message


def test_config_needs_jobs_or_folders_a_valid_regex_and_user_with_token(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="give 'jobs' or 'folders'"):
        JenkinsSourceConfig(base_url="https://ci.example.com")
    with pytest.raises(ValueError, match="not a regular expression"):
        JenkinsSourceConfig(
            base_url="https://ci.example.com", jobs=["a"], deployment_job_regex="deploy-("
        )
    with pytest.raises(ValueError, match="'user' and 'token'"):
        JenkinsSourceConfig(base_url="https://ci.example.com", jobs=["a"], user="u")


def test_the_token_comes_from_the_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("JENKINS_USER", USER)
    monkeypatch.setenv("JENKINS_API_TOKEN", TOKEN)
    path = tmp_path / "config.yaml"
    path.write_text(
        MINIMAL + "sources:\n  jenkins:\n    - base_url: https://ci.example.com\n"
        "      user: ${JENKINS_USER}\n      token: ${JENKINS_API_TOKEN}\n"
        "      folders: [platform]\n"
    )
    source = load_config(path).sources.jenkins[0]
    assert source.user == USER and source.token.get_secret_value() == TOKEN
    assert TOKEN not in repr(source)


def test_builds_become_ci_runs_and_deployment_builds_deployment_events(
    db: Path, tmp_path: Path
) -> None:
    fake = controller()
    deploy = fake.node(["platform", "deploy-checkout"])[0]
    deploy["builds"] += [
        build(8, result="ABORTED", commit=8),
        build(9, result="NOT_BUILT", commit=9),
        build(10, result=None, commit=10),
    ]
    nightly = build(11, commit=10)
    nightly["actions"][0]["causes"] = [
        {"_class": "hudson.triggers.TimerTrigger$TimerTriggerCause", "shortDescription": "timer"}
    ]
    deploy["builds"].append(nightly)
    with ScriptedServer(fake) as server:
        sync(db, server)
    build_code_host_layer(db, tmp_path / "target")
    con = connect(db)
    try:
        runs = con.execute(
            "SELECT workflow_run_key, repository, head_sha, head_branch, status, conclusion, event "
            "FROM intermediate.int_ci_runs WHERE source = 'jenkins' ORDER BY 1"
        ).fetchall()
        events = con.execute(
            "SELECT event_key, event_kind, repository, environment, commit_sha, state, "
            "event_at - deployment_created_at "
            "FROM intermediate.int_deployment_events WHERE source = 'jenkins' ORDER BY 1"
        ).fetchall()
    finally:
        con.close()
    assert len(runs) == 14
    by_key = {r[0]: r[1:6] for r in runs}
    assert by_key["platform/deploy-checkout#3"] == (
        "acme/checkout",
        sha(3),
        "main",
        "completed",
        "success",
    )
    run_events = {r[0]: r[6] for r in runs}
    assert run_events["platform/deploy-checkout#3"] == "workflow_dispatch"
    assert run_events["platform/deploy-checkout#11"] == "schedule"
    assert by_key["platform/checkout/feature%2Fx#1"][4] == "failure"
    assert by_key["platform/deploy-checkout#8"][4] == "cancelled"
    assert by_key["platform/deploy-checkout#9"][4] == "skipped"
    assert by_key["platform/deploy-checkout#10"][3:] == ("in_progress", None)
    created = [e for e in events if e[1] == "created"]
    statuses = {e[0]: e for e in events if e[1] == "status"}
    assert len(created) == 11  # every build of the deployment job, none of the branches'
    assert all(e[2:5] == ("acme/checkout", "production", e[4]) for e in created)
    assert statuses["platform/deploy-checkout#3/status/success"][4:] == (
        sha(3),
        "success",
        dt.timedelta(seconds=90),
    )
    assert statuses["platform/deploy-checkout#8/status/aborted"][5] == "cancelled"
    # NOT_BUILT never deployed; the running build has not reported yet.
    assert len(statuses) == 9


def test_the_code_host_layer_builds_when_jenkins_is_not_configured(
    db: Path, tmp_path: Path
) -> None:
    build_code_host_layer(db, tmp_path / "target")
    con = connect(db)
    try:
        assert con.execute(
            "SELECT count(*) FROM intermediate.int_ci_runs WHERE source = 'jenkins'"
        ).fetchone() == (0,)
    finally:
        con.close()


def test_a_gitlab_project_deployed_by_jenkins_reaches_the_dora_marts(
    db: Path, tmp_path: Path
) -> None:
    """A service on GitLab (its commits and merge requests) deployed by a Jenkins job: the deploy
    builds are fct_deployments rows (jenkins_deployment; success for commits 0 and 8, failure for
    4), counted once although the job's name also matches the deployment workflow regex, and the
    ancestry walk over GitLab's commits gives each merged merge request (merge commits 0, 3, 6, 9)
    the first successful Jenkins deployment of a descendant (#1, #3, #3, none yet)."""
    project = make_project()
    project.deployments = []
    with ScriptedServer(FakeGitLab([project], token=GITLAB_TOKEN)) as server:
        gitlab_sync(db, server)

    def built(number: int, commit: int, result: str) -> dict:
        at = dt.datetime.fromisoformat(gitlab_ts(6 * (12 - commit) - 1).replace("Z", "+00:00"))
        return build(
            number,
            result=result,
            commit=commit,
            remote=f"git@gitlab.example:{GITLAB_PATH}.git",
            timestamp=int(at.timestamp() * 1000),
        )

    fake = FakeJenkins(
        [
            folder(
                "platform",
                job(
                    "deploy-checkout",
                    [built(1, 0, "SUCCESS"), built(2, 4, "FAILURE"), built(3, 8, "SUCCESS")],
                ),
            )
        ],
        user=USER,
        token=TOKEN,
    )
    with ScriptedServer(fake) as server:
        sync(db, server)
    con = connect(db)
    for table, columns in ORG_TABLES.items():
        con.execute(f"CREATE OR REPLACE TABLE raw.{table} ({columns})")
    con.execute("INSERT INTO raw.org_teams VALUES ('payments', 5, 1)")
    con.execute("INSERT INTO raw.org_services VALUES ('checkout', 'payments', 'critical')")
    con.execute(
        f"INSERT INTO raw.org_repositories VALUES ('{GITLAB_PATH}', 'checkout', 'payments')"
    )
    ensure_definition_tables(con)
    con.close()
    result = run_dbt(
        [
            "build",
            "--select",
            "+fct_deployments",
            "+fct_changes",
            "+metrics_dora_weekly",
            "--exclude",
            "test_type:singular",
        ],
        db,
        tmp_path / "target",
    )
    assert not failures(result), failures(result)
    con = connect(db)
    try:
        deployments = con.execute(
            "SELECT deployment_id, source, status, service FROM marts.fct_deployments "
            "ORDER BY deployed_at"
        ).fetchall()
        changes = con.execute(
            "SELECT pr_number, deployment_id FROM marts.fct_changes ORDER BY pr_number"
        ).fetchall()
    finally:
        con.close()
    dep = "platform/deploy-checkout#"
    assert deployments == [
        (f"{dep}1", "jenkins_deployment", "success", "checkout"),
        (f"{dep}2", "jenkins_deployment", "failure", "checkout"),
        (f"{dep}3", "jenkins_deployment", "success", "checkout"),
    ]
    assert changes == [(1, f"{dep}1"), (4, f"{dep}3"), (7, f"{dep}3"), (10, None)]


def test_the_ingest_job_syncs_a_configured_jenkins_through_its_registered_asset(
    tmp_path: Path, monkeypatch
) -> None:
    """The registry makes a `jenkins` asset of the configured source; the ingest job runs it with
    the token from the environment, and the builds land."""
    import dagster as dg

    from assets.graph import build_definitions
    from assets.runner import run_pipeline
    from pipelines.config import parse_config

    monkeypatch.setenv("JENKINS_API_TOKEN", TOKEN)
    with ScriptedServer(controller()) as server:
        config = parse_config(
            MINIMAL
            + f"warehouse: {{path: {tmp_path / 'warehouse.duckdb'}}}\n"
            + f"publish: {{site_dir: {tmp_path / 'site'}, snapshot_dir: {tmp_path / 'snap'}}}\n"
            + "sources:\n  jenkins:\n"
            + f"    - {{base_url: '{server.url}', user: {USER}, token: '${{JENKINS_API_TOKEN}}', "
            + "folders: [platform], deployment_job_regex: 'deploy-'}\n"
        )
        defs = build_definitions(config)
        with dg.DagsterInstance.ephemeral() as instance:
            outcome = run_pipeline(defs, config, instance, job="ingest")
    assert outcome.success
    assert build_keys(tmp_path / "warehouse.duckdb") == FULL_KEYS
