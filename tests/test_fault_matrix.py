"""The fault matrix (docs/operations.md#fault-matrix): each fault over a real socket on 127.0.0.1.

Every case syncs one repository's deployments (93 over four pages of 30, the probe's numbers)
through ``RepositorySync`` into a real DuckDB file and counts the raw rows before and after. A fault
the client rides out ends with all 93 rows and the cursor set; a fault it must not ride out ends
with one line naming what and where, the rows of the pages before it, the cursor where it was, and
a re-run that lands the rest: nothing lost, nothing duplicated. Retry-After, the secondary limit,
5xx, timeouts and malformed JSON on a single request are also covered in tests/test_http_client.py;
here they are exercised mid-listing, with the warehouse's row counts.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from pipelines.errors import SourceError
from pipelines.github.client import GitHubClient
from pipelines.github.sync import RepositorySync
from pipelines.http import CrossOriginError, RetryPolicy
from pipelines.incidents import opsgenie
from pipelines.pagerduty.client import PagerDutyClient
from pipelines.warehouse import connect, ensure_raw_schema, ensure_raw_table, get_sync_state
from tests.conftest import REPO_ROOT
from tests.http_server import Reply, ScriptedServer

NOW = dt.datetime(2026, 6, 30, 12, tzinfo=dt.UTC)
TOKEN = "ghp_fault_matrix_secret"
TOTAL = 93
PER_PAGE = 30
FAST = RetryPolicy(max_retries=3, backoff_base=0.01, backoff_max=0.05, max_total_seconds=10)

Fault = Callable[[int, dict[str, str]], Reply | None]


class Deployments:
    """GitHub's deployments listing: newest first, ``Link: rel="next"`` on every page but the last.

    ``fault(page, headers)`` may answer a page instead (once per page unless it keeps answering);
    ``next_host`` replaces the host of the next-page links (a hostile or misconfigured proxy).
    """

    def __init__(self) -> None:
        created = [NOW - dt.timedelta(hours=3 * i + 1) for i in range(TOTAL)]
        self.items = [
            {
                "id": 5000 + i,
                "sha": f"{i:040x}",
                "environment": "production",
                "created_at": c.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "updated_at": c.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            for i, c in enumerate(created)
        ]
        self.fault: Fault | None = None
        self.next_host: str | None = None

    def __call__(self, path: str, headers: dict[str, str]) -> Reply:
        url = urlsplit(path)
        if url.path.endswith("/statuses"):
            return Reply(body=[])
        if url.path != "/repos/o/r/deployments":
            return Reply(404, {"message": "Not Found"})
        page = int(parse_qs(url.query).get("page", ["1"])[0])
        if self.fault is not None:
            reply = self.fault(page, headers)
            if reply is not None:
                return reply
        items = self.items[(page - 1) * PER_PAGE : page * PER_PAGE]
        answer_headers = {"ETag": f'W/"deployments-{len(self.items)}"'} if page == 1 else {}
        if page * PER_PAGE < len(self.items):
            # As GitHub numbers a listing: "next" and "last" (the listing knows its length).
            host = self.next_host or headers["Host"]
            listing = f"http://{host}/repos/o/r/deployments?per_page={PER_PAGE}"
            last = -(-len(self.items) // PER_PAGE)
            answer_headers["Link"] = (
                f'<{listing}&page={page + 1}>; rel="next", <{listing}&page={last}>; rel="last"'
            )
        return Reply(body=items, headers=answer_headers)


def once(page: int, reply: Reply) -> Fault:
    """Answer ``page`` with ``reply`` the first time it is asked for, normally afterwards."""
    used = []

    def fault(asked: int, headers: dict[str, str]) -> Reply | None:
        if asked == page and not used:
            used.append(True)
            return reply
        return None

    return fault


def always(page: int, reply: Reply) -> Fault:
    return lambda asked, headers: reply if asked == page else None


def sync(db: Path, server: ScriptedServer, *, timeout: float = 5.0) -> None:
    con = connect(db)
    try:
        with GitHubClient(
            server.url, token=TOKEN, retry=FAST, per_page=PER_PAGE, timeout=timeout
        ) as client:
            RepositorySync(
                con, client, source="github", repository="o/r", backfill_days=365, now=NOW
            ).run(["deployments"])
    finally:
        con.close()


def rows(db: Path) -> tuple[int, int, str | None]:
    """(rows, distinct keys, cursor) of the deployments in the warehouse file."""
    con = connect(db)
    try:
        total, distinct = con.execute(
            "SELECT count(*), count(DISTINCT natural_key) FROM raw.github_deployments"
        ).fetchone()
        state = get_sync_state(con, "github", "o/r", "deployments")
        return total, distinct, state.cursor if state else None
    finally:
        con.close()


NEWEST = (NOW - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    con = connect(path)
    ensure_raw_schema(con)
    ensure_raw_table(con, "github_deployments")
    con.close()
    return path


def assert_one_clear_line(error: BaseException, *needles: str) -> None:
    message = str(error)
    assert "\n" not in message
    assert TOKEN not in message
    for needle in needles:
        assert needle in message, message


# --- faults the client rides out: everything lands, once ---------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(
            once(
                3,
                Reply(
                    403,
                    {"message": "You have exceeded a secondary rate limit."},
                    {"Retry-After": "0"},
                ),
            ),
            id="github-secondary-limit",
        ),
        pytest.param(once(2, Reply(502)), id="5xx-then-success"),
        pytest.param(once(4, Reply(body=[], delay=1.0)), id="timeout-then-success"),
    ],
)
def test_transient_faults_mid_listing_land_every_row_once(db: Path, fault: Fault) -> None:
    fake = Deployments()
    fake.fault = fault
    assert rows(db) == (0, 0, None)
    with ScriptedServer(fake) as server:
        sync(db, server, timeout=0.5)
    assert rows(db) == (TOTAL, TOTAL, NEWEST)


def test_429_with_retry_after_mid_listing_waits_as_told_and_lands_every_row_once(
    db: Path,
) -> None:
    fake = Deployments()
    fake.fault = once(2, Reply(429, {"message": "slow down"}, {"Retry-After": "1"}))
    with ScriptedServer(fake) as server:
        started = time.monotonic()
        sync(db, server)
        waited = time.monotonic() - started
        page_two = [p for p, _ in server.requests if "page=2" in p]
    assert waited >= 1.0
    assert len(page_two) == 2
    assert rows(db) == (TOTAL, TOTAL, NEWEST)


# --- faults that stop the sync: one line, cursor unmoved, re-run completes ---------------------


def _fails_then_recovers(
    db: Path, fake: Deployments, server: ScriptedServer, landed: int, *needles: str
) -> SourceError:
    with pytest.raises(SourceError) as info:
        sync(db, server)
    assert_one_clear_line(info.value, *needles)
    # The pages before the fault landed; the cursor did not move past them.
    assert rows(db) == (landed, landed, None)
    fake.fault, fake.next_host = None, None
    sync(db, server)
    assert rows(db) == (TOTAL, TOTAL, NEWEST)
    return info.value


def test_malformed_json_mid_listing_stops_with_one_line_and_loses_nothing(db: Path) -> None:
    fake = Deployments()
    fake.fault = always(2, Reply(body=b"[{not json"))
    with ScriptedServer(fake) as server:
        _fails_then_recovers(db, fake, server, 30, "malformed JSON", "/repos/o/r/deployments")


def test_truncated_json_mid_listing_stops_with_one_line_and_loses_nothing(db: Path) -> None:
    fake = Deployments()
    whole = (
        b'[{"id": 1, "created_at": "2026-06-29T00:00:00Z"}, '
        b'{"id": 2, "created_at": "2026-06-28T00:00:00Z"}]'
    )
    fake.fault = always(3, Reply(body=whole[: len(whole) // 2]))
    with ScriptedServer(fake) as server:
        _fails_then_recovers(db, fake, server, 60, "malformed JSON", "page=3")


def test_cross_origin_next_link_is_refused_and_the_token_never_leaves(db: Path) -> None:
    """The probe's case: page 1 links to another host, which would answer [] and end the listing."""
    elsewhere = ScriptedServer(lambda path, headers: Reply(body=[]))
    fake = Deployments()
    with elsewhere, ScriptedServer(fake) as server:
        # The same address on another port is another origin.
        fake.next_host = urlsplit(elsewhere.url).netloc
        error = _fails_then_recovers(
            db, fake, server, 30, "GitHub", f"{elsewhere.url}", "not the configured origin"
        )
        assert isinstance(error, CrossOriginError)
    assert elsewhere.requests == []


