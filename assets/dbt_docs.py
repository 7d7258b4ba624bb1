"""The dbt docs site (one offline HTML file) published beside the dashboards. Thin: the logic is in
pipelines/dbt_docs.py. A failure is logged and leaves the previous page: it never blocks the site."""

from pathlib import Path

import dagster as dg

from assets.dbt import mart_keys
from assets.project import WAREHOUSE_POOL
from pipelines.config import Config
from pipelines.dbt_docs import DOCS_FILE, generate_dbt_docs
from pipelines.definitions import dbt_vars
from pipelines.errors import PlatformMetricsError

DBT_DOCS_KEY = dg.AssetKey(["publish", "dbt_docs"])


def dbt_docs_dir(config: Config) -> Path:
    """Where the page is staged before the site build copies it into the new site version."""
    site_dir = Path(config.publish.site_dir)
    return site_dir.parent / f"{site_dir.name}-dbt-docs"


def build_dbt_docs_asset(config: Config, warehouse_path: Path) -> dg.AssetsDefinition:
    # The catalog query opens the warehouse: the single-writer pool, after the dbt build.
    @dg.asset(
        key=DBT_DOCS_KEY,
        deps=mart_keys(),
        group_name="publish",
        pool=WAREHOUSE_POOL,
        description=f"dbt docs (models, columns, lineage) as one offline page, {DOCS_FILE} in the site.",
    )
    def dbt_docs(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        out_dir = dbt_docs_dir(config)
        try:
            page = generate_dbt_docs(
                warehouse_path,
                out_dir,
                variables=dbt_vars(config),
                work_dir=out_dir.parent / f"{out_dir.name}-target",
            )
        except PlatformMetricsError as exc:
            context.log.warning(
                f"dbt docs not regenerated (the site keeps the previous page): {exc}"
            )
            return dg.MaterializeResult(metadata={"generated": False})
        return dg.MaterializeResult(
            metadata={"path": dg.MetadataValue.path(str(page)), "bytes": page.stat().st_size}
        )

    return dbt_docs
