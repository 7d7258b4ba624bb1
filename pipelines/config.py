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
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

import duckdb
from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from pipelines import sources as source_registry
from pipelines.config_model import DEFAULT_BUILD_DIR
from pipelines.config_model import ConfigModel as _Model
from pipelines.config_model import http_url_problem as http_url_problem
from pipelines.errors import ConfigError

# The source packages own their config models; these names stay importable from here.
from pipelines.github.config import GitHubAppConfig as GitHubAppConfig
from pipelines.github.config import GitHubSourceConfig as GitHubSourceConfig
from pipelines.incidents.config import IncidentFileSourceConfig as IncidentFileSourceConfig
from pipelines.incidents.config import OpsgenieSourceConfig as OpsgenieSourceConfig
from pipelines.incidents.config import StatuspageSourceConfig as StatuspageSourceConfig
from pipelines.pagerduty.config import PagerDutySourceConfig as PagerDutySourceConfig
from pipelines.source import Source
from pipelines.surveys.config import SurveySourceConfig as SurveySourceConfig
from pipelines.yaml_safe import MAX_BYTES as MAX_YAML_BYTES
from pipelines.yaml_safe import load_yaml

DEMO_CONFIG_PATH = Path(__file__).parent / "demo" / "organisation.yaml"
CONFIG_ENV_VAR = "PLATFORM_METRICS_CONFIG"
WAREHOUSE_ENV_VAR = "PLATFORM_METRICS_WAREHOUSE"

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


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
            # GitLab projects sit in nested groups: group/subgroup/project.
            if not re.fullmatch(r"[\w.-]+(/[\w.-]+)+", repo):
                raise ValueError(
                    f"repository {repo!r} is not of the form owner/name "
                    "(GitLab: group/subgroup/project)"
                )
        return value


class _SourcesBase(_Model):
    @model_validator(mode="after")
    def _distinct_names(self) -> _SourcesBase:
        # Rows and cursors are keyed by source name: two instances must not share one.
        for key, value in self:
            if isinstance(value, list):
                _no_duplicates(f"sources.{key} names", [s.name for s in value])
        return self


def sources_model(sources: tuple[Source, ...]) -> type[BaseModel]:
    """The ``sources:`` section, one key per registered source with a config model: a list of
    instances, or (``many=False``) one optional mapping."""
    fields: dict[str, Any] = {}
    for source in sources:
        if source.config_key is None:
            continue
        if source.many:
            fields[source.config_key] = (list[source.config_model], Field(default_factory=list))
        else:
            fields[source.config_key] = (source.config_model | None, None)
    return create_model("SourcesConfig", __base__=_SourcesBase, **fields)


SourcesConfig = sources_model(source_registry.BUILTIN_SOURCES)


DeploymentSource = Literal["github_deployments", "actions", "releases", "tags"]
FailureCause = Literal["failed_deploy", "rollback", "incident", "revert", "hotfix"]
ReworkCause = Literal["hotfix", "revert", "incident_linked", "rollback"]
_DEPLOYMENT_REGEXES = (
    "environment_regex",
    "workflow_regex",
    "job_regex",
    "exclude_regex",
    "tag_regex",
)


class DeploymentDefinition(_Model):
    sources: list[DeploymentSource] = Field(
        default_factory=lambda: ["github_deployments", "actions"], min_length=1
    )
    environment_regex: Regex = r"^prod(uction)?$"
    workflow_regex: Regex = r"(?i)deploy"
    job_regex: Regex | None = None
    exclude_regex: Regex = r"(?i)(health|smoke|check|preview)"
    branches: list[str] = Field(default_factory=lambda: ["main", "master"])
    tag_regex: Regex = r"^v?[0-9]+[.][0-9]+[.][0-9]+$"
    success_statuses: list[str] = Field(default_factory=lambda: ["success"], min_length=1)
    failure_statuses: list[str] = Field(
        default_factory=lambda: ["failure", "error", "timed_out", "startup_failure"]
    )

    _v_env = field_validator(*_DEPLOYMENT_REGEXES)(classmethod(lambda cls, v: _check_regex(v)))


class DeploymentOverride(_Model):
    """Per-service deployment keys; an absent key keeps the organisation-wide value."""

    sources: list[DeploymentSource] | None = Field(default=None, min_length=1)
    environment_regex: Regex | None = None
    workflow_regex: Regex | None = None
    job_regex: Regex | None = None
    exclude_regex: Regex | None = None
    branches: list[str] | None = None
    tag_regex: Regex | None = None
    success_statuses: list[str] | None = Field(default=None, min_length=1)
    failure_statuses: list[str] | None = None

    _v_env = field_validator(*_DEPLOYMENT_REGEXES)(classmethod(lambda cls, v: _check_regex(v)))


