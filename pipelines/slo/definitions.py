"""The parsed SLO specs as plain warehouse tables, rewritten each run (like raw.org_*).

dbt reads these instead of hard-coding any SLO: ``raw.slo_definitions`` (one row per SLO) and
``raw.slo_alert_policies`` (the multi-window, multi-burn-rate windows and factors per SLO).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from pipelines.slo.budget import alert_policy
from pipelines.slo.spec import Slo
from pipelines.warehouse import RAW_SCHEMA, ensure_raw_schema, replace_table, transaction

DEFINITION_TABLES = ("slo_definitions", "slo_alert_policies")

_DDL = {
    "slo_definitions": """
        slo VARCHAR PRIMARY KEY, display_name VARCHAR NOT NULL, service VARCHAR NOT NULL,
        description VARCHAR, spec_file VARCHAR NOT NULL, indicator VARCHAR NOT NULL,
        source_type VARCHAR NOT NULL, datasource VARCHAR NOT NULL,
        budgeting_method VARCHAR NOT NULL, target DOUBLE NOT NULL, op VARCHAR,
        threshold_value DOUBLE, time_slice_target DOUBLE, interval_seconds INTEGER NOT NULL,
        time_window VARCHAR NOT NULL, is_rolling BOOLEAN NOT NULL, period_kind VARCHAR NOT NULL,
        period_hours INTEGER NOT NULL, time_zone VARCHAR NOT NULL,
        good_query VARCHAR, bad_query VARCHAR, total_query VARCHAR, threshold_query VARCHAR,
        mart_table VARCHAR, mart_timestamp VARCHAR, good_filter VARCHAR, bad_filter VARCHAR,
        total_filter VARCHAR, incident_severities VARCHAR
    """,
    "slo_alert_policies": """
        slo VARCHAR NOT NULL, severity VARCHAR NOT NULL, long_window_hours DOUBLE NOT NULL,
        short_window_hours DOUBLE NOT NULL, burn_rate_factor DOUBLE NOT NULL
    """,
}


def _spec(source, key):
    return None if source is None else source.spec.get(key)


def definition_frames(
    slos: list[Slo], *, default_time_zone: str = "UTC"
) -> dict[str, pd.DataFrame]:
    """The two tables as data frames (pure: parsed specs in, frames out)."""
    rows = []
    for s in slos:
        first = s.good or s.bad or s.total or s.threshold
        assert first is not None
        severities = _spec(s.good, "severities") or _spec(s.bad, "severities") or []
        warehouse = s.source_type == "Warehouse"
        rows.append(
            {
                "slo": s.name,
                "display_name": s.display_name,
                "service": s.service,
                "description": s.description,
                "spec_file": s.file,
                "indicator": s.indicator,
                "source_type": s.source_type,
                "datasource": first.datasource,
                "budgeting_method": s.budgeting_method,
                "target": s.target,
                "op": s.op,
                "threshold_value": s.value,
                "time_slice_target": s.time_slice_target,
                "interval_seconds": s.interval_seconds,
                "time_window": s.window,
                "is_rolling": s.rolling,
                "period_kind": s.period_kind,
                "period_hours": s.period_hours,
                "time_zone": s.time_zone or default_time_zone,
                "good_query": _spec(s.good, "query"),
                "bad_query": _spec(s.bad, "query"),
                "total_query": _spec(s.total, "query"),
                "threshold_query": _spec(s.threshold, "query"),
                "mart_table": _spec(first, "table") if warehouse else None,
                "mart_timestamp": _spec(first, "timestamp") if warehouse else None,
                "good_filter": _spec(s.good, "filter") if warehouse and s.good else None,
                "bad_filter": _spec(s.bad, "filter") if warehouse and s.bad else None,
                "total_filter": _spec(s.total, "filter") if warehouse else None,
                "incident_severities": ",".join(severities) or None,
            }
        )
    columns = [c.split()[0] for c in _columns("slo_definitions")]
    policies = [
        (s.name, severity, long, short, factor)
        for s in slos
        for severity, long, short, factor in alert_policy(s.period_hours)
    ]
    return {
        "slo_definitions": pd.DataFrame(rows, columns=columns),
        "slo_alert_policies": pd.DataFrame(
            policies,
            columns=[
                "slo",
                "severity",
                "long_window_hours",
                "short_window_hours",
                "burn_rate_factor",
            ],
        ),
    }


def _columns(table: str) -> list[str]:
    return [c.strip() for c in _DDL[table].split(",") if c.strip()]


def ensure_definition_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the tables (empty) so dbt builds even with no SLOs configured."""
    ensure_raw_schema(con)
    for table, ddl in _DDL.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS {RAW_SCHEMA}.{table} ({ddl})")


def write_definitions(
    con: duckdb.DuckDBPyConnection, slos: list[Slo], *, default_time_zone: str = "UTC"
) -> dict[str, int]:
    """Replace both tables in one transaction; returns rows per table."""
    ensure_definition_tables(con)
    counts = {}
    frames = definition_frames(slos, default_time_zone=default_time_zone)
    with transaction(con):
        for table, frame in frames.items():
            counts[table] = replace_table(con, f"{RAW_SCHEMA}.{table}", _DDL[table], frame)
    return counts
