"""Render a simulated repository into GitHub REST payloads (lists of dicts, newest first)."""

from __future__ import annotations

import base64
import bisect
import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Any

from pipelines.demo import platform
from pipelines.demo._common import BOT, Person, iso, rng_for, sha1_hex, stable_int
from pipelines.demo.repository import (
    PR,
    Commit,
    Deploy,
    Issue,
    RepoPlan,
    Run,
    SimResult,
    head_ref,
)

SECOND_STEP = dt.timedelta(seconds=3)
WORKFLOWS = {
    # key: (name, path)
    "ci": ("CI", ".github/workflows/ci.yml"),
    "staging": ("Staging deploy", ".github/workflows/staging.yml"),
    "deploy": ("Deploy to production", ".github/workflows/deploy.yml"),
    "health": ("Production health check", ".github/workflows/health-check.yml"),
}
LABEL_COLOURS = {
    "bug": "d73a4a",
    "feature": "a2eeef",
    "chore": "cfd3d7",
    "hotfix": "b60205",
    "dependencies": "0366d6",
    "incident": "e11d21",
    platform.REQUEST_LABEL: "5319e7",
    "enhancement": "a2eeef",
    "question": "d876e3",
}


def node_id(prefix: str, value: object) -> str:
    raw = base64.b64encode(str(value).encode()).decode().rstrip("=")
    return f"{prefix}_kwDO{raw}"


@functools.lru_cache(maxsize=8192)
def _user(login: str) -> dict[str, Any]:
    bot = login.endswith("[bot]")
    return {
        "login": login,
        "id": stable_int("user", login) % 150_000_000 + 1_000_000,
        "node_id": node_id("U", login),
        "type": "Bot" if bot else "User",
        "site_admin": False,
        "html_url": f"https://github.com/{'apps/' + login[:-5] if bot else login}",
    }


def user(person: Person | str) -> dict[str, Any]:
    return _user(person if isinstance(person, str) else person.login)


@dataclass
class RepoData:
    """A repository's API payloads, with the indexes the fake API needs."""

    full_name: str
    meta: dict[str, Any]
    pulls: list[dict[str, Any]]  # number desc
    reviews: dict[int, list[dict[str, Any]]]
    pr_commits: dict[int, list[dict[str, Any]]]
    history: list[dict[str, Any]]  # reachable from main, newest first
    tags: list[dict[str, Any]]
    releases: list[dict[str, Any]]
    deployments: list[dict[str, Any]]  # newest first
    statuses: dict[int, list[dict[str, Any]]]
    runs: list[dict[str, Any]]  # newest first
    jobs: dict[int, list[dict[str, Any]]]
    workflows: list[dict[str, Any]]
    issues: list[dict[str, Any]]
    incidents: list[dict[str, Any]]  # caused by production deployments, for the PagerDuty layer
    commit_index: dict[str, dict[str, Any]] = field(default_factory=dict)
    views: dict[Any, Any] = field(default_factory=dict)  # cached sorted/filtered lists


