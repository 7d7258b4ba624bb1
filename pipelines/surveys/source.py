"""Developer surveys as a source: form-tool CSV exports dropped in an inbox, pseudonymised at ingest
(docs/surveys.md). The loader's internals are in ``loader.py``; this wraps them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.errors import ConfigError
from pipelines.source import FileDrop, RawTable, Source, SyncOutcome, SyncRequest
from pipelines.surveys.config import SurveySourceConfig
from pipelines.surveys.loader import RAW_TABLES, file_digest, load_inbox

if TYPE_CHECKING:
    import duckdb

    from pipelines.config import Config
    from pipelines.ingest import SourceClients

DEMO_SURVEY_SALT = "platform-metrics-demo-salt"


def survey_salt(config: Config) -> str:
    survey_config = config.sources.surveys
    if survey_config.salt is not None:
        return survey_config.salt.get_secret_value()
    if config.is_demo:
        return DEMO_SURVEY_SALT
    raise ConfigError(
        "sources.surveys.salt is not set: respondent ids are hashed with it "
        "(write salt: ${SURVEY_SALT} and export SURVEY_SALT)"
    )


def drop_demo_waves(clients: SourceClients, inbox: Path) -> None:
    """Put the demo organisation's survey exports in the inbox, once per wave."""
    for wave in clients.demo_organisation.survey_waves:
        if (inbox / "processed" / f"{wave.name}.csv").exists():
            continue
        (inbox / f"{wave.name}.csv").write_text(wave.csv_text, encoding="utf-8")
        invited = "".join(f"  {team}: {n}\n" for team, n in sorted(wave.invited.items()))
        (inbox / f"{wave.name}.invited.yaml").write_text(f"invited:\n{invited}", encoding="utf-8")


def _sync(con: duckdb.DuckDBPyConnection, request: SyncRequest) -> SyncOutcome:
    config = request.clients.config
    survey_config = config.sources.surveys
    inbox = Path(survey_config.inbox)
    inbox.mkdir(parents=True, exist_ok=True)
    salt = survey_salt(config)
    if config.is_demo:
        drop_demo_waves(request.clients, inbox)
    loaded, rejected = load_inbox(
        con,
        inbox,
        salt=salt,
        teams={t.name for t in config.teams},
        form_format=survey_config.format,
        columns=dict(survey_config.columns),
    )
    return SyncOutcome(
        metadata={
            "files_loaded": [f.path.name for f in loaded],
            "files_rejected": [str(p) for p, _ in rejected],
        },
        errors=[f"survey file rejected: {reason} (moved to {path})" for path, reason in rejected],
    )


SOURCE = Source(
    name="surveys",
    description="Developer-survey exports (Google Forms, Microsoft Forms, Typeform, custom CSV).",
    config_key="surveys",
    config_model=SurveySourceConfig,
    many=False,
    raw_tables=tuple(RawTable(t, "Survey answers, pseudonymised at ingest.") for t in RAW_TABLES),
    sync=_sync,
    path_fields=("inbox",),
    file_drop=FileDrop(
        job="survey_ingest",
        sensor="survey_inbox",
        folder=lambda config: Path(config.sources.surveys.inbox),
        pattern="*.csv",
        digest=file_digest,
        what="survey exports",
        run_key_prefix="survey",
    ),
)
