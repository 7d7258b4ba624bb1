"""Metric definitions from the config, as the dbt vars the models read (a pure function)."""

from __future__ import annotations

from typing import Any

from pipelines.config import Config, DeploymentDefinition, ServiceMetricOverrides
from pipelines.platform_vars import platform_vars
from pipelines.surveys.scoring import DEFAULT_ANONYMITY_THRESHOLD, scoring_vars

# Knobs a service may override, as dbt var names (dbt/dbt_project.yml `vars:`).
_DEPLOYMENT_KEYS = tuple(DeploymentDefinition.model_fields)
_SERVICE_KEYS = (
    "lead_time_start",
    "incident_window_hours",
    "bot_authors_regex",
    "hotfix_regex",
    "failure_causes",
    "rework_causes",
)


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, list | tuple) else value


def _service_vars(overrides: ServiceMetricOverrides) -> dict[str, Any]:
    """Only the keys the service sets, under their dbt var names."""
    out: dict[str, Any] = {}
    for key in overrides.deployment.model_fields_set:
        value = getattr(overrides.deployment, key)
        if key == "job_regex":
            out["deployment_job_regex"] = value or ""  # explicit null: no job filter
        elif value is not None:
            out[f"deployment_{key}"] = _plain(value)
    for key in _SERVICE_KEYS:
        if key in overrides.model_fields_set and getattr(overrides, key) is not None:
            out[key] = _plain(getattr(overrides, key))
    return out


def dbt_vars(config: Config) -> dict[str, Any]:
    """The ``--vars`` for every dbt invocation. Names match ``dbt/dbt_project.yml``'s ``vars:``.

    Organisation-wide values are flat vars; ``service_overrides`` maps a service name to the vars
    it overrides (only those), so a service inherits every knob it does not set.
    """
    m = config.metrics
    variables: dict[str, Any] = {
        f"deployment_{key}": _plain(getattr(m.deployment, key)) for key in _DEPLOYMENT_KEYS
    }
    variables["deployment_job_regex"] = m.deployment.job_regex or ""
    variables.update(
        {
            "lead_time_start": m.lead_time_start,
            "incident_window_hours": m.incident_window_hours,
            "bot_authors_regex": m.bot_authors_regex,
            "hotfix_regex": m.hotfix_regex,
            "failure_causes": list(m.failure_causes),
            "rework_causes": list(m.rework_causes),
            "incident_label": m.incident_label,
            "min_sample": m.min_sample,
            "benchmark": m.benchmark,
            "rolling_lookback_days": m.rolling_lookback_days,
            "incremental_lookback_days": config.warehouse.incremental_lookback_days,
            "timezone": config.organisation.timezone,
        }
    )
    overrides = {name: _service_vars(o) for name, o in sorted(m.services.items())}
    variables["service_overrides"] = {name: v for name, v in overrides.items() if v}
    surveys = config.sources.surveys
    threshold = surveys.anonymity_threshold if surveys else DEFAULT_ANONYMITY_THRESHOLD
    variables.update(scoring_vars(anonymity_threshold=threshold))
    variables["scorecard"] = [
        {
            "metric": m.metric,
            "label": m.label or "",
            "target": m.target,
            "op": m.op,
            "at_risk_within": m.at_risk_within if m.at_risk_within is not None else "",
            "scope": m.scope,
        }
        for m in config.scorecard
    ]
    variables.update(platform_vars(config.platform))
    # Argo CD instances whose applications' Degraded health are incidents (int_incidents_unified).
    variables["argocd_health_incidents"] = [
        s.name for s in config.sources.argocd if s.health_incidents
    ]
    return variables