def render(sim: SimResult) -> RepoData:
    plan = sim.plan
    repo = plan.full_name
    owner = repo.split("/")[0]
    url = f"https://github.com/{repo}"
    api = f"https://api.github.com/repos/{repo}"
    ix = plan.index
    horizon = plan.horizon

    # Numbers: pull requests and issues share one sequence, in creation order.
    sim_issues = sim.issues + _request_issues(plan)
    things: list[tuple[dt.datetime, int, Any]] = [(pr.opened, pr.seq, pr) for pr in sim.prs]
    things += [(i.created, 10**7 + k, i) for k, i in enumerate(sim_issues)]
    things.sort(key=lambda x: (x[0], x[1]))
    for n, (_, _, thing) in enumerate(things, sim.number_offset + 1):
        thing.number = n

    def commit_message(c: Commit) -> str:
        pr = c.pr
        if c.kind == "merge":
            return f"Merge pull request #{pr.number} from {owner}/{head_ref(pr)}\n\n{pr.title}"
        if c.kind == "squash":
            body = "".join(f"\n* {x.title}" for x in pr.commits) if len(pr.commits) > 1 else ""
            return f"{pr.title} (#{pr.number})" + (f"\n{body}" if body else "")
        return c.title

    def person_json(p: Person, when: dt.datetime) -> dict[str, Any]:
        return {"name": p.name, "email": p.email, "date": iso(when)}

    def commit_json(c: Commit) -> dict[str, Any]:
        return {
            "sha": c.sha,
            "node_id": node_id("C", c.sha[:12]),
            "commit": {
                "author": person_json(c.author, c.authored),
                "committer": person_json(c.committer, c.committed),
                "message": commit_message(c),
                "tree": {"sha": c.sha[::-1], "url": f"{api}/git/trees/{c.sha[::-1]}"},
                "url": f"{api}/git/commits/{c.sha}",
                "comment_count": 0,
                "verification": {
                    "verified": c.committer.login == "web-flow",
                    "reason": "valid" if c.committer.login == "web-flow" else "unsigned",
                },
            },
            "url": f"{api}/commits/{c.sha}",
            "html_url": f"{url}/commit/{c.sha}",
            "author": user(c.author),
            "committer": user(c.committer),
            "parents": [
                {"sha": s, "url": f"{api}/commits/{s}", "html_url": f"{url}/commit/{s}"}
                for s in c.parents
            ],
        }

    # --- pull requests, reviews, PR commits -------------------------------------------------------
    pulls, reviews, pr_commits = [], {}, {}
    review_id = 2_000_000_000 + ix * 1_000_000
    for pr in sorted(sim.prs, key=lambda x: -x.number):
        if not pr.commits:
            continue
        end = pr.merge_at if pr.merged else (pr.close_at if pr.closed else horizon)
        items = []
        for t, who, state in pr.reviews:
            if t > end or t > horizon:
                continue
            review_id += 1
            head = pr.commits[0]
            for c in pr.commits:
                if c.committed <= t:
                    head = c
            items.append(
                {
                    "id": review_id,
                    "node_id": node_id("PRR", review_id),
                    "user": user(who),
                    "body": ""
                    if state == "APPROVED"
                    else (
                        "Looks good, a few nits."
                        if state == "COMMENTED"
                        else "Please add a test for this."
                    ),
                    "state": state,
                    "html_url": f"{url}/pull/{pr.number}#pullrequestreview-{review_id}",
                    "pull_request_url": f"{api}/pulls/{pr.number}",
                    "author_association": "MEMBER" if who.login != BOT.login else "NONE",
                    "submitted_at": iso(t),
                    "commit_id": head.sha,
                }
            )
        reviews[pr.number] = items
        pr_commits[pr.number] = [commit_json(c) for c in pr.commits]
        pulls.append(_pull_json(pr, repo, owner, url, api, ix, items, horizon))

    # --- default branch ----------------------------------------------------------------------------
    history_commits = sorted(sim.history, key=lambda c: (c.committed, c.seq), reverse=True)
    history = [commit_json(c) for c in history_commits]
    commit_index = {c["sha"]: c for c in history}

    # --- runs and jobs -------------------------------------------------------------------------------
    workflow_files = {**WORKFLOWS, **platform.SELF_SERVICE_WORKFLOWS}
    wf_ids = {k: 60_000_000 + ix * 10 + i for i, k in enumerate(workflow_files)}
    all_runs = sim.runs + _self_service_runs(plan, sim.history)
    runs_sorted = sorted(all_runs, key=lambda r: (r.created, r.workflow, r.sha))
    golden_since = plan.golden_path_since
    run_ids: dict[int, int] = {}
    run_numbers: dict[str, int] = {}
    runs, jobs = [], {}
    job_id = 30_000_000_000 + ix * 100_000_000
    deploy_job: dict[int, int] = {}
    for k, run in enumerate(runs_sorted):
        rid = 10_000_000_000 + ix * 10_000_000 + k * 7 + 3
        run_ids[id(run)] = rid
        run_numbers[run.workflow] = run_numbers.get(run.workflow, 0) + 1
        name, path = workflow_files[run.workflow]
        branch = head_ref(run.branch) if isinstance(run.branch, PR) else run.branch
        on_platform = golden_since is not None and run.created >= golden_since
        item = {
            "id": rid,
            "name": name,
            "node_id": node_id("WFR", rid),
            "head_branch": branch,
            "head_sha": run.sha,
            "path": path,
            "display_title": run.title if run.title else name,
            "run_number": run_numbers[run.workflow],
            "event": run.event,
            "status": "completed",
            "conclusion": run.conclusion,
            "workflow_id": wf_ids[run.workflow],
            "url": f"{api}/actions/runs/{rid}",
            "html_url": f"{url}/actions/runs/{rid}",
            "pull_requests": (
                [
                    {
                        "number": run.branch.number,
                        "head": {"ref": branch, "sha": run.sha},
                        "base": {"ref": "main"},
                    }
                ]
                if isinstance(run.branch, PR)
                else []
            ),
            "created_at": iso(run.created),
            "updated_at": iso(run.updated),
            "actor": user(run.actor),
            "run_attempt": run.attempt,
            "run_started_at": iso(run.started),
            "triggering_actor": user(run.actor),
            "jobs_url": f"{api}/actions/runs/{rid}/jobs",
            "head_repository": {"full_name": repo},
            "referenced_workflows": (
                [
                    {
                        "path": platform.golden_path_workflow(owner),
                        "sha": sha1_hex("golden-path", owner, platform.GOLDEN_PATH_REF),
                        "ref": platform.GOLDEN_PATH_REF,
                    }
                ]
                if on_platform and run.workflow == "deploy"
                else []
            ),
        }
        runs.append(item)
        run_jobs = []
        for j, (jname, created, started, completed, conclusion) in enumerate(run.jobs):
            job_id += 1
            if on_platform and started > created:  # the platform's runners: a shorter queue
                created = started - (started - created) * platform.PLATFORM_QUEUE_FACTOR
                created = created.replace(microsecond=0)
            if jname == "deploy":
                deploy_job[rid] = job_id
            runner = 1 + (job_id * 7919) % 60
            run_jobs.append(
                {
                    "id": job_id,
                    "run_id": rid,
                    "run_url": f"{api}/actions/runs/{rid}",
                    "run_attempt": run.attempt,
                    "node_id": node_id("CR", job_id),
                    "head_sha": run.sha,
                    "head_branch": branch,
                    "url": f"{api}/actions/jobs/{job_id}",
                    "html_url": f"{url}/actions/runs/{rid}/job/{job_id}",
                    "status": "completed",
                    "conclusion": conclusion,
                    "created_at": iso(created),
                    "started_at": iso(started),
                    "completed_at": iso(completed),
                    "name": jname,
                    "steps": [
                        {
                            "name": "Set up job",
                            "status": "completed",
                            "conclusion": "success",
                            "number": 1,
                            "started_at": iso(started),
                            "completed_at": iso(started + SECOND_STEP),
                        },
                        {
                            "name": f"Run {jname}",
                            "status": "completed",
                            "conclusion": conclusion,
                            "number": 2,
                            "started_at": iso(started + SECOND_STEP),
                            "completed_at": iso(completed),
                        },
                    ],
                    "labels": ["ubuntu-latest"],
                    "runner_id": runner,
                    "runner_name": f"GitHub Actions {runner}",
                    "runner_group_id": 2,
                    "runner_group_name": "GitHub Actions",
                    "workflow_name": name,
                    "order": j,
                }
            )
        jobs[rid] = run_jobs
    runs.reverse()

    # --- deployments ---------------------------------------------------------------------------------
    deployments, statuses = [], {}
    status_rows: list[tuple[dt.datetime, int, int, str, str, Deploy]] = []
    dep_ids: dict[int, int] = {}
    for k, dep in enumerate(sorted(sim.deploys, key=lambda d: (d.created, d.env))):
        did = 1_000_000_000 + ix * 1_000_000 + k * 3 + 1
        dep_ids[id(dep)] = did
        for j, (state, t, _) in enumerate(dep.statuses):
            if t <= horizon:
                status_rows.append((t, did, j, state, dep.env, dep))
    status_rows.sort(key=lambda r: (r[0], r[1], r[2]))
    status_id = 3_000_000_000 + ix * 1_000_000
    by_dep: dict[int, list[dict[str, Any]]] = {}
    for t, did, _, state, env, dep in status_rows:
        status_id += 1
        rid = run_ids[id(dep.run)]
        log = f"{url}/actions/runs/{rid}/job/{deploy_job.get(rid, rid)}"
        by_dep.setdefault(did, []).append(
            {
                "id": status_id,
                "node_id": node_id("DES", status_id),
                "state": state,
                "creator": user("github-actions[bot]"),
                "description": {
                    "queued": "",
                    "in_progress": "Deployment started",
                    "success": "Deployment finished successfully.",
                    "failure": "Deployment failed.",
                    "inactive": "Superseded by a newer deployment.",
                }.get(state, ""),
                "environment": env,
                "target_url": log,
                "log_url": log,
                "environment_url": f"https://{plan.service}.{env}.appstore.example" if env else "",
                "created_at": iso(t),
                "updated_at": iso(t),
                "deployment_url": f"{api}/deployments/{did}",
                "repository_url": api,
            }
        )
    for dep in sorted(sim.deploys, key=lambda d: (d.created, d.env)):
        did = dep_ids[id(dep)]
        rows = by_dep.get(did, [])
        deployments.append(
            {
                "url": f"{api}/deployments/{did}",
                "id": did,
                "node_id": node_id("DE", did),
                "task": "deploy",
                "original_environment": dep.env,
                "environment": dep.env,
                "description": dep.description,
                "created_at": iso(dep.created),
                "updated_at": rows[-1]["updated_at"] if rows else iso(dep.created),
                "statuses_url": f"{api}/deployments/{did}/statuses",
                "repository_url": api,
                "creator": user(dep.creator),
                "sha": dep.sha,
                "ref": dep.ref,
                "payload": {},
                "transient_environment": False,
                "production_environment": dep.env == "production",
                "performed_via_github_app": None,
            }
        )
        statuses[did] = list(reversed(rows))
    deployments.reverse()

    # --- tags and releases ---------------------------------------------------------------------------
    tags, releases = [], []
    for k, (name, sha, dep) in enumerate(sorted(sim.tags, key=lambda x: x[2].created)):
        tags.append(
            {
                "name": name,
                "commit": {"sha": sha, "url": f"{api}/commits/{sha}"},
                "zipball_url": f"{api}/zipball/refs/tags/{name}",
                "tarball_url": f"{api}/tarball/refs/tags/{name}",
                "node_id": node_id("REF", f"{repo}/{name}"),
            }
        )
        rel_id = 150_000_000 + ix * 100_000 + k
        published = dep.statuses[-1][1] if dep.statuses else dep.created
        for state, t, _ in dep.statuses:
            if state == "success":
                published = t
        releases.append(
            {
                "id": rel_id,
                "node_id": node_id("RE", rel_id),
                "tag_name": name,
                "target_commitish": "main",
                "name": name,
                "body": f"Release {name}",
                "draft": False,
                "prerelease": False,
                "created_at": iso(dep.created),
                "published_at": iso(published),
                "author": user(dep.creator),
                "html_url": f"{url}/releases/tag/{name}",
                "url": f"{api}/releases/{rel_id}",
            }
        )
    tags.reverse()
    releases.reverse()

    # --- issues ----------------------------------------------------------------------------------------
    issues, incidents = [], []
    for k, issue in enumerate(sorted(sim_issues, key=lambda i: -i.number)):
        iid = 2_500_000_000 + ix * 1_000_000 + issue.number
        title, body, closed = issue.title, issue.body, issue.closed
        if issue.incident is not None:
            inc = issue.incident
            root = (
                inc.culprit.merge_sha if inc.culprit and inc.culprit.merge_sha else inc.deploy.sha
            )
            title = f"Incident: {plan.service} degraded after deploy {inc.deploy.sha[:7]}"
            body = (
                f"Production incident on {plan.service}, started {iso(inc.start)}.\n\n"
                f"Remediation: {inc.remedy}.\n\nroot cause: {root}"
            )
            if inc.resolved is not None:
                c = inc.resolved + dt.timedelta(days=rng_for(repo, "issue", k).uniform(0.2, 4))
                closed = c if c <= horizon else None
        updated = max(x for x in (issue.created, closed) if x is not None)
        issues.append(
            {
                "id": iid,
                "node_id": node_id("I", iid),
                "number": issue.number,
                "title": title,
                "user": user(issue.author),
                "labels": [_label(name) for name in issue.labels],
                "state": "closed" if closed else "open",
                "state_reason": "completed" if closed else None,
                "locked": False,
                "assignee": None,
                "assignees": [],
                "comments": rng_for(repo, "comments", k).randint(0, 6),
                "created_at": iso(issue.created),
                "updated_at": iso(updated),
                "closed_at": iso(closed),
                "author_association": "MEMBER",
                "body": body,
                "html_url": f"{url}/issues/{issue.number}",
                "url": f"{api}/issues/{issue.number}",
                "repository_url": api,
            }
        )
    for inc in sim.caused:
        incidents.append(
            {
                "repository": repo,
                "service": plan.service,
                "start": inc.start,
                "ack": inc.ack if inc.ack and inc.ack <= horizon else None,
                "resolved": inc.resolved,
                "urgency": inc.urgency,
                "remedy": inc.remedy,
                "deployment_id": dep_ids.get(id(inc.deploy)),
                "sha": inc.deploy.sha,
                "culprit_pr": inc.culprit.number if inc.culprit else None,
            }
        )

    created = plan.created_at
    meta = repo_meta(plan)
    workflows = [
        {
            "id": wf_ids[k],
            "node_id": node_id("W", wf_ids[k]),
            "name": name,
            "path": path,
            "state": "active",
            "created_at": iso(created),
            "updated_at": iso(created),
            "url": f"{api}/actions/workflows/{wf_ids[k]}",
            "html_url": f"{url}/blob/main/{path}",
            "badge_url": f"{url}/workflows/{name.replace(' ', '%20')}/badge.svg",
        }
        for k, (name, path) in workflow_files.items()
        if k in WORKFLOWS or any(r.workflow == k for r in all_runs)
    ]
    return RepoData(
        repo,
        meta,
        pulls,
        reviews,
        pr_commits,
        history,
        tags,
        releases,
        deployments,
        statuses,
        runs,
        jobs,
        workflows,
        issues,
        incidents,
        commit_index,
    )


