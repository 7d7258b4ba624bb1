"""Argo CD syncs in the marts (real dbt build over a warehouse synced from 127.0.0.1): each sync is a
deployment of the service whose repository the application deploys from, its revision attributes
merged pull requests by the ancestry walk, and a GitHub Actions run that triggered an Argo CD sync
of the same commit is not a second deployment in the org roll-up."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipelines.demo.fake_argocd import FakeArgoCD, application, history_entry, stamp
from pipelines.warehouse import RawRecord, connect, transaction, upsert_raw
from tests.http_server import ScriptedServer
from tests.test_argocd_sync import REPO, REPO_URL, TOKEN, sync
from tests.test_gitlab_sync import build_dora_marts, new_warehouse

T0 = dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)  # a Monday
SHA = [f"{i:x}" * 40 for i in range(1, 5)]  # c0..c3, each the parent of the next


def at(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def github_rows(con) -> None:
    """The service's GitHub side: a commit chain, two merged pull requests, three deploy runs."""
    commits = [
        RawRecord(
            f"{REPO}@{sha}",
            REPO,
            {
                "sha": sha,
                "commit": {
                    "message": f"change {i}",
                    "author": {"name": "dev", "date": stamp(at(i))},
                    "committer": {"name": "dev", "date": stamp(at(i))},
                },
                "author": {"login": "dev"},
                "parents": [{"sha": SHA[i - 1]}] if i else [],
            },
        )
        for i, sha in enumerate(SHA)
    ]
    pulls = [
        RawRecord(
            f"{REPO}#{number}",
            REPO,
            {
                "id": 900 + number,
                "number": number,
                "state": "closed",
                "title": f"PR {number}",
                "user": {"login": "dev", "type": "User"},
                "created_at": stamp(at(sha_index - 1)),
                "updated_at": stamp(at(sha_index + 0.5)),
                "closed_at": stamp(at(sha_index + 0.5)),
                "merged_at": stamp(at(sha_index + 0.5)),
                "merge_commit_sha": SHA[sha_index],
                "draft": False,
                "base": {"ref": "main"},
                "head": {"ref": f"feature/{number}", "sha": "f" * 40},
            },
        )
        for number, sha_index in ((1, 1), (2, 3))
    ]

    def run(run_id: int, sha: str, started: float, ended: float) -> RawRecord:
        return RawRecord(
            f"{REPO}/run/{run_id}",
            REPO,
            {
                "id": run_id,
                "workflow_id": 55,
                "name": "Deploy to production",
                "path": ".github/workflows/deploy.yml",
                "event": "push",
                "head_branch": "main",
                "head_sha": sha,
                "status": "completed",
                "conclusion": "success",
                "run_number": run_id,
                "run_attempt": 1,
                "created_at": stamp(at(started)),
                "run_started_at": stamp(at(started)),
                "updated_at": stamp(at(ended)),
            },
        )

    runs = [
        run(100, SHA[1], 2.0, 2.2),  # pushed the manifests and ended; Argo CD synced 5 min later
        run(101, SHA[3], 4.0, 4.5),  # ran `argocd app sync --wait`: the sync ran during the run
        run(102, SHA[2], 3.0, 3.2),  # deployed c2 itself: no Argo CD sync of c2
    ]
    with transaction(con):
        upsert_raw(con, "github_commits", "github", commits)
        upsert_raw(con, "github_pull_requests", "github", pulls)
        upsert_raw(con, "github_workflow_runs", "github", runs)


def test_an_actions_run_that_triggers_an_argo_cd_sync_is_one_deployment_in_the_org_rollup(
    tmp_path: Path,
) -> None:
    history = [
        history_entry(0, SHA[1], at(2.2 + 5 / 60 + 40 / 3600), REPO_URL),
        history_entry(1, SHA[3], at(4.3), REPO_URL, automated=False),
    ]
    db = new_warehouse(tmp_path)
    app = application("checkout-prod", REPO_URL, history)
    with ScriptedServer(FakeArgoCD([app], token=TOKEN)) as server:
        sync(db, server)
    con = connect(db)
    github_rows(con)
    con.close()
    build_dora_marts(db, tmp_path / "target", REPO)
    con = connect(db)
    try:
        deployments = con.execute(
            "SELECT deployment_id, source, commit_sha, service FROM marts.fct_deployments "
            "ORDER BY deployed_at"
        ).fetchall()
        changes = con.execute(
            "SELECT pr_number, deployment_id FROM marts.fct_changes ORDER BY pr_number"
        ).fetchall()
        org = con.execute(
            "SELECT sum(deployments) FROM marts.metrics_dora_weekly WHERE scope = 'org'"
        ).fetchone()
    finally:
        con.close()
    h = "argocd/checkout-prod/history/"
    assert deployments == [
        (f"{h}0", "argocd_deployment", SHA[1], "checkout"),  # run 100 handed c1 over
        (f"{REPO}/run/102", "github_actions", SHA[2], "checkout"),
        (f"{h}1", "argocd_deployment", SHA[3], "checkout"),  # run 101 waited for the sync
    ]
    # The revision attributes the merged pull requests: PR 1 (c1) went out with sync 0, PR 2
    # (c3) with sync 1.
    assert changes == [(1, f"{h}0"), (2, f"{h}1")]
    assert org == (3,)