def test_cross_origin_redirect_is_refused_and_the_token_never_leaves(db: Path) -> None:
    elsewhere = ScriptedServer(lambda path, headers: Reply(body=[]))
    fake = Deployments()
    with elsewhere, ScriptedServer(fake) as server:
        fake.fault = always(
            2,
            Reply(302, headers={"Location": f"{elsewhere.url}/repos/o/r/deployments?page=2"}),
        )
        error = _fails_then_recovers(db, fake, server, 30, "redirect", elsewhere.url)
        assert isinstance(error, CrossOriginError)
    assert elsewhere.requests == []


def test_same_origin_redirect_is_followed_with_the_token(db: Path) -> None:
    fake = Deployments()
    moved = []

    def fault(page: int, headers: dict[str, str]) -> Reply | None:
        if page == 2 and not moved:
            moved.append(headers.get("Authorization"))
            return Reply(
                301, headers={"Location": f"/repos/o/r/deployments?per_page={PER_PAGE}&page=2"}
            )
        if page == 2:
            moved.append(headers.get("Authorization"))
        return None

    fake.fault = fault
    with ScriptedServer(fake) as server:
        sync(db, server)
    assert rows(db) == (TOTAL, TOTAL, NEWEST)
    assert moved == [f"Bearer {TOKEN}", f"Bearer {TOKEN}"]


