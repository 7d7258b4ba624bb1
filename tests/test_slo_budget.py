"""Every error-budget formula (pipelines/slo/budget.py), with numbers worked by hand."""

from __future__ import annotations

import pytest

from pipelines.slo.budget import (
    Slice,
    alert_policy,
    attainment,
    budget_consumed,
    budget_remaining,
    burn_rate,
    error_budget,
    error_ratio,
    slice_units,
    status,
    time_to_exhaustion_hours,
)


def test_error_budget_is_one_minus_target():
    assert error_budget(0.999) == pytest.approx(0.001)


def test_budget_consumed_and_remaining_from_good_and_total():
    # 10,000 requests, 30 bad, target 99.5%: e = 0.003, B = 0.005 -> 60% spent, 40% left.
    assert budget_consumed(9_970, 10_000, 0.995) == pytest.approx(0.6)
    assert budget_remaining(9_970, 10_000, 0.995) == pytest.approx(0.4)


def test_burn_rate_is_error_ratio_over_budget():
    # 1h with 2% errors against a 99.9% SLO burns 20x.
    assert burn_rate(980, 1_000, 0.999) == pytest.approx(20.0)
    assert burn_rate(999, 1_000, 0.999) == pytest.approx(1.0)


def test_time_to_exhaustion_is_remaining_times_period_over_burn_rate():
    # 40% left of a 28-day (672 h) budget, burning at 2x: 0.4 x 672 / 2 = 134.4 h.
    assert time_to_exhaustion_hours(0.4, 672, 2.0) == pytest.approx(134.4)


def test_time_to_exhaustion_is_none_when_nothing_burns():
    assert time_to_exhaustion_hours(0.4, 672, 0.0) is None


def test_an_exhausted_budget_has_no_time_left_and_says_so():
    remaining = budget_remaining(9_900, 10_000, 0.995)  # e = 1% = twice the 0.5% budget
    assert remaining == pytest.approx(-1.0)
    assert time_to_exhaustion_hours(remaining, 720, 3.0) == 0.0
    assert status(remaining, 3.0, 0.0, 100) == "exhausted"


def test_status_at_risk_when_the_budget_runs_out_before_the_period_ends():
    assert status(0.5, 4.0, time_to_exhaustion_hours(0.5, 720, 4.0), 200) == "at_risk"
    assert status(0.5, 1.0, time_to_exhaustion_hours(0.5, 720, 1.0), 200) == "healthy"
    assert status(None, 0.0, None, 10) == "no_data"


def test_a_slice_with_no_traffic_spends_nothing():
    assert error_ratio(0, 0) is None
    assert burn_rate(0, 0, 0.99) == 0.0
    for method in ("Timeslices", "RatioTimeslices"):
        assert slice_units(Slice(0, 0), method, slice_target=0.99) == (1.0, 1.0)
    assert slice_units(Slice(0, 0), "Occurrences") == (0, 0)


def test_timeslices_and_occurrences_differ_on_the_same_traffic():
    # One terrible quiet hour (10 of 20 bad), three busy good hours (1 bad in 1,000 each).
    hours = [Slice(10, 20), Slice(999, 1000), Slice(999, 1000), Slice(999, 1000)]
    occurrences = attainment(hours, "Occurrences")
    assert occurrences == pytest.approx((10 + 3 * 999) / (20 + 3000))
    # Timeslices: a slice is good when >= 99% of it succeeded: 3 of 4 slices.
    assert attainment(hours, "Timeslices", slice_target=0.99) == pytest.approx(0.75)
    # RatioTimeslices: the mean of the slice ratios.
    assert attainment(hours, "RatioTimeslices") == pytest.approx((0.5 + 3 * 0.999) / 4)


def test_threshold_slices_pass_or_fail_on_op_and_value():
    readings = [Slice(value=0.2), Slice(value=0.35), Slice(value=0.3), Slice(value=None)]
    # lte 0.3: 0.2 and 0.3 pass, 0.35 fails, no reading counts as good.
    assert attainment(readings, "Timeslices", op="lte", threshold=0.3) == pytest.approx(0.75)
    assert attainment(readings, "Timeslices", op="lt", threshold=0.3) == pytest.approx(0.5)


def test_calendar_and_rolling_windows_scale_the_alert_factors():
    # The SRE workbook's 30-day factors: 14.4, 6, 3, 1.
    assert [f for *_, f in alert_policy(30 * 24)] == pytest.approx([14.4, 6, 3, 1])
    # A rolling 28-day window: factor = share x 672 h / long window.
    assert [f for *_, f in alert_policy(28 * 24)] == pytest.approx(
        [13.44, 5.6, 2.8, 672 * 0.1 / 72]
    )
    # A calendar quarter (90 days) tolerates faster burns before paging.
    assert alert_policy(90 * 24)[0][3] == pytest.approx(43.2)


def test_calendar_period_budget_counts_only_its_own_intervals():
    # A calendar month sees the bad hour only if it falls inside it; the rolling window spanning
    # the month boundary sees both months' traffic.
    june = [Slice(1000, 1000)] * 3
    july = [Slice(900, 1000)] + [Slice(1000, 1000)] * 2
    assert attainment(june, "Occurrences") == 1.0
    assert attainment(july, "Occurrences") == pytest.approx(2900 / 3000)
    assert attainment(june + july, "Occurrences") == pytest.approx(5900 / 6000)