def repo_meta(plan: RepoPlan) -> dict[str, Any]:
    """``GET /repos/{o}/{r}``, computable without simulating the repository."""
    repo = plan.full_name
    owner = repo.split("/")[0]
    pushed = plan.horizon - dt.timedelta(minutes=5 + stable_int(repo, "pushed") % 600)
    return {
        "id": 500_000_000 + plan.index * 1_013 + stable_int(repo) % 1000,
        "node_id": node_id("R", repo),
        "name": repo.split("/")[1],
        "full_name": repo,
        "private": True,
        "owner": {
            "login": owner,
            "id": stable_int("org", owner) % 10_000_000 + 1_000_000,
            "type": "Organization",
        },
        "html_url": f"https://github.com/{repo}",
        "description": f"{plan.service} ({plan.team} team)",
        "fork": False,
        "url": f"https://api.github.com/repos/{repo}",
        "created_at": iso(plan.created_at),
        "updated_at": iso(pushed),
        "pushed_at": iso(pushed),
        "default_branch": "main",
        "archived": False,
        "disabled": False,
        "visibility": "private",
        "topics": sorted(
            {plan.team, plan.tier, "golden-path" if plan.new else "service"}
            | ({platform.OBSERVABILITY_TOPIC} if plan.observability else set())
        ),
        "language": "Kotlin" if "android" in repo else "Swift" if "ios" in repo else "Python",
    }


