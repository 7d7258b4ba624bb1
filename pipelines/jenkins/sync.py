"""Sync a Jenkins controller's jobs and builds into the raw layer, incrementally.

Jobs are found by walking the configured folders (and any folder or multibranch pipeline named in
``jobs``). Each job keeps one cursor in ``raw.sync_state`` (source, scope = the job's full name,
entity ``builds``): the highest build number below which every build had finished when it was read.
A sync reads the job's builds newest first, ``builds_per_request`` per request, until it reaches
the cursor, and lands the job row, every build above the cursor and the new cursor in one
transaction: a sync killed mid-job leaves that job as it was, and the upserts on
(source, natural_key) make the re-run harmless. A build still running is read again next time, so
its result and duration arrive once it finishes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb

from pipelines.jenkins.client import JenkinsClient, is_container
from pipelines.warehouse import RawRecord, get_sync_state, set_cursor, transaction, upsert_raw

log = logging.getLogger(__name__)

RAW_TABLES = ("jenkins_jobs", "jenkins_builds")
DEPLOYMENT_JOBS_TABLE = "jenkins_deployment_jobs"
ENTITY = "builds"


@dataclass
class JobReport:
    builds: int = 0
    requests: int = 0
    retries: int = 0
    cursor: int | None = None


@dataclass
class ControllerReport:
    jobs: dict[str, JobReport] = field(default_factory=dict)

    def items(self) -> int:
        return sum(r.builds for r in self.jobs.values())


def discover_jobs(
    client: JenkinsClient, jobs: list[str], folders: list[str]
) -> dict[str, dict[str, Any]]:
    """Full name -> job item, for every buildable job named or under a named folder, each once.
    Folders, organisation folders and multibranch pipelines are walked, not synced."""
    found: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()

    def walk(full_name: str, children: list[dict[str, Any]]) -> None:
        if full_name in seen:
            return
        seen.add(full_name)
        for child in children:
            name = child.get("fullName") or "/".join(p for p in (full_name, child["name"]) if p)
            if is_container(child):
                walk(name, client.children(name))
            else:
                found.setdefault(name, child)

    for folder in folders:
        name = folder.strip("/")
        walk(name, client.children(name))
    for job in jobs:
        name = job.strip("/")
        item = client.job(name)
        if is_container(item):
            walk(name, list(item.get("jobs") or []))
        else:
            found.setdefault(item.get("fullName") or name, item)
    return found


def _cursor(con: duckdb.DuckDBPyConnection, source: str, job: str) -> int | None:
    state = get_sync_state(con, source, job, ENTITY)
    return int(state.cursor) if state and state.cursor else None


def new_cursor(builds: list[dict[str, Any]], old: int | None) -> int | None:
    """The highest number below which every build read has finished (never below ``old``)."""
    if not builds:
        return old
    running = [b["number"] for b in builds if b.get("building")]
    cursor = min(running) - 1 if running else max(b["number"] for b in builds)
    return cursor if old is None else max(cursor, old)


def sync_job(
    con: duckdb.DuckDBPyConnection,
    client: JenkinsClient,
    *,
    source: str,
    job: str,
    item: dict[str, Any],
    max_builds: int,
) -> JobReport:
    """Read ``job``'s builds above its cursor (at most ``max_builds`` on the first sync) and land
    them, the job row and the new cursor in one transaction."""
    before = dataclasses.replace(client.stats)
    old = _cursor(con, source, job)
    step = client.builds_per_request
    builds: list[dict[str, Any]] = []
    start = 0
    while True:
        end = start + step if old is not None else min(start + step, max_builds)
        page = client.builds(job, start, end)
        builds += [b for b in page if old is None or b["number"] > old]
        reached = old is not None and any(b["number"] <= old for b in page)
        if reached or len(page) < end - start or (old is None and end >= max_builds):
            break
        start = end
    cursor = new_cursor(builds, old)
    with transaction(con):
        upsert_raw(con, "jenkins_jobs", source, [RawRecord(job, job, item)])
        upsert_raw(
            con,
            "jenkins_builds",
            source,
            [RawRecord(f"{job}#{b['number']}", job, b, _finished_at(b), job) for b in builds],
        )
        set_cursor(
            con,
            source,
            job,
            ENTITY,
            cursor=None if cursor is None else str(cursor),
            items_added=len(builds),
        )
    after = client.stats
    return JobReport(
        builds=len(builds),
        requests=after.requests - before.requests,
        retries=after.retries - before.retries,
        cursor=cursor,
    )


def _finished_at(build: dict[str, Any]) -> str | None:
    """The build's last change: its start plus its duration (epoch ms), as ISO-8601 UTC."""
    started = build.get("timestamp")
    if started is None:
        return None
    ms = int(started) + int(build.get("duration") or 0)
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat()


def write_deployment_jobs(
    con: duckdb.DuckDBPyConnection,
    source: str,
    jobs: list[str],
    is_deployment: Callable[[str], bool],
    environment: str,
) -> None:
    """Rewrite this source's rows of ``raw.jenkins_deployment_jobs``: the jobs whose builds are
    deployments (the configured regex, evaluated here so dbt needs no regex dialect of its own).
    Payload ``{"job", "environment"}``, natural_key and scope the job's full name."""
    with transaction(con):
        con.execute(f"DELETE FROM raw.{DEPLOYMENT_JOBS_TABLE} WHERE source = ?", [source])
        upsert_raw(
            con,
            DEPLOYMENT_JOBS_TABLE,
            source,
            [
                RawRecord(job, job, {"job": job, "environment": environment})
                for job in jobs
                if is_deployment(job)
            ],
        )
