"""Where things are on disk, and the dbt project (prepared on first use, never at import)."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
from collections.abc import Iterator
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
    # Under a lock, so that two processes starting at once (code servers, test workers) parse
    # once, and neither reads a manifest the other is still writing.
    with _prepare_lock():
        if _manifest_is_stale(project.manifest_path):
            # A full parse, not a partial one from the previous version of the project: dbt-core
            # 1.11's partial parsing drops int_commit_deployments when its disabled Spark twin
            # changes (pipelines/dbt_runs.py).
            Path(DBT_TARGET_DIR, PARTIAL_PARSE_FILE).unlink(missing_ok=True)
            project.preparer.prepare(project)
            PREPARED_BY_THIS_PROCESS.append(Path(project.manifest_path))
    return project


# Manifests this process parsed (tests/test_dbt_project.py: two processes at once parse once).
PREPARED_BY_THIS_PROCESS: list[Path] = []


@contextlib.contextmanager
def _prepare_lock() -> Iterator[None]:
    """Held while the manifest is checked and parsed; the kernel drops it if the process dies.
    Where the target folder cannot be written (a read-only image), there is nothing to guard."""
    try:
        DBT_TARGET_DIR.mkdir(parents=True, exist_ok=True)
        handle = open(DBT_TARGET_DIR / "prepare.lock", "a")  # noqa: SIM115 (closed below)
    except OSError:
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _manifest_is_stale(manifest: Path) -> bool:
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    sources = [
        p for p in DBT_PROJECT_DIR.rglob("*") if p.suffix in {".sql", ".yml", ".yaml", ".csv"}
    ]
    return any(p.stat().st_mtime > built for p in sources if "target" not in p.parts)
