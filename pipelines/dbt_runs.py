"""The pipeline's dbt build: the folder each run writes, the parse it reuses, how many folders stay.

Each ``dbt build`` of a pipeline run writes its compiled SQL, logs and ``run_results.json`` to a
folder of its own, ``<dbt target dir>/runs/dbt_models-<run id>-<random>`` (about 30 MB on the
demo), so two runs never mix artefacts. Only the newest ``RUNS_KEPT`` such folders are kept: a
daily schedule would otherwise add about 11 GB a year.

dbt parses the project before it builds. Reusing the previous parse (``partial_parse.msgpack``)
saves about 5 s a run, but only if that parse had the same ``--vars``, profile and target: dbt
checks them and parses everything again when one differs. The parse the project is prepared with
(``dbt parse`` without the organisation's vars) never matches, so every run parsed from scratch.
Now each warehouse keeps the parse of its last build (``<dbt target dir>/partial-parse/``), and the
next build of the same warehouse starts from it, as long as no file of the dbt project changed:
the cache is keyed by the project's files too (``project_fingerprint``), so the first build after
an upgrade parses from scratch. dbt's own partial parsing is not trusted across a change of the
project: dbt-core 1.11 drops the enabled ``int_commit_deployments`` (the DuckDB Python model) from
the manifest when the disabled model of the same name (the Spark one) changes. A changed var or
profile gives a full parse too, as dbt decides.

No dagster import: ``assets/dbt.py`` calls these around its dbt invocation.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipelines.dbt_cli import DBT_PROJECT_DIR

PARTIAL_PARSE_FILE = "partial_parse.msgpack"
RUNS_DIR = "runs"
PARSE_CACHE_DIR = "partial-parse"
RUN_PREFIX = "dbt_models-"
RUNS_KEPT = 10


def run_target(target_dir: Path, run_id: str) -> Path:
    """A new folder for one run's dbt build under ``target_dir/runs``."""
    return Path(target_dir, RUNS_DIR, f"{RUN_PREFIX}{run_id[:8]}-{uuid.uuid4().hex[:7]}")


# Folders of the dbt project that dbt writes, not reads.
GENERATED_DIRS = {"target", "logs", "dbt_packages"}


def project_fingerprint(project_dir: Path = DBT_PROJECT_DIR) -> str:
    """A hash of the path and contents of every file of the dbt project that dbt reads."""
    digest = hashlib.sha256()
    root = Path(project_dir)
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or relative.parts[0] in GENERATED_DIRS:
            continue
        digest.update(relative.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def parse_cache(target_dir: Path, warehouse: Path, project_dir: Path = DBT_PROJECT_DIR) -> Path:
    """Where the last build of ``warehouse`` left its parse of the project as it is now: one
    file per warehouse (each organisation builds its own with its own vars) and project version."""
    key = hashlib.sha256(str(Path(warehouse).absolute()).encode()).hexdigest()[:16]
    return Path(target_dir, PARSE_CACHE_DIR, f"{key}-{project_fingerprint(project_dir)}.msgpack")


@contextmanager
def reusing_parse(target: Path, cache: Path) -> Iterator[None]:
    """Put ``cache`` in ``target`` before the dbt invocation inside the block, and keep that
    invocation's parse as ``cache`` after it (whether the build passed or not: the parse is
    written before anything runs). The cache is replaced in one rename, so a crash never leaves
    half a file; a cache dbt cannot read only costs a full parse."""
    target.mkdir(parents=True, exist_ok=True)
    if cache.is_file():
        shutil.copyfile(cache, target / PARTIAL_PARSE_FILE)
    try:
        yield
    finally:
        parsed = target / PARTIAL_PARSE_FILE
        if parsed.is_file():
            cache.parent.mkdir(parents=True, exist_ok=True)
            partial = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")
            shutil.copyfile(parsed, partial)
            os.replace(partial, cache)
            # The same warehouse's parses of earlier versions of the project are of no more use.
            warehouse_key = cache.name.split("-")[0]
            for old in cache.parent.glob(f"{warehouse_key}*.msgpack"):
                if old != cache:
                    old.unlink(missing_ok=True)


def prune_runs(target_dir: Path, keep: int = RUNS_KEPT) -> list[Path]:
    """Delete all but the ``keep`` newest run folders under ``target_dir/runs``; returns the ones
    deleted. Only folders this module names (``dbt_models-...``) are touched."""
    runs = Path(target_dir, RUNS_DIR)
    if not runs.is_dir():
        return []
    folders = sorted(
        (p for p in runs.iterdir() if p.is_dir() and p.name.startswith(RUN_PREFIX)),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    old = folders[max(keep, 1) :]
    for folder in old:
        shutil.rmtree(folder, ignore_errors=True)
    return old


def prune_legacy_runs(project_target: Path) -> list[Path]:
    """Delete the run folders builds left before this layout: dagster-dbt's default put each
    run's in dbt's own target folder (``dbt/target/dbt_models-<run id>-<random>``) and nothing
    ever deleted them. Only folders of that name are touched; returns the ones deleted."""
    if not Path(project_target).is_dir():
        return []
    old = sorted(
        p for p in Path(project_target).iterdir() if p.is_dir() and p.name.startswith(RUN_PREFIX)
    )
    for folder in old:
        shutil.rmtree(folder, ignore_errors=True)
    return old
