"""Argo CD over a real socket (tests/argocd_api.py on 127.0.0.1), synced by the production client:
applications and their sync history land once, the cursor is the last history id, filters and the
repository mapping hold, and the syncs reach the marts as deployments attributed to commits."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from pipelines.argocd.client import ArgoCDClient
from pipelines.argocd.sync import RepositoryMap, repository_path, sync_applications
from pipelines.config import load_config
from pipelines.demo.fake_argocd import FakeArgoCD, application, history_entry
from pipelines.errors import ConfigError
from pipelines.http import RetryPolicy
from pipelines.ingest import SourceClients
from pipelines.source import SyncRequest
from pipelines.sources import get_source
from pipelines.warehouse import connect, get_sync_state
from tests.http_server import ScriptedServer
from tests.test_gitlab_sync import new_warehouse

NOW = dt.datetime(2026, 6, 30, 12, tzinfo=dt.UTC)
TOKEN = "argocd-test-secret-token"
FAST = RetryPolicy(max_retries=3, backoff_base=0.01, backoff_max=0.05, max_total_seconds=10)
REPO = "acme/checkout"
REPO_URL = f"https://github.com/{REPO}.git"
REPOSITORIES = RepositoryMap({"checkout": [REPO], "search": ["acme/search"]})


def deployed(i: int) -> dt.datetime:
    return NOW - dt.timedelta(days=10 - i)


def checkout_app(n: int = 3, **kwargs) -> dict:
    history = [history_entry(i, f"{i:040x}", deployed(i), REPO_URL) for i in range(n)]
    return application("checkout-prod", REPO_URL, history, **kwargs)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return new_warehouse(tmp_path)


def sync(db: Path, server: ScriptedServer, repositories: RepositoryMap = REPOSITORIES, **kwargs):
    con = connect(db)
    try:
        with ArgoCDClient(f"{server.url}/api/v1", token=TOKEN, retry=FAST) as client:
            return sync_applications(
                con, client, source="argocd", repositories=repositories, now=NOW, **kwargs
            )
    finally:
        con.close()


def rows(db: Path, table: str) -> list[tuple]:
    con = connect(db)
    try:
        return con.execute(
            f"SELECT natural_key, scope, parent_key FROM raw.{table} ORDER BY natural_key"
        ).fetchall()
    finally:
        con.close()


def test_sync_lands_each_history_entry_once_and_the_cursor_is_the_last_history_id(db: Path) -> None:
    fake = FakeArgoCD([checkout_app(3)], token=TOKEN)
    with ScriptedServer(fake) as server:
        first = sync(db, server)
        assert (first.applications, first.history) == (1, 3)
        assert len(server.requests) == 1  # one listing answers every application
        assert server.requests[0][1]["Authorization"] == f"Bearer {TOKEN}"
        # Argo CD keeps the last 10 entries: a new sync appears, the oldest may drop out.
        app = checkout_app(5)
        app["status"]["history"] = app["status"]["history"][2:]
        fake.applications = [app]
        second = sync(db, server)
        assert second.history == 2  # ids 3 and 4; 2 was already landed
        third = sync(db, server)
        assert third.history == 0
    history = rows(db, "argocd_sync_history")
    assert [k for k, _, _ in history] == [f"argocd/checkout-prod/history/{i}" for i in range(5)]
    assert {(s, p) for _, s, p in history} == {(REPO, "argocd/checkout-prod")}
    assert rows(db, "argocd_applications") == [("argocd/checkout-prod", REPO, None)]
    con = connect(db)
    try:
        state = get_sync_state(con, "argocd", "argocd/checkout-prod", "history")
        payload = json.loads(
            con.execute(
                "SELECT payload FROM raw.argocd_sync_history WHERE natural_key LIKE '%/4'"
            ).fetchone()[0]
        )
    finally:
        con.close()
    assert state.cursor == "4" and state.items_total == 5
    assert payload["revision"] == f"{4:040x}" and payload["source"]["repoURL"] == REPO_URL


def test_the_first_history_entry_id_0_is_landed(db: Path) -> None:
    with ScriptedServer(FakeArgoCD([checkout_app(1)], token=TOKEN)) as server:
        assert sync(db, server).history == 1
    assert rows(db, "argocd_sync_history")[0][0] == "argocd/checkout-prod/history/0"


def test_an_application_without_history_has_no_cursor_and_an_empty_list_is_not_an_error(
    db: Path,
) -> None:
    fake = FakeArgoCD([application("fresh", REPO_URL, [])], token=TOKEN)
    with ScriptedServer(fake) as server:
        assert sync(db, server).applications == 1
        fake.applications = []  # Argo CD sends "items": null
        assert sync(db, server).applications == 0
    con = connect(db)
    try:
        assert get_sync_state(con, "argocd", "argocd/fresh", "history").cursor is None
    finally:
        con.close()


def test_repository_urls_in_every_git_form_map_to_the_service_repository() -> None:
    for url in (
        "https://github.com/acme/checkout.git",
        "https://github.com/Acme/Checkout",
        "git@github.com:acme/checkout.git",
        "ssh://git@github.com:22/acme/checkout.git",
        "https://github.com/acme/checkout/",
    ):
        assert REPOSITORIES.resolve("any", [url]) == REPO, url
    assert repository_path("https://charts.bitnami.com/bitnami") is None
    assert REPOSITORIES.resolve("any", ["https://github.com/acme/gitops.git"]) == "-"


def test_service_map_sends_an_application_of_a_gitops_repository_to_its_service(db: Path) -> None:
    gitops = "https://github.com/acme/gitops.git"
    apps = [
        application("search-prod", gitops, [history_entry(0, "a" * 40, deployed(0), gitops)]),
        application("other", gitops, [history_entry(0, "b" * 40, deployed(0), gitops)]),
    ]
    mapped = RepositoryMap(REPOSITORIES.repositories, {"search-prod": "search"})
    with ScriptedServer(FakeArgoCD(apps, token=TOKEN)) as server:
        sync(db, server, repositories=mapped)
    assert rows(db, "argocd_sync_history") == [
        ("argocd/other/history/0", "-", "argocd/other"),
        ("argocd/search-prod/history/0", "acme/search", "argocd/search-prod"),
    ]
    with pytest.raises(ConfigError, match="'nope' is not one of the services"):
        RepositoryMap(REPOSITORIES.repositories, {"x": "nope"})


def test_project_and_application_filters_limit_what_lands(db: Path) -> None:
    apps = [
        checkout_app(2, project="payments"),
        application("search-prod", REPO_URL, [], project="payments"),
        application("sandbox", REPO_URL, [], project="playground"),
    ]
    with ScriptedServer(FakeArgoCD(apps, token=TOKEN)) as server:
        report = sync(db, server, projects=["payments"], names=["checkout-prod"])
        query = parse_qs(urlsplit(server.requests[0][0]).query)
    assert query == {"projects": ["payments"]}
    assert (report.applications, report.skipped) == (1, 1)
    assert [k for k, _, _ in rows(db, "argocd_applications")] == ["argocd/checkout-prod"]


ARGOCD_CONFIG = """
organisation: {name: Acme}
teams: [{name: payments, engineers: 4}]
services: [{name: checkout, team: payments, repositories: [acme/checkout]}]
sources:
  argocd: [ARGOCD]
