"""One repository's year: pull requests, a real commit graph, CI, deployments and their failures.

A discrete-event simulation in time order, so every reference points backwards: a PR branches from
the default branch's head at its first commit; a merge applies one of three strategies to the graph
(merge commit with two parents, squash commit, rebased copies of the PR's commits); continuous teams
deploy every push to ``main``, the others run release trains; a successful production deployment
may cause an incident that is remediated by a rollback, a revert PR or a hotfix PR. The result is
rendered to API-shaped dicts by :mod:`pipelines.demo.render`.
"""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
import random
from dataclasses import dataclass, field
from typing import Any

from pipelines.demo import text
from pipelines.demo._common import (
    BOT,
    DAY,
    HOUR,
    MINUTE,
    WEB_FLOW,
    Person,
    TeamProfile,
    lognormal,
    poisson,
    sha1_hex,
    snap,
    working_time,
)

SECOND = dt.timedelta(seconds=1)


class Commit:
    __slots__ = (
        "author",
        "authored",
        "committed",
        "committer",
        "kind",
        "parents",
        "pr",
        "seq",
        "sha",
        "title",
    )

    def __init__(self, sha, parents, author, authored, committer, committed, kind, title, pr, seq):
        self.sha, self.parents, self.author, self.authored = sha, parents, author, authored
        self.committer, self.committed, self.kind, self.title = committer, committed, kind, title
        self.pr, self.seq = pr, seq


class PR:
    __slots__ = (
        "approvals_at",
        "author",
        "body",
        "bump",
        "close_at",
        "closed",
        "commit_plan",
        "commits",
        "culprit",
        "draft",
        "incident",
        "kind",
        "labels",
        "merge_at",
        "merge_sha",
        "merged",
        "merger",
        "method",
        "number",
        "opened",
        "ref_slug",
        "reviews",
        "seq",
        "title",
    )

    def __init__(self, seq: int, kind: str, author: Person, title: str, opened: dt.datetime):
        self.seq, self.kind, self.author, self.title, self.opened = seq, kind, author, title, opened
        self.commit_plan: list[tuple[dt.datetime, str]] = []
        self.reviews: list[tuple[dt.datetime, Person, str]] = []
        self.commits: list[Commit] = []
        self.labels: list[str] = []
        self.merge_at: dt.datetime | None = None
        self.close_at: dt.datetime | None = None
        self.merged = self.closed = self.draft = False
        self.merge_sha: str | None = None
        self.merger: Person | None = None
        self.method = "merge"
        self.number = 0
        self.culprit: PR | None = None
        self.incident: Caused | None = None
        self.ref_slug = text.slug(title)
        self.bump: tuple[str, str, str, str] | None = None
        self.body = ""
        self.approvals_at: dt.datetime | None = None


class Run:
    __slots__ = (
        "actor",
        "attempt",
        "branch",
        "conclusion",
        "created",
        "event",
        "jobs",
        "sha",
        "started",
        "title",
        "updated",
        "workflow",
    )

    def __init__(self, workflow, event, branch, sha, created, title, actor):
        self.workflow, self.event, self.branch, self.sha = workflow, event, branch, sha
        self.created, self.title, self.actor = created, title, actor
        self.started = created
        self.attempt = 1
        self.jobs: list[tuple[str, dt.datetime, dt.datetime, dt.datetime, str]] = []
        self.conclusion = "success"
        self.updated = created


class Deploy:
    __slots__ = (
        "created",
        "creator",
        "description",
        "env",
        "incident",
        "kind",
        "ref",
        "run",
        "sha",
        "statuses",
        "tag",
    )

    def __init__(self, env, sha, ref, created, creator, description, kind, run):
        self.env, self.sha, self.ref, self.created = env, sha, ref, created
        self.creator, self.description, self.kind, self.run = creator, description, kind, run
        self.statuses: list[tuple[str, dt.datetime, str]] = []
        self.incident: Caused | None = None
        self.tag: str | None = None