@functools.lru_cache(maxsize=256)
def _label(name: str) -> dict[str, Any]:
    lid = stable_int("label", name) % 9_000_000_000 + 1_000_000_000
    return {
        "id": lid,
        "node_id": node_id("LA", lid),
        "name": name,
        "color": LABEL_COLOURS.get(name, "ededed"),
        "default": name in ("bug", "enhancement", "question"),
        "description": None,
    }


def _pull_json(pr: PR, repo, owner, url, api, ix, reviews, horizon) -> dict[str, Any]:
    ref = head_ref(pr)
    merged = pr.merged
    closed_at = pr.merge_at if merged else (pr.close_at if pr.closed else None)
    times = (
        [pr.opened]
        + [c.committed for c in pr.commits]
        + [dt.datetime.fromisoformat(r["submitted_at"].replace("Z", "+00:00")) for r in reviews]
    )
    if closed_at:
        times.append(closed_at)
    updated = max(t for t in times if t <= horizon)
    pid = 1_000_000_000 + ix * 1_000_000 + pr.number
    body = {
        "revert": f"Reverts {repo}#{pr.culprit.number}" if pr.culprit else "",
        "hotfix": "Urgent fix for a production incident.",
        "bot": f"Bumps {pr.bump[1]} from {pr.bump[2]} to {pr.bump[3]}." if pr.bump else "",
    }.get(pr.kind, "## What\n\nSee title.\n\n## Testing\n\nUnit tests and staging.")
    return {
        "url": f"{api}/pulls/{pr.number}",
        "id": pid,
        "node_id": node_id("PR", pid),
        "html_url": f"{url}/pull/{pr.number}",
        "number": pr.number,
        "state": "closed" if closed_at else "open",
        "locked": False,
        "title": pr.title,
        "user": user(pr.author),
        "body": body,
        "labels": [_label(n) for n in pr.labels],
        "created_at": iso(pr.opened),
        "updated_at": iso(updated),
        "closed_at": iso(closed_at),
        "merged_at": iso(pr.merge_at) if merged else None,
        "merge_commit_sha": pr.merge_sha if merged else None,
        "assignee": None,
        "requested_reviewers": [],
        "draft": bool(pr.draft and not closed_at),
        "head": {
            "label": f"{owner}:{ref}",
            "ref": ref,
            "sha": pr.commits[-1].sha,
            "user": user(owner),
            "repo": {"full_name": repo},
        },
        "base": {
            "label": f"{owner}:main",
            "ref": "main",
            "sha": pr.commits[0].parents[0],
            "user": user(owner),
            "repo": {"full_name": repo},
        },
        "author_association": "NONE" if pr.kind == "bot" else "MEMBER",
        "auto_merge": None,
        "active_lock_reason": None,
    }


