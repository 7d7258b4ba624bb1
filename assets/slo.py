"""SLO assets: specs and Prometheus SLI samples into raw.*, and the SLO report into the site.
Thin: the logic is in pipelines/slo (specs, sources, rules) and dashboards/slo_report.py.
"""

from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.project import WAREHOUSE_POOL
from assets.resources import warehouse_connection
from dashboards.pages import PAGES
from dashboards.slo_report import write_slo_report
from pipelines import ingest
from pipelines.config import Config
from pipelines.slo.definitions import DEFINITION_TABLES
from pipelines.slo.prometheus import RAW_TABLES as PROMETHEUS_TABLES
from pipelines.slo.sources import config_slos, sync_slo_sources

SLO_REPORT_KEY = dg.AssetKey(["publish", "slo_report"])
SLO_MARTS = (
    "metrics_slo_period",
    "metrics_slo_alerts",
    "metrics_slo_incidents",
    "metrics_slo_daily",
)


def slo_report_dir(config: Config) -> Path:
    """Where the report is staged before the site build copies it into the new site version."""
    site_dir = Path(config.publish.site_dir)
    return site_dir.parent / f"{site_dir.name}-slo-report"


def build_slo_assets(config: Config, warehouse_path: Path) -> list[dg.AssetsDefinition]:
    specs = [
        dg.AssetSpec(["raw", t], description=d, group_name="ingest")
        for t, d in (
            ("slo_definitions", "One row per SLO, from the OpenSLO specs (docs/slos.md)."),
            ("slo_alert_policies", "Burn-rate alert windows and factors per SLO."),
            (PROMETHEUS_TABLES[0], "Prometheus SLI samples (query_range), verbatim."),
        )
    ]
    assert {s.key.path[-1] for s in specs} == set(DEFINITION_TABLES) | set(PROMETHEUS_TABLES)

    @dg.multi_asset(name="slo_sources", specs=specs, pool=WAREHOUSE_POOL)
    def slo_sources(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
        clients = ingest.SourceClients(config)
        with warehouse_connection(duckdb) as con:
            report = sync_slo_sources(
                con,
                config,
                now=clients.now(),
                transport=clients.transport,
                progress=context.log.info,
            )
        metadata = {
            "slos": report.slos,
            "samples_landed": report.samples,
            "requests": report.requests,
        }
        for spec in specs:
            table = spec.key.path[-1]
            rows = report.definitions.get(table, report.samples)
            yield dg.MaterializeResult(asset_key=spec.key, metadata={"rows": rows, **metadata})

    @dg.asset(
        key=SLO_REPORT_KEY,
        deps=[dg.AssetKey(["marts", m]) for m in SLO_MARTS],
        group_name="publish",
        pool=WAREHOUSE_POOL,
        description="SLO report (HTML, Markdown, JSON) and Prometheus alerting rules, for the site.",
    )
    def slo_report(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        written = write_slo_report(
            warehouse_path,
            slo_report_dir(config),
            slos=config_slos(config),
            organisation=config.organisation.name,
            pages=PAGES,
        )
        return dg.MaterializeResult(
            metadata={"files": [p.name for p in written.files], "slos": written.slos}
        )

    return [slo_sources, slo_report]
