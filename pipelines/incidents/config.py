"""The ``sources.opsgenie[]``, ``sources.statuspage[]`` and ``sources.incident_files[]`` sections
(docs/sources/incidents.md). ``service_map`` maps what the source calls a service to a service of
this config."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator

from pipelines.config_model import ConfigModel as _Model
from pipelines.config_model import HttpUrl, ServiceMap


class OpsgenieSourceConfig(_Model):
    name: str = "opsgenie"
    base_url: HttpUrl = "https://api.opsgenie.com"
    api_key: SecretStr | None = Field(
        default=None, description="Sent as GenieKey; ${OPSGENIE_KEY}."
    )
    query: str = Field(default="", description="Opsgenie search query, e.g. 'priority: P1'.")
    backfill_days: int = Field(default=365, ge=1)
    timeout_seconds: float = Field(default=30.0, gt=0)
    max_retries: int = Field(default=5, ge=0, le=20)
    service_map: ServiceMap = Field(default_factory=dict)


class StatuspageSourceConfig(_Model):
    name: str = "statuspage"
    base_url: HttpUrl = Field(
        description="The page, e.g. https://www.githubstatus.com (public) or "
        "https://api.statuspage.io/v1/pages/<page id> (private, with api_key)."
    )
    api_key: SecretStr | None = Field(
        default=None, description="For a private page: sent as 'Authorization: OAuth <key>'."
    )
    timeout_seconds: float = Field(default=30.0, gt=0)
    max_retries: int = Field(default=5, ge=0, le=20)
    service_map: ServiceMap = Field(default_factory=dict)


class IncidentFileSourceConfig(_Model):
    """Incidents exported from ServiceNow, Jira or a spreadsheet (CSV or JSON Lines)."""

    name: str = Field(min_length=1)
    path: Path = Field(
        description="A .csv/.jsonl file or a folder of them; relative to the config."
    )
    columns: dict[str, str] = Field(
        description="Unified field -> column of the file: id, started_at (required), title, service,"
        " severity, detected_at, acknowledged_at, resolved_at, url, deployment_id, commit_sha,"
        " revert_pr."
    )
    service_map: ServiceMap = Field(default_factory=dict)

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, value: dict[str, str]) -> dict[str, str]:
        known = {
            "id", "title", "service", "severity", "started_at", "detected_at", "acknowledged_at",
            "resolved_at", "url", "deployment_id", "commit_sha", "revert_pr",
        }  # fmt: skip
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"unknown fields {unknown}; use some of {sorted(known)}")
        missing = sorted({"id", "started_at"} - set(value))
        if missing:
            raise ValueError(f"missing required fields {missing}")
        return value