class Caused:
    """An incident caused by a production deployment (becomes a PagerDuty incident and/or issue)."""

    __slots__ = (
        "ack",
        "culprit",
        "deploy",
        "issue",
        "prev_sha",
        "remedy",
        "resolved",
        "start",
        "urgency",
    )

    def __init__(self, start, deploy, culprit, prev_sha, remedy, urgency):
        self.start, self.deploy, self.culprit, self.prev_sha = start, deploy, culprit, prev_sha
        self.remedy, self.urgency = remedy, urgency
        self.ack: dt.datetime | None = None
        self.resolved: dt.datetime | None = None
        self.issue = False


@dataclass
class Issue:
    created: dt.datetime
    author: Person
    title: str
    body: str
    labels: list[str]
    closed: dt.datetime | None
    incident: Caused | None = None
    number: int = 0


@dataclass
class RepoPlan:
    """What the organisation decides about a repository before simulating it."""

    full_name: str
    index: int
    team: str
    service: str
    tier: str
    profile: TeamProfile
    cadence: str
    people: list[Person]
    created_at: dt.datetime
    start: dt.datetime  # window start
    horizon: dt.datetime  # end of history
    activity: float
    seed_parts: tuple[Any, ...]
    has_pagerduty: bool = True
    new: bool = False
    # The platform story (pipelines/demo/platform.py); rendering only, the simulation ignores it.
    golden_path_since: dt.datetime | None = None
    observability: bool = False
    self_service_runs: tuple[Any, ...] = ()
    request_issues: tuple[Any, ...] = ()


@dataclass
class SimResult:
    plan: RepoPlan
    prs: list[PR]
    history: list[Commit]  # commits reachable from main, any order
    deploys: list[Deploy]
    runs: list[Run]
    issues: list[Issue]
    caused: list[Caused]
    tags: list[tuple[str, str, Deploy]] = field(default_factory=list)
    number_offset: int = 0


