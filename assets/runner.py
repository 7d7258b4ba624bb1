"""Running the whole pipeline in process (``platform-metrics run``/``demo``, tests): register the
discovered GitHub repositories as partitions, run ``github_sync`` for each, then ``refresh``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from assets.ingest import GITHUB_PARTITIONS
from pipelines import ingest
from pipelines.config import Config


@dataclass
class PipelineOutcome:
    github_failed: dict[str, dg.ExecuteInProcessResult] = field(default_factory=dict)
    github_synced: list[str] = field(default_factory=list)
    refresh: dg.ExecuteInProcessResult | None = None

    @property
    def success(self) -> bool:
        return not self.github_failed and self.refresh is not None and self.refresh.success


def register_github_partitions(config: Config, instance: dg.DagsterInstance) -> list[str]:
    """Discover every repository and add the new ones as partitions; returns all current keys."""
    if not config.sources.github:
        return []
    keys = ingest.github_partition_keys(ingest.SourceClients(config))
    known = set(instance.get_dynamic_partitions(GITHUB_PARTITIONS.name))
    new = [k for k in keys if k not in known]
    if new:
        instance.add_dynamic_partitions(GITHUB_PARTITIONS.name, new)
    return keys


def run_github_partitions(
    defs: dg.Definitions,
    config: Config,
    instance: dg.DagsterInstance,
    *,
    run_config: Mapping[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> PipelineOutcome:
    """One ``github_sync`` run per repository; a failing repository does not stop the others."""
    outcome = PipelineOutcome()
    keys = register_github_partitions(config, instance)
    if not keys:
        return outcome
    job = defs.resolve_job_def("github_sync")
    for i, key in enumerate(keys, 1):
        if progress:
            progress(f"GitHub [{i}/{len(keys)}] {key}")
        result = job.execute_in_process(
            instance=instance, partition_key=key, raise_on_error=False, run_config=run_config
        )
        if result.success:
            outcome.github_synced.append(key)
        else:
            outcome.github_failed[key] = result
    return outcome


def run_pipeline(
    defs: dg.Definitions,
    config: Config,
    instance: dg.DagsterInstance,
    *,
    job: str = "refresh",
    run_config: Mapping[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> PipelineOutcome:
    """GitHub partitions, then ``job`` (``refresh`` or ``ingest``) unless a repository failed:
    a failed repository leaves the previous marts, site and snapshot as they were."""
    outcome = run_github_partitions(
        defs, config, instance, run_config=run_config, progress=progress
    )
    if outcome.github_failed:
        return outcome
    outcome.refresh = defs.resolve_job_def(job).execute_in_process(
        instance=instance, raise_on_error=False, run_config=run_config
    )
    return outcome
