"""The ``sources.github[]`` section: one GitHub (or GitHub Enterprise) instance."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from pipelines.config_model import DEFAULT_BUILD_DIR, HttpUrl, http_url_problem
from pipelines.config_model import ConfigModel as _Model
from pipelines.errors import ConfigError


class GitHubAppConfig(_Model):
    """A GitHub App installation: its tokens are minted from a JWT signed with the App's key."""

    app_id: int = Field(ge=1)
    installation_id: int = Field(ge=1)
    private_key: SecretStr | None = Field(
        default=None, description="The App's PEM private key (from the environment)."
    )
    private_key_file: Path | None = Field(default=None, description="Or a file holding it.")

    @model_validator(mode="after")
    def _one_key(self) -> GitHubAppConfig:
        if (self.private_key is None) == (self.private_key_file is None):
            raise ValueError("give exactly one of 'private_key' or 'private_key_file'")
        return self

    def pem(self) -> str:
        if self.private_key is not None:
            return self.private_key.get_secret_value()
        path = Path(self.private_key_file or "")
        try:
            return path.read_text()
        except OSError as exc:
            raise ConfigError(
                f"sources.github[].app.private_key_file: cannot read {path} ({exc.strerror})"
            ) from None


class GitHubSourceConfig(_Model):
    name: str = "github"
    base_url: HttpUrl = "https://api.github.com"
    token: SecretStr | None = None
    # More credentials: each has its own primary and secondary limits; a sync moves to another
    # when one is spent or told to wait (pipelines/github/credentials.py).
    tokens: list[SecretStr] = Field(default_factory=list)
    app: GitHubAppConfig | None = None
    budget_reserve: int = Field(
        default=0,
        ge=0,
        description="Requests (GraphQL: points) of each credential's hourly budget a sync leaves "
        "unspent; reaching it on every credential stops the sync cleanly until the reset.",
    )
    workflow_jobs_sample_per_week: int | None = Field(
        default=10,
        ge=0,
        description="Workflow runs per repository and ISO week whose jobs are read for CI queue "
        "and run times (null: every run). Deployment workflows' jobs are read when a "
        "deployment job_regex needs them.",
    )
    workflow_jobs_queue_sample_per_week: int = Field(
        default=2,
        ge=0,
        description="With api: graphql, jobs come as check runs, which carry no queued-at time: "
        "this many of the runs whose jobs are read, per repository, ISO week and kind (deployment "
        "workflow or not), are read again by REST for their CI queue times (0: none).",
    )
    workflow_jobs_queue_sample_days: int | None = Field(
        default=30,
        ge=1,
        description="Only runs created in this many newest days get the REST queue-time sample "
        "(null: any age, also during the backfill).",
    )
    organisations: list[str] = Field(default_factory=list)
    repositories: list[str] = Field(default_factory=list)
    backfill_days: int = Field(default=365, ge=1)
    initial_window_days: int = Field(
        default=30,
        ge=1,
        description="The first sync of a repository reads only this many newest days, so the "
        "first build and publish come early; later runs walk back to backfill_days.",
    )
    backfill_step_days: int = Field(
        default=90,
        ge=1,
        description="How many older days each later run adds per repository and entity until "
        "backfill_days is reached.",
    )
    per_page: int = Field(default=100, ge=1, le=100)
    api: Literal["graphql", "rest"] = Field(
        default="graphql",
        description="Pull requests, deployments and workflow jobs through GraphQL (bulk) or REST "
        "(per item).",
    )
    timeout_seconds: float = Field(default=30.0, gt=0)
    max_retries: int = Field(default=5, ge=0, le=20)
    # Discovery filters; they apply to repositories found in 'organisations', not to 'repositories'.
    include_archived: bool = False
    include_forks: bool = False
    repository_regex: str | None = Field(
        default=None, description="Keep discovered repositories whose owner/name matches (search)."
    )
    topics: list[str] = Field(
        default_factory=list, description="Keep discovered repositories with any of these topics."
    )
    # Default-branch commits from a bare partial clone instead of the API ("*" for every one).
    commits_from_git: list[str] = Field(default_factory=list)
    git_clone_url: str | None = Field(
        default=None,
        description="Clone URL template with {repository}; default derived from base_url.",
    )
    git_dir: Path = Field(
        default=DEFAULT_BUILD_DIR / "git", description="Where the bare clones are kept."
    )

    @field_validator("repository_regex")
    @classmethod
    def _valid_repository_regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression ({exc})") from None
        return value

    @field_validator("git_clone_url")
    @classmethod
    def _clone_url_names_the_repository(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if "{repository}" not in value:
            raise ValueError("must contain {repository}, e.g. https://github.com/{repository}.git")
        scheme = urlsplit(value).scheme
        if scheme not in ("https", "http", "file"):
            raise ValueError(
                f"must be an https:// (or http://, file://) URL template (got {value!r})"
            )
        problem = http_url_problem(value) if scheme != "file" else None
        if problem:
            raise ValueError(f"{problem} (got {value!r})")
        return value

    @model_validator(mode="after")
    def _something_to_sync(self) -> GitHubSourceConfig:
        if not self.organisations and not self.repositories:
            raise ValueError("give 'organisations' or 'repositories' (or both)")
        return self

    def clones_commits(self, repository: str) -> bool:
        """True when ``repository``'s default-branch commits come from git rather than the API."""
        return "*" in self.commits_from_git or repository in self.commits_from_git

    def clone_url(self, repository: str) -> str:
        """Where to clone ``repository`` from: the template, or github.com / the Enterprise host."""
        if self.git_clone_url:
            return self.git_clone_url.format(repository=repository)
        base = self.base_url.rstrip("/")
        if base == "https://api.github.com":
            host = "https://github.com"
        else:
            host = base.removesuffix("/api/v3")
        return f"{host}/{repository}.git"
