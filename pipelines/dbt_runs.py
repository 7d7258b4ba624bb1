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
next build of the same warehouse starts from it. dbt still decides whether it is usable: a changed
model, var or profile gives a full parse, as before.

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

PARTIAL_PARSE_FILE = "partial_parse.msgpack"
RUNS_DIR = "runs"
PARSE_CACHE_DIR = "partial-parse"
RUN_PREFIX = "dbt_models-"
RUNS_KEPT = 10


def run_target(target_dir: Path, run_id: str) -> Path:
    """A new folder for one run's dbt build under ``target_dir/runs``."""
    return Path(target_dir, RUNS_DIR, f"{RUN_PREFIX}{run_id[:8]}-{uuid.uuid4().hex[:7]}")


def parse_cache(target_dir: Path, warehouse: Path) -> Path:
    """Where the last build of ``warehouse`` left its parse: one file per warehouse, as each
    organisation builds its own warehouse with its own vars."""
    key = hashlib.sha256(str(Path(warehouse).absolute()).encode()).hexdigest()[:16]
    return Path(target_dir, PARSE_CACHE_DIR, f"{key}.msgpack")


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
