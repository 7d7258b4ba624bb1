"""Metric definitions from the config, as the dbt vars the models read (a pure function)."""

from __future__ import annotations

from typing import Any

from pipelines.config import Config


def dbt_vars(config: Config) -> dict[str, Any]:
    """The ``--vars`` for every dbt invocation. Names match ``dbt/dbt_project.yml``'s ``vars:``."""
    m = config.metrics
    return {
        "deployment_environment_regex": m.deployment.environment_regex,
        "deployment_workflow_regex": m.deployment.workflow_regex,
        "deployment_exclude_regex": m.deployment.exclude_regex,
        "deployment_branches": list(m.deployment.branches),
        "lead_time_start": m.lead_time_start,
        "incident_window_hours": m.incident_window_hours,
        "bot_authors_regex": m.bot_authors_regex,
        "min_sample": m.min_sample,
        "benchmark": m.benchmark,
        "timezone": config.organisation.timezone,
    }
