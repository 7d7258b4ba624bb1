"""The Prometheus exporter service: ``/metrics`` and ``/healthz`` over the analysts' snapshot.

It reads the published snapshot (``<snapshot_dir>/warehouse.duckdb``), never the live warehouse: a
reader on the live file would block the pipeline's single writer. Publishing replaces the snapshot
with ``os.replace``; the exporter notices the new file (inode, size, modification time) at the next
scrape and reloads it, so a new publish shows without a restart. Between loads it holds no handle
on the file. The families are those of ``metrics.prom`` (dashboards/prometheus_metrics.py), plus the
exporter's own:

- ``platform_metrics_exporter_snapshot_age_seconds``: now minus when the snapshot was published;
- ``platform_metrics_exporter_snapshot_timestamp_seconds``: when it was published;
- ``platform_metrics_exporter_snapshot_load_errors_total``: loads that failed (the last good
  snapshot is still served).

``/healthz`` answers 200 when a snapshot is loaded and 503 (with the reason) when none is.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import duckdb
from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.registry import Collector

from dashboards.marts import WarehouseReader
from dashboards.prometheus_metrics import PREFIX, metric_families
from dashboards.publish import SNAPSHOT_FILE

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9464  # OpenTelemetry's Prometheus exporter port; the usual choice for a new exporter

Clock = Callable[[], dt.datetime]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclasses.dataclass(frozen=True)
class _Identity:
    inode: int
    size: int
    mtime_ns: int
    day: dt.date  # which periods are complete changes at midnight too


class SnapshotCollector(Collector):
    """The snapshot's metric families, reloaded when the snapshot file is replaced."""

    def __init__(self, snapshot: Path, *, clock: Clock = _utc_now) -> None:
        self.snapshot = Path(snapshot)
        self._clock = clock
        self._lock = threading.Lock()
        self._identity: _Identity | None = None
        self._families: list[Metric] = []
        self._published_at: float | None = None
        self.load_errors = 0
        self.problem: str | None = "not loaded yet"

    def _identity_now(self, now: dt.datetime) -> _Identity | None:
        try:
            stat = self.snapshot.stat()
        except FileNotFoundError:
            return None
        return _Identity(stat.st_ino, stat.st_size, stat.st_mtime_ns, now.date())

    def refresh(self) -> None:
        """Load the snapshot if it changed since the last load (or the day turned)."""
        now = self._clock()
        with self._lock:
            identity = self._identity_now(now)
            if identity is None:
                if self._identity is None:
                    self.problem = f"no snapshot at {self.snapshot} (run the pipeline first)"
                return
            if identity == self._identity:
                return
            try:
                with duckdb.connect(str(self.snapshot), read_only=True) as con:
                    families = metric_families(WarehouseReader(con), now=now)
            except duckdb.Error as exc:
                self.load_errors += 1
                reason = str(exc).splitlines()[0]
                self.problem = f"snapshot {self.snapshot} could not be read: {reason}"
                log.warning("%s; still serving the previous one", self.problem)
                return
            self._identity = identity
            self._families = families
            self._published_at = identity.mtime_ns / 1e9
            self.problem = None
            log.info("loaded snapshot %s (%d metric families)", self.snapshot, len(families))

    @property
    def loaded(self) -> bool:
        return self._identity is not None

    def snapshot_age_seconds(self) -> float | None:
        if self._published_at is None:
            return None
        return max(0.0, self._clock().timestamp() - self._published_at)

    def collect(self) -> Iterable[Metric]:
        self.refresh()
        yield from self._families
        yield from self._own_families()

    def _own_families(self) -> Iterator[Metric]:
        age = self.snapshot_age_seconds()
        if age is not None:
            yield GaugeMetricFamily(
                f"{PREFIX}_exporter_snapshot_age_seconds",
                "Seconds since the snapshot being served was published.",
                value=round(age, 3),
            )
            yield GaugeMetricFamily(
                f"{PREFIX}_exporter_snapshot_timestamp_seconds",
                "When the snapshot being served was published.",
                value=self._published_at,
            )
        yield CounterMetricFamily(
            f"{PREFIX}_exporter_snapshot_load_errors",
            "Snapshot loads that failed; the previous snapshot stays served.",
            value=self.load_errors,
        )


def wsgi_app(collector: SnapshotCollector):
    """``/metrics`` (Prometheus text format), ``/healthz`` and a one-line index at ``/``."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    metrics = make_wsgi_app(registry)

    def app(environ, start_response):
        path = environ.get("PATH_INFO") or "/"
        if path == "/metrics":
            return metrics(environ, start_response)
        if path == "/healthz":
            collector.refresh()
            if collector.loaded:
                age = collector.snapshot_age_seconds() or 0.0
                body, status = f"ok: {collector.snapshot} (published {age:.0f}s ago)\n", "200 OK"
            else:
                body, status = f"unavailable: {collector.problem}\n", "503 Service Unavailable"
            return _text(start_response, status, body)
        if path == "/":
            return _text(
                start_response, "200 OK", "platform-metrics exporter: /metrics, /healthz\n"
            )
        return _text(start_response, "404 Not Found", "not found\n")

    return app


def _text(start_response, status: str, body: str) -> list[bytes]:
    data = body.encode("utf-8")
    start_response(
        status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(data)))]
    )
    return [data]


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr for every scrape."""

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s - %s", self.address_string(), format % args)


def make_exporter_server(snapshot: Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT):
    """A threading WSGI server bound to ``host:port`` (port 0: any free one); not yet serving."""
    collector = SnapshotCollector(snapshot)
    collector.refresh()
    server = make_server(
        host, port, wsgi_app(collector), ThreadingWSGIServer, handler_class=_QuietHandler
    )
    return server, collector


def snapshot_file(snapshot_dir: str | os.PathLike[str]) -> Path:
    """Where publishing puts the snapshot's DuckDB file in ``snapshot_dir``."""
    return Path(snapshot_dir) / SNAPSHOT_FILE
