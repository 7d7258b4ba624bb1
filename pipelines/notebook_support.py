"""Plain helpers behind notebooks/ (no UI, no dagster): where the config and the snapshot are, the
data dictionary, the example questions' SQL, and the SLO series recomputed with pipelines/slo's
formulas."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipelines.config import CONFIG_ENV_VAR, DEMO_CONFIG_PATH, load_config
from pipelines.slo.budget import budget_remaining, burn_rate, error_ratio, time_to_exhaustion_hours

REPO_ROOT = Path(__file__).resolve().parent.parent


def notebook_paths(cli_args: Mapping[str, Any]) -> tuple[Path, Path]:
    """(config file, snapshot warehouse) from ``--config`` / ``--warehouse``, else
    ``$PLATFORM_METRICS_CONFIG`` or the demo, and the config's published snapshot."""
    config_path = Path(cli_args.get("config") or os.environ.get(CONFIG_ENV_VAR) or DEMO_CONFIG_PATH)
    warehouse = cli_args.get("warehouse")
    if warehouse:
        return config_path, Path(warehouse)
    snapshot = Path(load_config(config_path).publish.snapshot_dir) / "warehouse.duckdb"
    if not snapshot.is_absolute() and not snapshot.exists():
        snapshot = REPO_ROOT / snapshot  # the demo's build/ when started from notebooks/
    return config_path, snapshot


def connect_snapshot(path: Path) -> duckdb.DuckDBPyConnection:
    """Read-only, as every analyst should: many readers, and never the pipeline's live file."""
    return duckdb.connect(str(path), read_only=True)


# --- data dictionary ------------------------------------------------------------------------------


