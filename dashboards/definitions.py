"""The one catalogue of definitions shown on hover: every ``title=`` of the site, the leadership
report and the SLO report is read from here, and docs/metrics.md's "Definitions shown on hover"
section is generated from it (``python -m dashboards.definitions --write``), so the hover text and
the documentation cannot drift (tests/test_definitions_catalogue.py checks both).

Sections name the page family that shows the definitions; keys are unique across sections.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# The plan's satisfaction target (1-5 scale): the DevEx page marks it met above this.
SATISFACTION_TARGET = 4.0

CATALOGUE: dict[str, dict[str, str]] = {
    "DORA, lead time and deployments": {
        "deployments": "Successful production deployments in the period.",
        "deploy_days": "Days in the period with at least one production deployment.",
        "lead_time": (
            "Change lead time: from a change's start (first commit, or PR opened, per config) to "
            "running in production; interpolated percentile over the changes deployed in the "
            "period."
        ),
        "change_failure_rate": (
            "Share of production deployments that caused a failure needing remediation "
            "(failed deployments / deployments; never above 100%)."
        ),
        "recovery_time": (
            "Failed deployment recovery time: from the start of an incident a deployment caused "
            "to its resolution."
        ),
        "rework_rate": (
            "Share of deployments that are unplanned and made because of a production incident."
        ),
        "performance_level": "DORA performance band for the period under the configured benchmark.",
        "coding": "Coding time: first commit to pull request opened (p50).",
        "pickup": "Pickup time: pull request opened to first review (p50).",
        "review": "Review time: first review to merge (p50).",
        "deploy": "Deploy time: merge to running in production (p50).",
        "n_changes": (
            "Changes (pull requests) deployed in the window: the sample behind the percentiles."
        ),
        "incidents": "Production incidents that started in the window.",
        "incident_link": "Linked to its page in the source when the source gave one.",
        "resolved": "When the incident was resolved: recovery time counts it in this day's period.",
        "change_arrow": (
            "Change against the previous complete period; better or worse in this metric's good "
            "direction (fewer hours and lower rates are better, more deployments are better)."
        ),
        "rows_behind": "Open the rows behind this number, filtered to the period the card states.",
        "low_sample": "Below the minimum sample: read as a hint, not a trend.",
    },
    "Data quality": {
        "raw_rows": "Rows landed in the raw table (untouched source payloads).",
        "mart_rows": "Rows in the published mart table.",
        "last_sync": "When the sync of this source/scope/entity last committed rows and its cursor.",
        "items_synced": "Items written by this cursor since it started.",
        "check_result": "FAILED, passed, or not run yet.",
        "check_blocking": "A failed blocking check stops dbt and publishing.",
    },
    "Developer experience": {
        "devex_index": (
            "DevEx index: mean favourable % of feedback loops, cognitive load (the four load "
            "constructs), flow and platform experience; 0-100, higher is better."
        ),
        "satisfaction_mean": (
            "Satisfaction (SW1, SW2) on the 1-5 scale: the mean of the items' mean scores. "
            f"The plan's target is > {SATISFACTION_TARGET:.1f}."
        ),
        "platform_nps": "Platform NPS: % of answers 9-10 minus % 0-6 (-100 to 100).",
        "response_rate": "Respondents / people invited in the wave.",
        "hours_lost_per_week": (
            "Hours a developer loses to friction per week (TL1), mean of the answers' bucket "
            "values."
        ),
        "cognitive_load_index": (
            "Cognitive load index: 100 - the mean favourable % of the four load constructs; "
            "0-100, higher means more load."
        ),
        "respondents": "Responses in the group: the sample behind its scores.",
        "engineers": "Configured headcount of the team.",
        "services_per_engineer": "Services the team owns / its configured engineers (latest week).",
        "repositories_per_engineer": "Repositories the team owns / its engineers (latest week).",
        "incidents_per_on_call": (
            "Incidents on the team's services per on-call engineer, weekly mean."
        ),
        "open_prs_per_developer": (
            "Pull requests open at the end of the week per developer, weekly mean."
        ),
        "repos_touched_per_developer": (
            "Repositories each active developer committed to or opened a pull request in, weekly "
            "mean."
        ),
        "ci_queue": (
            "CI queue time: median wait from a job being queued to starting, mean of the weeks."
        ),
        "ci_run": "CI run time: median job duration, mean of the weeks.",
        "signal_sample": "Mean weekly active developers and CI runs in the weeks.",
        "feedback_loops": (
            "Feedback loops (FL1-FL3): share of answers that are favourable (4 or 5), mean over "
            "items."
        ),
        "intrinsic_load": (
            "Intrinsic load (CL1), favourable %: the work's own difficulty feels manageable."
        ),
        "extraneous_load": (
            "Extraneous load (CL2 reverse-scored, CL3), favourable %: little effort lost to "
            "tooling and process."
        ),
        "team_scope": (
            "Team scope (CL4 reverse-scored), favourable %: the team owns a manageable amount."
        ),
        "germane_load": "Germane load (CL5), favourable %: time and room to learn and improve.",
        "flow": "Flow (FS1, FS2), favourable %: focus time without interruptions.",
        "platform_experience": "Platform experience (PX1-PX3), favourable %.",
        "satisfaction": "Satisfaction (SW1, SW2), favourable %.",
        "comments": "Free-text answers of the teams whose results may be shown in the wave.",
        "comment_count": (
            "How many answers in this group and question read the same (case, spacing and "
            "punctuation aside): each distinct comment is shown once."
        ),
        "question": "The survey item the answer was given to.",
    },
    "Platform value": {
        "adoption_rate": (
            "Eligible services using at least one platform capability in the month / eligible "
            "services."
        ),
        "capability": "Eligible services using this capability / eligible services, per month.",
        "golden_path_share": (
            "Successful production deployments of eligible services that ran through a "
            "golden-path workflow / all of them."
        ),
        "time_to_first_deployment": (
            "Median minutes from a new service's repository creation to its first successful "
            "production deployment, services created in the month."
        ),
        "self_service_ratio": "Requests fulfilled with no human step / all requests in the month.",
        "time_saved_value": (
            "Hours saved (baseline median time per unit - this month's, times the month's units) "
            "x loaded hourly rate x attribution factor. An estimate."
        ),
        "friction_cost": (
            "Survey hours lost per developer per week x developers x working weeks per month x "
            "hourly rate. An estimate."
        ),
        "platform_cost": (
            "The configured monthly cost of the platform (platform.value.monthly_cost)."
        ),
        "value_to_cost_ratio": "Time-saved value / platform cost.",
        "roi": "(Time-saved value - platform cost) / platform cost.",
        "payback_months": (
            "Investment / this month's time-saved value: months to pay the platform back."
        ),
        "hours_saved": (
            "(Baseline hours per unit - current hours per unit) x units; negative = slower."
        ),
        "baseline_per_unit": "Median hours per unit in the baseline period.",
        "month_per_unit": "Median hours per unit this month.",
        "units": "Units of the task this month: the sample.",
    },
    "Success scorecard": {
        "scorecard": (
            "The platform plan's success metrics against their targets "
            "(marts.metrics_success_scorecard)."
        ),
        "scorecard_block": (
            "The platform plan's success metrics: each measure now and in the period before, "
            "against its target. met: the target holds; at risk: missed by at most at_risk_within "
            "(default 10% of the target); missed; no data, with the reason."
        ),
        "scorecard_now": "The measure in its latest period (in brackets).",
        "scorecard_previous": "The measure in the period before.",
        "scorecard_target": "The target and how the value must compare to it.",
        "scorecard_status": "met, at risk, missed, or no data (with the reason).",
        "scorecard_source": "The mart the value is read from.",
    },
    "Service level objectives": {
        "attainment": (
            "Good units / total units in the SLO's current window (events, or time slices)."
        ),
        "attainment_change": "Attainment minus the previous period's.",
        "budget_consumed": "(1 - attainment) / (1 - target).",
        "budget_remaining": "1 - (1 - attainment) / (1 - target): share of the error budget left.",
        "burn_rate": "Error ratio of the last 24 hours / (1 - target); 1 spends the budget exactly.",
        "tte": "Budget remaining x period hours / burn rate: when the budget runs out at this rate.",
        "alerts": "Burn-rate alert events fired in the window.",
        "share": "Bad units during the incident / the error budget of the SLO's period.",
    },
}


def _flatten(catalogue: dict[str, dict[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for section, entries in catalogue.items():
        for key, text in entries.items():
            if key in out:
                raise ValueError(f"definition {key!r} is in two sections (second: {section})")
            out[key] = text
    return out


DEFINITIONS: dict[str, str] = _flatten(CATALOGUE)

METRICS_MD = Path(__file__).resolve().parent.parent / "docs" / "metrics.md"
BEGIN = "<!-- definitions: generated by `python -m dashboards.definitions --write`; do not edit -->"
END = "<!-- end of definitions -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown() -> str:
    """The catalogue as docs/metrics.md shows it: one table per section."""
    lines = [BEGIN]
    for section, entries in CATALOGUE.items():
        lines += ["", f"**{section}**", "", "| key | definition |", "| --- | --- |"]
        lines += [f"| `{key}` | {_cell(text)} |" for key, text in entries.items()]
    lines += ["", END]
    return "\n".join(lines)


def documented(text: str) -> str | None:
    """The generated part of ``text`` (docs/metrics.md), or None when it has no markers."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        return None
    return text[start : end + len(END)]


def rewrite(text: str) -> str:
    """``text`` with its generated part replaced by the catalogue's."""
    current = documented(text)
    if current is None:
        raise ValueError(f"{METRICS_MD}: no definitions markers ({BEGIN!r} ... {END!r})")
    return text.replace(current, markdown())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update docs/metrics.md in place")
    args = parser.parse_args(argv)
    if not args.write:
        print(markdown())
        return 0
    METRICS_MD.write_text(rewrite(METRICS_MD.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"{METRICS_MD}: definitions section rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
