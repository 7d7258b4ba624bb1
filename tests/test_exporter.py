"""The Prometheus exporter service over the analysts' snapshot, through a real socket.

The snapshot is published by the real publisher from a warehouse of hand-made marts
(tests/mart_fixtures.py, tests/experience_fixtures.py); the exporter serves it on 127.0.0.1.
A real Prometheus scraping the exporter over the demo snapshot is in tests/test_end_to_end.py.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from dashboards.exporter import make_exporter_server
from dashboards.publish import publish_snapshot
from tests.experience_fixtures import add_marts
from tests.mart_fixtures import make_warehouse
from tests.prometheus_server import PROMTOOL, free_port

REPO_ROOT = Path(__file__).resolve().parent.parent


def parse(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def sample(samples: dict, metric: str, **labels: str) -> float | None:
    return samples.get((f"platform_metrics_{metric}", tuple(sorted(labels.items()))))


@pytest.fixture
def published(tmp_path) -> tuple[Path, Path]:
    """(live warehouse, snapshot file) after one real publish."""
    live = add_marts(make_warehouse(tmp_path / "warehouse.duckdb"))
    snapshot = publish_snapshot(live, tmp_path / "snapshot").duckdb_path
    return live, snapshot


@pytest.fixture
def exporter(published):
    """The exporter serving the published snapshot on a free port; yields its base URL."""
    _, snapshot = published
    server, _ = make_exporter_server(snapshot, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _latest_org_week_deployments(path: Path) -> float:
    with duckdb.connect(str(path), read_only=True) as con:
        return float(
            con.execute(
                "SELECT deployments FROM marts.metrics_dora_weekly WHERE scope = 'org' "
                "AND period_start + INTERVAL 7 DAY <= current_date ORDER BY period_start DESC LIMIT 1"
            ).fetchone()[0]
        )


def test_exporter_serves_the_snapshot_numbers_and_its_own_age(exporter, published):
    _, snapshot = published
    response = httpx.get(f"{exporter}/metrics", timeout=10)
    assert response.status_code == 200
    samples = parse(response.text)
    org = {"window": "week", "scope": "org", "name": "acme"}
    assert sample(samples, "dora_deployments", **org) == _latest_org_week_deployments(snapshot)
    age = sample(samples, "exporter_snapshot_age_seconds")
    assert age is not None and 0 <= age < 600
    assert sample(samples, "exporter_snapshot_load_errors_total") == 0
    # Every series is stable: no label holds a date.
    for (_, labels), _value in samples.items():
        assert not any(k in {"period_start", "date"} for k, _ in labels)
    if PROMTOOL:
        done = subprocess.run(
            [PROMTOOL, "check", "metrics"], input=response.text, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr


def test_exporter_picks_up_a_new_snapshot_without_a_restart(exporter, published, tmp_path):
    live, _ = published
    before = parse(httpx.get(f"{exporter}/metrics", timeout=10).text)
    org = {"window": "week", "scope": "org", "name": "acme"}
    old = sample(before, "dora_deployments", **org)
    with duckdb.connect(str(live)) as con:
        con.execute("UPDATE marts.metrics_dora_weekly SET deployments = deployments + 1000")
    time.sleep(0.01)  # a new modification time even on coarse file systems
    publish_snapshot(live, tmp_path / "snapshot")
    after = parse(httpx.get(f"{exporter}/metrics", timeout=10).text)
    assert sample(after, "dora_deployments", **org) == old + 1000


def test_exporter_holds_no_lock_on_the_snapshot_between_scrapes(exporter, published):
    _, snapshot = published
    assert httpx.get(f"{exporter}/metrics", timeout=10).status_code == 200
    # Another process can open the file read-write: the exporter keeps no handle on it.
    done = subprocess.run(
        [sys.executable, "-c", f"import duckdb; duckdb.connect({str(snapshot)!r}).close()"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def test_survey_groups_under_the_anonymity_threshold_never_reach_the_exporter(exporter, published):
    _, snapshot = published
    with duckdb.connect(str(snapshot), read_only=True) as con:
        (payments,) = con.execute(
            "SELECT devex_index FROM marts.metrics_devex_wave WHERE wave = '2025-Q1' "
            "AND group_type = 'team' AND group_value = 'payments'"
        ).fetchone()
    samples = parse(httpx.get(f"{exporter}/metrics", timeout=10).text)
    groups = {
        dict(labels).get("group")
        for (name, labels), _ in samples.items()
        if name.startswith("platform_metrics_devex_")
    }
    assert {"payments", "search", "all", "2-5 years"} <= groups
    # infra (3 respondents), data (complementary suppression) and "<1 year" (4) are hidden.
    assert not groups & {"infra", "data", "<1 year"}
    assert sample(samples, "devex_index", group_kind="team", group="payments") == payments


def test_healthz_is_unavailable_until_a_snapshot_is_published(tmp_path):
    snapshot = tmp_path / "snapshot" / "warehouse.duckdb"
    server, _ = make_exporter_server(snapshot, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        health = httpx.get(f"{url}/healthz", timeout=10)
        assert health.status_code == 503
        assert "no snapshot" in health.text
        assert "platform_metrics_exporter_snapshot_load_errors_total 0.0" in (
            httpx.get(f"{url}/metrics", timeout=10).text
        )
        live = add_marts(make_warehouse(tmp_path / "warehouse.duckdb"))
        publish_snapshot(live, snapshot.parent)
        assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_exporter_command_serves_until_sigterm_and_stops_cleanly(published, tmp_path):
    _, snapshot = published
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "assets.cli", "exporter", "--snapshot", str(snapshot),
         "--port", str(port)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "exporter did not start"
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert f"http://127.0.0.1:{port}/metrics" in out
    assert "Traceback" not in err


def test_exporter_on_a_busy_port_says_so_in_one_line(published):
    _, snapshot = published
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "assets.cli", "exporter", "--snapshot", str(snapshot),
             "--port", str(port)],
            cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: --host/--port: cannot listen on 127.0.0.1:{port} (Address already in use)"
    ]


def test_periods_still_running_are_not_exported(published):
    """The week containing ``now`` is not the latest DORA week, whatever the mart holds."""
    from dashboards.marts import WarehouseReader
    from dashboards.prometheus_metrics import exposition_text, metric_families

    _, snapshot = published
    with duckdb.connect(str(snapshot), read_only=True) as con:
        weeks = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT period_start FROM marts.metrics_dora_weekly ORDER BY 1"
            ).fetchall()
        ]
        last = weeks[-1]
        now = dt.datetime.combine(last, dt.time(12), tzinfo=dt.UTC) + dt.timedelta(days=3)
        text = exposition_text(metric_families(WarehouseReader(con), now=now))
    samples = parse(text)
    start = sample(
        samples, "dora_period_start_timestamp_seconds", window="week", scope="org", name="acme"
    )
    expected = dt.datetime.combine(weeks[-2], dt.time(0), tzinfo=dt.UTC).timestamp()
    assert start == expected
