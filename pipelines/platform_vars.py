"""The ``platform:`` section as the dbt vars of the platform-value marts (a pure function).

Names match ``dbt/dbt_project.yml``'s ``platform_*`` vars. An absent section or sub-section gives
empty lists and nulls, which the marts turn into null columns with the reason in ``notes``: nothing
is invented for an organisation that has not said what its platform is or costs.
"""

from __future__ import annotations

from typing import Any

from pipelines.config import PlatformConfig, PlatformValue

DEFAULT_TASKS: list[str] = list(PlatformValue.model_fields["tasks"].default_factory())


def platform_vars(platform: PlatformConfig | None) -> dict[str, Any]:
    """The ``platform_*`` dbt vars for ``config.platform`` (None: no platform section)."""
    configured = platform is not None
    platform = platform or PlatformConfig()
    value, self_service = platform.value, platform.self_service
    baseline = value.baseline if value else None
    return {
        "platform_configured": configured,
        "platform_capabilities": [
            {
                "name": c.name,
                "description": c.description,
                "workflow_regex": c.workflow_regex or "",
                "topic": c.topic or "",
                "golden_path": c.golden_path,
            }
            for c in platform.capabilities
        ],
        "platform_exclude_tiers": list(platform.eligible.exclude_tiers),
        "platform_exclude_teams": list(platform.eligible.exclude_teams),
        "platform_exclude_services": list(platform.eligible.exclude_services),
        "platform_adoption_window_days": platform.adoption_window_days,
        "platform_self_service_workflow_regex": self_service.workflow_regex if self_service else "",
        "platform_self_service_request_label": self_service.request_label if self_service else "",
        "platform_currency": value.currency if value else None,
        "platform_loaded_hourly_rate": value.loaded_hourly_rate if value else None,
        "platform_attribution_factor": value.attribution_factor if value else None,
        "platform_working_weeks_per_year": value.working_weeks_per_year if value else None,
        "platform_baseline_start": baseline.start.isoformat() if baseline else None,
        "platform_baseline_end": baseline.end.isoformat() if baseline else None,
        "platform_tasks": list(value.tasks) if value else DEFAULT_TASKS,
        "platform_monthly_cost": value.monthly_cost if value else None,
        "platform_investment": value.investment if value else None,
    }
