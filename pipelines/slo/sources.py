"""One extract-load step for the SLOs of a configuration: definitions, then Prometheus samples.

Warehouse and incident SLIs need no landing: dbt reads them from the marts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import duckdb
import httpx

from pipelines.slo import prometheus
from pipelines.slo.definitions import write_definitions
from pipelines.slo.spec import Slo, load_slos
from pipelines.warehouse import ensure_raw_table

if TYPE_CHECKING:
    # Only for annotations: the configuration assembles its ``sources:`` from the source packages.
    from pipelines.config import Config


def config_slos(config: Config) -> list[Slo]:
    """The configuration's SLO specs, parsed, validated and resolved against its services."""
    return load_slos(config.slos, services=[s.name for s in config.services])


@dataclass
class SloSyncReport:
    slos: list[str] = field(default_factory=list)
    definitions: dict[str, int] = field(default_factory=dict)
    samples: int = 0
    requests: dict[str, dict[str, float | int]] = field(default_factory=dict)


def sync_slo_sources(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    *,
    now: dt.datetime,
    transport: httpx.BaseTransport | None = None,
    progress: Callable[[str], None] | None = None,
) -> SloSyncReport:
    """Rewrite raw.slo_definitions / raw.slo_alert_policies and land new Prometheus samples."""
    slos = config_slos(config)
    ensure_raw_table(con, prometheus.RAW_TABLE)
    report = SloSyncReport(slos=[s.name for s in slos])
    report.definitions = write_definitions(
        con, slos, default_time_zone=config.organisation.timezone
    )
    result = prometheus.sync_prometheus_slis(
        con, slos, now=now, transport=transport, progress=progress
    )
    report.samples = result.samples
    report.requests = result.requests
    return report
