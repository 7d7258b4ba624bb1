"""SLI samples from Prometheus's HTTP API, landed in ``raw.prometheus_sli_samples``.

For every SLO whose SLI reads Prometheus, each of its queries (good or bad, total, or the threshold
reading) is evaluated with ``GET /api/v1/query_range`` at a step of the SLO's interval (its time
slice, or one hour). The sample at ``t`` covers ``(t - step, t]``, so the query's range selector must
equal the step (``increase(...[1h])`` for 1h). Requests are chunked to stay under Prometheus's 11,000
points per series; each chunk's rows and the cursor that covers them commit together, so the
warehouse keeps the history after Prometheus's retention drops it, and a rerun continues where the
last one stopped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import duckdb
import httpx

from pipelines.errors import SourceError
from pipelines.http import ApiClient, RetryPolicy
from pipelines.slo.spec import ResolvedSource, Slo
from pipelines.warehouse import RawRecord, get_sync_state, set_cursor, transaction, upsert_raw

log = logging.getLogger(__name__)

RAW_TABLE = "prometheus_sli_samples"
RAW_TABLES = (RAW_TABLE,)
MAX_POINTS = 11_000
#: Intervals re-read on every sync: the newest ones may still have been filling when last read.
LOOKBACK_INTERVALS = 3


class PrometheusClient(ApiClient):
    """Prometheus's HTTP API (``/api/v1``): range queries only."""

    service_name = "Prometheus"

    def query_range(self, query: str, start: float, end: float, step: int) -> list[dict[str, Any]]:
        """The ``matrix`` result: ``[{"metric": {...}, "values": [[t, "v"], ...]}, ...]``."""
        response = self.get(
            "/api/v1/query_range",
            params={"query": query, "start": _num(start), "end": _num(end), "step": step},
        )
        body = response.data
        if not isinstance(body, dict) or body.get("status") != "success":
            error = body.get("error") if isinstance(body, dict) else None
            raise SourceError(f"Prometheus query failed for {query!r}: {error or 'no status'}")
        data = body.get("data") or {}
        if data.get("resultType") != "matrix":
            raise SourceError(
                f"Prometheus answered {data.get('resultType')!r} for {query!r}; expected a matrix"
            )
        return list(data.get("result") or [])


def chunks(
    start: float, end: float, step: int, max_points: int = MAX_POINTS
) -> list[tuple[int, int]]:
    """[start, end] split into ranges of at most ``max_points`` evaluation points each."""
    if end < start:
        return []
    span = (max_points - 1) * step
    out, a = [], int(start)
    while a <= end:
        b = min(a + span, int(end))
        out.append((a, b))
        a = b + step
    return out


@dataclass
class SliSyncReport:
    slo: str
    metric: str
    requests: int = 0
    samples: int = 0
    cursor: int | None = None


@dataclass
class PrometheusSyncReport:
    series: list[SliSyncReport] = field(default_factory=list)
    requests: dict[str, float | int] = field(default_factory=dict)

    @property
    def samples(self) -> int:
        return sum(s.samples for s in self.series)


def queries_of(slo: Slo) -> list[tuple[str, ResolvedSource]]:
    """(metric, source) for each Prometheus query of one SLO: good/bad/total or value."""
    named = (("good", slo.good), ("bad", slo.bad), ("total", slo.total), ("value", slo.threshold))
    return [(m, s) for m, s in named if s is not None and s.type == "Prometheus"]


def sync_prometheus_slis(
    con: duckdb.DuckDBPyConnection,
    slos: Iterable[Slo],
    *,
    now: dt.datetime,
    transport: httpx.BaseTransport | None = None,
    max_points: int = MAX_POINTS,
    max_retries: int = 5,
    progress: Callable[[str], None] | None = None,
) -> PrometheusSyncReport:
    """Land every Prometheus SLI query's samples up to ``now``, incrementally."""
    report = PrometheusSyncReport()
    clients: dict[str, PrometheusClient] = {}
    try:
        for slo in slos:
            for metric, source in queries_of(slo):
                url = source.connection["url"]
                client = clients.get(url)
                if client is None:
                    client = clients[url] = PrometheusClient(
                        url,
                        transport=transport,
                        timeout=float(source.connection.get("timeoutSeconds", 30)),
                        retry=RetryPolicy(max_retries=max_retries),
                    )
                result = _sync_one(con, client, slo, metric, source, now=now, max_points=max_points)
                if progress:
                    progress(f"prometheus {slo.name}/{metric}: {result.samples} samples")
                report.series.append(result)
        report.requests = {url: c.stats.as_dict() for url, c in clients.items()}
    finally:
        for client in clients.values():
            client.close()
    return report


def _sync_one(
    con: duckdb.DuckDBPyConnection,
    client: PrometheusClient,
    slo: Slo,
    metric: str,
    source: ResolvedSource,
    *,
    now: dt.datetime,
    max_points: int,
) -> SliSyncReport:
    step = slo.interval_seconds
    query = source.spec["query"]
    entity = f"{RAW_TABLE}/{metric}"
    state = get_sync_state(con, source.datasource, slo.name, entity)
    end = math.floor(now.timestamp() / step) * step  # the newest complete interval ends here
    if state is not None and state.cursor:
        start = int(state.cursor) - LOOKBACK_INTERVALS * step
    else:
        backfill = int(source.connection.get("backfillDays", 400))
        start = math.floor((now.timestamp() - backfill * 86400) / step) * step + step
    report = SliSyncReport(slo.name, metric)
    for a, b in chunks(start, end, step, max_points):
        series = client.query_range(query, a, b, step)
        report.requests += 1
        records = list(_records(slo, metric, query, step, series))
        with transaction(con):
            upsert_raw(con, RAW_TABLE, source.datasource, records)
            set_cursor(
                con, source.datasource, slo.name, entity, cursor=str(b), items_added=len(records)
            )
        report.samples += len(records)
        report.cursor = b
    return report


def _records(
    slo: Slo, metric: str, query: str, step: int, series: list[dict[str, Any]]
) -> Iterable[RawRecord]:
    for item in series:
        labels = item.get("metric") or {}
        fingerprint = (
            hashlib.sha1(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:12]
            if labels
            else "-"
        )
        for t, value in item.get("values") or []:
            ts = float(t)
            yield RawRecord(
                natural_key=f"{slo.name}/{metric}/{_num(ts)}/{fingerprint}",
                scope=slo.name,
                payload={
                    "slo": slo.name,
                    "sli_metric": metric,
                    "query": query,
                    "step_seconds": step,
                    "metric": labels,
                    "value": [t, value],
                },
                updated_at=dt.datetime.fromtimestamp(ts, dt.UTC),
            )


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
