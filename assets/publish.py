"""Publishing assets: the offline site and the analysts' read-only snapshot."""

from pathlib import Path

import dagster as dg

from assets.dbt import mart_keys
from assets.dbt_docs import DBT_DOCS_KEY, build_dbt_docs_asset, dbt_docs_dir
from assets.project import WAREHOUSE_POOL
from assets.reports import (
    LEADERSHIP_KEY,
    asset_graph,
    build_report_assets,
    latest_checks,
    leadership_dir,
    pr_url_template,
)
from assets.slo import SLO_REPORT_KEY, slo_report_dir
from dashboards.alert_rules import AlertThresholds
from dashboards.publish import publish_snapshot
from dashboards.site import build_site
from pipelines.config import Config


def build_publish_assets(config: Config, warehouse_path: Path) -> list[dg.AssetsDefinition]:
    marts = mart_keys()

    # Reads the warehouse only, but a read-only DuckDB opener blocks the writer: same pool.
    @dg.asset(
        key=["publish", "site"],
        deps=[*marts, SLO_REPORT_KEY, LEADERSHIP_KEY, DBT_DOCS_KEY],
        group_name="publish",
        pool=WAREHOUSE_POOL,
        description="The offline dashboard site (build/site), swapped in atomically.",
    )
    def site(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        build = build_site(
            warehouse_path,
            Path(config.publish.site_dir),
            organisation=config.organisation.name,
            keep_copies=config.publish.keep_copies,
            min_sample=config.metrics.min_sample,
            extra_files=[
                *sorted(slo_report_dir(config).glob("slo-*")),
                *sorted(leadership_dir(config).glob("leadership-*")),
                *sorted(dbt_docs_dir(config).glob("dbt-docs*.html")),
            ],
            checks=latest_checks(context.instance, asset_graph(context)),
            # The demo's sources are generated: no link that would lead nowhere.
            pr_url=None if config.is_demo else pr_url_template(config),
            link_sources=not config.is_demo,
            timezone=config.organisation.timezone,
            benchmark=config.metrics.benchmark,
            site_url=config.publish.site_url,
            alerting=AlertThresholds(**config.publish.alerting.model_dump()),
        )
        context.log.info(f"site published at {build.path / 'index.html'}")
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(build.path / "index.html")),
                "pages": build.pages,
                "bytes": build.bytes,
            }
        )

    @dg.asset(
        key=["publish", "analyst_snapshot"],
        deps=marts,
        group_name="publish",
        pool=WAREHOUSE_POOL,
        description="Read-only copy of the warehouse plus one Parquet file per mart, for analysts.",
    )
    def analyst_snapshot(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        snap = publish_snapshot(warehouse_path, Path(config.publish.snapshot_dir))
        return dg.MaterializeResult(
            metadata={
                "duckdb": dg.MetadataValue.path(str(snap.duckdb_path)),
                "tables": snap.tables,
            }
        )

    return [
        site,
        analyst_snapshot,
        build_dbt_docs_asset(config, warehouse_path),
        *build_report_assets(config, warehouse_path),
    ]
