"""The deterministic demo organisation: lazy, per-repository, reproducible from (seed, end_date).

``generate_organisation(config)`` is cheap: it fixes the window, the rosters and which repositories
are new, and nothing else. A repository's year (pull requests, commit graph, CI runs, deployments,
incidents it causes) is simulated on first request from its own seed (config seed + repository
name through SHA-256, never ``hash()``) and kept in a small LRU cache, so the benchmark scale
(hundreds of repositories x 24 months) never holds everything in memory at once.

Volumes of the default demo (13 repositories, 12 months, activity 1.0, seed 42, end 2026-06-30):
~4,600 pull requests (~4,100 merged, ~7,800 reviews, ~10,700 PR commits), ~9,700 default-branch
commits, ~24,500 workflow runs (8,800 CI, 8,700 health checks, the rest staging and production
deploys), ~2,700 production and ~4,200 staging deployments, ~170 deployment-caused incidents,
~290 PagerDuty incidents (caused and unrelated, 4 still open), 4 survey waves (~70 responses) and
hourly SLI series for the 4 critical services. Simulating all 13 repositories takes ~2 s; a full
sync of the demo through the production clients is ~40,000 requests. The mixed organisation adds
two repositories (pipelines/demo/mixed.py): one served as a GitLab project built and deployed by
Jenkins, one on GitHub deployed by Argo CD; the 13 above are generated exactly as without them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import threading
from collections import OrderedDict
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from pipelines.config import DEMO_CONFIG_PATH, Config, DemoConfig, ServiceConfig
from pipelines.demo import incidents as incidents_mod
from pipelines.demo import mixed
from pipelines.demo import platform as platform_mod
from pipelines.demo import sli as sli_mod
from pipelines.demo import surveys as surveys_mod
from pipelines.demo._common import DAY, UTC, add_months, build_rosters, profile_for, stable_int
from pipelines.demo.render import RepoData, render, repo_meta
from pipelines.demo.repository import RepoPlan, RepoSim
from pipelines.demo.surveys import SurveyWave

__all__ = [
    "Organisation",
    "SurveyWave",
    "generate_organisation",
    "pinned_clock",
    "scaled_demo_config",
]

CACHE_SIZE = 16
_pinned_now: dt.datetime | None = None  # see pinned_clock()


@contextlib.contextmanager
def pinned_clock(now: dt.datetime) -> Iterator[dt.datetime]:
    """Every organisation built inside sees ``now`` as the time: one horizon for a whole run.

    Without ``demo.end_date`` the history ends at the last full hour and is generated again,
    different, for another horizon (pipelines/demo/history.py); a run whose assets each built
    their organisation across an hour boundary would serve two histories at once.
    """
    global _pinned_now
    previous, _pinned_now = _pinned_now, now.astimezone(UTC)
    try:
        yield _pinned_now
    finally:
        _pinned_now = previous


class Organisation:
    """The demo organisation behind the fake API. Repository data is generated on demand."""

    def __init__(
        self, config: Config, *, cache_size: int = CACHE_SIZE, now: dt.datetime | None = None
    ):
        demo = config.demo or DemoConfig()
        self.config = config
        self.seed = demo.seed
        self.activity = demo.activity
        now = (now or _pinned_now or dt.datetime.now(UTC)).astimezone(UTC)
        self.end_date: dt.date = demo.end_date or now.date()
        self.horizon = dt.datetime.combine(self.end_date, dt.time(), tzinfo=UTC) + DAY
        if demo.end_date is None:  # "today": history stops at the last full hour, not in the future
            self.horizon = min(self.horizon, now.replace(minute=0, second=0, microsecond=0))
        first_day = add_months(self.end_date, -demo.months) + dt.timedelta(days=1)
        self.start = dt.datetime.combine(first_day, dt.time(), tzinfo=UTC)
        self.months = demo.months
        every = [r for s in config.services for r in s.repositories]
        self._index = {r: i for i, r in enumerate(every)}
        self._service_of: dict[str, ServiceConfig] = config.repository_service()
        # The mixed organisation (pipelines/demo/mixed.py): projects of the configured GitLab
        # groups and projects live on GitLab (built and deployed by Jenkins), not on GitHub; the
        # services of sources.argocd[].service_map are deployed by Argo CD.
        self.gitlab_repositories: list[str] = [r for r in every if mixed.on_gitlab(config, r)]
        self.repositories: list[str] = [r for r in every if r not in self.gitlab_repositories]
        self.argocd_applications: dict[str, str] = mixed.argocd_applications(config)
        self.argocd_repositories = set(self.argocd_applications.values())
        # Which repositories are new, the golden-path migration and the self-service requests are
        # drawn over the services deployed through GitHub alone: a service joining on another
        # host or deployer leaves the others' histories as they were.
        classic = [r for r in self.repositories if r not in self.argocd_repositories]
        self._classic = set(classic)
        self.domain = "".join(c for c in config.organisation.name.lower() if c.isalnum()) or "org"
        self.domain += ".example"
        self.rosters = build_rosters(
            self.seed, [(t.name, max(t.engineers, 2)) for t in config.teams], self.domain
        )
        ranked = sorted(classic, key=lambda r: stable_int(self.seed, "new-repo", r))
        self.new_repositories = set(ranked[: max(1, round(len(ranked) * 0.12))])
        self.golden_path_since = platform_mod.golden_path_since(
            self.seed,
            self.start,
            self.horizon,
            [
                (r, self._service_of[r].tier, r in self.new_repositories, self._created_at(r))
                for r in classic
            ],
        )
        # Never on the reusable deploy workflow: deployed by Jenkins or by Argo CD.
        self.golden_path_since.update({r: None for r in every if r not in classic})
        self._cache: OrderedDict[str, RepoData] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.RLock()
        self._caused: dict[str, list[dict[str, Any]]] = {}
        self._argocd_syncs: dict[str, list[mixed.Sync]] = {}
        self.repositories_generated = (
            0  # simulations run (a repository evicted and asked again counts twice)
        )

    # --- repositories ------------------------------------------------------------------------------
    def plan(self, full_name: str) -> RepoPlan:
        service = self._service_of[full_name]
        team = service.team
        profile = profile_for(team)
        cadence = profile.cadence
        if profile.kind == "mobile":
            biweekly = (
                "android" in full_name or stable_int(self.seed, "cadence", full_name) % 3 == 0
            )
            cadence = "biweekly" if biweekly and "ios" not in full_name else "weekly"
        created = self._created_at(full_name)
        new = full_name in self.new_repositories
        runs, issues = self._self_service(full_name)
        return RepoPlan(
            full_name=full_name,
            index=self._index[full_name],
            team=team,
            service=service.name,
            tier=service.tier,
            profile=profile,
            cadence=cadence,
            people=self.rosters[team],
            created_at=created,
            start=self.start,
            horizon=self.horizon,
            activity=self.activity,
            seed_parts=(self.seed, full_name, self.horizon.isoformat(), self.months),
            has_pagerduty=bool(service.pagerduty_services),
            new=new,
            golden_path_since=self.golden_path_since[full_name],
            observability=platform_mod.has_observability_topic(self.seed, full_name, new),
            self_service_runs=tuple(runs),
            request_issues=tuple(issues),
        )

    def _created_at(self, full_name: str) -> dt.datetime:
        window = self.horizon - self.start
        if full_name in self.new_repositories:
            frac = 0.35 + 0.45 * (stable_int(self.seed, "created", full_name) % 1000) / 1000
            created = self.start + window * frac
        else:
            days = 90 + stable_int(self.seed, "created", full_name) % 1900
            created = self.start - DAY * days
        created = created.replace(microsecond=0)
        if created.hour < 7 or created.hour >= 18:
            minutes = stable_int(self.seed, "created-at", full_name) % 600
            created = created.replace(hour=7, minute=0, second=0) + dt.timedelta(minutes=minutes)
        return created

    def _self_service(self, full_name: str) -> tuple[list[Any], list[Any]]:
        """The developer portal's self-service requests (pipelines/demo/platform.py), else none."""
        if not platform_mod.is_self_service_repository(full_name):
            return [], []
        return platform_mod.self_service_requests(
            self.seed,
            full_name,
            self.start,
            self.horizon,
            self.rosters[self._service_of[full_name].team],
            [
                (s.name, s.team)
                for s in self.config.services
                if s.tier != "internal" and set(s.repositories) <= self._classic
            ],
            [
                (self._service_of[r].name, self._created_at(r))
                for r in sorted(self.new_repositories)
            ],
        )

    def repo(self, full_name: str) -> RepoData | None:
        """The repository's payloads (generated now if not cached), or None if it is not ours."""
        if full_name not in self._index:
            return None
        with self._lock:
            data = self._cache.get(full_name)
            if data is not None:
                self._cache.move_to_end(full_name)
                return data
            gc_was_enabled = gc.isenabled()
            gc.disable()  # building ~100k small dicts: the cyclic collector only slows that down
            try:
                data = render(RepoSim(self.plan(full_name)).run())
                if full_name in self.argocd_repositories:
                    data, self._argocd_syncs[full_name] = mixed.hand_over_to_argocd(data, self.seed)
            finally:
                if gc_was_enabled:
                    gc.enable()
            self.repositories_generated += 1
            self._caused[full_name] = data.incidents
            self._cache[full_name] = data
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
            return data

    def repo_meta(self, full_name: str) -> dict[str, Any]:
        """``GET /repos/{o}/{r}`` without simulating the repository."""
        return repo_meta(self.plan(full_name))

    def caused_incidents(self, full_name: str) -> list[dict[str, Any]]:
        with self._lock:
            if full_name not in self._caused:
                self.repo(full_name)
            return self._caused[full_name]

    def argocd_syncs(self, full_name: str) -> list[mixed.Sync]:
        """The production deployments of a repository deployed by Argo CD, as its syncs."""
        with self._lock:
            if full_name not in self._argocd_syncs:
                self.repo(full_name)
            return self._argocd_syncs[full_name]

    def service_of(self, full_name: str) -> ServiceConfig:
        return self._service_of[full_name]

    # --- other sources -----------------------------------------------------------------------------
    @cached_property
    def survey_waves(self) -> list[SurveyWave]:
        return surveys_mod.generate_waves(self)

    @cached_property
    def incidents(self) -> list[dict[str, Any]]:
        """PagerDuty incident payloads for every configured PagerDuty service, oldest first."""
        return incidents_mod.generate_incidents(self)

    @cached_property
    def pagerduty_services(self) -> list[dict[str, Any]]:
        return incidents_mod.services_payload(self)

    def sli_series(self, service: str) -> sli_mod.Series | None:
        """Hourly good/total request counts for a ``critical`` service, else None."""
        return self._sli.get(service) if service in self._sli_names else None

    @cached_property
    def _sli_names(self) -> set[str]:
        return {s.name for s in self.config.services if s.tier == "critical"}

    @cached_property
    def _sli(self) -> _LazySeries:
        return _LazySeries(self)


