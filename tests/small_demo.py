"""One small demo organisation through the whole pipeline, for the modules that test its outputs.

tests/test_end_to_end.py (the run, its console and everything it published) and
tests/test_notebooks.py (the notebooks over its snapshot) share one run: the session fixture
``small_demo_run`` in tests/conftest.py makes it the first time either module asks, as
`platform-metrics demo` does (assets/cli.py run_quietly), and both read it. Neither writes to its
site, snapshot, survey inbox or dbt docs; the one test that runs a job again (the second ingest in
tests/test_end_to_end.py) writes the same rows to the live warehouse, which the notebooks never
open.
"""

from __future__ import annotations

import datetime as dt
import io
import secrets
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from assets.runner import PipelineOutcome, run_pipeline
from pipelines.config import DEMO_CONFIG_PATH, Config, load_config

# Three months, May to July 2026: two quarters (Q2 and Q3), which the notebooks' tests need.
END_DATE = dt.date(2026, 7, 31)
MONTHS = 3


def small_demo_config(tmp: Path, months: int = MONTHS, end_date: dt.date = END_DATE) -> Config:
    """The demo organisation over ``months`` months to ``end_date``, everything it writes in
    ``tmp`` (warehouse, site, snapshot, survey inbox)."""
    config = load_config(DEMO_CONFIG_PATH)
    sources = config.sources.model_copy(
        update={"surveys": config.sources.surveys.model_copy(update={"inbox": tmp / "inbox"})}
    )
    return config.model_copy(
        update={
            "demo": config.demo.model_copy(update={"end_date": end_date, "months": months}),
            "warehouse": config.warehouse.model_copy(update={"path": tmp / "warehouse.duckdb"}),
            "publish": config.publish.model_copy(
                update={"site_dir": tmp / "site", "snapshot_dir": tmp / "snapshot"}
            ),
            "sources": sources,
        }
    )


def run(defs: dg.Definitions, config: Config, job: str = "refresh") -> PipelineOutcome:
    """As `platform-metrics run` does: every GitHub repository partition, then ``job``."""
    with dg.instance_for_test() as instance:
        return run_pipeline(defs, config, instance, job=job)


@dataclass(frozen=True)
class SmallDemoRun:
    config: Config
    quiet: object  # assets.cli.QuietRun: the outcome, the summary lines, the definitions it ran
    console: str  # the console lines the run wrote
    log: Path  # the full log of the run
    legacy_run: Path  # a run folder as builds before build/dbt-target/runs left it, made before


def legacy_run_folder() -> Path:
    """A run folder where dagster-dbt put each build's before pipelines/dbt_runs.py (dbt's own
    target folder), for the run to delete."""
    from assets.project import DBT_PROJECT_DIR
    from pipelines.dbt_runs import RUN_PREFIX

    # A name of its own: another test worker's run deletes every such folder, and may plant its
    # own after this run deleted this one.
    folder = DBT_PROJECT_DIR / "target" / f"{RUN_PREFIX}legacy{secrets.token_hex(4)}-0000000"
    (folder / "compiled").mkdir(parents=True, exist_ok=True)
    (folder / "run_results.json").write_text("{}", encoding="utf-8")
    return folder


def run_small_demo(tmp: Path) -> SmallDemoRun:
    """The run as `platform-metrics demo` makes it (assets/cli.py run_quietly), in ``tmp``. Whether
    it succeeded is for each user to assert: the notebooks need only its snapshot."""
    from assets.cli import run_quietly

    config = small_demo_config(tmp)
    legacy_run = legacy_run_folder()
    console = io.StringIO()
    log = tmp / "run.log"
    with dg.instance_for_test() as instance:
        quiet = run_quietly(config, console, log=log, instance=instance)
    return SmallDemoRun(
        config=config, quiet=quiet, console=console.getvalue(), log=log, legacy_run=legacy_run
    )
