"""Asset checks. Blocking checks on raw payloads (Great Expectations via pipelines/quality.py): a
failed check stops the dbt build and publishing in the same run, so the previous site stays up. A
warning check on the published site for delivery regressions (dashboards/regressions.py).
"""

import datetime as dt

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.project import WAREHOUSE_POOL
from assets.resources import warehouse_connection
from dashboards.alert_rules import AlertThresholds
from dashboards.marts import WarehouseReader
from dashboards.notify import NotifyError, post_summary
from dashboards.regressions import delivery_regressions, regressions_text
from pipelines.config import Config
from pipelines.quality import check_raw_table, table_expectations


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
    return [_raw_check(t) for t in table_expectations() if t in defined_tables]


def build_regression_check(config: Config) -> dg.AssetChecksDefinition:
    """The delivery regressions of dashboards/regressions.py (the alerting rules' twin) as a
    warning on the published site; failures go to ``publish.webhook`` when one is configured."""
    thresholds = AlertThresholds(**config.publish.alerting.model_dump())

    @dg.asset_check(
        asset=dg.AssetKey(["publish", "site"]),
        name="no_delivery_regression",
        blocking=False,
        pool=WAREHOUSE_POOL,
        description="Deployments, lead time and recovery time against their trailing baseline, "
        "change failure rate, SLO burn and source freshness (publish.alerting).",
    )
    def no_delivery_regression(
        context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource
    ) -> dg.AssetCheckResult:
        with warehouse_connection(duckdb) as con:
            found = delivery_regressions(
                WarehouseReader(con), thresholds, now=dt.datetime.now(dt.UTC)
            )
        metadata: dict = {"regressions": [r.message for r in found]}
        hook = config.publish.webhook
        if found and hook is not None:
            try:
                post_summary(
                    hook.url.get_secret_value(),
                    regressions_text(config.organisation.name, found),
                    kind=hook.kind,
                    title="Delivery regressions",
                    max_retries=hook.max_retries,
                )
                metadata["posted"] = True
            except NotifyError as exc:
                metadata["posted"] = False
                metadata["post_error"] = str(exc)
                context.log.warning(f"delivery regressions not posted: {exc}")
        for regression in found:
            context.log.warning(regression.message)
        return dg.AssetCheckResult(
            passed=not found,
            severity=dg.AssetCheckSeverity.WARN,
            description=f"{len(found)} regression(s)" if found else "no regression",
            metadata=metadata,
        )

    return no_delivery_regression
