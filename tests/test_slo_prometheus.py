"""SLI ingestion against a real Prometheus (Debian's package) with a backfilled TSDB.

The fixture writes known counters as OpenMetrics, backfills them with ``promtool tsdb
create-blocks-from openmetrics``, starts ``prometheus`` on 127.0.0.1 (free port, temporary data
dir) and always stops it. Ten hours of traffic, 1,200 requests an hour: 12 failures an hour, except
hours 3 and 7 with 240 each, so attainment = 1 - (8 x 12 + 2 x 240) / 12,000 = 0.952.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from pipelines.slo.budget import Slice, attainment
from pipelines.slo.prometheus import RAW_TABLE, sync_prometheus_slis
from pipelines.slo.rules import prometheus_rules, prometheus_rules_yaml
from pipelines.slo.spec import load_slos
from pipelines.warehouse import get_sync_state, open_warehouse
from tests.prometheus_server import NOT_INSTALLED, PROMETHEUS, PROMTOOL, running_prometheus

pytestmark = pytest.mark.skipif(PROMETHEUS is None or PROMTOOL is None, reason=NOT_INSTALLED)

HOURS = 10
PER_HOUR = 1200
SCRAPE = 300  # seconds between samples
BAD_HOURS = {3: 240, 7: 240}
BAD_DEFAULT = 12
EXPECTED = 1 - (8 * BAD_DEFAULT + 2 * 240) / (HOURS * PER_HOUR)


def _openmetrics(t0: int) -> str:
    lines = ["# TYPE http_requests counter"]
    per_sample = SCRAPE / 3600
    good = bad = 0.0
    samples = []
    for k in range(HOURS * 3600 // SCRAPE + 1):
        t = t0 + k * SCRAPE
        samples.append((t, good, bad))
        hour = k * SCRAPE // 3600
        errors = BAD_HOURS.get(hour, BAD_DEFAULT)
        good += (PER_HOUR - errors) * per_sample
        bad += errors * per_sample
    for code, idx in (("200", 1), ("500", 2)):
        for sample in samples:
            lines.append(
                f'http_requests_total{{service="web",code="{code}"}} {sample[idx]:.6f} {sample[0]}'
            )
    return "\n".join(lines) + "\n# EOF\n"


@pytest.fixture(scope="module")
def prometheus_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("prometheus")
    now = int(time.time())
    t0 = (now // 3600 - HOURS - 2) * 3600  # whole hours, inside the default retention
    (tmp / "series.om").write_text(_openmetrics(t0), encoding="utf-8")
    data = tmp / "data"
    subprocess.run(
        [PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", str(tmp / "series.om"), str(data)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    with running_prometheus(tmp, data=data) as url:
        yield url, t0, tmp


def _spec(folder: Path, url: str) -> Path:
    (folder / "slo.yaml").write_text(
        f"""
apiVersion: openslo/v1
kind: DataSource
metadata: {{name: prom}}
spec:
  type: Prometheus
  connectionDetails: {{url: "{url}", backfillDays: 1}}
---
apiVersion: openslo/v1
kind: SLO
metadata: {{name: web-availability}}
spec:
  service: web
  indicator:
    apiVersion: openslo/v1
    kind: SLI
    metadata: {{name: web-requests}}
    spec:
      ratioMetric:
        good:
          metricSource:
            metricSourceRef: prom
            spec: {{query: 'sum(increase(http_requests_total{{service="web",code!~"5.."}}[1h]))'}}
        total:
          metricSource:
            metricSourceRef: prom
            spec: {{query: 'sum(increase(http_requests_total{{service="web"}}[1h]))'}}
  timeWindow: [{{duration: 28d, isRolling: true}}]
  budgetingMethod: Occurrences
  objectives: [{{target: 0.99}}]
""",
        encoding="utf-8",
    )
    return folder / "slo.yaml"


def _landed(con) -> dict[str, dict[float, float]]:
    rows = con.execute(
        f"SELECT payload ->> '$.sli_metric', CAST(payload ->> '$.value[0]' AS DOUBLE), "
        f"CAST(payload ->> '$.value[1]' AS DOUBLE) FROM raw.{RAW_TABLE}"
    ).fetchall()
    out: dict[str, dict[float, float]] = {}
    for metric, t, v in rows:
        out.setdefault(metric, {})[t] = v
    return out


def test_sli_ingestion_from_real_prometheus_gives_the_hand_computed_attainment(
    prometheus_server, tmp_path
):
    url, t0, _ = prometheus_server
    slos = load_slos([_spec(tmp_path, url)], services=["web"])
    now = dt.datetime.fromtimestamp(t0 + HOURS * 3600, dt.UTC)
    with open_warehouse(tmp_path / "w.duckdb") as con:
        # 4 points per request: the 25 hours since the backfill start take several chunks.
        report = sync_prometheus_slis(con, slos, now=now, max_points=4)
        assert all(s.requests > 1 for s in report.series)
        landed = _landed(con)
        hours = sorted(landed["total"])
        assert len(hours) == HOURS
        slices = [Slice(good=landed["good"][t], total=landed["total"][t]) for t in hours]
        assert attainment(slices, "Occurrences") == pytest.approx(EXPECTED, rel=1e-9)
        assert landed["total"][hours[3]] == pytest.approx(PER_HOUR, rel=1e-9)
        state = get_sync_state(con, "prom", "web-availability", f"{RAW_TABLE}/total")
        assert state is not None and int(state.cursor) == t0 + HOURS * 3600

        # A second run re-reads only the newest intervals and duplicates nothing.
        again = sync_prometheus_slis(con, slos, now=now, max_points=4)
        assert all(s.requests == 1 for s in again.series)
        assert con.execute(f"SELECT count(*) FROM raw.{RAW_TABLE}").fetchone()[0] == 2 * HOURS


def test_generated_rules_pass_promtool_check_rules(tmp_path):
    slos = load_slos([Path(__file__).parents[1] / "pipelines" / "slo" / "specs"])
    rules = tmp_path / "slo-rules.yaml"
    rules.write_text(prometheus_rules_yaml(slos), encoding="utf-8")
    result = subprocess.run(
        [PROMTOOL, "check", "rules", str(rules)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_generated_rules_load_into_prometheus_and_evaluate(prometheus_server, tmp_path):
    """The recording rules' expressions run on the real server (the same query language)."""
    url, t0, _ = prometheus_server
    slos = load_slos([_spec(tmp_path, url)], services=["web"])
    rules = [r for g in prometheus_rules(slos)["groups"] for r in g["rules"]]
    expr = next(r["expr"] for r in rules if r.get("record") == "slo:sli_error:ratio_rate1h")
    at = t0 + 4 * 3600  # hour 3 (the bad one) ends here: 240 of 1,200 failed
    body = httpx.get(f"{url}/api/v1/query", params={"query": expr, "time": at}, timeout=10).json()
    assert body["status"] == "success", body
    assert float(body["data"]["result"][0]["value"][1]) == pytest.approx(240 / 1200, rel=1e-9)
