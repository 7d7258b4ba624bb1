"""Jenkins faults over a real socket (docs/operations.md#fault-matrix has GitHub's): 401 and 403,
a 5xx mid-history retried, a 5xx that persists, a 429 from a proxy, and a sync process killed
mid-job then re-run. Each ends with every build landed once, or one clear line and nothing lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from pipelines.errors import SourceAuthError, SourceError
from pipelines.jenkins.client import job_path
from pipelines.warehouse import connect, get_sync_state
from tests.conftest import REPO_ROOT
from tests.http_server import Reply, ScriptedServer
from tests.test_gitlab_sync import new_warehouse
from tests.test_jenkins_sync import FULL_KEYS, TOKEN, USER, build_keys, controller, sync

DEPLOY = f"{job_path('platform/deploy-checkout')}/api/json"
MAIN = f"{job_path('platform/checkout/main')}/api/json"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return new_warehouse(tmp_path)


def builds_range(path: str) -> str | None:
    """``{from,to}`` of an allBuilds request, or None for another request."""
    tree = parse_qs(urlsplit(path).query).get("tree", [""])[0]
    return tree[tree.rindex("{") :] if tree.startswith("allBuilds") else None


def once(job: str, window: str, reply: Reply):
    used: list[bool] = []

    def fault(path: str, headers: dict[str, str]) -> Reply | None:
        if urlsplit(path).path == job and builds_range(path) == window and not used:
            used.append(True)
            return reply
        return None

    return fault


def test_403_for_a_user_without_read_is_one_clear_line_naming_the_url(db: Path) -> None:
    fake = controller()
    fake.fault = lambda path, headers: (
        Reply(403, b"<html>metrics-reader is missing the Job/Read permission</html>")
        if urlsplit(path).path == DEPLOY
        else None
    )
    with ScriptedServer(fake) as server, pytest.raises(SourceAuthError) as info:
        sync(db, server)
    message = str(info.value)
    assert "403" in message and "deploy-checkout" in message
    assert "\n" not in message and TOKEN not in message


def test_5xx_mid_history_is_retried_and_every_build_lands_once(db: Path) -> None:
    fake = controller()
    fake.fault = once(DEPLOY, "{3,6}", Reply(502, b"Bad Gateway"))
    with ScriptedServer(fake) as server:
        sync(db, server)
        asked = [p for p, _ in server.requests if builds_range(p) == "{3,6}"]
    assert len(asked) == 2
    assert build_keys(db) == FULL_KEYS


def test_429_from_a_proxy_waits_retry_after_and_lands_every_build_once(db: Path) -> None:
    fake = controller()
    fake.fault = once(MAIN, "{0,3}", Reply(429, b"slow down", {"Retry-After": "1"}))
    with ScriptedServer(fake) as server:
        started = time.monotonic()
        sync(db, server)
        waited = time.monotonic() - started
    assert waited >= 1.0
    assert build_keys(db) == FULL_KEYS


def test_5xx_that_persists_stops_with_one_line_keeping_finished_jobs_and_old_cursors(
    db: Path,
) -> None:
    fake = controller()
    fake.fault = lambda path, headers: (
        Reply(503, b"down") if urlsplit(path).path == MAIN and builds_range(path) else None
    )
    with ScriptedServer(fake) as server:
        with pytest.raises(SourceError) as info:
            sync(db, server)
        message = str(info.value)
        assert "\n" not in message and "gave up" in message and "main" in message
        con = connect(db)
        assert get_sync_state(con, "jenkins", "platform/checkout/main", "builds") is None
        assert get_sync_state(con, "jenkins", "platform/deploy-checkout", "builds").cursor == "7"
        con.close()
        assert build_keys(db) == [k for k in FULL_KEYS if k.startswith("platform/deploy-")]
        fake.fault = None
        sync(db, server)
    assert build_keys(db) == FULL_KEYS


KILLED_SYNC = textwrap.dedent(
    """
    import sys
    from pipelines.jenkins.client import JenkinsClient
    from pipelines.jenkins.config import JenkinsSourceConfig
    from pipelines.jenkins.source import sync_controller
    from pipelines.warehouse import connect

    con = connect(sys.argv[1])
    source = JenkinsSourceConfig(
        base_url=sys.argv[2], user=sys.argv[3], token=sys.argv[4], folders=["platform"]
    )
    with JenkinsClient(
        sys.argv[2], user=sys.argv[3], token=sys.argv[4], builds_per_request=3, timeout=60
    ) as c:
        sync_controller(con, c, source)
    """
)


def test_sync_process_killed_mid_job_loses_nothing_and_duplicates_nothing(db: Path) -> None:
    fake = controller()
    reached = threading.Event()

    def fault(path: str, headers: dict[str, str]) -> Reply | None:
        # deploy-checkout is committed before main's builds are asked for.
        if urlsplit(path).path == MAIN and builds_range(path) and not reached.is_set():
            reached.set()
            return Reply(body={"allBuilds": []}, delay=20)
        return None

    fake.fault = fault
    with ScriptedServer(fake) as server:
        process = subprocess.Popen(
            [sys.executable, "-c", KILLED_SYNC, str(db), server.url, USER, TOKEN],
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        )
        try:
            assert reached.wait(60), "the sync never asked for main's builds"
            process.send_signal(signal.SIGKILL)
            assert process.wait(30) == -signal.SIGKILL
        finally:
            if process.poll() is None:
                process.kill()
        assert build_keys(db) == [k for k in FULL_KEYS if k.startswith("platform/deploy-")]
        con = connect(db)
        assert get_sync_state(con, "jenkins", "platform/checkout/main", "builds") is None
        con.close()
        sync(db, server)
    keys = build_keys(db)
    assert keys == FULL_KEYS and len(set(keys)) == len(keys)
    con = connect(db)
    assert con.execute(
        "SELECT count(*), count(DISTINCT natural_key) FROM raw.jenkins_jobs"
    ).fetchone() == (3, 3)
    con.close()


def test_a_build_without_a_number_is_one_clear_line_and_nothing_of_the_job_lands(db: Path) -> None:
    fake = controller()
    fake.node(["platform", "deploy-checkout"])[0]["builds"][2] = {
        "number": "3",
        "result": "SUCCESS",
    }
    with ScriptedServer(fake) as server, pytest.raises(SourceError) as info:
        sync(db, server)
    message = str(info.value)
    assert "platform/deploy-checkout" in message and "without a number" in message
    assert "\n" not in message
    assert build_keys(db) == []
