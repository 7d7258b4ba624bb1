"""GitLab sync over a real socket: the production client and ProjectSync against tests/gitlab_api.py
serving small fixtures of our own in GitLab's API shape, into a real DuckDB file; then the staging
and code-host models built by dbt over what landed (docs/sources/gitlab.md)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from pipelines.config import load_config
from pipelines.demo.fake_gitlab import FakeGitLab, FakeProject
from pipelines.errors import ConfigError, SourceAuthError
from pipelines.gitlab.client import GitLabClient
from pipelines.gitlab.config import GitLabSourceConfig
from pipelines.gitlab.source import check_project, gitlab_partition_keys, projects_of, sync_gitlab
from pipelines.gitlab.sync import RESYNC_OVERLAP, ProjectSync, group_projects, iso
from pipelines.http import RetryPolicy
from pipelines.ingest import SourceClients, ensure_raw_tables
from pipelines.slo.definitions import ensure_definition_tables
from pipelines.warehouse import connect, get_sync_state
from tests.http_server import ScriptedServer
from tests.test_dbt_models import ORG_TABLES, failures, run_dbt

NOW = dt.datetime(2026, 6, 30, 12, tzinfo=dt.UTC)
TOKEN = "glpat-test-secret-token"
FAST = RetryPolicy(max_retries=3, backoff_base=0.01, backoff_max=0.05, max_total_seconds=10)
PATH = "acme/platform/checkout"


def ts(hours_ago: float) -> str:
    return (NOW - dt.timedelta(hours=hours_ago)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def sha(i: int) -> str:
    return f"{i:040x}"


def make_project(project_id: int = 7, path: str = PATH, *, n: int = 12) -> FakeProject:
    """``n`` merge requests, commits, pipelines (2 jobs each) and deployments, 6 hours apart."""
    project = FakeProject(
        {
            "id": project_id,
            "path": path.rsplit("/", 1)[-1],
            "path_with_namespace": path,
            "namespace": {"full_path": path.rsplit("/", 1)[0]},
            "default_branch": "main",
            "visibility": "private",
            "archived": False,
            "topics": ["payments"],
            "created_at": ts(5000),
            "last_activity_at": ts(1),
            "web_url": f"https://gitlab.example/{path}",
        }
    )
    statuses = ["success", "failed", "canceled", "running", "manual", "skipped"]
    for i in range(n):
        at = ts(6 * (n - i))
        merged = i % 3 == 0
        project.merge_requests.append(
            {
                "id": 1000 + i,
                "iid": i + 1,
                "project_id": project_id,
                "title": f"Change {i}",
                "description": "",
                "state": "merged" if merged else ("opened" if i % 3 == 1 else "closed"),
                "created_at": at,
                "updated_at": at,
                "merged_at": at if merged else None,
                "closed_at": None if merged or i % 3 == 1 else at,
                "author": {"username": f"dev{i % 4}", "bot": i == 5},
                "source_branch": f"feature-{i}",
                "target_branch": "main",
                "sha": sha(500 + i),
                "merge_commit_sha": sha(i) if merged else None,
                "squash_commit_sha": None,
                "labels": ["backend"],
                "draft": False,
            }
        )
        project.approvals[i + 1] = {
            "iid": i + 1,
            "approved": merged,
            "approvals_required": 1,
            "updated_at": at,
            "approved_by": [{"user": {"username": "lead", "bot": False}}] if merged else [],
        }
        project.mr_commits[i + 1] = [
            {
                "id": sha(500 + i),
                "parent_ids": [sha(i - 1)],
                "message": f"work {i}",
                "author_name": "Dev",
                "author_email": "dev@example.invalid",
                "authored_date": at,
                "committed_date": at,
            }
        ]
        project.commits.append(
            {
                "id": sha(i),
                "parent_ids": [sha(i - 1)] if i else [],
                "message": f"Merge {i}",
                "author_name": "Dev",
                "author_email": "dev@example.invalid",
                "authored_date": at,
                "committed_date": at,
            }
        )
        status = statuses[i % len(statuses)]
        finished = ts(6 * (n - i) - 0.5) if status in ("success", "failed", "canceled") else None
        project.pipelines.append(
            {
                "id": 9000 + i,
                "iid": i + 1,
                "project_id": project_id,
                "sha": sha(i),
                "ref": "main",
                "status": status,
                "source": "schedule" if i == 2 else "push",
                "created_at": at,
                "updated_at": finished or at,
                "started_at": at,
                "finished_at": finished,
                "duration": 1800 if finished else None,
                "user": {"username": "dev0"},
            }
        )
        project.jobs[9000 + i] = [
            {
                "id": 90000 + 10 * i + k,
                "name": name,
                "stage": name,
                "status": status,
                "ref": "main",
                "created_at": at,
                "started_at": at,
                "finished_at": finished,
                "commit": {"id": sha(i)},
                "pipeline": {"id": 9000 + i, "sha": sha(i)},
                "runner": {"description": "shared-runner"},
                "tag_list": ["docker"],
            }
            for k, name in enumerate(("test", "deploy"))
        ]
        dep_status = ["success", "failed", "canceled", "running"][i % 4]
        project.deployments.append(
            {
                "id": 7000 + i,
                "iid": i + 1,
                "ref": "main",
                "sha": sha(i),
                "status": dep_status,
                "created_at": at,
                "updated_at": finished or at,
                "environment": {"id": 1, "name": "production"},
                "deployable": {
                    "id": 90000 + 10 * i + 1,
                    "name": "deploy",
                    "started_at": at,
                    "finished_at": finished,
                    "pipeline": {"id": 9000 + i},
                },
                "user": {"username": "dev0"},
            }
        )
    project.environments = [
        {"id": 1, "name": "production", "tier": "production", "state": "available"},
        {"id": 2, "name": "staging", "tier": "staging", "state": "available"},
    ]
    project.releases = [
        {
            "tag_name": "v1.0.0",
            "name": "One",
            "commit": {"id": sha(3)},
            "created_at": ts(40),
            "released_at": ts(40),
            "upcoming_release": False,
            "author": {"username": "lead"},
        }
    ]
    project.tags = [{"name": "v1.0.0", "commit": {"id": sha(3)}}]
    return project


def sync(db: Path, server: ScriptedServer, project: str = PATH, **kwargs) -> None:
    con = connect(db)
    try:
        with GitLabClient(
            f"{server.url}/api/v4", token=TOKEN, retry=FAST, per_page=5, **kwargs
        ) as client:
            ProjectSync(
                con, client, source="gitlab", project=project, backfill_days=365, now=NOW
            ).run()
    finally:
        con.close()


def counts(db: Path) -> dict[str, tuple[int, int]]:
    con = connect(db)
    try:
        out = {}
        for table in (
            "gitlab_merge_requests",
            "gitlab_pipelines",
            "gitlab_jobs",
            "gitlab_deployments",
            "gitlab_commits",
        ):
            out[table] = con.execute(
                f"SELECT count(*), count(DISTINCT natural_key) FROM raw.{table}"
            ).fetchone()
        return out
    finally:
        con.close()


def new_warehouse(tmp_path: Path) -> Path:
    """A warehouse file with every registered raw table, empty."""
    path = tmp_path / "warehouse.duckdb"
    con = connect(path)
    ensure_raw_tables(con)
    con.close()
    return path


def build_dora_marts(
    db: Path,
    target: Path,
    repository: str,
    *,
    also: list[str] = (),
    variables: dict | None = None,
) -> None:
    """The org (team payments, service checkout owning ``repository``), then a dbt build of
    fct_deployments, fct_changes and metrics_dora_weekly (and ``also``) with everything upstream,
    with ``variables`` as dbt --vars."""
    con = connect(db)
    for table, columns in ORG_TABLES.items():
        con.execute(f"CREATE OR REPLACE TABLE raw.{table} ({columns})")
    con.execute("INSERT INTO raw.org_teams VALUES ('payments', 5, 1)")
    con.execute("INSERT INTO raw.org_services VALUES ('checkout', 'payments', 'critical')")
    con.execute(f"INSERT INTO raw.org_repositories VALUES ('{repository}', 'checkout', 'payments')")
    ensure_definition_tables(con)
    con.close()
    result = run_dbt(
        [
            "build",
            "--select",
            "+fct_deployments",
            "+fct_changes",
            "+metrics_dora_weekly",
            *also,
            "--exclude",
            "test_type:singular",
            *(["--vars", json.dumps(variables)] if variables else []),
        ],
        db,
        target,
    )
    assert not failures(result), failures(result)


def build_code_host_layer(db: Path, target: Path) -> None:
    """dbt build of every code host's and deployment tool's staging models and the union layer
    (with their tests): a union model needs all of its branches' inputs."""
    result = run_dbt(
        [
            "build",
            "--select",
            "path:models/staging/github",
            "path:models/staging/gitlab",
            "path:models/staging/argocd",
            "path:models/staging/jenkins",
            "path:models/intermediate/code_host",
            "--exclude",
            "test_type:singular",
        ],
        db,
        target,
    )
    assert not failures(result), failures(result)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return new_warehouse(tmp_path)


