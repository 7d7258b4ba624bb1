"""One truth per period (issue 14): readers take the marts' is_complete, reports answer for the
period they name, and the narrative never turns no data into a number.

Each test is one contradiction the issue lists; it fails if that contradiction comes back. The
warehouses are real DuckDB files written here (the dbt side, period_end / is_complete at the
boundaries, is covered by the dbt unit tests in dbt/models/marts/metrics_dora_*.yml, run by
tests/test_dbt_models.py).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd

from dashboards.blocks import Cards, Chart
from dashboards.context import PageContext
from dashboards.leadership import (
    METRICS,
    Headline,
    _cause,
    read_leadership,
    report_markdown,
)
from dashboards.marts import WarehouseReader
from dashboards.overview import build_overview
from dashboards.scorecard import ScorecardRow, is_stale
from dashboards.slo_report import build_slo_blocks, burndown_range
from tests.mart_fixtures import FIRST_WEEK, WEEKS, make_warehouse

NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
LAST_WEEK = FIRST_WEEK + dt.timedelta(weeks=WEEKS - 1)


def _with_running_last_week(path: Path) -> Path:
    """The fixture's marts, with the warehouse saying the last week is still running."""
    make_warehouse(path)
    with duckdb.connect(str(path)) as con:
        for table in ("metrics_dora_weekly", "metrics_dora_monthly"):
            con.execute(f"ALTER TABLE marts.{table} ADD COLUMN is_complete BOOLEAN DEFAULT true")
        con.execute(
            "UPDATE marts.metrics_dora_weekly SET is_complete = false, deployments = 1 "
            "WHERE period_start = ?",
            [LAST_WEEK],
        )
    return path


def _blocks(path: Path, build, now: dt.datetime) -> list:
    with duckdb.connect(str(path), read_only=True) as con:
        ctx = PageContext(WarehouseReader(con), "Acme", now)
        return build(ctx)


def test_headlines_and_reports_skip_the_period_the_warehouse_says_is_running(tmp_path):
    # The calendar says the last week is over (the site is built long after); the warehouse,
    # whose clock decides, says it is not. The mart wins everywhere.
    path = _with_running_last_week(tmp_path / "w.duckdb")
    blocks = _blocks(path, build_overview, NOW)
    headline = next(b for b in blocks if isinstance(b, Cards) and "complete week" in b.title)
    previous_week = LAST_WEEK - dt.timedelta(weeks=1)
    assert f"week of {previous_week:%Y-%m-%d}" in headline.title
    with duckdb.connect(str(path), read_only=True) as con:
        report = read_leadership(WarehouseReader(con), "week", organisation="Acme", now=NOW)
    assert report.period_start == pd.Timestamp(previous_week)
    assert report.trend["period_start"].max() == pd.Timestamp(previous_week)


def test_the_running_week_is_drawn_hatched_and_labelled_so_far(tmp_path):
    path = _with_running_last_week(tmp_path / "w.duckdb")
    chart = next(
        b
        for b in _blocks(path, build_overview, NOW)
        if isinstance(b, Chart) and "per week" in b.title
    )
    html = str(chart.html)
    assert "Deployments (week so far)" in html
    assert '"pattern":{"shape":"\\u002f"}' in html  # hatched ("/", escaped by plotly)
    # The complete weeks' bar trace does not hold the running week's 1 deployment.
    assert html.count("(week so far)") >= 2