class ServiceMetricOverrides(_Model):
    """The metric definitions one service overrides (``metrics.services.<service>``)."""

    deployment: DeploymentOverride = DeploymentOverride()
    lead_time_start: Literal["first_commit", "pr_opened"] | None = None
    incident_window_hours: float | None = Field(default=None, gt=0)
    bot_authors_regex: Regex | None = None
    hotfix_regex: Regex | None = None
    failure_causes: list[FailureCause] | None = None
    rework_causes: list[ReworkCause] | None = None

    _v_regex = field_validator("bot_authors_regex", "hotfix_regex")(
        classmethod(lambda cls, v: _check_regex(v))
    )


class MetricDefinitions(_Model):
    deployment: DeploymentDefinition = DeploymentDefinition()
    lead_time_start: Literal["first_commit", "pr_opened"] = "first_commit"
    incident_window_hours: float = Field(default=24.0, gt=0)
    bot_authors_regex: Regex = r"(?i)(\[bot\]$|^dependabot|^renovate)"
    min_sample: int = Field(default=5, ge=1)
    benchmark: Literal["dora_2024", "dora_2023", "dora_2021"] = "dora_2024"
    hotfix_regex: Regex = r"(?i)hotfix"
    failure_causes: list[FailureCause] = Field(
        default_factory=lambda: ["failed_deploy", "rollback", "incident", "revert", "hotfix"]
    )
    rework_causes: list[ReworkCause] = Field(
        default_factory=lambda: ["hotfix", "revert", "incident_linked", "rollback"]
    )
    incident_label: str = Field(default="incident", min_length=1)
    rolling_lookback_days: int = Field(default=60, ge=28)
    services: dict[str, ServiceMetricOverrides] = Field(default_factory=dict)

    _v_bots = field_validator("bot_authors_regex", "hotfix_regex")(
        classmethod(lambda cls, v: _check_regex(v))
    )


class SchedulesConfig(_Model):
    refresh_cron: str = "0 5 * * *"
    weekly_report_cron: str = "0 7 * * 1"
    monthly_report_cron: str = "0 7 1 * *"

    @field_validator("refresh_cron", "weekly_report_cron", "monthly_report_cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        problem = _cron_problem(value)
        if problem:
            raise ValueError(f"{value!r} is {problem}")
        return value


class WebhookConfig(_Model):
    """Slack or Microsoft Teams incoming webhook for the leadership report (docs/reports.md)."""

    url: SecretStr = Field(description="The incoming-webhook URL; a secret: use ${ENV_VAR}.")
    kind: Literal["slack", "teams"] = "slack"

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: SecretStr) -> SecretStr:
        # The URL is the secret: say what is wrong with it without repeating it.
        problem = http_url_problem(value.get_secret_value())
        if problem:
            raise ValueError(f"{problem} (the value is not shown: it is a secret)")
        return value

    max_retries: int = Field(default=3, ge=0, le=10)
    required: bool = Field(
        default=False, description="True: a webhook that gives up fails the report run."
    )


class AlertingConfig(_Model):
    """Thresholds of the generated Prometheus alerting rules (docs/prometheus.md#alerting-rules)."""

    baseline_days: int = Field(
        default=28, ge=7, le=180, description="Trailing window a metric is compared with."
    )
    deployment_drop_factor: float = Field(
        default=0.5,
        gt=0,
        lt=1,
        description="Alert when weekly deployments fall below this x baseline.",
    )
    lead_time_rise_factor: float = Field(
        default=1.5, gt=1, description="Alert when lead time p50 rises past this x baseline."
    )
    recovery_time_rise_factor: float = Field(
        default=1.5, gt=1, description="Alert when recovery time p50 rises past this x baseline."
    )
    change_failure_ratio_max: float = Field(
        default=0.15, gt=0, lt=1, description="Alert when the monthly change failure rate is above."
    )
    stale_after_hours: float = Field(
        default=48, gt=0, description="Alert when a source or the snapshot is older than this."
    )
    slo_burn_rate_max: float = Field(
        default=6, gt=0, description="Alert when an SLO burns its budget faster than this."
    )
    # Sample-size guards: a median of two incidents or a rate over three deployments is noise, and
    # an alert on it teaches people to ignore the channel.
    min_weekly_deployments_baseline: float = Field(
        default=4,
        ge=0,
        description="Deployment-drop alert only where the baseline averages at least this a week.",
    )
    min_changes_for_lead_time: int = Field(
        default=5,
        ge=0,
        description="Lead-time alert only for a week with at least this many changes.",
    )
    min_incidents_for_recovery_time: int = Field(
        default=3,
        ge=0,
        description="Recovery-time alert only for a week with at least this many incidents.",
    )
    min_deployments_for_failure_rate: int = Field(
        default=10,
        ge=0,
        description="Change-failure-rate alert only for a month with at least this many deployments.",
    )