FULL = {
    "gitlab_merge_requests": (12, 12),
    "gitlab_pipelines": (12, 12),
    "gitlab_jobs": (24, 24),
    "gitlab_deployments": (12, 12),
    "gitlab_commits": (12, 12),
}


def test_sync_lands_every_entity_under_the_projects_path_with_crash_safe_cursors(db: Path) -> None:
    fake = FakeGitLab([make_project()], token=TOKEN)
    with ScriptedServer(fake) as server:
        sync(db, server)
    assert counts(db) == FULL
    con = connect(db)
    keys = {
        t: con.execute(
            f"SELECT min(natural_key), min(scope), min(parent_key) FROM raw.{t}"
        ).fetchone()
        for t in (
            "gitlab_merge_requests",
            "gitlab_merge_request_approvals",
            "gitlab_jobs",
            "gitlab_releases",
            "gitlab_environments",
            "gitlab_tags",
        )
    }
    assert keys["gitlab_merge_requests"] == (f"{PATH}!1", PATH, None)
    assert keys["gitlab_merge_request_approvals"] == (f"{PATH}!1/approvals", PATH, f"{PATH}!1")
    assert keys["gitlab_jobs"][2] == f"{PATH}/pipeline/9000"
    assert keys["gitlab_releases"][0] == f"{PATH}/release/v1.0.0"
    assert keys["gitlab_tags"][0] == f"{PATH}/tag/v1.0.0"
    mr_cursor = get_sync_state(con, "gitlab", PATH, "merge_requests").cursor
    assert mr_cursor == make_project().merge_requests[-1]["updated_at"]
    assert get_sync_state(con, "gitlab", PATH, "pipelines").cursor is not None
    con.close()


