"""The survey inbox sensor: a dropped export starts one ``survey_ingest`` run, once per file content.

Each evaluation lists ``<inbox>/*.csv``. A file is identified by its content hash (CSV and its
``.invited.yaml``), which is the run key: Dagster never starts two runs with the same run key, so a
file is processed once even if the sensor sees it many times; re-dropping a processed file is also a
no-op in the loader itself. The cursor holds the hashes of the last evaluation so an unchanged inbox
requests nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg

from pipelines.config import Config
from pipelines.surveys.loader import file_digest

SURVEY_ASSET = "surveys"
SURVEY_JOB = "survey_ingest"


def survey_inbox_sensor(config: Config, job) -> dg.SensorDefinition:
    inbox = Path(config.sources.surveys.inbox)

    @dg.sensor(
        name="survey_inbox",
        job=job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Load survey exports dropped in {inbox} (each file once).",
    )
    def survey_inbox(context: dg.SensorEvaluationContext):
        files = sorted(inbox.glob("*.csv")) if inbox.is_dir() else []
        digests = {f.name: file_digest(f) for f in files}
        seen = set(json.loads(context.cursor)) if context.cursor else set()
        new = {name: d for name, d in digests.items() if d not in seen}
        context.update_cursor(json.dumps(sorted(seen | set(digests.values()))[-1000:]))
        if not new:
            return dg.SkipReason(f"no new survey file in {inbox}")
        return [
            dg.RunRequest(run_key=f"survey:{digest}", tags={"platform-metrics/survey-file": name})
            for name, digest in sorted(new.items())
        ]

    return survey_inbox