class PublishConfig(_Model):
    site_dir: Path = DEFAULT_BUILD_DIR / "site"
    snapshot_dir: Path = DEFAULT_BUILD_DIR / "snapshot"
    keep_copies: int = Field(default=14, ge=1)
    site_url: str | None = Field(
        default=None, description="Where readers open the site; the report summary links to it."
    )
    webhook: WebhookConfig | None = None
    alerting: AlertingConfig = AlertingConfig()
    chromium_path: Path | None = Field(
        default=None,
        description="Chrome, Chromium or Edge for the PDF and chart images; unset: found on PATH.",
    )


class WarehouseConfig(_Model):
    path: Path | None = Field(
        default=None,
        description=f"DuckDB file; default ${WAREHOUSE_ENV_VAR} or build/warehouse.duckdb.",
    )
    incremental_lookback_days: int = Field(
        default=3,
        ge=0,
        description="Incremental dbt models re-read raw rows fetched this many days before the "
        "newest they hold (rows a slower sync committed late).",
    )


# Each cron field's range; month and weekday names as cron writes them (JAN, MON).
_CRON_FIELDS = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),
)
_CRON_NAMES = {
    3: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
    4: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
}
_CRON_PART = re.compile(r"^(\*|([0-9A-Za-z]+)(?:-([0-9A-Za-z]+))?)(?:/([0-9]+))?$")


def _cron_problem(value: str) -> str | None:
    """Why ``value`` is not a five-field cron expression a schedule can run, or None."""
    fields = value.split()
    if len(fields) != 5:
        return "not a five-field cron expression"
    for i, (text, (what, low, high)) in enumerate(zip(fields, _CRON_FIELDS, strict=True)):
        names = _CRON_NAMES.get(i, [])
        for part in text.split(","):
            match = _CRON_PART.match(part)
            if match is None or match.group(4) == "0":
                return f"not a valid cron expression ({what} {text!r})"
            for bound in (match.group(2), match.group(3)):
                if bound is None:
                    continue
                if bound.upper() in names:
                    continue
                if not bound.isdigit() or not low <= int(bound) <= high:
                    return f"not a valid cron expression ({what} {bound!r} is not in {low}-{high})"
    return None


class SparkConfig(_Model):
    """dbt on a local Spark session, as the Dagster job ``spark_build`` runs it
    (docs/scaling.md#dbt-on-spark). Absent: no Spark job."""

    raw_parquet: Path = Field(
        default=DEFAULT_BUILD_DIR / "raw-parquet",
        description="The raw layer's Parquet export, replaced whole by each run.",
    )
    dir: Path = Field(
        default=DEFAULT_BUILD_DIR / "spark",
        description="The Spark session's metastore, tables and scratch files.",
    )
    cron: str | None = Field(
        default=None, description="When the spark_build schedule runs the job; unset: no schedule."
    )
    command: Literal["build", "run"] = "build"

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        problem = None if value is None else _cron_problem(value)
        if problem:
            raise ValueError(f"{value!r} is {problem}")
        return value


class DemoConfig(_Model):
    """Present only in the demo organisation: sources are served by the in-process fake API."""

    seed: int = 42
    end_date: dt.date | None = Field(
        default=None, description="Last day of history; default today."
    )
    months: int = Field(default=12, ge=1, le=120)
    activity: float = Field(default=1.0, gt=0, le=50, description="Scales PRs per repository.")


# --- platform value (docs/metrics.md#platform-value) -----------------------------------------------

PlatformTask = Literal[
    "change_lead_time",
    "merge_to_deploy_time",
    "ci_queue_time",
    "deployment_duration",
    "survey_friction",
]


