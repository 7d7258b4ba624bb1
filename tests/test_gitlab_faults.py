"""GitLab faults over a real socket (docs/operations.md#fault-matrix has GitHub's): a 401, 429 with
Retry-After or RateLimit-Reset, a spent RateLimit-Remaining, 5xx, and a sync process killed between
pages then re-run. Each ends with every row landed once, or one clear line and nothing lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from pipelines.demo.fake_gitlab import FakeGitLab
from pipelines.errors import SourceError
from pipelines.warehouse import connect, get_sync_state
from tests.conftest import REPO_ROOT
from tests.http_server import Reply, ScriptedServer
from tests.test_gitlab_sync import FULL, PATH, TOKEN, counts, make_project, new_warehouse, sync

MR_LISTING = "/api/v4/projects/7/merge_requests"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return new_warehouse(tmp_path)


def once_on(listing: str, page: int, reply: Reply):
    """Answer ``page`` of ``listing`` with ``reply`` the first time, normally afterwards."""
    used: list[bool] = []

    def fault(path: str, headers: dict[str, str]) -> Reply | None:
        url = urlsplit(path)
        asked = 1
        for part in url.query.split("&"):
            if part.startswith("page="):
                asked = int(part[5:])
        if url.path == listing and asked == page and not used:
            used.append(True)
            return reply
        return None

    return fault


def test_429_with_retry_after_waits_as_told_and_lands_every_row_once(db: Path) -> None:
    fake = FakeGitLab([make_project()], token=TOKEN)
    fake.fault = once_on(
        MR_LISTING, 2, Reply(429, {"message": "Retry later"}, {"Retry-After": "1"})
    )
    with ScriptedServer(fake) as server:
        started = time.monotonic()
        sync(db, server)
        waited = time.monotonic() - started
        asked = [p for p, _ in server.requests if urlsplit(p).path == MR_LISTING and "page=2" in p]
    assert waited >= 1.0
    assert len(asked) == 2
    assert counts(db) == FULL


def test_429_without_retry_after_waits_until_ratelimit_reset(db: Path) -> None:
    fake = FakeGitLab([make_project()], token=TOKEN)
    reset = str(int(time.time()) + 1)
    fake.fault = once_on(
        MR_LISTING,
        3,
        Reply(
            429, {"message": "Retry later"}, {"RateLimit-Remaining": "0", "RateLimit-Reset": reset}
        ),
    )
    with ScriptedServer(fake) as server:
        started = time.monotonic()
        sync(db, server)
        waited = time.monotonic() - started
    assert waited >= 1.0
    assert counts(db) == FULL


def test_a_spent_ratelimit_remaining_pauses_until_the_reset_before_the_next_request(
    db: Path,
) -> None:
    """A success saying ``RateLimit-Remaining: 0`` is answered by waiting, not by a 429 next."""
    fake = FakeGitLab([make_project()], token=TOKEN)
    reset = str(int(time.time()) + 1)
    base = fake.__call__

    def handler(path: str, headers: dict[str, str]) -> Reply:
        reply = base(path, headers)
        if urlsplit(path).path == "/api/v4/projects/acme%2Fplatform%2Fcheckout":
            reply.headers.update({"RateLimit-Remaining": "0", "RateLimit-Reset": reset})
        return reply

    with ScriptedServer(handler) as server:
        started = time.monotonic()
        sync(db, server)
        waited = time.monotonic() - started
    assert waited >= 1.0
    assert counts(db) == FULL


def test_5xx_mid_listing_is_retried_and_every_row_lands_once(db: Path) -> None:
    fake = FakeGitLab([make_project()], token=TOKEN)
    fake.fault = once_on("/api/v4/projects/7/pipelines", 2, Reply(502, {"message": "Bad Gateway"}))
    with ScriptedServer(fake) as server:
        sync(db, server)
    assert counts(db) == FULL


def test_5xx_that_persists_stops_with_one_line_keeping_earlier_pages_and_the_old_cursor(
    db: Path,
) -> None:
    fake = FakeGitLab([make_project()], token=TOKEN)
    fake.fault = lambda path, headers: (
        Reply(503, {"message": "down"})
        if urlsplit(path).path == MR_LISTING and "page=2" in path
        else None
    )
    with ScriptedServer(fake) as server:
        with pytest.raises(SourceError) as info:
            sync(db, server)
        message = str(info.value)
        assert "\n" not in message and TOKEN not in message
        assert "gave up" in message and "merge_requests" in message
        con = connect(db)
        assert con.execute("SELECT count(*) FROM raw.gitlab_merge_requests").fetchone() == (5,)
        assert get_sync_state(con, "gitlab", PATH, "merge_requests") is None
        con.close()
        fake.fault = None
        sync(db, server)
    assert counts(db) == FULL


def kill_when(reached: threading.Event, script_and_args: list[str], what: str) -> None:
    """Run ``python -c <script> <args>`` and SIGKILL it once ``reached`` is set (within 60 s)."""
    process = subprocess.Popen(
        [sys.executable, "-c", *script_and_args],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    try:
        assert reached.wait(60), f"the sync never {what}"
        process.send_signal(signal.SIGKILL)
        assert process.wait(30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()


KILLED_SYNC = textwrap.dedent(
    """
    import datetime as dt, sys
    from pipelines.gitlab.client import GitLabClient
    from pipelines.gitlab.sync import ProjectSync
    from pipelines.warehouse import connect

    con = connect(sys.argv[1])
    with GitLabClient(sys.argv[2] + "/api/v4", token=sys.argv[3], per_page=5, timeout=60) as c:
        ProjectSync(
            con, c, source="gitlab", project="acme/platform/checkout", backfill_days=365,
            now=dt.datetime(2026, 6, 30, 12, tzinfo=dt.UTC),
        ).run()
    """
)


def test_sync_process_killed_between_pages_loses_nothing_and_duplicates_nothing(db: Path) -> None:
    fake = FakeGitLab([make_project()], token=TOKEN)
    reached = threading.Event()

    def fault(path: str, headers: dict[str, str]) -> Reply | None:
        if urlsplit(path).path == MR_LISTING and "page=3" in path and not reached.is_set():
            reached.set()  # pages 1 and 2 are committed before page 3 is asked for
            return Reply(body=[], delay=20)
        return None

    fake.fault = fault
    with ScriptedServer(fake) as server:
        kill_when(reached, [KILLED_SYNC, str(db), server.url, TOKEN], "asked for page 3")
        con = connect(db)
        assert con.execute(
            "SELECT count(*), count(DISTINCT natural_key) FROM raw.gitlab_merge_requests"
        ).fetchone() == (10, 10)
        assert get_sync_state(con, "gitlab", PATH, "merge_requests") is None
        con.close()
        sync(db, server)
    assert counts(db) == FULL
