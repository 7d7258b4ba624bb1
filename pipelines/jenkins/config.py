"""The ``sources.jenkins[]`` section: one Jenkins controller."""

from __future__ import annotations

import re

from pydantic import Field, SecretStr, field_validator, model_validator

from pipelines.config_model import ConfigModel as _Model
from pipelines.config_model import HttpUrl


class JenkinsSourceConfig(_Model):
    name: str = "jenkins"
    base_url: HttpUrl = Field(
        description="The controller's address, e.g. https://jenkins.example.com (the JSON API is "
        "<job URL>/api/json)."
    )
    user: str | None = Field(
        default=None, description="The Jenkins user the API token belongs to (basic auth)."
    )
    token: SecretStr | None = Field(
        default=None, description="That user's API token (basic auth password)."
    )
    jobs: list[str] = Field(
        default_factory=list,
        description="Jobs by full name (folder/sub/job). A folder or multibranch pipeline named "
        "here is walked like one of `folders`.",
    )
    folders: list[str] = Field(
        default_factory=list,
        description="Folders (full name; '' or '/' for the whole controller) whose jobs are read, "
        "sub-folders and multibranch pipelines included.",
    )
    deployment_job_regex: str | None = Field(
        default=None,
        description="Builds of jobs whose full name matches (Python `re.search`) are deployments.",
    )
    deployment_environment: str = Field(
        default="production", description="The environment those deployments go to."
    )
    builds_per_request: int = Field(default=100, ge=1, le=1000)
    max_builds_per_job: int = Field(
        default=1000, ge=1, description="How many of a job's newest builds the first sync reads."
    )
    timeout_seconds: float = Field(default=30.0, gt=0)
    max_retries: int = Field(default=5, ge=0, le=20)

    @field_validator("deployment_job_regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression ({exc})") from None
        return value

    @model_validator(mode="after")
    def _something_to_sync(self) -> JenkinsSourceConfig:
        if not self.jobs and not self.folders:
            raise ValueError("give 'jobs' or 'folders' (or both)")
        if (self.user is None) != (self.token is None):
            raise ValueError("give both 'user' and 'token', or neither (anonymous read)")
        return self

    def is_deployment_job(self, full_name: str) -> bool:
        return bool(self.deployment_job_regex and re.search(self.deployment_job_regex, full_name))