class PlatformCapability(_Model):
    """What "using the platform" means, detected by exactly one rule: a workflow or a topic."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="Letters, digits, _ . -")
    description: str = ""
    workflow_regex: Regex | None = Field(
        default=None,
        description="Matches an Actions run's owner/name/<path> or a referenced workflow's path.",
    )
    topic: str | None = Field(
        default=None, pattern=r"^[a-z0-9][a-z0-9-]{0,49}$", description="A repository topic."
    )
    golden_path: bool = Field(
        default=False, description="Deployments through this workflow are golden-path ones."
    )

    _v_regex = field_validator("workflow_regex")(classmethod(lambda cls, v: _check_regex(v)))

    @model_validator(mode="after")
    def _one_rule(self) -> PlatformCapability:
        if (self.workflow_regex is None) == (self.topic is None):
            raise ValueError("give exactly one of 'workflow_regex' or 'topic'")
        if self.golden_path and self.workflow_regex is None:
            raise ValueError("golden_path needs a 'workflow_regex' (a topic has no deployments)")
        return self


class PlatformEligibility(_Model):
    exclude_tiers: list[Literal["critical", "standard", "internal"]] = Field(default_factory=list)
    exclude_teams: list[str] = Field(default_factory=list)
    exclude_services: list[str] = Field(default_factory=list)


class PlatformSelfService(_Model):
    workflow_regex: Regex = Field(
        description="Actions workflows (by name) whose successful runs fulfil a request."
    )
    request_label: str = Field(
        min_length=1, description="Issues with this label are requests fulfilled by people."
    )

    _v_regex = field_validator("workflow_regex")(classmethod(lambda cls, v: _check_regex(v)))


class PlatformBaseline(_Model):
    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> PlatformBaseline:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class PlatformValue(_Model):
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. EUR.")
    loaded_hourly_rate: float = Field(gt=0)
    attribution_factor: float = Field(ge=0, le=1)
    working_weeks_per_year: float = Field(default=46, gt=0, le=52)
    baseline: PlatformBaseline | None = None
    tasks: list[PlatformTask] = Field(
        default_factory=lambda: ["change_lead_time", "ci_queue_time", "deployment_duration"],
        min_length=1,
    )
    monthly_cost: float | None = Field(default=None, gt=0)
    investment: float | None = Field(default=None, gt=0)

    @field_validator("tasks")
    @classmethod
    def _distinct_tasks(cls, value: list[str]) -> list[str]:
        _no_duplicates("tasks", value)
        return value


class PlatformConfig(_Model):
    capabilities: list[PlatformCapability] = Field(default_factory=list)
    eligible: PlatformEligibility = PlatformEligibility()
    adoption_window_days: int = Field(default=90, ge=1, le=366)
    self_service: PlatformSelfService | None = None
    value: PlatformValue | None = None


def _check_platform_references(platform: PlatformConfig, teams: list[str], services: set[str]):
    seen: set[str] = set()
    for i, capability in enumerate(platform.capabilities):
        if capability.name in seen:
            raise ValueError(f"platform.capabilities[{i}].name: {capability.name!r} appears twice")
        seen.add(capability.name)
    for i, team in enumerate(platform.eligible.exclude_teams):
        if team not in teams:
            raise ValueError(
                f"platform.eligible.exclude_teams[{i}]: {team!r} is not one of the teams "
                f"{sorted(teams)}"
            )
    for i, service in enumerate(platform.eligible.exclude_services):
        if service not in services:
            raise ValueError(
                f"platform.eligible.exclude_services[{i}]: {service!r} is not one of the "
                f"services {sorted(services)}"
            )


# --- success scorecard (docs/metrics.md#success-scorecard) -------------------------------------------
# The measures the scorecard can show, with the scopes each accepts: dbt's seed is the registry.
SCORECARD_MEASURES_PATH = (
    Path(__file__).resolve().parents[1] / "dbt" / "seeds" / "scorecard_measures.csv"
)


def _scorecard_measures() -> dict[str, tuple[str, ...]]:
    import csv

    with SCORECARD_MEASURES_PATH.open(encoding="utf-8", newline="") as handle:
        return {row["measure"]: tuple(row["scopes"].split(",")) for row in csv.DictReader(handle)}


SCORECARD_MEASURES = _scorecard_measures()


class ScorecardMetric(_Model):
    """One success metric of the plan: a measure, its target and how the value must compare."""

    metric: str = Field(description="A measure of dbt/seeds/scorecard_measures.csv.")
    target: float = Field(description="In the measure's unit (percentages as 0-100).")
    op: Literal[">", ">=", "<", "<="] = Field(
        description="How the value must compare to the target to be met."
    )
    at_risk_within: float | None = Field(
        default=None,
        ge=0,
        description="A missed value this close to the target is 'at risk'; default 10% of |target|.",
    )
    scope: str = Field(
        default="org", description="org, or team:<name> / service:<name> for DORA measures."
    )
    label: str | None = Field(default=None, description="Shown instead of the measure's label.")

    @field_validator("metric")
    @classmethod
    def _known_measure(cls, value: str) -> str:
        if value not in SCORECARD_MEASURES:
            raise ValueError(f"{value!r} is not one of the measures {sorted(SCORECARD_MEASURES)}")
        return value

    @model_validator(mode="after")
    def _scope_allowed(self) -> ScorecardMetric:
        kind = self.scope.split(":", 1)[0]
        if self.scope != "org" and (":" not in self.scope or not self.scope.split(":", 1)[1]):
            raise ValueError(f"scope {self.scope!r} must be org, team:<name> or service:<name>")
        if kind not in SCORECARD_MEASURES[self.metric]:
            raise ValueError(
                f"scope {self.scope!r}: {self.metric} is measured for "
                f"{', '.join(SCORECARD_MEASURES[self.metric])} only"
            )
        return self


def _default_scorecard() -> list[ScorecardMetric]:
    """The platform plan's success metrics (docs/metrics.md#success-scorecard)."""
    return [
        ScorecardMetric(metric="developer_satisfaction", target=4.0, op=">"),
        ScorecardMetric(metric="survey_response_rate", target=50, op=">"),
        ScorecardMetric(metric="time_to_first_deployment", target=15, op="<"),
        ScorecardMetric(metric="platform_adoption", target=80, op=">"),
        ScorecardMetric(metric="slo_compliance", target=99, op=">"),
        ScorecardMetric(metric="policy_compliance", target=95, op=">"),
        ScorecardMetric(metric="infrastructure_change_failure_rate", target=5, op="<"),
        ScorecardMetric(metric="metrics_collection_coverage", target=80, op=">"),
    ]


