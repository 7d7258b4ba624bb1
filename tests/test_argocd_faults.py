"""Argo CD faults over a real socket: a refused token (401, 403) stops with one line naming the URL
and never the token, 5xx is retried, and a sync killed or stopped part-way is redone by the next run
with every sync landed once (each application's rows and cursor are one transaction)."""

from __future__ import annotations

import textwrap
import threading
from pathlib import Path

import pytest

from pipelines.demo.fake_argocd import FakeArgoCD, application, history_entry
from pipelines.errors import SourceAuthError, SourceError
from pipelines.warehouse import connect, get_sync_state
from tests.http_server import Reply, ScriptedServer
from tests.test_argocd_sync import REPO_URL, TOKEN, checkout_app, deployed, sync
from tests.test_gitlab_faults import kill_when
from tests.test_gitlab_sync import new_warehouse


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return new_warehouse(tmp_path)


def history_counts(db: Path) -> tuple[int, int]:
    con = connect(db)
    try:
        return con.execute(
            "SELECT count(*), count(DISTINCT natural_key) FROM raw.argocd_sync_history"
        ).fetchone()
    finally:
        con.close()


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (401, {"error": "invalid session: token has invalid signature", "code": 16}),
        (403, {"error": "permission denied", "code": 7, "message": "permission denied"}),
    ],
)
def test_a_refused_token_stops_with_one_line_naming_the_url_and_never_the_token(
    db: Path, status: int, body: dict
) -> None:
    fake = FakeArgoCD([checkout_app()], token=TOKEN)
    fake.fault = lambda path, headers: Reply(status, body)
    with ScriptedServer(fake) as server:
        with pytest.raises(SourceAuthError) as info:
            sync(db, server)
    message = str(info.value)
    assert "\n" not in message and TOKEN not in message
    assert f"HTTP {status}" in message and "/api/v1/applications" in message
    assert history_counts(db) == (0, 0)


def test_a_wrong_token_is_refused_by_the_server_with_401(db: Path) -> None:
    with ScriptedServer(FakeArgoCD([checkout_app()], token="another-token")) as server:
        with pytest.raises(SourceAuthError, match="HTTP 401"):
            sync(db, server)


def test_5xx_is_retried_and_every_sync_lands_once(db: Path) -> None:
    fake = FakeArgoCD([checkout_app(4)], token=TOKEN)
    failed: list[int] = []

    def fault(path: str, headers: dict[str, str]) -> Reply | None:
        if len(failed) < 2:
            failed.append(1)
            return Reply(503, {"error": "upstream connect error", "code": 14})
        return None

    fake.fault = fault
    with ScriptedServer(fake) as server:
        sync(db, server)
        assert len(server.requests) == 3
    assert history_counts(db) == (4, 4)


def test_5xx_that_persists_stops_with_one_line_and_lands_nothing(db: Path) -> None:
    fake = FakeArgoCD([checkout_app(4)], token=TOKEN)
    fake.fault = lambda path, headers: Reply(502, {"error": "bad gateway", "code": 14})
    with ScriptedServer(fake) as server:
        with pytest.raises(SourceError) as info:
            sync(db, server)
    assert "\n" not in str(info.value) and TOKEN not in str(info.value)
    assert "502" in str(info.value)
    assert history_counts(db) == (0, 0)


def test_a_sync_stopped_at_a_bad_application_keeps_the_ones_before_and_the_rerun_adds_the_rest(
    db: Path,
) -> None:
    good = checkout_app(3)
    bad = application("search-prod", REPO_URL, [history_entry(0, "a" * 40, deployed(0), REPO_URL)])
    del bad["status"]["history"][0]["id"]
    fake = FakeArgoCD([good, bad], token=TOKEN)
    with ScriptedServer(fake) as server:
        with pytest.raises(
            SourceError, match=r"argocd/search-prod: a status\.history entry has no"
        ):
            sync(db, server)
        assert history_counts(db) == (3, 3)
        con = connect(db)
        try:
            assert get_sync_state(con, "argocd", "argocd/checkout-prod", "history").cursor == "2"
            assert get_sync_state(con, "argocd", "argocd/search-prod", "history") is None
        finally:
            con.close()
        bad["status"]["history"][0]["id"] = 0
        report = sync(db, server)
    assert report.history == 1  # only search-prod's entry: checkout-prod's were landed before
    assert history_counts(db) == (4, 4)


KILLED_SYNC = textwrap.dedent(
    """
    import sys
    from pipelines.argocd.client import ArgoCDClient
    from pipelines.argocd.sync import RepositoryMap, sync_applications
    from pipelines.warehouse import connect

    con = connect(sys.argv[1])
    repos = RepositoryMap({"checkout": ["acme/checkout"]})
    for _ in range(2):
        with ArgoCDClient(sys.argv[2] + "/api/v1", token=sys.argv[3], timeout=60) as client:
            sync_applications(con, client, source="argocd", repositories=repos)
    """
)


def test_sync_process_killed_mid_run_loses_nothing_and_duplicates_nothing(db: Path) -> None:
    """The process lands 3 syncs, is killed while the next listing (with 2 new syncs) is in
    flight, and the re-run lands only the 2 new ones."""
    fake = FakeArgoCD([checkout_app(3)], token=TOKEN)
    reached = threading.Event()
    listings: list[int] = []

    def fault(path: str, headers: dict[str, str]) -> Reply | None:
        listings.append(1)
        if len(listings) == 2:
            fake.applications = [checkout_app(5)]
            reached.set()
            return Reply(body={"items": []}, delay=20)
        return None

    fake.fault = fault
    with ScriptedServer(fake) as server:
        kill_when(
            reached, [KILLED_SYNC, str(db), server.url, TOKEN], "asked for the second listing"
        )
        assert history_counts(db) == (3, 3)
        fake.fault = None
        report = sync(db, server)
    assert report.history == 2
    assert history_counts(db) == (5, 5)
    con = connect(db)
    try:
        assert get_sync_state(con, "argocd", "argocd/checkout-prod", "history").cursor == "4"
    finally:
        con.close()
