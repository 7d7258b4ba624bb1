"""The SLO report into the site. Thin: the logic is in pipelines/slo (specs, sources, rules) and
dashboards/slo_report.py; the specs and Prometheus samples are landed by the registry's
Prometheus source (``slo_sources``, assets/ingest.py).
"""

from pathlib import Path

import dagster as dg

from assets.project import WAREHOUSE_POOL
from dashboards.pages import PAGES
from dashboards.slo_report import write_slo_report
from pipelines.config import Config
from pipelines.slo.sources import config_slos

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
    """The SLO report. (The SLO definitions and Prometheus samples are landed by the ``slo_sources``
    ingest asset of the Prometheus source, pipelines/slo/source.py.)"""

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

    return [slo_report]
