"""The ``sources.pagerduty[]`` section."""

from __future__ import annotations

from pydantic import Field, SecretStr

from pipelines.config_model import ConfigModel as _Model
from pipelines.config_model import HttpUrl


class PagerDutySourceConfig(_Model):
    name: str = "pagerduty"
    base_url: HttpUrl = "https://api.pagerduty.com"
    token: SecretStr | None = None
    service_ids: list[str] = Field(default_factory=list)
    backfill_days: int = Field(default=365, ge=1)
    timeout_seconds: float = Field(default=30.0, gt=0)
    max_retries: int = Field(default=5, ge=0, le=20)
    log_entries: bool = Field(
        default=True,
        description="Read each acknowledged/resolved incident's log entries for ack/resolve times.",
    )
