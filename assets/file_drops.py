"""File-drop sensors: for a source fed by files (surveys: form exports in an inbox), a dropped file
starts one run of the source's job, once per file content.

Each evaluation lists the source's folder. A file is identified by its content digest (the survey
loader's covers the CSV and its ``.invited.yaml``), which is the run key: Dagster never starts two runs
with the same run key, so a file is processed once even if the sensor sees it many times; re-dropping
a processed file is also a no-op in the loader itself. The cursor holds the digests of the last
evaluation so an unchanged folder requests nothing.
"""

from __future__ import annotations

import json

import dagster as dg

from pipelines.config import Config
from pipelines.source import Source


def file_drop_sensor(config: Config, source: Source, job) -> dg.SensorDefinition:
    drop = source.file_drop
    folder = drop.folder(config)

    @dg.sensor(
        name=drop.sensor,
        job=job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Load {drop.what} dropped in {folder} (each file once).",
    )
    def file_drop(context: dg.SensorEvaluationContext):
        files = sorted(folder.glob(drop.pattern)) if folder.is_dir() else []
        digests = {f.name: drop.digest(f) for f in files}
        seen = set(json.loads(context.cursor)) if context.cursor else set()
        new = {name: d for name, d in digests.items() if d not in seen}
        context.update_cursor(json.dumps(sorted(seen | set(digests.values()))[-1000:]))
        if not new:
            return dg.SkipReason(f"no new {drop.what} in {folder}")
        return [
            dg.RunRequest(
                run_key=f"{drop.run_key_prefix}:{digest}",
                tags={f"platform-metrics/{drop.run_key_prefix}-file": name},
            )
            for name, digest in sorted(new.items())
        ]

    return file_drop