def test_empty_page_mid_first_sync_is_an_error_not_the_end_of_history(db: Path) -> None:
    fake = Deployments()
    fake.fault = always(2, Reply(body=[]))
    with ScriptedServer(fake) as server:
        _fails_then_recovers(db, fake, server, 30, "empty page 2", "cursor did not move")


def test_opsgenie_cross_origin_paging_next_is_refused(tmp_path: Path) -> None:
    elsewhere = ScriptedServer(lambda path, headers: Reply(body={"data": []}))

    def handler(path: str, headers: dict[str, str]) -> Reply:
        incident = {"id": "i1", "createdAt": "2026-06-29T00:00:00Z", "impactedServices": []}
        nxt = f"{elsewhere.url}/v1/incidents?offset=100"
        return Reply(body={"data": [incident], "paging": {"next": nxt}})

    con = connect(tmp_path / "w.duckdb")
    ensure_raw_schema(con)
    ensure_raw_table(con, "opsgenie_incidents")
    with elsewhere, ScriptedServer(handler) as server:
        client = opsgenie.OpsgenieClient(server.url, api_key="og-secret", retry=FAST)
        with client, pytest.raises(CrossOriginError) as info:
            opsgenie.sync_incidents(con, client, source="opsgenie", backfill_days=30, now=NOW)
    assert "og-secret" not in str(info.value)
    assert elsewhere.requests == []
    assert con.execute("SELECT count(*) FROM raw.opsgenie_incidents").fetchone()[0] == 0
    assert get_sync_state(con, "opsgenie", "all", "incidents") is None
    con.close()


def test_pagerduty_empty_page_that_says_more_is_an_error_not_a_loop() -> None:
    def handler(path: str, headers: dict[str, str]) -> Reply:
        return Reply(body={"incidents": [], "more": True})

    with ScriptedServer(handler) as server:
        client = PagerDutyClient(server.url, token="pd-secret", retry=FAST)
        with client, pytest.raises(SourceError, match="empty page at offset 0"):
            list(client.incidents("2026-01-01T00:00:00Z", "2026-06-01T00:00:00Z"))
    assert len(server.requests) == 1


# --- kill mid-sync and re-run ----------------------------------------------------------------

KILLED_SYNC = textwrap.dedent(
    """
    import datetime as dt, sys
    from pipelines.github.client import GitHubClient
    from pipelines.github.sync import RepositorySync
    from pipelines.warehouse import connect

    con = connect(sys.argv[1])
    with GitHubClient(sys.argv[2], per_page=30, timeout=60) as client:
        RepositorySync(
            con, client, source="github", repository="o/r", backfill_days=365,
            now=dt.datetime(2026, 6, 30, 12, tzinfo=dt.UTC),
        ).run(["deployments"])
    """
)


def test_sync_process_killed_between_pages_loses_nothing_and_duplicates_nothing(db: Path) -> None:
    fake = Deployments()
    reached = threading.Event()

    def fault(page: int, headers: dict[str, str]) -> Reply | None:
        if page == 3 and not reached.is_set():
            reached.set()  # pages 1 and 2 are committed before page 3 is asked for
            return Reply(body=[], delay=20)
        return None

    fake.fault = fault
    with ScriptedServer(fake) as server:
        process = subprocess.Popen(
            [sys.executable, "-c", KILLED_SYNC, str(db), server.url],
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        )
        try:
            assert reached.wait(60), "the sync never asked for page 3"
            process.send_signal(signal.SIGKILL)
            assert process.wait(30) == -signal.SIGKILL
        finally:
            if process.poll() is None:
                process.kill()
        assert rows(db) == (60, 60, None)
        sync(db, server)
    assert rows(db) == (TOTAL, TOTAL, NEWEST)


# --- hostile configuration through the real CLI ----------------------------------------------

VALID = """\
organisation: {name: Acme}
teams: [{name: web, engineers: 4}]
services: [{name: shop, team: web, repositories: [acme/shop]}]
sources:
  github: [{repositories: [acme/shop], base_url: "BASE"}]
"""

BILLION_LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)


def validate(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "org.yaml"
    config.write_text(text, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "assets.cli", "validate", "--config", str(config)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("a: &a [*a]\n", "line 1: alias *a refers to the anchor", id="recursive-alias"),
        pytest.param(BILLION_LAUGHS, "alias bomb", id="billion-laughs"),
        pytest.param(
            VALID.replace("BASE", "not a url"),
            "sources.github[0].base_url: must start with https://",
            id="not-a-url",
        ),
        pytest.param(
            VALID.replace("BASE", "file:///etc/passwd"),
            "sources.github[0].base_url: must start with https://",
            id="file-url",
        ),
    ],
)
def test_hostile_configuration_is_one_line_and_exit_2(
    tmp_path: Path, text: str, expected: str
) -> None:
    done = validate(tmp_path, text)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"error: {tmp_path / 'org.yaml'}: ")
    assert expected in lines[0]


def test_a_valid_https_base_url_still_validates(tmp_path: Path) -> None:
    done = validate(tmp_path, VALID.replace("BASE", "https://github.example.com/api/v3"))
    assert done.returncode == 0, done.stderr