def _slo_warehouse(path: Path) -> Path:
    """Two SLOs around the November report of 2026-12-02: checkout (calendar month) spent its
    November budget and is fine two days into December; mobile (rolling 28 days) met its target
    at 11-30 and is missing it on 12-02."""
    make_warehouse(path)
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        con.execute(
            "CREATE TABLE raw.slo_definitions AS SELECT * FROM (VALUES "
            "('checkout', 'Checkout', 'checkout-api', 0.99, '1M', 'Occurrences', 'month', 'W'),"
            "('mobile', 'Mobile BFF', 'mobile-bff', 0.99, '28d', 'Occurrences', 'rolling_28d', 'W')"
            ") AS t(slo, display_name, service, target, time_window, budgeting_method, "
            "period_kind, source_type)"
        )
        rows = [
            # slo, kind, start, end, complete, attainment, met, remaining, status
            ("checkout", "month", "2026-10-01", "2026-11-01", True, 0.995, True, 0.5, "healthy"),
            ("checkout", "month", "2026-11-01", "2026-12-01", True, 0.981, False, -0.9, "exhausted"),
            ("checkout", "month", "2026-12-01", "2027-01-01", False, 1.0, True, 1.0, "healthy"),
            ("mobile", "rolling_28d", "2026-10-04", "2026-11-01", True, 0.97, False, -2.0, "exhausted"),
            ("mobile", "rolling_28d", "2026-11-03", "2026-12-01", True, 0.995, True, 0.5, "healthy"),
            ("mobile", "rolling_28d", "2026-11-05", "2026-12-03", False, 0.985, False, -0.5, "exhausted"),
        ]  # fmt: skip
        con.execute(
            "CREATE TABLE marts.metrics_slo_period (slo VARCHAR, period_kind VARCHAR, "
            "period_start DATE, period_end DATE, is_complete BOOLEAN, attainment DOUBLE, "
            "met BOOLEAN, budget_remaining DOUBLE, status VARCHAR, is_slo_window BOOLEAN, "
            "target DOUBLE)"
        )
        con.executemany(
            "INSERT INTO marts.metrics_slo_period VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, true, 0.99)",
            rows,
        )
        # The dbt scorecard's SLO compliance (its own "latest window") disagrees on purpose.
        con.execute(
            "CREATE TABLE marts.metrics_success_scorecard AS SELECT * FROM (VALUES "
            "(1, 'slo_compliance', 'SLO compliance', 'org', '%', 'up', '>', 99.0, 9.9, 100.0, "
            "'latest window', 'met')) AS t(position, metric, label, scope, unit, better, op, "
            "target, at_risk_within, current_value, current_period, status)"
        )
        con.execute(
            "UPDATE marts.metrics_dora_monthly SET period_start = period_start + INTERVAL 22 MONTH"
        )
    return path


def test_the_monthly_reports_slos_cover_the_month_it_names_and_its_scorecard_agrees(tmp_path):
    path = _slo_warehouse(tmp_path / "w.duckdb")
    with duckdb.connect(str(path), read_only=True) as con:
        report = read_leadership(WarehouseReader(con), "month", organisation="Acme", now=NOW)
    assert report.period_label == "November 2026"
    slos = {s["slo"]: s for s in report.slos}
    # November's calendar window, not the two-day-old December one.
    assert slos["checkout"]["period"] == "month 2026-11-01 to 2026-11-30"
    assert slos["checkout"]["met"] is False and slos["checkout"]["status"] == "exhausted"
    # The rolling window evaluated at November's last day, not on the day of the run.
    assert slos["mobile"]["period"] == "rolling_28d 2026-11-03 to 2026-11-30"
    assert slos["mobile"]["met"] is True
    md = report_markdown(report)
    assert "SLOs: 1 of 2 meeting target." in md
    compliance = next(r for r in report.scorecard_rows if r.metric == "slo_compliance")
    assert compliance.current == 50.0 and compliance.status == "missed"
    assert "| SLO compliance | 50.0% (November 2026) |" in md


def test_the_slo_page_shows_the_current_window_apart_from_the_latest_complete_one(tmp_path):
    path = _slo_warehouse(tmp_path / "w.duckdb")
    with duckdb.connect(str(path), read_only=True) as con:
        blocks = build_slo_blocks(WarehouseReader(con))
    complete, current = blocks[0], blocks[1]
    assert complete.title == "Latest complete window"
    assert "so far" in current.title
    done = {c.label: c.sample for c in complete.cards}
    running = {c.label: c.sample for c in current.cards}
    assert "month 2026-11-01 to 2026-11-30" in done["Checkout"]
    assert "so far" not in done["Checkout"]
    assert "month 2026-12-01 to 2026-12-31 (so far)" in running["Checkout"]