def _check_scorecard_references(
    scorecard: list[ScorecardMetric], teams: list[str], services: set[str]
) -> None:
    seen: set[tuple[str, str]] = set()
    for i, entry in enumerate(scorecard):
        key = (entry.metric, entry.scope)
        if key in seen:
            raise ValueError(f"scorecard[{i}]: {entry.metric} for {entry.scope} appears twice")
        seen.add(key)
        kind, _, name = entry.scope.partition(":")
        known = {"team": set(teams), "service": services}.get(kind)
        if known is not None and name not in known:
            raise ValueError(
                f"scorecard[{i}].scope: {name!r} is not one of the {kind}s {sorted(known)}"
            )


class Config(_Model):
    organisation: OrganisationConfig
    teams: list[TeamConfig] = Field(min_length=1)
    services: list[ServiceConfig] = Field(min_length=1)
    sources: SourcesConfig = SourcesConfig()
    metrics: MetricDefinitions = MetricDefinitions()
    schedules: SchedulesConfig = SchedulesConfig()
    publish: PublishConfig = PublishConfig()
    warehouse: WarehouseConfig = WarehouseConfig()
    spark: SparkConfig | None = None
    slos: list[Path] = Field(
        default_factory=list,
        description="OpenSLO spec files or folders of them (docs/slos.md); relative to this file.",
    )
    platform: PlatformConfig | None = None
    scorecard: list[ScorecardMetric] = Field(
        default_factory=_default_scorecard,
        description="Success metrics with targets; default: the platform plan's eight.",
    )
    demo: DemoConfig | None = None
    # The file this configuration was read from (load_config), absolute; None for parsed text.
    _source_file: Path | None = PrivateAttr(default=None)

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
        services = {s.name for s in self.services}
        for source in source_registry.all_sources():
            if source.service_map_field is None:
                continue
            for i, instance in enumerate(source.instances(self)):
                where = f"sources.{source.config_key}" + (f"[{i}]" if source.many else "")
                for key, name in getattr(instance, source.service_map_field).items():
                    if name not in services:
                        raise ValueError(
                            f"{where}.{source.service_map_field}.{key}: {name!r} is not one of "
                            f"the services {sorted(services)}"
                        )
        for name in self.metrics.services:
            if name not in services:
                raise ValueError(
                    f"metrics.services.{name}: {name!r} is not one of the services {sorted(services)}"
                )
        if self.platform is not None:
            _check_platform_references(self.platform, teams, services)
        _check_scorecard_references(self.scorecard, teams, services)
        return self

    # --- derived views -------------------------------------------------------------------------
    @property
    def is_demo(self) -> bool:
        return self.demo is not None

    @property
    def source_file(self) -> Path | None:
        """The configuration file, absolute, when it was loaded from one (``load_config``)."""
        return self._source_file

    def repository_service(self) -> dict[str, ServiceConfig]:
        return {repo: s for s in self.services for repo in s.repositories}

    def warehouse_path(self) -> Path:
        if self.warehouse.path is not None:
            return self.warehouse.path
        return Path(os.environ.get(WAREHOUSE_ENV_VAR) or DEFAULT_BUILD_DIR / "warehouse.duckdb")


