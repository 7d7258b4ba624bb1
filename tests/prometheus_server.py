"""A real Prometheus (Debian's package) on 127.0.0.1 for tests: free port, temporary data folder,
always stopped. Used by the SLI tests (a backfilled TSDB) and the exporter tests (a live scrape)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")
NOT_INSTALLED = (
    "Debian package 'prometheus' is not installed (apt-get install prometheus; .ci/run does)"
)
START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_prometheus(
    folder: Path, *, config: str = "global:\n  scrape_interval: 1m\n", data: Path | None = None
) -> Iterator[str]:
    """Start ``prometheus`` with ``config`` (YAML text) over ``data``; yield its base URL."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "prometheus.yml").write_text(config, encoding="utf-8")
    port = free_port()
    log_path = folder / "prometheus.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={folder / 'prometheus.yml'}",
                f"--storage.tsdb.path={data or folder / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--storage.tsdb.retention.time=30d",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"prometheus did not become ready: {log_path.read_text()[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def instant_query(url: str, promql: str) -> list[dict[str, Any]]:
    """The result vector of an instant query (raises on a query error)."""
    response = httpx.get(f"{url}/api/v1/query", params={"query": promql}, timeout=10)
    body = response.json()
    assert body.get("status") == "success", f"{promql}: {body}"
    return body["data"]["result"]


def wait_for_series(url: str, promql: str, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Poll ``promql`` until it returns at least one series (a scrape has landed)."""
    deadline = time.monotonic() + timeout
    while True:
        result = instant_query(url, promql)
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.5)