class _LazySeries:
    def __init__(self, org: Organisation):
        self.org = org
        self.done: dict[str, sli_mod.Series] = {}
        self.lock = threading.Lock()

    def get(self, service: str) -> sli_mod.Series:
        with self.lock:
            if service not in self.done:
                self.done[service] = sli_mod.generate_series(self.org, service)
            return self.done[service]


def generate_organisation(config: Config, *, now: dt.datetime | None = None) -> Organisation:
    """The demo organisation for a configuration (``config.demo`` holds seed, end date, months).

    ``now`` (default: the pinned clock, else the real time) matters only without an end date.
    """
    return Organisation(config, now=now)


# --- benchmark configurations ------------------------------------------------------------------------

SCALED_TEAMS = [
    "platform",
    "payments",
    "storefront",
    "mobile",
    "search",
    "growth",
    "identity",
    "data",
]


def scaled_demo_config(
    repositories: int,
    months: int,
    activity: float = 1.0,
    seed: int = 42,
    end_date: dt.date | None = None,
) -> Config:
    """A demo configuration with ``repositories`` services (one repository each) over 4-8 teams."""
    if repositories < 1:
        raise ValueError("repositories must be at least 1")
    data = yaml.safe_load(Path(DEMO_CONFIG_PATH).read_text(encoding="utf-8"))
    n_teams = min(8, max(4, 4 + repositories // 40))
    teams = SCALED_TEAMS[:n_teams]
    services = []
    per_team: dict[str, int] = {t: 0 for t in teams}
    for i in range(repositories):
        team = teams[i % n_teams]
        per_team[team] += 1
        name = f"{team}-svc-{i:03d}"
        tier = "internal" if team == "platform" else ("critical" if i % 5 == 0 else "standard")
        pd = [] if i % 7 == 6 else [f"P{stable_int(seed, 'pd', name) % 36**6:06X}"[:7]]
        services.append(
            {
                "name": name,
                "team": team,
                "tier": tier,
                "repositories": [f"appstore/{name}"],
                "pagerduty_services": pd,
            }
        )
    data["teams"] = [
        {
            "name": t,
            "engineers": max(5, round(per_team[t] * 1.4) + stable_int(seed, t) % 4),
            "on_call": max(2, round(per_team[t] * 1.4) // 3),
        }
        for t in teams
    ]
    data["services"] = services
    backfill = months * 31 + 35
    for source in data["sources"]["github"] + data["sources"]["pagerduty"]:
        source["backfill_days"] = backfill
    for source in data["sources"]["github"]:
        # The demo is a one-shot: its first run reads the whole history (no progressive backfill).
        source["initial_window_days"] = backfill
    data["demo"] = {"seed": seed, "months": months, "activity": activity, "end_date": end_date}
    return Config.model_validate(data)