def test_token_goes_in_private_token_and_the_project_path_is_url_encoded(db: Path) -> None:
    fake = FakeGitLab([make_project()], token=TOKEN)
    with ScriptedServer(fake) as server:
        sync(db, server)
    first_path, _ = server.requests[0]
    assert first_path == "/api/v4/projects/acme%2Fplatform%2Fcheckout"
    assert all(h.get("PRIVATE-TOKEN") == TOKEN for _, h in server.requests)
    assert not any("Authorization" in h for _, h in server.requests)
    # After the project answered, its numeric id is used (it survives a rename mid-sync).
    assert all(p.startswith("/api/v4/projects/7/") for p, _ in server.requests[1:])


def test_second_run_asks_updated_after_the_cursor_minus_overlap_and_duplicates_nothing(
    db: Path,
) -> None:
    project = make_project()
    fake = FakeGitLab([project], token=TOKEN)
    with ScriptedServer(fake) as server:
        sync(db, server)
        server.requests.clear()
        # One merge request changes after the first run.
        project.merge_requests[0]["updated_at"] = ts(0.5)
        project.merge_requests[0]["state"] = "closed"
        sync(db, server)
    listing = [
        parse_qs(urlsplit(p).query)
        for p, _ in server.requests
        if urlsplit(p).path == "/api/v4/projects/7/merge_requests"
    ]
    cursor = dt.datetime.fromisoformat(
        project.merge_requests[-1]["updated_at"].replace("Z", "+00:00")
    )
    assert listing[0]["updated_after"] == [iso(cursor - RESYNC_OVERLAP)]
    assert listing[0]["order_by"] == ["updated_at"] and listing[0]["sort"] == ["asc"]
    assert counts(db) == FULL
    con = connect(db)
    state = con.execute(
        "SELECT payload ->> '$.state' FROM raw.gitlab_merge_requests WHERE natural_key = ?",
        [f"{PATH}!1"],
    ).fetchone()[0]
    assert state == "closed"
    assert get_sync_state(con, "gitlab", PATH, "merge_requests").cursor == ts(0.5)
    con.close()


