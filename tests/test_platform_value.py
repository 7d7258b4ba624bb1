"""Platform value: the `platform:` configuration, its dbt vars, and the demo's platform story.

The marts' arithmetic is pinned by the dbt unit tests in dbt/models/marts/metrics_platform_*.yml
(run by test_dbt_models.py's `dbt build`); the demo warehouse's adoption and golden-path share
are checked in test_end_to_end.py on its shared build.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from pipelines.config import load_config, parse_config
from pipelines.definitions import dbt_vars
from pipelines.demo import generate_organisation
from pipelines.demo import platform as demo_platform
from pipelines.demo.render import render
from pipelines.demo.repository import RepoSim
from pipelines.errors import ConfigError

MINIMAL = """
organisation: {name: Acme}
teams: [{name: web, engineers: 3}, {name: platform, engineers: 2}]
services:
  - {name: shop, team: web, repositories: [acme/shop]}
  - {name: portal, team: platform, tier: internal, repositories: [acme/portal]}
"""
PLATFORM = """
platform:
  capabilities:
    - name: golden_path_deploy
      description: Deploys through the reusable deploy workflow
      workflow_regex: "^acme/pipelines/\\\\.github/workflows/deploy\\\\.ya?ml"
      golden_path: true
    - {name: observability, topic: platform-observability}
  eligible: {exclude_tiers: [internal], exclude_teams: [platform], exclude_services: [portal]}
  adoption_window_days: 60
  self_service: {workflow_regex: "^Create service$", request_label: platform-request}
  value:
    currency: EUR
    loaded_hourly_rate: 95
    attribution_factor: 0.5
    baseline: {start: 2025-12-01, end: 2026-02-28}
    tasks: [ci_queue_time, deployment_duration]
    monthly_cost: 30000
    investment: 180000
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "org.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_platform_section_reaches_dbt_as_vars():
    variables = dbt_vars(parse_config(MINIMAL + PLATFORM))
    assert variables["platform_configured"] is True
    assert variables["platform_capabilities"] == [
        {
            "name": "golden_path_deploy",
            "description": "Deploys through the reusable deploy workflow",
            "workflow_regex": r"^acme/pipelines/\.github/workflows/deploy\.ya?ml",
            "topic": "",
            "golden_path": True,
        },
        {
            "name": "observability",
            "description": "",
            "workflow_regex": "",
            "topic": "platform-observability",
            "golden_path": False,
        },
    ]
    assert variables["platform_exclude_tiers"] == ["internal"]
    assert variables["platform_exclude_teams"] == ["platform"]
    assert variables["platform_exclude_services"] == ["portal"]
    assert variables["platform_adoption_window_days"] == 60
    assert variables["platform_self_service_request_label"] == "platform-request"
    assert variables["platform_loaded_hourly_rate"] == 95
    assert variables["platform_attribution_factor"] == 0.5
    assert variables["platform_working_weeks_per_year"] == 46  # the documented default
    assert (variables["platform_baseline_start"], variables["platform_baseline_end"]) == (
        "2025-12-01",
        "2026-02-28",
    )
    assert variables["platform_tasks"] == ["ci_queue_time", "deployment_duration"]
    assert (variables["platform_monthly_cost"], variables["platform_investment"]) == (30000, 180000)


def test_without_a_platform_section_nothing_is_invented():
    variables = dbt_vars(parse_config(MINIMAL))
    assert variables["platform_configured"] is False
    assert variables["platform_capabilities"] == []
    assert variables["platform_self_service_workflow_regex"] == ""
    for key in (
        "platform_currency",
        "platform_loaded_hourly_rate",
        "platform_attribution_factor",
        "platform_working_weeks_per_year",
        "platform_monthly_cost",
        "platform_investment",
        "platform_baseline_start",
    ):
        assert variables[key] is None, key


