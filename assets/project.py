"""Where things are on disk, and the dbt project (prepared on first use, never at import)."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from dagster_dbt import DbtProject

from pipelines.config import WAREHOUSE_ENV_VAR
from pipelines.dbt_runs import PARTIAL_PARSE_FILE

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt"
# Generated output lives under ./build like the warehouse and the site (run from the repo root).
DBT_TARGET_DIR = Path("build", "dbt-target").resolve()
WAREHOUSE_POOL = "warehouse"


@functools.cache
def dbt_project() -> DbtProject:
    """The dbt project with its manifest parsed (``dbt parse``) if it is missing or stale."""
    project = DbtProject(
        project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target_path=DBT_TARGET_DIR
    )
    # dbt's profile needs the warehouse variable even to parse; any path will do for that.
    os.environ.setdefault(WAREHOUSE_ENV_VAR, str(Path("build", "warehouse.duckdb").resolve()))
    if _manifest_is_stale(project.manifest_path):
        # A full parse, not a partial one from the previous version of the project: dbt-core
        # 1.11's partial parsing drops int_commit_deployments when its disabled Spark twin changes
        # (pipelines/dbt_runs.py).
        Path(DBT_TARGET_DIR, PARTIAL_PARSE_FILE).unlink(missing_ok=True)
        project.preparer.prepare(project)
    return project


def _manifest_is_stale(manifest: Path) -> bool:
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    sources = [
        p for p in DBT_PROJECT_DIR.rglob("*") if p.suffix in {".sql", ".yml", ".yaml", ".csv"}
    ]
    return any(p.stat().st_mtime > built for p in sources if "target" not in p.parts)
