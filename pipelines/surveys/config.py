"""The ``sources.surveys`` section (docs/surveys.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from pipelines.config_model import ConfigModel as _Model

SurveyFormat = Literal["google_forms", "microsoft_forms", "typeform", "custom"]


class SurveySourceConfig(_Model):
    inbox: Path = Path("build/surveys/inbox")
    salt: SecretStr | None = Field(
        default=None, description="Salt for respondent hashes; use ${SURVEY_SALT}."
    )
    anonymity_threshold: int = Field(default=5, ge=3)
    format: SurveyFormat = Field(
        default="google_forms", description="The form tool the CSV comes from (its column names)."
    )
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="Extra header -> role: respondent, team, timestamp, tenure, role, drop, or an "
        "item id; overrides the format's defaults.",
    )
