"""``metrics.prom``: the headline metrics in Prometheus's text exposition format, published beside
the site for Grafana users who scrape it from a static server (the file is rewritten with each build).

The families and their rules (stable series, base units, complete periods only) are defined once in
dashboards/prometheus_metrics.py and shared with the exporter service; this file adds when the site
was built. ``promtool check metrics`` accepts it (tests/test_leadership.py runs it).
"""

from __future__ import annotations

import datetime as dt

from prometheus_client.core import GaugeMetricFamily

from dashboards.marts import WarehouseReader
from dashboards.prometheus_metrics import PREFIX, exposition_text, metric_families

EXPOSITION_FILE = "metrics.prom"


def exposition(reader: WarehouseReader, *, now: dt.datetime) -> str:
    built = GaugeMetricFamily(
        f"{PREFIX}_site_build_timestamp_seconds",
        "When the site holding this file was built.",
        value=int(now.timestamp()),
    )
    return exposition_text([*metric_families(reader, now=now), built])