def test_group_projects_are_listed_with_keyset_pagination_and_archived_ones_left_out() -> None:
    projects = [make_project(10 + i, f"acme/p{i}", n=1) for i in range(7)]
    projects[3].payload["archived"] = True
    fake = FakeGitLab(projects, groups={"acme": [p.payload["id"] for p in projects]}, token=TOKEN)
    with ScriptedServer(fake) as server:
        with GitLabClient(f"{server.url}/api/v4", token=TOKEN, per_page=3) as client:
            found = group_projects(client, "acme", include_subgroups=True, include_archived=False)
            config = GitLabSourceConfig(groups=["acme"], projects=["acme/p1", "other/x"])
            both = projects_of(client, config)
    assert found == ["acme/p0", "acme/p1", "acme/p2", "acme/p4", "acme/p5", "acme/p6"]
    pages = [parse_qs(urlsplit(p).query) for p, _ in server.requests[:3]]
    assert [q.get("id_after") for q in pages] == [None, ["12"], ["15"]]
    assert all(q["pagination"] == ["keyset"] for q in pages)
    assert both == ["acme/p1", "other/x", "acme/p0", "acme/p2", "acme/p4", "acme/p5", "acme/p6"]


def test_group_projects_fall_back_to_offset_paging_where_keyset_answers_405() -> None:
    projects = [make_project(10 + i, f"acme/p{i}", n=1) for i in range(5)]
    fake = FakeGitLab(projects, groups={"acme": [p.payload["id"] for p in projects]}, token=TOKEN)
    fake.keyset_groups = False
    with ScriptedServer(fake) as server:
        with GitLabClient(f"{server.url}/api/v4", token=TOKEN, per_page=2) as client:
            found = group_projects(client, "acme", include_subgroups=True, include_archived=True)
    assert found == [f"acme/p{i}" for i in range(5)]
    queries = [parse_qs(urlsplit(p).query) for p, _ in server.requests]
    assert queries[0]["pagination"] == ["keyset"]
    assert [q.get("page") for q in queries[1:]] == [None, ["2"], ["3"]]


def test_a_wrong_token_stops_with_one_line_naming_the_url_and_never_the_token(db: Path) -> None:
    fake = FakeGitLab([make_project()], token="the-right-one")
    with ScriptedServer(fake) as server, pytest.raises(SourceAuthError) as info:
        sync(db, server)
    message = str(info.value)
    assert "\n" not in message and TOKEN not in message
    assert "GitLab refused" in message and "HTTP 401" in message and "/projects/" in message
    assert counts(db)["gitlab_merge_requests"] == (0, 0)


def test_gitlab_rows_flow_through_staging_into_every_code_host_union_model(
    db: Path, tmp_path: Path
) -> None:
    with ScriptedServer(FakeGitLab([make_project()], token=TOKEN)) as server:
        sync(db, server)
    build_code_host_layer(db, tmp_path / "target")
    con = connect(db)
    try:

        def q(sql: str):
            return con.execute(sql).fetchall()

        for model, n in {
            "int_pull_requests": 12,
            "int_pull_request_commits": 12,
            "int_commits": 12,
            "int_ci_runs": 12,
            "int_ci_jobs": 24,
            "int_releases": 1,
            "int_tags": 1,
            "int_repositories": 1,
        }.items():
            assert q(f"SELECT count(*) FROM intermediate.{model} WHERE source = 'gitlab'") == [
                (n,)
            ], model
        assert q(
            "SELECT state, count(*) FROM intermediate.int_pull_requests GROUP BY 1 ORDER BY 1"
        ) == [("closed", 8), ("open", 4)]
        runs = dict(
            ((s, c), n)
            for s, c, n in q(
                "SELECT status, coalesce(conclusion, '-'), count(*) "
                "FROM intermediate.int_ci_runs GROUP BY 1, 2"
            )
        )
        assert runs == {
            ("completed", "success"): 2,
            ("completed", "failure"): 2,
            ("completed", "cancelled"): 2,
            ("completed", "skipped"): 2,
            ("in_progress", "-"): 2,
            ("waiting", "-"): 2,
        }
        events = q(
            "SELECT event_kind, coalesce(state, '-'), count(*) FROM "
            "intermediate.int_deployment_events GROUP BY 1, 2 ORDER BY 1, 2"
        )
        # 12 created; the 9 that finished also report their state (running ones do not).
        assert events == [
            ("created", "-", 12),
            ("status", "cancelled", 3),
            ("status", "failure", 3),
            ("status", "success", 3),
        ]
        parents = q("SELECT count(*) FROM intermediate.int_commit_parents WHERE source='gitlab'")
        assert parents == [(11,)]
    finally:
        con.close()


