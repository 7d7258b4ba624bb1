"""Argo CD degraded health as an optional incident signal, over a real socket (the demo's fake Argo
CD on 127.0.0.1): each sync lands an application's ``status.health`` when it changed, and, with
``sources.argocd[].health_incidents``, a Degraded spell is an incident (source ``argocd``) of the
application's service, resolved when it is Healthy again and attributed to the sync before it, so
it counts in failed-deployment recovery time (docs/sources/argocd.md#health-as-incidents)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from pipelines.argocd.client import ArgoCDClient
from pipelines.argocd.sync import sync_applications
from pipelines.config import load_config
from pipelines.definitions import dbt_vars
from pipelines.demo.fake_argocd import FakeArgoCD, application, history_entry, stamp
from pipelines.warehouse import connect, get_sync_state
from tests.http_server import ScriptedServer
from tests.test_argocd_sync import FAST, REPO, REPO_URL, REPOSITORIES, TOKEN
from tests.test_gitlab_sync import build_dora_marts, new_warehouse

T0 = dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)  # a Monday


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def app(health: str, since: dt.datetime | None = None, message: str | None = None) -> dict:
    """checkout-prod, synced at T0 + 10 min, now in ``health`` (since ``since``, when the server
    sends lastTransitionTime)."""
    item = application(
        "checkout-prod", REPO_URL, [history_entry(0, "c" * 40, at(10), REPO_URL)], health=health
    )
    if since is not None:
        item["status"]["health"]["lastTransitionTime"] = stamp(since)
    if message is not None:
        item["status"]["health"]["message"] = message
    return item


def sync_at(db: Path, fake: FakeArgoCD, server: ScriptedServer, when: dt.datetime, item: dict):
    fake.applications = [item]
    con = connect(db)
    try:
        with ArgoCDClient(f"{server.url}/api/v1", token=TOKEN, retry=FAST) as client:
            return sync_applications(
                con, client, source="argocd", repositories=REPOSITORIES, now=when
            )
    finally:
        con.close()


def health_rows(db: Path) -> list[tuple]:
    con = connect(db)
    try:
        return con.execute(
            "SELECT natural_key, scope, parent_key, payload ->> '$.status' FROM raw.argocd_health "
            "ORDER BY natural_key"
        ).fetchall()
    finally:
        con.close()


def test_a_sync_lands_an_applications_health_only_when_it_changed(tmp_path: Path) -> None:
    db = new_warehouse(tmp_path)
    fake = FakeArgoCD([], token=TOKEN)
    with ScriptedServer(fake) as server:
        reports = [
            sync_at(db, fake, server, at(0), app("Healthy")),
            sync_at(db, fake, server, at(15), app("Healthy")),  # unchanged: nothing
            sync_at(db, fake, server, at(30), app("Degraded", at(22), "rollout stuck")),
            sync_at(db, fake, server, at(45), app("Degraded", at(22), "rollout stuck")),
            sync_at(db, fake, server, at(60), app("Healthy", at(52))),
        ]
    assert [r.health_changes for r in reports] == [1, 0, 1, 0, 1]
    key = "argocd/checkout-prod"
    assert health_rows(db) == [
        (f"{key}/health/2026-06-01T09:00:00Z", REPO, key, "Healthy"),
        (f"{key}/health/2026-06-01T09:30:00Z", REPO, key, "Degraded"),
        (f"{key}/health/2026-06-01T10:00:00Z", REPO, key, "Healthy"),
    ]
    con = connect(db)
    try:
        assert get_sync_state(con, "argocd", key, "health").cursor == "Healthy"
    finally:
        con.close()


def degraded_history(db: Path) -> None:
    """Healthy after the sync at T0+10; Degraded at T0+20 (Argo CD's lastTransitionTime), Healthy
    again at T0+80; Degraded again, seen by the sync at T0+150 on a server without
    lastTransitionTime, Progressing at T0+165 and still not Healthy."""
    fake = FakeArgoCD([], token=TOKEN)
    with ScriptedServer(fake) as server:
        sync_at(db, fake, server, at(12), app("Healthy"))
        sync_at(db, fake, server, at(30), app("Degraded", at(20), "Deployment checkout: 0/3 ready"))
        sync_at(db, fake, server, at(90), app("Healthy", at(80)))
        sync_at(db, fake, server, at(150), app("Degraded"))
        sync_at(db, fake, server, at(165), app("Progressing"))


def incidents(db: Path) -> list[tuple]:
    con = connect(db)
    try:
        return con.execute(
            "SELECT source, service, started_at, resolved_at, recovery_hours, deployment_id, "
            "attribution FROM marts.fct_incidents ORDER BY started_at"
        ).fetchall()
    finally:
        con.close()


def build(db: Path, target: Path, enabled: list[str]) -> None:
    build_dora_marts(
        db,
        target,
        REPO,
        also=["+fct_incidents"],
        variables={"argocd_health_incidents": enabled},
    )


def test_a_degraded_spell_is_an_incident_resolved_when_healthy_and_attributed_to_the_sync(
    tmp_path: Path,
) -> None:
    db = new_warehouse(tmp_path)
    degraded_history(db)
    build(db, tmp_path / "target", ["argocd"])
    sync = "argocd/checkout-prod/history/0"
    assert incidents(db) == [
        ("argocd", "checkout", at(20), at(80), 1.0, sync, "window"),
        # Still open: started when the sync saw it (no lastTransitionTime), not resolved by
        # Progressing. Attributed to the same sync by the window rule.
        ("argocd", "checkout", at(150), None, None, sync, "window"),
    ]
    con = connect(db)
    try:
        failed = con.execute(
            "SELECT deployment_id, is_failure, failure_reason FROM marts.fct_deployments"
        ).fetchall()
    finally:
        con.close()
    assert failed == [(sync, True, "incident")]


def test_degraded_health_is_no_incident_unless_the_instance_enables_it(tmp_path: Path) -> None:
    db = new_warehouse(tmp_path)
    degraded_history(db)
    build(db, tmp_path / "target", [])
    assert incidents(db) == []


def test_health_incidents_is_off_by_default_and_reaches_dbt_per_instance(tmp_path: Path) -> None:
    path = tmp_path / "org.yaml"
    path.write_text(
        """
organisation: {name: Acme}
teams: [{name: web, engineers: 4}]
services: [{name: checkout, team: web, repositories: [acme/checkout]}]
sources:
  argocd:
    - {name: argocd, base_url: "https://argocd.example"}
    - {name: argocd-eu, base_url: "https://argocd-eu.example", health_incidents: true}
""",
        "utf-8",
    )
    config = load_config(path)
    assert [s.health_incidents for s in config.sources.argocd] == [False, True]
    assert json.loads(json.dumps(dbt_vars(config)))["argocd_health_incidents"] == ["argocd-eu"]
