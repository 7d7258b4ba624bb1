"""The ``sources.gitlab[]`` section: one GitLab instance (gitlab.com or self-managed)."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator

from pipelines.config_model import ConfigModel as _Model
from pipelines.config_model import HttpUrl


class GitLabSourceConfig(_Model):
    name: str = "gitlab"
    base_url: HttpUrl = Field(
        default="https://gitlab.com",
        description="The instance's address (the API is under <base_url>/api/v4).",
    )
    token: SecretStr | None = Field(
        default=None, description="A token with read_api, sent as PRIVATE-TOKEN."
    )
    groups: list[str] = Field(
        default_factory=list,
        description="Groups (full path or id) whose projects are synced, subgroups included.",
    )
    projects: list[str] = Field(
        default_factory=list, description="Projects (path with namespace, or id) to sync."
    )
    include_subgroups: bool = True
    include_archived: bool = False
    backfill_days: int = Field(default=365, ge=1)
    per_page: int = Field(default=100, ge=1, le=100)
    jobs: bool = Field(default=True, description="Read each pipeline's jobs (one request each).")
    timeout_seconds: float = Field(default=30.0, gt=0)
    max_retries: int = Field(default=5, ge=0, le=20)

    @model_validator(mode="after")
    def _something_to_sync(self) -> GitLabSourceConfig:
        if not self.groups and not self.projects:
            raise ValueError("give 'groups' or 'projects' (or both)")
        return self

    @property
    def api_url(self) -> str:
        return self.base_url.rstrip("/") + "/api/v4"