def data_dictionary(manifest_path: Path | None, con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per column of every ``marts`` table: table, column, type (from the warehouse) and
    the table's and column's descriptions (from the dbt manifest, when given and present)."""
    cols = con.execute(
        "SELECT table_name AS table, column_name AS column, data_type AS type "
        "FROM information_schema.columns WHERE table_schema = 'marts' "
        "ORDER BY table_name, ordinal_position"
    ).df()
    tables: dict[str, str] = {}
    columns: dict[tuple[str, str], str] = {}
    if manifest_path is not None and Path(manifest_path).exists():
        manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
        for node in [*manifest["nodes"].values(), *manifest.get("sources", {}).values()]:
            if node.get("resource_type") not in ("model", "seed") or node.get("schema") != "marts":
                continue
            tables[node["name"]] = " ".join((node.get("description") or "").split())
            for name, col in node.get("columns", {}).items():
                columns[(node["name"], name)] = " ".join((col.get("description") or "").split())
    cols["table_description"] = cols["table"].map(tables).fillna("")
    cols["description"] = [
        columns.get((t, c), "") for t, c in zip(cols["table"], cols["column"], strict=True)
    ]
    return cols


# --- example questions ----------------------------------------------------------------------------

#: Which team's median lead time grew most from the previous to the latest complete quarter, and
#: which stage (coding, pickup, review, deploy) grew with it.
LEAD_TIME_GROWTH_SQL = """
WITH q AS (
    SELECT team, date_trunc('quarter', deployed_at) AS quarter,
           median(lead_time_hours) AS lead_time_p50, median(coding_hours) AS coding_p50,
           median(pickup_hours) AS pickup_p50, median(review_hours) AS review_p50,
           median(deploy_hours) AS deploy_p50, count(*) AS changes
    FROM marts.fct_changes
    WHERE deployed_at IS NOT NULL AND team IS NOT NULL
    GROUP BY ALL
), last_two AS (
    SELECT * FROM q
    WHERE quarter >= (SELECT max(quarter) FROM q) - INTERVAL 3 MONTH
)
SELECT cur.team, cur.quarter,
       round(cur.lead_time_p50 - prev.lead_time_p50, 1) AS lead_time_growth_hours,
       round(prev.lead_time_p50, 1) AS lead_time_p50_before, round(cur.lead_time_p50, 1) AS lead_time_p50_now,
       round(cur.coding_p50 - prev.coding_p50, 1) AS coding_growth,
       round(cur.pickup_p50 - prev.pickup_p50, 1) AS pickup_growth,
       round(cur.review_p50 - prev.review_p50, 1) AS review_growth,
       round(cur.deploy_p50 - prev.deploy_p50, 1) AS deploy_growth,
       cur.changes
FROM last_two AS cur
JOIN last_two AS prev ON prev.team = cur.team AND prev.quarter = cur.quarter - INTERVAL 3 MONTH
ORDER BY lead_time_growth_hours DESC
"""

#: Incidents attributed to no deployment, with the reason: no service mapped, no successful
#: deployment of the service ever before, or the latest one was outside the attribution window.
UNATTRIBUTED_SQL = """
WITH last_deployment AS (
    SELECT i.incident_id, max(d.deployed_at) AS last_deployment_before
    FROM marts.fct_incidents AS i
    LEFT JOIN marts.fct_deployments AS d
      ON d.service = i.service AND d.status = 'success' AND d.deployed_at <= i.started_at
    WHERE i.deployment_id IS NULL
    GROUP BY i.incident_id
)
SELECT i.incident_id, i.source, i.service, i.team, i.severity, i.started_at,
       l.last_deployment_before,
       round(date_diff('minute', l.last_deployment_before, i.started_at) / 60, 1)
           AS hours_since_deployment,
       CASE WHEN i.service IS NULL THEN 'service not mapped'
            WHEN l.last_deployment_before IS NULL THEN 'no earlier deployment of the service'
            ELSE 'latest deployment outside the attribution window' END AS reason
FROM marts.fct_incidents AS i
JOIN last_deployment AS l USING (incident_id)
ORDER BY i.started_at, i.incident_id
"""


# --- SLOs ------------------------------------------------------------------------------------------


def slo_catalogue(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Each SLO with its target and period (hours) as the marts computed them."""
    return con.execute(
        "SELECT slo, any_value(target) AS target, any_value(period_hours) AS period_hours "
        "FROM marts.metrics_slo_period WHERE is_slo_window GROUP BY slo ORDER BY slo"
    ).df()


def slo_series(
    con: duckdb.DuckDBPyConnection, slo: str, *, target: float, window_days: int
) -> pd.DataFrame:
    """Per day, from ``marts.fct_sli_intervals`` (budget units): the day's burn rate, and over the
    trailing ``window_days``: attainment, budget remaining and time to exhaustion, computed with
    ``pipelines.slo.budget`` (the same formulas the SLO marts are tested against)."""
    daily = con.execute(
        "SELECT CAST(date_trunc('day', interval_start) AS DATE) AS day, "
        "sum(good) AS good, sum(total) AS total FROM marts.fct_sli_intervals "
        "WHERE slo = ? GROUP BY 1 ORDER BY 1",
        [slo],
    ).df()
    if daily.empty:
        return daily
    days = pd.date_range(daily["day"].min(), daily["day"].max(), freq="D")
    daily = daily.set_index(pd.to_datetime(daily["day"]))[["good", "total"]].reindex(
        days, fill_value=0
    )
    window = daily.rolling(window_days, min_periods=1).sum()
    period_hours = window_days * 24.0
    rows = []
    for day, (good, total), (wgood, wtotal) in zip(
        daily.index, daily.itertuples(index=False), window.itertuples(index=False), strict=True
    ):
        e = error_ratio(wgood, wtotal)
        remaining = budget_remaining(wgood, wtotal, target)
        daily_rate = burn_rate(good, total, target)
        rows.append(
            {
                "day": day,
                "good": good,
                "total": total,
                "attainment": None if e is None else 1.0 - e,
                "budget_remaining": remaining,
                "burn_rate": daily_rate,
                "window_burn_rate": burn_rate(wgood, wtotal, target),
                "time_to_exhaustion_hours": time_to_exhaustion_hours(
                    remaining, period_hours, burn_rate(wgood, wtotal, target)
                ),
            }
        )
    return pd.DataFrame(rows)