GITLAB_CONFIG = """
organisation: {name: Acme}
teams: [{name: web, engineers: 4}]
services: [{name: shop, team: web, repositories: [acme/platform/shop]}]
sources:
  gitlab: [GITLAB]
"""


def test_config_maps_nested_group_projects_and_needs_groups_or_projects(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(
        GITLAB_CONFIG.replace("GITLAB", "{groups: [acme/platform], token: secret}"), "utf-8"
    )
    config = load_config(good)
    assert config.services[0].repositories == ["acme/platform/shop"]
    (source,) = config.sources.gitlab
    assert source.api_url == "https://gitlab.com/api/v4"
    assert "secret" not in repr(source)
    bad = tmp_path / "bad.yaml"
    bad.write_text(GITLAB_CONFIG.replace("GITLAB", "{base_url: 'https://git.example'}"), "utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(bad)
    assert "sources.gitlab[0]" in str(info.value) or "sources.gitlab.0" in str(info.value)
    assert "give 'groups' or 'projects'" in str(info.value)


def test_gitlab_deployments_and_merge_requests_reach_the_dora_marts(
    db: Path, tmp_path: Path
) -> None:
    """The project mapped to a service: its production deployments that finished are in
    fct_deployments as gitlab_deployment (success 0, 4, 8; failure 1, 5, 9; cancelled and running
    ones are neither), and its merged merge requests (0, 3, 6, 9; merge commit = commit i) are
    changes deployed by the first successful deployment of a descendant commit (0, 4, 8; 9 has
    none yet)."""
    with ScriptedServer(FakeGitLab([make_project()], token=TOKEN)) as server:
        sync(db, server)
    build_dora_marts(db, tmp_path / "target", PATH)
    con = connect(db)
    try:
        deployments = con.execute(
            "SELECT deployment_id, status, service, team FROM marts.fct_deployments "
            "ORDER BY deployed_at"
        ).fetchall()
        changes = con.execute(
            "SELECT pr_number, deployment_id FROM marts.fct_changes ORDER BY pr_number"
        ).fetchall()
        weekly = con.execute(
            "SELECT sum(deployments), sum(n_failed_deployments) FROM marts.metrics_dora_weekly "
            "WHERE scope = 'service' AND scope_name = 'checkout'"
        ).fetchone()
    finally:
        con.close()
    dep = f"{PATH}/deployment/"
    assert deployments == [
        (f"{dep}{7000 + i}", "success" if i % 4 == 0 else "failure", "checkout", "payments")
        for i in (0, 1, 4, 5, 8, 9)
    ]
    assert changes == [(1, f"{dep}7000"), (4, f"{dep}7004"), (7, f"{dep}7008"), (10, None)]
    assert weekly == (3, 3)


def test_each_project_is_a_partition_synced_alone_and_resync_forgets_only_its_cursors(
    db: Path, tmp_path: Path
) -> None:
    projects = [make_project(10 + i, f"acme/p{i}", n=3) for i in range(3)]
    fake = FakeGitLab(projects, groups={"acme": [10, 11]}, token=TOKEN)
    with ScriptedServer(fake) as server:
        text = GITLAB_CONFIG.replace(
            "GITLAB",
            f"{{name: gitlab, base_url: '{server.url}', token: {TOKEN}, groups: [acme], "
            "projects: [acme/p2]}, "
            f"{{name: gitlab-two, base_url: '{server.url}', token: {TOKEN}, projects: [acme/p0]}}",
        )
        path = tmp_path / "org.yaml"
        path.write_text(text, "utf-8")
        clients = SourceClients(load_config(path))
        keys = gitlab_partition_keys(clients)
        assert keys == ["acme/p2", "acme/p0", "acme/p1", "gitlab-two:acme/p0"]
        con = connect(db)
        try:
            server.requests.clear()
            sync_gitlab(con, clients, partition_keys=["gitlab-two:acme/p0"])
            # No group listing: the key names the project.
            assert not any("/groups/" in p for p, _ in server.requests)
            synced = con.execute(
                "SELECT DISTINCT source, scope FROM raw.gitlab_merge_requests"
            ).fetchall()
            assert synced == [("gitlab-two", "acme/p0")]
            sync_gitlab(con, clients, partition_keys=["acme/p1"])
            before = get_sync_state(con, "gitlab", "acme/p1", "merge_requests").last_synced_at
            server.requests.clear()
            sync_gitlab(con, clients, partition_keys=["acme/p1"], resync=True)
            asked = [
                parse_qs(urlsplit(p).query)["updated_after"]
                for p, _ in server.requests
                if urlsplit(p).path == "/api/v4/projects/11/merge_requests"
            ]
            # Forgotten: the listing starts at the backfill again (365 days before the run's clock),
            # not 2 days before the cursor.
            (asked_after,) = (dt.datetime.fromisoformat(a[0].replace("Z", "+00:00")) for a in asked)
            backfill = clients.now() - dt.timedelta(days=365)
            assert abs(asked_after - backfill) < dt.timedelta(minutes=1)
            after = get_sync_state(con, "gitlab", "acme/p1", "merge_requests").last_synced_at
            assert after > before
            assert get_sync_state(con, "gitlab-two", "acme/p0", "merge_requests") is not None
            with pytest.raises(ConfigError, match="'nope' is not a GitLab source"):
                sync_gitlab(con, clients, partition_keys=["nope:acme/p1"])
        finally:
            con.close()
    config = load_config(path)
    check_project(config, config.sources.gitlab[0], "acme/sub/p9")
    with pytest.raises(ConfigError, match="not a project of source 'gitlab-two'"):
        check_project(config, config.sources.gitlab[1], "acme/p1")


def test_gitlab_approvals_are_the_reviews_of_merge_requests_in_time_to_first_review(
    db: Path, tmp_path: Path
) -> None:
    """Approvals feed the review columns as GitHub reviews do: a merge request's first review is
    its earliest approval (``approved_by[].approved_at``) by someone other than its author, before
    the merge. An approval without a time (older GitLab) is a review row but no first review; the
    author's own approval is none."""
    project = make_project()
    merged = [mr for mr in project.merge_requests if mr["state"] == "merged"]  # iid 1, 4, 7, 10
    author = {mr["iid"]: mr["author"]["username"] for mr in merged}

    def approval(username: str, hours_ago: float | None) -> dict:
        entry: dict = {"user": {"username": username, "bot": False}}
        if hours_ago is not None:
            entry["approved_at"] = ts(hours_ago)
        return entry

    merged_at = {mr["iid"]: mr["merged_at"] for mr in merged}
    hours = {
        iid: (NOW - dt.datetime.fromisoformat(at)).total_seconds() / 3600
        for iid, at in merged_at.items()
    }
    for mr in merged:  # opened ten hours before the merge, approved in between
        mr["created_at"] = ts(hours[mr["iid"]] + 10)
    approvals = {
        1: [approval("lead", hours[1] + 3), approval("second", hours[1] + 1)],  # first: lead
        4: [approval(author[4], hours[4] + 5), approval("lead", hours[4] + 2)],  # author's own
        7: [approval("lead", None)],  # no time sent
        10: [approval("lead", hours[10] - 1)],  # after the merge
    }
    for iid, approved_by in approvals.items():
        project.approvals[iid]["approved_by"] = approved_by
    with ScriptedServer(FakeGitLab([project], token=TOKEN)) as server:
        sync(db, server)
    build_dora_marts(db, tmp_path / "target", PATH)
    con = connect(db)
    try:
        reviews = con.execute(
            "SELECT count(*), count(submitted_at) FROM intermediate.int_pull_request_reviews "
            "WHERE source = 'gitlab' AND state = 'APPROVED'"
        ).fetchone()
        first = dict(
            con.execute(
                "SELECT pr_number, round(date_diff('second', first_review_at, merged_at) / 3600, 2) "
                "FROM marts.fct_changes"
            ).fetchall()
        )
    finally:
        con.close()
    assert reviews == (6, 5)
    assert first == {1: 3.0, 4: 2.0, 7: None, 10: None}
