"""Sync Argo CD applications and their sync history into the raw layer, incrementally.

One request (``GET /api/v1/applications``) answers every application with its ``status.history``:
the last syncs Argo CD keeps (``spec.revisionHistoryLimit``, 10 by default), each with a ``id``
that grows by one per sync of that application. The cursor of an application
(``raw.sync_state``: source, scope = ``<namespace>/<name>``, entity ``history``) is the highest
history id landed; an application's row, its new history entries and its cursor are written in
one transaction, so a sync killed at any point is redone from the old cursor, and the upserts on
(source, natural_key) make a redo harmless.

Each row's ``scope`` is the repository the deployment is attributed to: the service repository
(``services[].repositories``) the application's source ``repoURL`` names, or, for an application
in ``service_map``, the service's repository (its repoURL when that is one of them, else its first);
``-`` when neither maps it (its syncs are then not any service's deployments).

Health: Argo CD keeps no history of an application's health, only the current ``status.health``
(``status``, and ``lastTransitionTime`` on recent versions). Each sync compares it with the status
recorded last (``raw.sync_state`` entity ``health``, in the same transaction) and, when it changed,
lands ``status.health`` verbatim in ``raw.argocd_health`` (natural key
``<namespace>/<name>/health/<fetch time>``): the application's health over time, as often as the
syncs look. ``sources.argocd[].health_incidents`` makes its Degraded spells incidents (dbt).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb

from pipelines.argocd.client import ArgoCDClient
from pipelines.errors import ConfigError, SourceError
from pipelines.warehouse import RawRecord, get_sync_state, set_cursor, transaction, upsert_raw

UNMAPPED = "-"
HISTORY = "history"
HEALTH = "health"
_REPO_URL = re.compile(r"^(?:[a-z+]+://)?(?:[^@/]+@)?[^/:]+(?::\d+)?[/:](?P<path>.+?)(?:\.git)?/*$")


def repository_path(repo_url: str | None) -> str | None:
    """``owner/name`` (or ``group/sub/project``) of a git URL: https, ssh:// or scp-like
    ``git@host:path``, with or without ``.git``. None for anything else (a Helm registry)."""
    if not repo_url:
        return None
    match = _REPO_URL.match(repo_url.strip())
    if not match or "/" not in match.group("path"):
        return None
    return match.group("path").lower()


def _repo_urls(item: Mapping[str, Any]) -> list[str]:
    """Every source repoURL of an application spec or a history entry (``source`` / ``sources``)."""
    sources = [item.get("source") or {}, *(item.get("sources") or [])]
    return [s["repoURL"] for s in sources if isinstance(s, dict) and s.get("repoURL")]


@dataclass(frozen=True)
class RepositoryMap:
    """Resolves an application to the repository its deployments count for."""

    repositories: Mapping[str, list[str]]  # service -> its repositories
    service_map: Mapping[str, str] = field(default_factory=dict)  # application name -> service

    def __post_init__(self) -> None:
        for app, service in self.service_map.items():
            if service not in self.repositories:
                raise ConfigError(
                    f"sources.argocd[].service_map.{app}: {service!r} is not one of the services "
                    f"{sorted(self.repositories)}"
                )

    def resolve(self, application: str, repo_urls: Iterable[str]) -> str:
        paths = [p for p in (repository_path(u) for u in repo_urls) if p]
        service = self.service_map.get(application)
        if service is not None:
            own = self.repositories[service]
            by_lower = {r.lower(): r for r in own}
            for path in paths:
                if path in by_lower:
                    return by_lower[path]
            return own[0] if own else UNMAPPED
        every = {r.lower(): r for repos in self.repositories.values() for r in repos}
        for path in paths:
            if path in every:
                return every[path]
        return UNMAPPED


@dataclass
class ArgoCDSyncReport:
    applications: int = 0
    history: int = 0
    skipped: int = 0  # applications outside the name filter
    health_changes: int = 0  # applications whose health changed since the last sync


def _history_id(entry: Mapping[str, Any], where: str) -> int:
    # Argo CD's swagger types the id as an int64 string; the server's JSON sends a number.
    try:
        return int(entry["id"])
    except (KeyError, TypeError, ValueError):
        raise SourceError(f"Argo CD {where}: a status.history entry has no integer id") from None


def sync_applications(
    con: duckdb.DuckDBPyConnection,
    client: ArgoCDClient,
    *,
    source: str,
    repositories: RepositoryMap,
    projects: Iterable[str] = (),
    names: Iterable[str] = (),
    now: dt.datetime | None = None,
) -> ArgoCDSyncReport:
    """Land every (filtered) application and the history entries newer than its cursor."""
    wanted = set(names)
    report = ArgoCDSyncReport()
    fetched_at = now or dt.datetime.now(dt.UTC)
    for app in client.applications(projects):
        meta = app.get("metadata") or {}
        name = meta.get("name")
        if not name:
            raise SourceError("Argo CD sent an application without metadata.name")
        if wanted and name not in wanted:
            report.skipped += 1
            continue
        key = f"{meta.get('namespace') or 'argocd'}/{name}"
        status = app.get("status") or {}
        history = status.get("history") or []
        repository = repositories.resolve(name, _repo_urls(app.get("spec") or {}))
        state = get_sync_state(con, source, key, HISTORY)
        cursor = int(state.cursor) if state and state.cursor is not None else -1  # ids start at 0
        new = [(e, _history_id(e, key)) for e in history if isinstance(e, dict)]
        new = [(e, i) for e, i in new if i > cursor]
        health = status.get("health") if isinstance(status.get("health"), dict) else {}
        recorded = get_sync_state(con, source, key, HEALTH)
        health_changed = bool(health.get("status")) and (
            recorded is None or recorded.cursor != health["status"]
        )
        with transaction(con):
            upsert_raw(
                con,
                "argocd_applications",
                source,
                [RawRecord(key, repository, app, status.get("reconciledAt"))],
                fetched_at=fetched_at,
            )
            upsert_raw(
                con,
                "argocd_sync_history",
                source,
                [
                    RawRecord(
                        f"{key}/history/{i}",
                        repositories.resolve(name, _repo_urls(e)) if _repo_urls(e) else repository,
                        e,
                        e.get("deployedAt"),
                        parent_key=key,
                    )
                    for e, i in new
                ],
                fetched_at=fetched_at,
            )
            if health_changed:
                upsert_raw(
                    con,
                    "argocd_health",
                    source,
                    [
                        RawRecord(
                            f"{key}/health/{fetched_at.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}",
                            repository,
                            health,
                            health.get("lastTransitionTime"),
                            parent_key=key,
                        )
                    ],
                    fetched_at=fetched_at,
                )
                set_cursor(con, source, key, HEALTH, cursor=health["status"], items_added=1)
            newest = max([cursor, *(i for _, i in new)])
            set_cursor(
                con,
                source,
                key,
                HISTORY,
                cursor=str(newest) if newest >= 0 else None,
                items_added=len(new),
            )
        report.applications += 1
        report.history += len(new)
        report.health_changes += health_changed
    return report