def test_dbt_project_defaults_name_every_platform_var():
    import yaml

    project = yaml.safe_load((Path(__file__).parents[1] / "dbt" / "dbt_project.yml").read_text())
    platform_vars = {k for k in dbt_vars(parse_config(MINIMAL)) if k.startswith("platform_")}
    assert platform_vars <= set(project["vars"]), platform_vars - set(project["vars"])


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            "platform: {capabilities: [{name: a, workflow_regex: x, topic: t}]}",
            "platform.capabilities[0]: give exactly one of 'workflow_regex' or 'topic'",
        ),
        (
            "platform: {capabilities: [{name: a}]}",
            "platform.capabilities[0]: give exactly one of 'workflow_regex' or 'topic'",
        ),
        (
            "platform: {capabilities: [{name: a, topic: t, golden_path: true}]}",
            "platform.capabilities[0]: golden_path needs a 'workflow_regex'",
        ),
        (
            "platform: {capabilities: [{name: a, topic: t}, {name: a, topic: u}]}",
            "platform.capabilities[1].name: 'a' appears twice",
        ),
        (
            "platform: {capabilities: [{name: a, workflow_regex: 'deploy(?=x)'}]}",
            "platform.capabilities[0].workflow_regex: not a valid RE2 regular expression",
        ),
        (
            "platform: {capabilities: [{name: a, topic: Not A Topic}]}",
            "platform.capabilities[0].topic: String should match pattern",
        ),
        (
            "platform: {value: {currency: EUR, loaded_hourly_rate: 95, attribution_factor: 1.5}}",
            "platform.value.attribution_factor: Input should be less than or equal to 1",
        ),
        (
            "platform: {value: {currency: EUR, loaded_hourly_rate: 95}}",
            "platform.value.attribution_factor: required key is missing",
        ),
        (
            "platform: {value: {currency: EUR, loaded_hourly_rate: 0, attribution_factor: 0.5}}",
            "platform.value.loaded_hourly_rate: Input should be greater than 0",
        ),
        (
            "platform: {value: {currency: EUR, loaded_hourly_rate: 95, attribution_factor: 0.5, "
            "tasks: [coffee_breaks]}}",
            "platform.value.tasks[0]: Input should be 'change_lead_time'",
        ),
        (
            "platform: {value: {currency: EUR, loaded_hourly_rate: 95, attribution_factor: 0.5, "
            "tasks: [ci_queue_time, ci_queue_time]}}",
            "platform.value.tasks: tasks: 'ci_queue_time' appears twice",
        ),
        (
            "platform: {value: {currency: EUR, loaded_hourly_rate: 95, attribution_factor: 0.5, "
            "baseline: {start: 2026-02-01, end: 2026-01-01}}}",
            "platform.value.baseline: end 2026-01-01 is before start 2026-02-01",
        ),
        (
            "platform: {value: {currency: euro, loaded_hourly_rate: 95, attribution_factor: 0.5}}",
            "platform.value.currency: String should match pattern",
        ),
        ("platform: {eligible: {exclude_teams: [mobile]}}", "platform.eligible.exclude_teams[0]"),
        (
            "platform: {eligible: {exclude_services: [nope]}}",
            "platform.eligible.exclude_services[0]: 'nope' is not one of the services",
        ),
        ("platform: {eligible: {exclude_tiers: [gold]}}", "platform.eligible.exclude_tiers[0]"),
        ("platform: {self_service: {workflow_regex: x}}", "platform.self_service.request_label"),
        ("platform: {adoption_window: 30}", "platform.adoption_window: unknown key"),
        ("platform: {adoption_window_days: 0}", "platform.adoption_window_days"),
    ],
)
def test_bad_platform_config_names_the_key_in_one_line(tmp_path, extra, expected):
    path = write(tmp_path, MINIMAL + extra + "\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert expected in message, message
    assert "\n" not in message


# --- the demo's platform story ---------------------------------------------------------------------

END = dt.date(2026, 6, 30)


@pytest.fixture(scope="module")
def org():
    config = load_config()
    return generate_organisation(
        config.model_copy(update={"demo": config.demo.model_copy(update={"end_date": END})})
    )


def test_demo_configuration_has_a_platform_section():
    platform = load_config().platform
    assert platform is not None and platform.value is not None and platform.self_service
    assert [c.golden_path for c in platform.capabilities] == [True, False]


def test_demo_repositories_migrate_to_the_golden_path_during_the_window(org):
    eligible = [r for r in org.repositories if org.service_of(r).tier != "internal"]
    since = org.golden_path_since

    def on_it(at: dt.datetime) -> float:
        return sum(since[r] is not None and since[r] <= at for r in eligible) / len(eligible)

    assert 0.15 <= on_it(org.start) <= 0.45
    assert 0.75 <= on_it(org.horizon) < 1
    assert on_it(org.start) < on_it(org.start + (org.horizon - org.start) / 2) < on_it(org.horizon)
    for repo in org.new_repositories:  # created from the service template: on it from day one
        assert since[repo] == org.plan(repo).created_at


def test_demo_deploy_runs_reference_the_reusable_workflow_only_after_migration(org):
    for repo in ("appstore/checkout-api", "appstore/search-service", "appstore/storefront-web"):
        since = org.golden_path_since[repo]
        for run in org.repo(repo).runs:
            referenced = [w["path"] for w in run["referenced_workflows"]]
            created = dt.datetime.fromisoformat(run["created_at"].replace("Z", "+00:00"))
            expected = (
                run["name"] == "Deploy to production" and since is not None and created >= since
            )
            assert referenced == (
                ["appstore/deploy-pipelines/.github/workflows/deploy.yml@v2"] if expected else []
            ), (repo, run["id"])


def test_demo_platform_story_changes_the_rendering_never_the_simulation(org):
    """Deployments, commits and pull requests (and so the DORA numbers) are the same without it."""
    plan = org.plan("appstore/checkout-api")
    assert plan.golden_path_since is not None
    with_platform = render(RepoSim(plan).run())
    without = render(RepoSim(dataclasses.replace(plan, golden_path_since=None)).run())
    assert with_platform.deployments == without.deployments
    assert with_platform.statuses == without.statuses
    assert with_platform.pulls == without.pulls and with_platform.history == without.history
    assert [r["id"] for r in with_platform.runs] == [r["id"] for r in without.runs]
    assert any(r["referenced_workflows"] for r in with_platform.runs)
    assert not any(r["referenced_workflows"] for r in without.runs)
    # The platform's runners: jobs wait less, and start and finish when the simulation said.
    for rid, jobs in with_platform.jobs.items():
        for job, before in zip(jobs, without.jobs[rid], strict=True):
            assert (job["started_at"], job["completed_at"]) == (
                before["started_at"],
                before["completed_at"],
            )
            assert before["created_at"] <= job["created_at"] <= job["started_at"]


def test_demo_developer_portal_holds_self_service_requests(org):
    data = org.repo("appstore/developer-portal")
    automated = [r for r in data.runs if r["name"] in ("Create service", "Provision database")]
    labelled = [
        i
        for i in data.issues
        if demo_platform.REQUEST_LABEL in [lab["name"] for lab in i["labels"]]
    ]
    assert automated and labelled
    assert all(
        r["event"] == "workflow_dispatch" and r["conclusion"] == "success" for r in automated
    )
    assert {w["name"] for w in data.workflows} >= {"Create service", "Provision database"}
    middle = org.start + (org.horizon - org.start) / 2

    def share(before: bool) -> float:
        def in_half(text: str) -> bool:
            return (dt.datetime.fromisoformat(text.replace("Z", "+00:00")) < middle) == before

        runs = sum(in_half(r["created_at"]) for r in automated)
        return runs / (runs + sum(in_half(i["created_at"]) for i in labelled))

    assert share(before=True) < share(before=False)
    # Every service created from the template was requested through the portal first.
    titles = {r["display_title"] for r in automated}
    for repo in org.new_repositories:
        assert f"Create service {org.service_of(repo).name}" in titles


def test_demo_topics_mark_some_repositories_and_every_new_one(org):
    topics = {r: org.repo_meta(r)["topics"] for r in org.repositories}
    tagged = [r for r, t in topics.items() if demo_platform.OBSERVABILITY_TOPIC in t]
    assert 0 < len(tagged) < len(topics)
    assert org.new_repositories <= set(tagged)
