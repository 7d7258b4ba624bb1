"""Blocking asset checks on raw payloads (Great Expectations via pipelines/quality.py).

A failed check stops the dbt build and publishing in the same run, so the previous site stays up.
"""

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.project import WAREHOUSE_POOL
from assets.resources import warehouse_connection
from pipelines.quality import RAW_EXPECTATIONS, check_raw_table


def _raw_check(table: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(["raw", table]),
        name="payloads_are_well_formed",
        blocking=True,
        pool=WAREHOUSE_POOL,
        description="Key fields present; timestamps parse and are not in the future.",
    )
    def check(duckdb: DuckDBResource) -> dg.AssetCheckResult:
        with warehouse_connection(duckdb) as con:
            outcome = check_raw_table(con, table)
        return dg.AssetCheckResult(
            passed=outcome.passed,
            severity=dg.AssetCheckSeverity.ERROR,
            description=outcome.description,
            metadata=outcome.metadata,
        )

    return check


def build_raw_checks(defined_tables: set[str]) -> list[dg.AssetChecksDefinition]:
    return [_raw_check(t) for t in RAW_EXPECTATIONS if t in defined_tables]