def _self_service_runs(plan: RepoPlan, history: list[Commit]) -> list[Run]:
    """The portal's automated fulfilments as workflow_dispatch runs on main, one job each."""
    if not plan.self_service_runs:
        return []
    heads = sorted((c.committed, c.seq, c.sha) for c in history)
    out = []
    for request in plan.self_service_runs:
        i = bisect.bisect_right(heads, (request.created, float("inf"), "")) - 1
        sha = heads[max(i, 0)][2]
        run = Run(
            request.workflow,
            "workflow_dispatch",
            "main",
            sha,
            request.created,
            request.title,
            request.actor.login,
        )
        started = request.created + dt.timedelta(seconds=4)
        completed = (started + dt.timedelta(seconds=request.seconds)).replace(microsecond=0)
        run.jobs = [("provision", request.created, started, completed, "success")]
        run.updated = completed + dt.timedelta(seconds=2)
        out.append(run)
    return out


def _request_issues(plan: RepoPlan) -> list[Issue]:
    """Requests to the platform team, labelled for the self-service ratio's denominator."""
    return [
        Issue(
            r.created,
            r.author,
            r.title,
            "Raised through the developer portal's request form.",
            [platform.REQUEST_LABEL],
            r.closed,
        )
        for r in plan.request_issues
    ]