"""


def test_the_registered_source_syncs_from_the_config_with_the_token_from_the_environment(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARGOCD_TEST_TOKEN", TOKEN)
    with ScriptedServer(FakeArgoCD([checkout_app(3)], token=TOKEN)) as server:
        path = tmp_path / "org.yaml"
        path.write_text(
            ARGOCD_CONFIG.replace(
                "ARGOCD", f"{{base_url: '{server.url}', token: '${{ARGOCD_TEST_TOKEN}}'}}"
            ),
            "utf-8",
        )
        config = load_config(path)
        (source,) = config.sources.argocd
        assert TOKEN not in repr(source)
        assert get_source("argocd").enabled(config)
        con = connect(db)
        try:
            outcome = get_source("argocd").sync(con, SyncRequest(SourceClients(config)))
        finally:
            con.close()
    assert outcome.metadata["history_entries"] == 3
    assert outcome.metadata["requests"] == 1
    assert TOKEN not in json.dumps(outcome.metadata) + " ".join(outcome.messages)
    fake_empty = FakeArgoCD([], token=TOKEN)
    with ScriptedServer(fake_empty) as server:
        path.write_text(
            ARGOCD_CONFIG.replace("ARGOCD", f"{{base_url: '{server.url}', token: {TOKEN}}}"),
            "utf-8",
        )
        con = connect(db)
        try:
            outcome = get_source("argocd").sync(con, SyncRequest(SourceClients(load_config(path))))
        finally:
            con.close()
    # A token that may see nothing gets an empty list from Argo CD, not an error: say so.
    assert outcome.messages == [
        "argocd: 0 applications visible; check the token's RBAC (applications, get) and the "
        "projects filter"
    ]