def test_the_burn_down_axis_stays_in_the_budget_range_when_one_slo_is_far_past_it():
    deep = pd.DataFrame({"budget_remaining_to_date": [1.0, 0.4, -9.3]})
    low, clipped = burndown_range(deep)
    assert clipped and low == -1.05
    shallow = pd.DataFrame({"budget_remaining_to_date": [1.0, 0.6, -0.2]})
    low, clipped = burndown_range(shallow)
    assert not clipped and -0.3 < low < -0.2


def _service_rows(values: dict[str, tuple[float | None, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"scope_name": s, "recovery_time_p50_hours": v, "n_incidents": n}
            for s, (v, n) in values.items()
        ]
    ).set_index("scope_name")


def test_a_week_without_incidents_is_no_data_never_zero_minutes():
    recovery = next(m for m in METRICS if m.key == "recovery_time_p50_hours")
    h = Headline(recovery, 7.1, 1.0, 2, 1)
    now = _service_rows({"storefront-web": (7.1, 2), "checkout-api": (None, 0)})
    then = _service_rows({"storefront-web": (None, 0), "checkout-api": (1.0, 1)})
    cause = _cause(h, pd.Series(dtype=object), pd.Series(dtype=object), now, then, "week")
    assert "0 min" not in cause
    assert "storefront-web 7.1 h" in cause and "with no incidents the week before" in cause
    # And no previous value at all: the row says so instead of printing a number.
    assert Headline(recovery, 7.1, None, 2, 0).previous_text == "no incidents"


def test_one_row_writes_its_hours_in_one_unit():
    lead = next(m for m in METRICS if m.key == "lead_time_p50_hours")
    h = Headline(lead, 49.5, 43.9, 10, 12)  # 2.1 d against 43.9 h before
    assert (h.value_text, h.previous_text, h.change_text) == ("2.1 d", "1.8 d", "+0.2 d")
    small = Headline(lead, 0.5, 2.0, 10, 12)
    assert (small.value_text, small.previous_text, small.change_text) == (
        "0.5 h",
        "2.0 h",
        "−1.5 h",
    )


def test_a_monthly_value_older_than_its_cadence_is_flagged_stale_with_its_date():
    today = NOW.date()
    assert is_stale("2026-08", today)
    assert not is_stale("2026-11", today)  # the latest complete month
    assert not is_stale("2026-Q3", today) and not is_stale("latest window", today)
    row = ScorecardRow(
        1, "time_to_first_deployment", "Time to first deployment", "org", "min", "down", "<",
        15.0, 12.0, "2026-08", None, "", None, "met", "", "metrics_platform_value", "",
        stale=True,
    )  # fmt: skip
    assert row.now_text == "12 min (2026-08, stale)"


def test_the_running_month_on_the_platform_value_page_is_dotted_so_far_not_a_result(tmp_path):
    # December two days in: self-service 0% so far must neither headline nor look like a result.
    path = make_warehouse(tmp_path / "w.duckdb")
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE TABLE marts.metrics_platform_value AS SELECT * FROM (VALUES "
            "(DATE '2026-10-01', 0.5, 4, 8, 0.6, 3, 5, true), "
            "(DATE '2026-11-01', 0.75, 6, 8, 0.8, 4, 5, true), "
            "(DATE '2026-12-01', 0.75, 6, 8, 0.0, 0, 1, false)) AS t(month, adoption_rate, "
            "adopting_services, eligible_services, self_service_ratio, self_service_automated, "
            "self_service_requests, is_complete)"
        )
    from dashboards.value import build_platform_value

    blocks = _blocks(path, build_platform_value, NOW)
    cards = next(b for b in blocks if isinstance(b, Cards))
    assert cards.title == "Latest complete month: November 2026"
    shares = next(b for b in blocks if isinstance(b, Chart) and "self-service" in b.title)
    html = str(shares.html)
    assert "self-service ratio (month so far)" in html
    assert '"dash":"dot"' in html