class RepoSim:
    def __init__(self, plan: RepoPlan):
        self.p = plan
        self.prof = plan.profile
        self.rng = random.Random(sha1_hex(*plan.seed_parts))
        self.events: list[tuple[dt.datetime, int, str, Any]] = []
        self.seq = 0
        self.commit_seq = 0
        self.prs: list[PR] = []
        self.history: list[Commit] = []
        self.heads: list[tuple[dt.datetime, str]] = []
        self.head: Commit | None = None
        self.deploys: list[Deploy] = []
        self.runs: list[Run] = []
        self.issues: list[Issue] = []
        self.caused: list[Caused] = []
        self.open_caused: list[Caused] = []
        self.last_prod: Deploy | None = None
        self.last_staging: Deploy | None = None
        self.undeployed: list[PR] = []
        self.tags: list[tuple[str, str, Deploy]] = []
        self.version = [1 + self.rng.randint(0, 4), self.rng.randint(0, 20), 0]

    # --- plumbing -------------------------------------------------------------------------------
    def push(self, when: dt.datetime, kind: str, obj: Any = None) -> None:
        self.seq += 1
        heapq.heappush(self.events, (snap(when), self.seq, kind, obj))

    def commit(self, parents, author, authored, committer, committed, kind, title, pr=None):
        self.commit_seq += 1
        sha = sha1_hex(self.p.full_name, self.p.seed_parts, "commit", self.commit_seq)
        c = Commit(
            sha,
            parents,
            author,
            snap(authored),
            committer,
            snap(committed),
            kind,
            title,
            pr,
            self.commit_seq,
        )
        return c

    def advance_main(self, c: Commit) -> None:
        self.history.append(c)
        self.head = c
        self.heads.append((c.committed, c.sha))

    def other(self, person: Person) -> Person:
        others = [q for q in self.p.people if q.login != person.login] or self.p.people
        return self.rng.choice(others)

    # --- the year -------------------------------------------------------------------------------
    def run(self) -> SimResult:
        p, rng = self.p, self.rng
        self._initial_history()
        activity_start = max(p.start, p.created_at + HOUR)
        self._plan_prs(activity_start)
        self._plan_trains(activity_start)
        self._plan_issues(activity_start)
        while self.events:
            when, _, kind, obj = heapq.heappop(self.events)
            if when > p.horizon:
                break
            getattr(self, f"on_{kind}")(when, obj)
        self._health_checks()
        for c in self.open_caused:
            c.resolved = None
        number_offset = 0 if p.new else rng.randint(40, 1500)
        return SimResult(
            p,
            self.prs,
            self.history,
            self.deploys,
            self.runs,
            self.issues,
            self.caused,
            self.tags,
            number_offset,
        )

    def _initial_history(self) -> None:
        p, rng = self.p, self.rng
        author = rng.choice(p.people)
        first = self.commit(
            [],
            author,
            p.created_at,
            author,
            p.created_at,
            "history",
            "Initial commit from service-templates" if p.new else "Initial commit",
        )
        self.advance_main(first)
        if p.new:
            # Created from the platform's template: the golden path deploys within minutes.
            self.push(
                p.created_at + dt.timedelta(minutes=rng.uniform(2, 9)),
                "deploy",
                ("production", first.sha, "push", "initial", None),
            )
            return
        t = max(p.created_at, p.start - dt.timedelta(days=30))
        n = 12
        for i in range(n):
            t = t + (p.start - DAY * 3 - t) * rng.uniform(0.05, 0.25)
            who = rng.choice(p.people)
            c = self.commit(
                [self.head.sha],
                who,
                t,
                who,
                t,
                "history",
                text.pr_title(rng, self.prof.kind) if i else "Bootstrap service",
            )
            self.advance_main(c)
        self.push(
            p.start - DAY * 2 + HOUR * rng.uniform(0, 8),
            "deploy",
            ("production", self.head.sha, "workflow_dispatch", "normal", None),
        )

    def _plan_prs(self, activity_start: dt.datetime) -> None:
        p, rng, prof = self.p, self.rng, self.prof
        per_weekday = prof.prs_per_month * p.activity * rng.uniform(0.7, 1.3) * 12 / 261
        day = activity_start.replace(hour=0, minute=0, second=0)
        while day < p.horizon:
            seasonal = 0.35 if (day.month == 12 and day.day > 20) or day.month == 8 else 1.0
            lam = per_weekday * seasonal * (1.0 if day.weekday() < 5 else 0.04)
            for _ in range(poisson(rng, lam)):
                opened = day + dt.timedelta(hours=rng.triangular(7, 18, 10))
                if activity_start <= opened <= p.horizon:
                    self._plan_pr(opened)
            day += DAY

    def _new_pr(self, kind: str, author: Person, title: str, opened: dt.datetime) -> PR:
        pr = PR(len(self.prs), kind, author, title, snap(opened))
        self.prs.append(pr)
        return pr

    def _plan_pr(self, opened: dt.datetime) -> None:
        rng, prof = self.rng, self.prof
        if rng.random() < 0.06:
            eco, pkg, old, new = text.bump(rng)
            pr = self._new_pr("bot", BOT, f"Bump {pkg} from {old} to {new}", opened)
            pr.bump = (eco, pkg, old, new)
            pr.labels = ["dependencies"]
            pr.commit_plan = [(opened - SECOND * 20, pr.title)]
            approver = rng.choice(self.p.people)
            t = working_time(opened + HOUR * lognormal(rng, prof.pickup_hours * 1.5), rng)
            if rng.random() < 0.8:
                pr.reviews = [(t, approver, "APPROVED")]
                pr.merge_at = t + MINUTE * rng.uniform(1, 30)
                pr.merger = approver
            else:
                pr.close_at = opened + DAY * lognormal(rng, 6, 0.6)  # superseded by a newer bump
            pr.method = "squash" if rng.random() < 0.6 else "merge"
            self._schedule_pr(pr)
            return
        author = rng.choice(self.p.people)
        pr = self._new_pr("normal", author, text.pr_title(rng, prof.kind), opened)
        roll = rng.random()
        if roll < 0.12:
            pr.labels = ["bug"]
        elif roll < 0.3:
            pr.labels = ["feature"]
        elif roll < 0.36:
            pr.labels = ["chore"]
        coding = HOUR * (
            lognormal(rng, prof.coding_hours, 1.0)
            if rng.random() > 0.15
            else rng.uniform(0.05, 0.5)
        )
        first = opened - coding
        n_pre = 1 + min(6, int(rng.expovariate(0.6)))
        times = sorted(
            [first] + [first + (opened - first) * rng.random() for _ in range(n_pre - 1)]
        )
        pr.commit_plan = [
            (t, pr.title if i == 0 else rng.choice(text.FIXUPS)) for i, t in enumerate(times)
        ]
        t_review = working_time(opened + HOUR * lognormal(rng, prof.pickup_hours, 1.0), rng)
        merge = working_time(t_review + HOUR * lognormal(rng, prof.review_hours, 0.9), rng)
        span = merge - t_review
        reviewer = self.other(author)
        roll = rng.random()
        if roll < 0.22:
            pr.reviews.append((t_review, reviewer, "CHANGES_REQUESTED"))
            fix = t_review + span * rng.uniform(0.2, 0.6)
            pr.commit_plan.append((fix, rng.choice(text.FIXUPS)))
            approve = fix + (merge - fix) * rng.uniform(0.3, 0.9)
            pr.reviews.append((approve, reviewer, "APPROVED"))
        elif roll < 0.36:
            pr.reviews.append((t_review, reviewer, "COMMENTED"))
            approve = t_review + span * rng.uniform(0.3, 0.9)
            pr.reviews.append((approve, reviewer, "APPROVED"))
        else:
            approve = t_review
            pr.reviews.append((t_review, reviewer, "APPROVED"))
        if prof.approvals > 1 or rng.random() < 0.2:
            second = self.other(author)
            if second.login != reviewer.login:
                pr.reviews.append((t_review + span * rng.uniform(0.05, 0.95), second, "APPROVED"))
        if rng.random() < 0.15:  # the author answers review comments
            pr.reviews.append((t_review + span * rng.uniform(0.05, 0.9), author, "COMMENTED"))
        pr.reviews.sort(key=lambda r: r[0])
        pr.approvals_at = approve
        pr.merger = author if rng.random() < 0.7 else reviewer
        outcome = rng.random()
        if outcome < 0.085:
            pr.close_at = opened + HOUR * lognormal(rng, 60, 1.2)
        elif outcome < 0.11:
            pr.draft = rng.random() < 0.5  # abandoned, still open
        else:
            pr.merge_at = merge
        u = rng.random()
        pr.method = "merge" if u < 0.5 else ("squash" if u < 0.85 else "rebase")
        self._schedule_pr(pr)

    def _schedule_pr(self, pr: PR) -> None:
        self.push(min(t for t, _ in pr.commit_plan), "branch", pr)
        end = pr.merge_at or pr.close_at
        if end is not None:
            self.push(end, "merge" if pr.merge_at else "close", pr)

    def _plan_trains(self, activity_start: dt.datetime) -> None:
        cadence, rng = self.p.cadence, self.rng
        if cadence == "continuous":
            return
        day = activity_start.replace(hour=0, minute=0, second=0) + DAY
        while day < self.p.horizon:
            wd, (_, week, _) = day.weekday(), day.isocalendar()
            go = {
                "daily": wd < 5,
                "twice_weekly": wd in (1, 3),
                "weekly": wd == 2,
                "biweekly": wd == 1 and week % 2 == 0,
            }[cadence]
            freeze = (day.month == 12 and day.day >= 20) or (day.month == 1 and day.day <= 2)
            if go and not freeze:
                hour = {"daily": 9.5, "twice_weekly": 13}.get(cadence, 14)
                self.push(day + HOUR * (hour + rng.uniform(0, 0.7)), "train")
            day += DAY

    def _plan_issues(self, activity_start: dt.datetime) -> None:
        rng, p = self.rng, self.p
        months = max(0.0, (p.horizon - activity_start) / (DAY * 30.4))
        for _ in range(poisson(rng, 2.5 * months * p.activity)):
            created = working_time(
                activity_start + (p.horizon - activity_start) * rng.random(), rng
            )
            kind = rng.choice(["bug", "bug", "enhancement", "question"])
            title = text.pr_title(rng, self.prof.kind)
            closed = created + DAY * lognormal(rng, 9, 1.2) if rng.random() < 0.7 else None
            if closed and closed > p.horizon:
                closed = None
            if created <= p.horizon:
                self.issues.append(
                    Issue(
                        snap(created),
                        rng.choice(p.people),
                        f"{title}: {kind}" if kind != "bug" else title,
                        "Steps to reproduce and context in the thread.",
                        [kind],
                        closed and snap(closed),
                    )
                )

    # --- event handlers -------------------------------------------------------------------------
    def on_branch(self, when: dt.datetime, pr: PR) -> None:
        rng, p = self.rng, self.p
        parent = self.head.sha
        end = min(x for x in (pr.merge_at, pr.close_at, p.horizon) if x is not None)
        plan = [(t, m) for t, m in sorted(pr.commit_plan) if t <= end]
        floor = self.head.committed  # history made before the window (or at creation)
        for i, (t, message) in enumerate(plan):
            if pr.merge_at and t >= pr.merge_at:
                t = pr.merge_at - MINUTE * rng.uniform(1, 5)
            t = max(t, floor + SECOND * rng.uniform(30, 300))
            floor = t
            c = self.commit([parent], pr.author, t, pr.author, t, "pr", message, pr)
            pr.commits.append(c)
            parent = c.sha
            last = i == len(plan) - 1
            if last or rng.random() < 0.7:
                self._ci_run(pr, c, last)

    def on_close(self, when: dt.datetime, pr: PR) -> None:
        pr.closed = True

    def on_merge(self, when: dt.datetime, pr: PR) -> None:
        rng = self.rng
        if not pr.commits:
            return
        pr.merged = pr.closed = True
        base = self.head.sha
        if pr.method == "merge":
            for c in pr.commits:
                self.history.append(c)
            mc = self.commit(
                [base, pr.commits[-1].sha], pr.merger, when, WEB_FLOW, when, "merge", "", pr
            )
            self.advance_main(mc)
        elif pr.method == "squash":
            sc = self.commit(
                [base], pr.author, pr.commits[0].authored, WEB_FLOW, when, "squash", "", pr
            )
            self.advance_main(sc)
        else:
            parent = base
            for c in pr.commits:
                rc = self.commit(
                    [parent], c.author, c.authored, WEB_FLOW, when, "rebase", c.title, pr
                )
                self.advance_main(rc)
                parent = rc.sha
        pr.merge_sha = self.head.sha
        self.undeployed.append(pr)
        sha = self.head.sha
        self.push(
            when + SECOND * rng.uniform(20, 120), "deploy", ("staging", sha, "push", "normal", None)
        )
        if pr.incident is not None:
            event = "push" if self.p.cadence == "continuous" else "workflow_dispatch"
            self.push(
                when + SECOND * rng.uniform(30, 240),
                "deploy",
                ("production", sha, event, "remediation", pr.incident),
            )
        elif self.p.cadence == "continuous":
            self.push(
                when + SECOND * rng.uniform(20, 120),
                "deploy",
                ("production", sha, "push", "normal", None),
            )

    def on_train(self, when: dt.datetime, _: Any) -> None:
        if self.open_caused:
            return  # no train while production is broken
        if self.last_prod is None or self.last_prod.sha != self.head.sha:
            self.on_deploy(when, ("production", self.head.sha, "workflow_dispatch", "normal", None))

    def on_deploy(self, when: dt.datetime, spec: tuple) -> None:
        env, sha, event, kind, incident = spec
        rng, prof, p = self.rng, self.prof, self.p
        prod = env == "production"
        wf = "deploy" if prod else "staging"
        human = event == "workflow_dispatch"
        actor = rng.choice(p.people).login if human else "github-actions[bot]"
        created = when + SECOND * rng.uniform(2, 30)
        title = {"rollback": f"Rollback to {sha[:7]}", "redeploy": f"Redeploy {sha[:7]}"}.get(
            kind, f"Deploy {sha[:7]}" if human else self._head_title()
        )
        run = Run(wf, event, "main", sha, created, title, actor)
        b_start = created + SECOND * lognormal(rng, prof.ci_queue_seconds, 0.8)
        b_end = b_start + SECOND * lognormal(rng, 150, 0.3)
        d_created = b_end + SECOND * rng.uniform(1, 4)
        d_start = d_created + SECOND * lognormal(rng, 8, 0.6)
        minutes = prof.deploy_minutes if prod else prof.deploy_minutes * 0.6
        d_end = d_start + MINUTE * lognormal(rng, minutes, 0.35)
        failed = rng.random() < (prof.deploy_fail_rate if prod else 0.03)
        if failed:
            d_end = d_start + (d_end - d_start) * rng.uniform(0.2, 0.9)
        if d_end > p.horizon:
            return
        run.jobs = [
            ("build", created, b_start, b_end, "success"),
            ("deploy", d_created, d_start, d_end, "failure" if failed else "success"),
        ]
        run.conclusion = "failure" if failed else "success"
        run.updated = d_end + SECOND * 3
        run.started = created
        self.runs.append(run)
        ref = "main" if kind != "rollback" else (self._tag_for(sha) or sha)
        description = {"rollback": "rollback", "redeploy": "redeploy", "remediation": "hotfix"}.get(
            kind, ""
        )
        creator = actor
        dep = Deploy(env, sha, ref, snap(d_start), creator, description, kind, run)
        dep.statuses = [
            ("queued", snap(d_start), ""),
            ("in_progress", snap(d_start + SECOND * rng.uniform(3, 20)), ""),
            ("failure" if failed else "success", snap(d_end - SECOND), ""),
        ]
        self.deploys.append(dep)
        if failed:
            self.push(
                d_end + MINUTE * lognormal(rng, 20, 0.6),
                "deploy",
                (
                    env,
                    sha,
                    "workflow_dispatch",
                    "redeploy" if kind != "remediation" else kind,
                    incident,
                ),
            )
            return
        if not prod:
            if self.last_staging is not None:
                self._supersede(self.last_staging, d_end)
            self.last_staging = dep
            return
        previous = self.last_prod
        if previous is not None:
            self._supersede(previous, d_end)
        self.last_prod = dep
        if prof.releases and kind != "rollback":
            if kind == "remediation":
                self.version[2] += 1
            else:
                self.version[1] += 1
                self.version[2] = 0
            dep.tag = "v{}.{}.{}".format(*self.version)
            self.tags.append((dep.tag, sha, dep))
        if incident is not None:
            self._resolve(incident, d_end)
        culprits = [pr for pr in self.undeployed if pr.kind != "bot"] or self.undeployed
        self.undeployed = []
        if (
            kind == "normal"
            and culprits
            and previous is not None
            and rng.random() < prof.change_fail_rate
        ):
            self._cause_incident(dep, d_end, rng.choice(culprits), previous.sha)

    @staticmethod
    def _supersede(previous: Deploy, when: dt.datetime) -> None:
        """A newer deployment to the environment succeeded: the previous one becomes inactive."""
        after = previous.statuses[-1][1] + SECOND
        previous.statuses.append(("inactive", snap(max(when, after)), ""))

    def _head_title(self) -> str:
        c = self.head
        if c.pr is not None:
            return c.pr.title
        return c.title.splitlines()[0] if c.title else "Deploy"

    def _tag_for(self, sha: str) -> str | None:
        for tag, tsha, _ in reversed(self.tags):
            if tsha == sha:
                return tag
        return None

    def _cause_incident(
        self, dep: Deploy, success: dt.datetime, culprit: PR, prev_sha: str
    ) -> None:
        rng, prof = self.rng, self.prof
        start = success + MINUTE * min(lognormal(rng, 35, 1.0), 18 * 60)
        if start > self.p.horizon:
            return
        roll = rng.random()
        remedy = "rollback" if roll < 0.3 else ("revert" if roll < 0.65 else "hotfix")
        if remedy == "rollback" and prof.releases and "bff" not in self.p.full_name:
            remedy = "hotfix"  # a shipped app cannot be rolled back: fix forward
        urgency = "high" if rng.random() < (0.75 if self.p.tier == "critical" else 0.45) else "low"
        inc = Caused(snap(start), dep, culprit, prev_sha, remedy, urgency)
        inc.ack = snap(start + MINUTE * lognormal(rng, 4 if urgency == "high" else 25, 0.7))
        dep.incident = inc
        self.caused.append(inc)
        self.open_caused.append(inc)
        act = inc.ack + MINUTE * lognormal(rng, prof.recovery_minutes * 0.5, 0.7)
        self.push(act, "remediate", inc)
        if rng.random() < 0.4 or not self.p.has_pagerduty:
            inc.issue = True
            who = rng.choice(self.p.people)
            self.issues.append(
                Issue(
                    snap(start + MINUTE * rng.uniform(10, 90)), who, "", "", ["incident"], None, inc
                )
            )

    def on_remediate(self, when: dt.datetime, inc: Caused) -> None:
        rng = self.rng
        if inc.remedy == "rollback":
            self.on_deploy(
                when, ("production", inc.prev_sha, "workflow_dispatch", "rollback", None)
            )
            # A rollback restores service; the fix-forward revert follows on the normal cadence.
            self._resolve(inc, when + MINUTE * lognormal(rng, 12, 0.5))
            if rng.random() < 0.8:
                self._remediation_pr(when + HOUR * lognormal(rng, 3, 0.6), inc, "revert", False)
            return
        self._remediation_pr(when, inc, inc.remedy, True)

    def _remediation_pr(self, when: dt.datetime, inc: Caused, kind: str, urgent: bool) -> None:
        rng, culprit = self.rng, inc.culprit
        author = culprit.author if culprit.author.login != BOT.login else rng.choice(self.p.people)
        if not urgent:
            when = working_time(when, rng)
        fix = when
        when = when + MINUTE * rng.uniform(2, 10)
        if kind == "revert":
            pr = self._new_pr("revert", author, f'Revert "{culprit.title}"', when)
            pr.culprit = culprit
            pr.labels = []
        else:
            pr = self._new_pr(
                "hotfix", author, f"Hotfix: {text.pr_title(rng, self.prof.kind)}", when
            )
            pr.labels = ["hotfix"]
        pr.incident = inc if urgent else None
        pr.commit_plan = [(fix, pr.title)]
        approve = when + MINUTE * lognormal(rng, 10 if urgent else 60, 0.6)
        reviewer = self.other(author)
        pr.reviews = [(approve, reviewer, "APPROVED")]
        pr.approvals_at = approve
        pr.merge_at = approve + MINUTE * rng.uniform(1, 8)
        pr.merger = author
        pr.method = "squash" if rng.random() < 0.7 else "merge"
        self._schedule_pr(pr)

    def _resolve(self, inc: Caused, when: dt.datetime) -> None:
        if inc in self.open_caused:
            self.open_caused.remove(inc)
            inc.resolved = snap(when + MINUTE * self.rng.uniform(2, 20))
            if inc.resolved > self.p.horizon:
                inc.resolved = None

    # --- CI and scheduled runs ------------------------------------------------------------------
    def _ci_run(self, pr: PR, c: Commit, last: bool) -> None:
        rng, prof = self.rng, self.prof
        created = c.committed + SECOND * rng.uniform(5, 60)
        if created > self.p.horizon:
            return
        run = Run("ci", "pull_request", pr, c.sha, snap(created), pr.title, pr.author.login)
        fail = rng.random() < prof.ci_fail_rate
        run.jobs, end = self._ci_jobs(created, fail)
        run.conclusion = "failure" if fail else "success"
        run.updated = end + SECOND * 2
        if fail and last and pr.merge_at is not None:
            # A flaky failure on the PR head: re-run; the latest attempt is what the API shows.
            rerun = end + MINUTE * lognormal(rng, 15, 0.7)
            jobs, end2 = self._ci_jobs(rerun, False)
            if end2 <= self.p.horizon:
                run.attempt, run.started, run.jobs = 2, snap(rerun), jobs
                run.conclusion, run.updated = "success", end2 + SECOND * 2
        if run.updated <= self.p.horizon:
            self.runs.append(run)

    def _ci_jobs(self, created: dt.datetime, fail: bool):
        rng, prof = self.rng, self.prof
        peak = 1.8 if 9 <= created.hour < 16 and created.weekday() < 5 else 1.0
        jobs = []
        b_start = created + SECOND * lognormal(rng, prof.ci_queue_seconds * peak, 0.9)
        b_end = b_start + SECOND * lognormal(rng, 200, 0.35)
        jobs.append(("build", created, b_start, b_end, "success"))
        end = b_end
        for name, median in (("test", 480), ("lint", 70)):
            q = b_end + SECOND * rng.uniform(1, 3)
            s = q + SECOND * lognormal(rng, prof.ci_queue_seconds * peak, 0.9)
            e = s + SECOND * lognormal(rng, median, 0.4)
            jobs.append((name, q, s, e, "failure" if fail and name == "test" else "success"))
            end = max(end, e)
        return [tuple(snap(x) if isinstance(x, dt.datetime) else x for x in j) for j in jobs], snap(
            end
        )

    def _health_checks(self) -> None:
        """``Production health check`` on a schedule: never a deployment."""
        rng, p = self.rng, self.p
        every = HOUR * (6 if p.tier == "critical" else 24)
        t = max(p.start, p.created_at + HOUR).replace(minute=0, second=0) + HOUR
        times = [h[0] for h in self.heads]
        windows = [(c.start, c.resolved or p.horizon) for c in self.caused]
        while t < p.horizon:
            created = snap(t + SECOND * rng.uniform(20, 600))  # schedules run late on GitHub
            i = bisect.bisect_right(times, created) - 1
            sha = self.heads[max(i, 0)][1]
            run = Run(
                "health",
                "schedule",
                "main",
                sha,
                created,
                "Production health check",
                p.people[0].login,
            )
            s = created + SECOND * lognormal(rng, 8, 0.6)
            e = s + SECOND * lognormal(rng, 40, 0.3)
            bad = any(a <= created <= b for a, b in windows) or rng.random() < 0.01
            run.jobs = [("probe", created, snap(s), snap(e), "failure" if bad else "success")]
            run.conclusion = "failure" if bad else "success"
            run.updated = snap(e + SECOND * 2)
            if run.updated <= p.horizon:
                self.runs.append(run)
            t += every


def head_ref(pr: PR) -> str:
    """The PR's branch name (revert branches name the reverted PR's number, known after numbering)."""
    if pr.kind == "bot":
        eco, pkg, _, new = pr.bump
        return f"dependabot/{eco}/{pkg.replace('/', '-')}-{new}"
    if pr.kind == "revert":
        return f"revert-{pr.culprit.number or 'x'}-{pr.culprit.ref_slug}"
    if pr.kind == "hotfix":
        return f"hotfix/{pr.ref_slug.removeprefix('hotfix-')}"
    return f"{pr.author.login.split('-')[0]}/{pr.ref_slug}"