# --- loading -------------------------------------------------------------------------------------

_CONFIG_MODELS: dict[tuple[str, ...], type[Config]] = {}


def config_model() -> type[Config]:
    """``Config`` with a ``sources:`` section for every registered source: ``Config`` itself for
    the built-in ones, a subclass once another source is registered (``pipelines.sources.register``)."""
    sources = source_registry.all_sources()
    if sources == source_registry.BUILTIN_SOURCES:
        return Config
    key = tuple(s.name for s in sources)
    if key not in _CONFIG_MODELS:
        model = sources_model(sources)
        _CONFIG_MODELS[key] = create_model(
            "Config", __base__=Config, sources=(model, Field(default_factory=model))
        )
    return _CONFIG_MODELS[key]


def load_config(path: str | Path | None = None) -> Config:
    """Load and validate a configuration file; with no path, ``$PLATFORM_METRICS_CONFIG`` or the demo."""
    if path is None:
        path = os.environ.get(CONFIG_ENV_VAR) or DEMO_CONFIG_PATH
    path = Path(path)
    label = str(path)
    try:
        if path.is_file() and path.stat().st_size > MAX_YAML_BYTES:
            raise ConfigError(
                f"{label}: {path.stat().st_size:,} bytes, more than the {MAX_YAML_BYTES:,} a "
                "configuration file may have (is this the right file?)"
            )
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{label}: configuration file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{label}: is a folder; give the path of a YAML file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{label}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if path == DEMO_CONFIG_PATH:
        # The demo's outputs stay under ./build, but its SLO specs ship beside its configuration.
        config = parse_config(text, label=label)
        config = config.model_copy(update={"slos": [_under(path.parent, p) for p in config.slos]})
    else:
        config = parse_config(text, label=label, base_dir=path.parent)
    # A step that runs the CLI in a subprocess (the spark_build job) hands it the same file.
    config._source_file = path.absolute()
    return config


def _under(base_dir: Path, path: Path) -> Path:
    return path if path.is_absolute() else base_dir / path


def parse_config(text: str, *, label: str = "<config>", base_dir: Path | None = None) -> Config:
    """Validate configuration text. Relative paths resolve against ``base_dir`` (the file's folder)."""
    data = load_yaml(text, label=label)
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
        config = config_model().model_validate(data)
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
        updates["warehouse"] = _with_resolved_paths(config.warehouse, ("path",), rel)
    if config.spark is not None:
        updates["spark"] = _with_resolved_paths(config.spark, ("raw_parquet", "dir"), rel)
    section: dict[str, Any] = {}
    for source in source_registry.all_sources():
        if not source.path_fields:
            continue
        # Only paths written in the file: defaults stay under ./build.
        resolved = [
            _with_resolved_paths(instance, source.path_fields, rel)
            for instance in source.instances(config)
        ]
        if resolved:
            section[source.config_key] = resolved if source.many else resolved[0]
    if section:
        updates["sources"] = config.sources.model_copy(update=section)
    updates["slos"] = [rel(p) for p in config.slos]
    return config.model_copy(update=updates)


def _with_resolved_paths(model: BaseModel, fields: Iterable[str], rel: Callable[[Any], Any]) -> Any:
    """``model`` with its path ``fields`` resolved by ``rel``; a dotted name ("app.private_key_file")
    reaches into a nested model. Only paths written in the file: defaults stay as they are."""
    nested: dict[str, list[str]] = {}
    for name in fields:
        head, _, rest = name.partition(".")
        nested.setdefault(head, [])
        if rest:
            nested[head].append(rest)
    update: dict[str, Any] = {}
    for head, rests in nested.items():
        value = getattr(model, head, None)
        if head not in model.model_fields_set or value is None:
            continue
        update[head] = _with_resolved_paths(value, rests, rel) if rests else rel(value)
    return model.model_copy(update=update) if update else model
