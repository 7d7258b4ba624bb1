"""The organisation's configuration: one YAML file, validated once, with errors that name the key.

Secrets are written as ``${ENV_VAR}`` (or ``${ENV_VAR:-default}``) and resolved at load time; an unset
variable is an error naming the key that needs it. With no file, the embedded demo organisation's
configuration is used (``pipelines/demo/organisation.yaml``).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import zoneinfo
from pathlib import Path
from typing import Annotated, Any, Literal

import duckdb
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from pipelines.errors import ConfigError

DEMO_CONFIG_PATH = Path(__file__).parent / "demo" / "organisation.yaml"
CONFIG_ENV_VAR = "PLATFORM_METRICS_CONFIG"
WAREHOUSE_ENV_VAR = "PLATFORM_METRICS_WAREHOUSE"
DEFAULT_BUILD_DIR = Path("build")

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class _Model(BaseModel):
    # Unknown keys are errors: a typo must not silently fall back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_regex(value: str | None) -> str | None:
    """The regexes run in DuckDB (RE2 syntax: no look-around, no back-references); check them there."""
    if value is None:
        return value
    try:
        re.compile(value)
        duckdb.execute("SELECT regexp_matches('', ?)", [value]).fetchall()
    except (re.error, duckdb.Error) as exc:
        reason = str(exc).splitlines()[0]
        raise ValueError(f"not a valid RE2 regular expression ({reason})") from None
    return value


Regex = Annotated[str, Field(min_length=1)]


def _no_duplicates(what: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"{what}: {name!r} appears twice")
        seen.add(name)


class OrganisationConfig(_Model):
    name: str = Field(min_length=1)
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(  # noqa: B904 - pydantic reports the message, not the chain
                f"unknown time zone {value!r} (use an IANA name such as Europe/Berlin)"
            )
        return value


class TeamConfig(_Model):
    name: str = Field(min_length=1)
    engineers: int = Field(ge=0, description="Headcount, for per-engineer load signals.")
    on_call: int = Field(default=0, ge=0)


class ServiceConfig(_Model):
    name: str = Field(min_length=1)
    team: str
    repositories: list[str] = Field(default_factory=list)
    pagerduty_services: list[str] = Field(default_factory=list)
    tier: Literal["critical", "standard", "internal"] = "standard"

    @field_validator("repositories")
    @classmethod
    def _owner_slash_name(cls, value: list[str]) -> list[str]:
        for repo in value:
            if not re.fullmatch(r"[\w.-]+/[\w.-]+", repo):
                raise ValueError(f"repository {repo!r} is not of the form owner/name")
        return value


class GitHubSourceConfig(_Model):
    name: str = "github"
    base_url: str = "https://api.github.com"
    token: SecretStr | None = None
    organisations: list[str] = Field(default_factory=list)
    repositories: list[str] = Field(default_factory=list)
    backfill_days: int = Field(default=365, ge=1)
    per_page: int = Field(default=100, ge=1, le=100)
    timeout_seconds: float = Field(default=30.0, gt=0)
    max_retries: int = Field(default=5, ge=0, le=20)

    @model_validator(mode="after")
    def _something_to_sync(self) -> GitHubSourceConfig:
        if not self.organisations and not self.repositories:
            raise ValueError("give 'organisations' or 'repositories' (or both)")
        return self


class PagerDutySourceConfig(_Model):
    name: str = "pagerduty"
    base_url: str = "https://api.pagerduty.com"
    token: SecretStr | None = None
    service_ids: list[str] = Field(default_factory=list)
    backfill_days: int = Field(default=365, ge=1)
    timeout_seconds: float = Field(default=30.0, gt=0)
    max_retries: int = Field(default=5, ge=0, le=20)


class SurveySourceConfig(_Model):
    inbox: Path = Path("build/surveys/inbox")
    salt: SecretStr | None = Field(
        default=None, description="Salt for respondent hashes; use ${SURVEY_SALT}."
    )
    anonymity_threshold: int = Field(default=5, ge=3)


class SourcesConfig(_Model):
    github: list[GitHubSourceConfig] = Field(default_factory=list)
    pagerduty: list[PagerDutySourceConfig] = Field(default_factory=list)
    surveys: SurveySourceConfig | None = None

    @model_validator(mode="after")
    def _distinct_names(self) -> SourcesConfig:
        # Rows and cursors are keyed by source name: two instances must not share one.
        _no_duplicates("sources.github names", [s.name for s in self.github])
        _no_duplicates("sources.pagerduty names", [s.name for s in self.pagerduty])
        return self


class DeploymentDefinition(_Model):
    environment_regex: Regex = r"^prod(uction)?$"
    workflow_regex: Regex = r"(?i)deploy"
    exclude_regex: Regex = r"(?i)(health|smoke|check|preview)"
    branches: list[str] = Field(default_factory=lambda: ["main", "master"])

    _v_env = field_validator("environment_regex", "workflow_regex", "exclude_regex")(
        classmethod(lambda cls, v: _check_regex(v))
    )


class MetricDefinitions(_Model):
    deployment: DeploymentDefinition = DeploymentDefinition()
    lead_time_start: Literal["first_commit", "pr_opened"] = "first_commit"
    incident_window_hours: float = Field(default=24.0, gt=0)
    bot_authors_regex: Regex = r"(?i)(\[bot\]$|^dependabot|^renovate)"
    min_sample: int = Field(default=5, ge=1)
    benchmark: Literal["dora_2024", "dora_2023", "dora_2021"] = "dora_2024"

    _v_bots = field_validator("bot_authors_regex")(classmethod(lambda cls, v: _check_regex(v)))


class SchedulesConfig(_Model):
    refresh_cron: str = "0 5 * * *"
    weekly_report_cron: str = "0 7 * * 1"
    monthly_report_cron: str = "0 7 1 * *"

    @field_validator("refresh_cron", "weekly_report_cron", "monthly_report_cron")
    @classmethod
    def _five_fields(cls, value: str) -> str:
        if len(value.split()) != 5:
            raise ValueError(f"{value!r} is not a five-field cron expression")
        return value


class PublishConfig(_Model):
    site_dir: Path = DEFAULT_BUILD_DIR / "site"
    snapshot_dir: Path = DEFAULT_BUILD_DIR / "snapshot"
    keep_copies: int = Field(default=14, ge=1)


class WarehouseConfig(_Model):
    path: Path | None = Field(
        default=None,
        description=f"DuckDB file; default ${WAREHOUSE_ENV_VAR} or build/warehouse.duckdb.",
    )


class DemoConfig(_Model):
    """Present only in the demo organisation: sources are served by the in-process fake API."""

    seed: int = 42
    end_date: dt.date | None = Field(
        default=None, description="Last day of history; default today."
    )
    months: int = Field(default=12, ge=1, le=120)
    activity: float = Field(default=1.0, gt=0, le=50, description="Scales PRs per repository.")


class Config(_Model):
    organisation: OrganisationConfig
    teams: list[TeamConfig] = Field(min_length=1)
    services: list[ServiceConfig] = Field(min_length=1)
    sources: SourcesConfig = SourcesConfig()
    metrics: MetricDefinitions = MetricDefinitions()
    schedules: SchedulesConfig = SchedulesConfig()
    publish: PublishConfig = PublishConfig()
    warehouse: WarehouseConfig = WarehouseConfig()
    demo: DemoConfig | None = None

    @model_validator(mode="after")
    def _cross_references(self) -> Config:
        teams = [t.name for t in self.teams]
        _no_duplicates("teams", teams)
        _no_duplicates("services", [s.name for s in self.services])
        for i, service in enumerate(self.services):
            if service.team not in teams:
                raise ValueError(
                    f"services[{i}].team: {service.team!r} is not one of the teams {sorted(teams)}"
                )
        repos = [r for s in self.services for r in s.repositories]
        _no_duplicates("repositories (each maps to one service)", repos)
        return self

    # --- derived views -------------------------------------------------------------------------
    @property
    def is_demo(self) -> bool:
        return self.demo is not None

    def repository_service(self) -> dict[str, ServiceConfig]:
        return {repo: s for s in self.services for repo in s.repositories}

    def warehouse_path(self) -> Path:
        if self.warehouse.path is not None:
            return self.warehouse.path
        return Path(os.environ.get(WAREHOUSE_ENV_VAR) or DEFAULT_BUILD_DIR / "warehouse.duckdb")


# --- loading -------------------------------------------------------------------------------------


def load_config(path: str | Path | None = None) -> Config:
    """Load and validate a configuration file; with no path, ``$PLATFORM_METRICS_CONFIG`` or the demo."""
    if path is None:
        path = os.environ.get(CONFIG_ENV_VAR) or DEMO_CONFIG_PATH
    path = Path(path)
    label = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{label}: configuration file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{label}: is a folder; give the path of a YAML file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{label}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return parse_config(
        text, label=label, base_dir=None if path == DEMO_CONFIG_PATH else path.parent
    )


def parse_config(text: str, *, label: str = "<config>", base_dir: Path | None = None) -> Config:
    """Validate configuration text. Relative paths resolve against ``base_dir`` (the file's folder)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{label}: {where}malformed YAML ({problem})") from None
    if data is None:
        raise ConfigError(
            f"{label}: the file is empty; expected a mapping with 'organisation', 'teams', 'services'"
        )
    if not isinstance(data, dict):
        raise ConfigError(
            f"{label}: expected a mapping at the top level, found {type(data).__name__}"
        )
    data = _resolve_env(data, label=label, path=())
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{label}: {_describe(exc)}") from None
    return _resolve_paths(config, base_dir) if base_dir is not None else config


def _resolve_env(node: Any, *, label: str, path: tuple[str | int, ...]) -> Any:
    if isinstance(node, dict):
        return {k: _resolve_env(v, label=label, path=(*path, k)) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve_env(v, label=label, path=(*path, i)) for i, v in enumerate(node)]
    if isinstance(node, str):

        def substitute(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            value = os.environ.get(name)
            if value is None or value == "":
                if default is not None:
                    return default
                raise ConfigError(
                    f"{label}: {_dotted(path)}: environment variable {name} is not set "
                    f"(export {name}=... or write ${{{name}:-default}})"
                )
            return value

        return _ENV_REF.sub(substitute, node)
    return node


def _dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _describe(exc: ValidationError) -> str:
    messages = []
    for error in exc.errors():
        loc = _dotted(tuple(error["loc"]))
        if error["type"] == "extra_forbidden":
            msg = "unknown key (check its spelling; see docs/configuration.md)"
        elif error["type"] == "missing":
            msg = "required key is missing"
        else:
            msg = error["msg"].removeprefix("Value error, ")
            if error["type"] not in ("value_error", "assertion_error") and "input" in error:
                msg += f" (got {error['input']!r})" if not isinstance(error["input"], dict) else ""
        messages.append(f"{loc}: {msg}" if loc != "(top level)" else msg)
    return "; ".join(messages)


def _resolve_paths(config: Config, base_dir: Path) -> Config:
    """Paths written in the file are relative to the file's folder; defaults stay under ./build."""

    def rel(p: Path) -> Path:
        return p if p.is_absolute() else base_dir / p

    updates: dict[str, Any] = {}
    publish = config.publish
    updates["publish"] = publish.model_copy(
        update={
            k: rel(getattr(publish, k))
            for k in publish.model_fields_set & {"site_dir", "snapshot_dir"}
        }
    )
    if config.warehouse.path is not None:
        updates["warehouse"] = WarehouseConfig(path=rel(config.warehouse.path))
    surveys = config.sources.surveys
    if surveys is not None and "inbox" in surveys.model_fields_set:
        surveys = surveys.model_copy(update={"inbox": rel(surveys.inbox)})
        updates["sources"] = config.sources.model_copy(update={"surveys": surveys})
    return config.model_copy(update=updates)
