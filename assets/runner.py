"""Running the whole pipeline in process (``platform-metrics run``/``demo``, tests): register the
partitions each partitioned source discovers (GitHub: its repositories), run the source's job
(``github_sync``) for each, then ``refresh``.

Every run is tagged with this process (assets/run_recovery.py finds it if the process dies), waits
for the ``warehouse`` pool interruptibly and says who holds it, and gives back its pool slots when
it ends however it ends. Ctrl-C or SIGTERM stops the whole pipeline (KeyboardInterrupt), not just
the current run.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from assets.ingest import partitioned_sources, source_partitions
from assets.run_recovery import PoolWait, interruptible_pool_waits, owner_tags
from pipelines import ingest
from pipelines.config import Config
from pipelines.source import Source

# Given a run id before the run starts: a context manager around the run (assets/console.py).
Watch = Callable[[str], contextlib.AbstractContextManager[object]]


@dataclass
class PipelineOutcome:
    # Partition key -> failed run, and the keys synced, of every partitioned source (the names are
    # from when GitHub was the only one).
    github_failed: dict[str, dg.ExecuteInProcessResult] = field(default_factory=dict)
    github_synced: list[str] = field(default_factory=list)
    refresh: dg.ExecuteInProcessResult | None = None
    # Source name -> (partitions run, their unit, rows in its raw tables after the last one).
    partition_rows: dict[str, tuple[int, str, int]] = field(default_factory=dict)

    @property
    def success(self) -> bool:
        return not self.github_failed and self.refresh is not None and self.refresh.success


def register_partitions(config: Config, source: Source, instance: dg.DagsterInstance) -> list[str]:
    """Discover ``source``'s partitions and add the new ones; returns all current keys."""
    keys = source.partition_keys(ingest.SourceClients(config))
    name = source_partitions(source).name
    known = set(instance.get_dynamic_partitions(name))
    new = [k for k in keys if k not in known]
    if new:
        instance.add_dynamic_partitions(name, new)
    return keys


def run_github_partitions(
    defs: dg.Definitions,
    config: Config,
    instance: dg.DagsterInstance,
    *,
    run_config: Mapping[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
    say: Callable[[str], None] = print,
) -> PipelineOutcome:
    """One run per partition of every partitioned source; a failing one does not stop the others.
    ``progress`` hears "github 3 of 13 repositories, 1,338 items" after each partition."""
    outcome = PipelineOutcome()
    for source in partitioned_sources(config):
        keys = register_partitions(config, source, instance)
        job = defs.resolve_job_def(source.job)
        items = 0
        for i, key in enumerate(keys, 1):
            result = execute(job, instance, say=say, partition_key=key, run_config=run_config)
            if result.success:
                outcome.github_synced.append(key)
                items = run_rows(result) or items
            else:
                outcome.github_failed[key] = result
            # "repository" -> "repositories", "service" -> "services" (but "1 repository")
            unit = str(source.partitioning)
            if len(keys) != 1:
                unit = unit[:-1] + "ies" if unit.endswith("y") else unit + "s"
            outcome.partition_rows[source.name] = (i, unit, items)
            if progress:
                progress(
                    f"{source.name} {i} of {len(keys)} {unit}, {items:,} items"
                    + (f" ({len(outcome.github_failed)} failed)" if outcome.github_failed else "")
                )
        if keys:
            say(f"  {source.name}: {len(keys):,} {unit} synced, {items:,} items")
    return outcome


def run_rows(result: dg.ExecuteInProcessResult) -> int:
    """Rows in the tables a run materialized (their ``rows`` metadata, summed)."""
    total = 0
    for event in result.get_asset_materialization_events():
        value = event.materialization.metadata.get("rows")
        value = getattr(value, "value", value)
        total += value if isinstance(value, int) else 0
    return total


def run_pipeline(
    defs: dg.Definitions,
    config: Config,
    instance: dg.DagsterInstance,
    *,
    job: str = "refresh",
    run_config: Mapping[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
    say: Callable[[str], None] = print,
    watch: Watch | None = None,
) -> PipelineOutcome:
    """Partitions (GitHub's repositories), then ``job`` (``refresh`` or ``ingest``) unless a
    partition failed: a failed one leaves the previous marts, site and snapshot as they were."""
    outcome = run_github_partitions(
        defs, config, instance, run_config=run_config, progress=progress, say=say
    )
    if outcome.github_failed:
        return outcome
    # The partition runs are summed up by ``progress``; ``watch`` follows the one long run.
    outcome.refresh = execute(
        defs.resolve_job_def(job), instance, say=say, run_config=run_config, watch=watch
    )
    return outcome


def execute(
    job: dg.JobDefinition,
    instance: dg.DagsterInstance,
    *,
    say: Callable[[str], None] = print,
    partition_key: str | None = None,
    run_config: Mapping[str, Any] | None = None,
    watch: Watch | None = None,
) -> dg.ExecuteInProcessResult:
    """One in-process run, tagged with this process; raises KeyboardInterrupt if it was stopped by
    Ctrl-C or SIGTERM (Dagster records it as failed and returns; the pipeline must not go on)."""
    run_id = str(uuid.uuid4())
    wait = PoolWait(instance, say)
    watching = watch(run_id) if watch else contextlib.nullcontext()
    try:
        with interruptible_pool_waits(wait), watching:
            result = job.execute_in_process(
                instance=instance,
                partition_key=partition_key,
                raise_on_error=False,
                run_config=run_config,
                run_id=run_id,
                tags=owner_tags(),
            )
    finally:
        # Dagster frees a slot when its step ends, but not one whose step was interrupted, nor a
        # claim still queued when the run stopped.
        instance.event_log_storage.free_concurrency_slots_for_run(run_id)
    if wait.interrupted or _was_interrupted(result):
        raise KeyboardInterrupt
    return result


def _was_interrupted(result: dg.ExecuteInProcessResult) -> bool:
    """A step stopped by SIGINT/SIGTERM fails with DagsterExecutionInterruptedError."""
    for event in result.all_events:
        if not event.is_step_failure:
            continue
        error = event.step_failure_data.error
        while error is not None:
            if error.cls_name in {"DagsterExecutionInterruptedError", "KeyboardInterrupt"}:
                return True
            error = error.cause
    return False
