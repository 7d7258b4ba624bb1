"""The demo's mixed organisation: a service on GitLab built and deployed by Jenkins, and a service on
GitHub deployed by Argo CD.

Both are simulated like every demo repository (pipelines/demo/repository.py: pull requests,
reviews, the commit graph, CI runs, deployments, the incidents they cause) and rendered into the
payloads of the systems that hold them, in those systems' documented shapes:

- **GitLab + Jenkins**: a repository of a configured GitLab group (or project) is a GitLab project.
  Its pull requests are merge requests; their ``APPROVED`` reviews are the approvals (``approved_by``
  with ``approved_at``; GitLab's approvals API has no other review states), their commits and the
  default branch's history are GitLab commits with ``parent_ids``. Jenkins builds it: the folder
  ``<project name>`` holds the job ``ci`` (one build per CI run) and ``deploy-production`` (one build
  per production deployment run), each build carrying the git plugin's build data (the commit and
  the GitLab remote). The project has no GitLab pipelines or deployments.
- **Argo CD**: a service of ``sources.argocd[].service_map`` keeps its code, pull requests and
  Actions runs on GitHub, but its production deployments are Argo CD syncs: the
  ``Deploy to production`` run hands the commit over (it updates the manifests and ends) and the
  application syncs that revision 1-4 minutes later (``status.history``). GitHub records no
  production Deployment for it; staging stays on GitHub. A failed run hands nothing over (no sync),
  so it stays a failed deployment of GitHub Actions.

Everything is drawn from the seed and the repository's own data: the other services' histories do
not change when these join.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pipelines.demo._common import MINUTE, parse_time, rng_for, stable_int
from pipelines.demo.fake_argocd import FakeArgoCD, application, history_entry
from pipelines.demo.fake_gitlab import FakeGitLab, FakeProject
from pipelines.demo.fake_jenkins import PIPELINE, FakeJenkins, folder, job
from pipelines.demo.render import RepoData

if TYPE_CHECKING:
    from pipelines.config import Config
    from pipelines.demo.generator import Organisation

CI_JOB, DEPLOY_JOB = "ci", "deploy-production"
_RUN_ID = re.compile(r"/actions/runs/(\d+)")


# --- which repositories are where -------------------------------------------------------------------
def on_gitlab(config: Config, repository: str) -> bool:
    """Whether a service repository is a project of a configured GitLab group or project list."""
    for source in config.sources.gitlab:
        if repository in source.projects:
            return True
        if any(repository.startswith(group.strip("/") + "/") for group in source.groups):
            return True
    return False


def argocd_applications(config: Config) -> dict[str, str]:
    """Argo CD application -> the repository it deploys (its service's first repository)."""
    repositories = {s.name: s.repositories for s in config.services}
    return {
        app: repositories[service][0]
        for source in config.sources.argocd
        for app, service in source.service_map.items()
        if repositories.get(service)
    }


# --- Argo CD --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sync:
    """One Argo CD sync of a production deployment the Actions run handed over."""

    revision: str
    started: dt.datetime
    deployed: dt.datetime
    automated: bool


def hand_over_to_argocd(data: RepoData, seed: int) -> tuple[RepoData, list[Sync]]:
    """The repository without its production GitHub Deployments, and the Argo CD syncs that deploy
    instead: one per successful production deployment, starting 1-4 minutes after the run that
    handed its commit over ended."""
    runs = {r["id"]: r for r in data.runs}
    kept, syncs = [], []
    for deployment in reversed(data.deployments):  # oldest first
        if deployment["environment"] != "production":
            kept.append(deployment)
            continue
        statuses = data.statuses.get(deployment["id"], [])
        succeeded = [s for s in statuses if s["state"] == "success"]
        if not succeeded:
            continue
        run_id = _RUN_ID.search(succeeded[0].get("log_url") or "")
        run = runs.get(int(run_id.group(1))) if run_id else None
        handed_over = parse_time(run["updated_at"] if run else succeeded[0]["created_at"])
        rng = rng_for(seed, "argocd-sync", data.full_name, deployment["id"])
        started = (handed_over + MINUTE * rng.uniform(1, 4)).replace(microsecond=0)
        deployed = started + dt.timedelta(seconds=round(rng.uniform(30, 120)))
        syncs.append(Sync(deployment["sha"], started, deployed, rng.random() < 0.9))
    kept_ids = {d["id"] for d in kept}
    data = dataclasses.replace(
        data,
        deployments=list(reversed(kept)),
        statuses={k: v for k, v in data.statuses.items() if k in kept_ids},
        views={},
    )
    return data, syncs


def argocd_server(org: Organisation) -> FakeArgoCD:
    """The demo's Argo CD: one application per ``service_map`` entry, its whole sync history."""
    apps = []
    for name, repository in sorted(org.argocd_applications.items()):
        url = f"https://github.com/{repository}.git"
        syncs = [s for s in org.argocd_syncs(repository) if s.deployed <= org.horizon]
        history = [
            history_entry(i, s.revision, s.deployed, url, automated=s.automated, started=s.started)
            for i, s in enumerate(syncs)
        ]
        apps.append(
            application(
                name,
                url,
                history,
                reconciled_at=org.horizon,
                created_at=org.start,
                # The demo keeps the year: Argo CD keeps spec.revisionHistoryLimit entries (10 by
                # default), so a real server's first sync sees the last ten.
                history_limit=max(10, len(history)),
            )
        )
    return FakeArgoCD(apps)


# --- GitLab ---------------------------------------------------------------------------------------
def _gitlab_user(login: str, base: str) -> dict[str, Any]:
    return {
        "id": stable_int("gitlab-user", login) % 10_000_000 + 100,
        "username": login,
        "name": login,
        "state": "active",
        "web_url": f"{base}/{login}",
        "bot": login.endswith("[bot]"),
    }


def _gitlab_commit(c: dict[str, Any], project_url: str) -> dict[str, Any]:
    commit = c["commit"]
    message = commit["message"]
    return {
        "id": c["sha"],
        "short_id": c["sha"][:8],
        "created_at": commit["committer"]["date"],
        "parent_ids": [p["sha"] for p in c["parents"]],
        "title": message.split("\n", 1)[0],
        "message": message,
        "author_name": commit["author"]["name"],
        "author_email": commit["author"]["email"],
        "authored_date": commit["author"]["date"],
        "committer_name": commit["committer"]["name"],
        "committer_email": commit["committer"]["email"],
        "committed_date": commit["committer"]["date"],
        "web_url": f"{project_url}/-/commit/{c['sha']}",
    }


def gitlab_project(org: Organisation, repository: str, base: str, project_id: int) -> FakeProject:
    data = org.repo(repository)
    assert data is not None
    group, _, path = repository.rpartition("/")
    project_url = f"{base}/{repository}"
    meta = data.meta
    project = {
        "id": project_id,
        "name": path,
        "path": path,
        "path_with_namespace": repository,
        "namespace": {
            "id": stable_int("group", group) % 100_000,
            "full_path": group,
            "kind": "group",
        },
        "default_branch": "main",
        "visibility": "internal",
        "archived": False,
        "web_url": project_url,
        "http_url_to_repo": f"{project_url}.git",
        "topics": meta.get("topics") or [],
        "created_at": meta["created_at"],
        "last_activity_at": meta["pushed_at"],
    }
    merge_requests, approvals, mr_commits = [], {}, {}
    for pull in data.pulls:
        iid = pull["number"]
        merged = pull["merged_at"] is not None
        state = "merged" if merged else ("closed" if pull["closed_at"] else "opened")
        merge_request = {
            "id": pull["id"],
            "iid": iid,
            "project_id": project_id,
            "title": pull["title"],
            "description": pull["body"],
            "state": state,
            "draft": pull["draft"],
            "work_in_progress": pull["draft"],
            "author": _gitlab_user(pull["user"]["login"], base),
            "source_branch": pull["head"]["ref"],
            "target_branch": pull["base"]["ref"],
            "sha": pull["head"]["sha"],
            "merge_commit_sha": pull["merge_commit_sha"] if merged else None,
            "squash_commit_sha": None,
            "labels": [label["name"] for label in pull["labels"]],
            "web_url": f"{project_url}/-/merge_requests/{iid}",
            "created_at": pull["created_at"],
            "updated_at": pull["updated_at"],
            "merged_at": pull["merged_at"],
            "closed_at": None if merged else pull["closed_at"],
        }
        merge_requests.append(merge_request)
        approved = [r for r in data.reviews.get(iid, []) if r["state"] == "APPROVED"]
        approvals[iid] = {
            **{k: merge_request[k] for k in ("id", "iid", "project_id", "title", "state")},
            "created_at": pull["created_at"],
            "updated_at": approved[-1]["submitted_at"] if approved else pull["created_at"],
            "approved": bool(approved),
            "approvals_required": 1,
            "approvals_left": 0 if approved else 1,
            "approved_by": [
                {"user": _gitlab_user(r["user"]["login"], base), "approved_at": r["submitted_at"]}
                for r in approved
            ],
        }
        mr_commits[iid] = [
            _gitlab_commit(c, project_url) for c in reversed(data.pr_commits.get(iid, []))
        ]
    tags = [
        {
            "name": t["name"],
            "message": "",
            "target": t["commit"]["sha"],
            "commit": {"id": t["commit"]["sha"]},
            "release": None,
            "protected": True,
        }
        for t in data.tags
    ]
    return FakeProject(
        payload=project,
        merge_requests=merge_requests,
        approvals=approvals,
        mr_commits=mr_commits,
        commits=[_gitlab_commit(c, project_url) for c in data.history],
        tags=tags,
    )


def gitlab_server(org: Organisation) -> FakeGitLab:
    """The demo's GitLab: every service repository on GitLab, a project of its group."""
    base = (
        str(org.config.sources.gitlab[0].base_url).rstrip("/") if org.config.sources.gitlab else ""
    )
    projects, groups = [], {}
    for repository in org.gitlab_repositories:
        project_id = 40_000_000 + org.plan(repository).index
        projects.append(gitlab_project(org, repository, base, project_id))
        group = repository.rpartition("/")[0]
        while group:  # a group lists its subgroups' projects (include_subgroups)
            groups.setdefault(group, []).append(project_id)
            group = group.rpartition("/")[0]
    return FakeGitLab(projects, groups=groups, scheme=base.partition(":")[0] or "https")


# --- Jenkins --------------------------------------------------------------------------------------
def _build(
    number: int, run: dict[str, Any], remote: str, job_name: str, base: str
) -> dict[str, Any]:
    started = parse_time(run["run_started_at"] or run["created_at"])
    ended = parse_time(run["updated_at"])
    result = {"success": "SUCCESS", "failure": "FAILURE", "cancelled": "ABORTED"}.get(
        run["conclusion"], "FAILURE"
    )
    branch = run["head_branch"]
    return {
        "_class": "org.jenkinsci.plugins.workflow.job.WorkflowRun",
        "number": number,
        "result": result,
        "building": False,
        "timestamp": int(started.timestamp() * 1000),
        "duration": int((ended - started).total_seconds() * 1000),
        "fullDisplayName": f"{job_name.replace('/', ' » ')} #{number}",
        "url": f"{base}/job/{job_name.replace('/', '/job/')}/{number}/",
        "actions": [
            {
                "_class": "hudson.model.CauseAction",
                "causes": [
                    {
                        "_class": "com.dabsquared.gitlabjenkins.cause.GitLabWebHookCause",
                        "shortDescription": "Started by GitLab push by " + run["actor"]["login"],
                    }
                ],
            },
            {
                "_class": "hudson.plugins.git.util.BuildData",
                "lastBuiltRevision": {
                    "SHA1": run["head_sha"],
                    "branch": [{"SHA1": run["head_sha"], "name": f"refs/remotes/origin/{branch}"}],
                },
                "remoteUrls": [remote],
            },
        ],
    }


def jenkins_server(org: Organisation) -> FakeJenkins:
    """The demo's Jenkins: a folder per GitLab project with its ``ci`` and ``deploy-production``
    jobs, one build per CI run and per production deployment run."""
    source = org.config.sources.jenkins[0] if org.config.sources.jenkins else None
    base = str(source.base_url).rstrip("/") if source else "http://jenkins.invalid"
    gitlab = str(org.config.sources.gitlab[0].base_url).rstrip("/")
    folders = []
    for repository in org.gitlab_repositories:
        data = org.repo(repository)
        assert data is not None
        name = repository.rpartition("/")[2]
        remote = f"{gitlab}/{repository}.git"
        runs = sorted(data.runs, key=lambda r: (r["created_at"], r["id"]))
        jobs = []
        for job_name, workflow in ((CI_JOB, "CI"), (DEPLOY_JOB, "Deploy to production")):
            chosen = [r for r in runs if r["name"] == workflow and r["conclusion"]]
            full = f"{name}/{job_name}"
            builds = [_build(n, r, remote, full, base) for n, r in enumerate(chosen, 1)]
            jobs.append(job(job_name, builds, cls=PIPELINE))
        folders.append(folder(name, *jobs))
    return FakeJenkins(folders, base=base)
