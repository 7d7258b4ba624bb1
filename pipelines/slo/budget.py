"""The error-budget formulas, as plain functions: the reference the dbt marts are tested against.

With B = 1 - target and T the period: error ratio e(w) = bad/total over a window w; burn rate
b(w) = e(w)/B; budget remaining R = 1 - e(T)/B; time to exhaustion = R x T / b. docs/slos.md
explains each one; the SQL in dbt/models/slo computes the same numbers.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass

_OPS = {"lt": operator.lt, "lte": operator.le, "gt": operator.gt, "gte": operator.ge}

#: Google SRE workbook's multi-window, multi-burn-rate policy for a 30-day period:
#: (severity, long window hours, short window hours, share of the period's budget spent).
ALERT_WINDOWS: tuple[tuple[str, float, float, float], ...] = (
    ("page", 1, 5 / 60, 0.02),
    ("page", 6, 0.5, 0.05),
    ("ticket", 24, 2, 0.10),
    ("ticket", 72, 6, 0.10),
)


def error_budget(target: float) -> float:
    """B = 1 - target: the share of events (or slices) allowed to be bad."""
    return 1.0 - target


def error_ratio(good: float, total: float) -> float | None:
    """e = bad / total; None with no traffic (nothing measured, nothing spent)."""
    return None if total <= 0 else (total - good) / total


def burn_rate(good: float, total: float, target: float) -> float:
    """b = e / B; 1 spends exactly the budget over the period; 0 with no traffic."""
    e = error_ratio(good, total)
    return 0.0 if e is None else e / error_budget(target)


def budget_consumed(good: float, total: float, target: float) -> float:
    """Share of the period's budget spent: e(T) / B (above 1 once exhausted)."""
    return burn_rate(good, total, target)


def budget_remaining(good: float, total: float, target: float) -> float:
    """R = 1 - e(T)/B (negative once overspent)."""
    return 1.0 - budget_consumed(good, total, target)


def time_to_exhaustion_hours(remaining: float, period_hours: float, rate: float) -> float | None:
    """R x T / b: hours until the budget is gone at the current burn rate.

    0 when it is already gone; None when nothing is burning (it never runs out).
    """
    if remaining <= 0:
        return 0.0
    if rate <= 0:
        return None
    return remaining * period_hours / rate


def alert_factor(budget_share: float, period_hours: float, long_window_hours: float) -> float:
    """Burn-rate threshold of an alert: budget share x period hours / long-window hours."""
    return budget_share * period_hours / long_window_hours


def alert_policy(period_hours: float) -> list[tuple[str, float, float, float]]:
    """(severity, long hours, short hours, factor) for an SLO period; 14.4/6/3/1 at 30 days."""
    return [
        (severity, long, short, round(alert_factor(share, period_hours, long), 6))
        for severity, long, short, share in ALERT_WINDOWS
    ]


@dataclass(frozen=True)
class Slice:
    """One time slice (or interval) of an SLI: good and total events, or a threshold reading."""

    good: float = 0.0
    total: float = 0.0
    value: float | None = None  # thresholdMetric reading


def slice_units(
    s: Slice,
    method: str,
    *,
    slice_target: float | None = None,
    op: str | None = None,
    threshold: float | None = None,
) -> tuple[float, float]:
    """(good, total) budget units of one interval under a budgeting method.

    Occurrences: the events themselves. Timeslices: the slice is 1 good slice when its ratio reaches
    ``slice_target`` (or its reading passes ``op threshold``), else 1 bad slice. RatioTimeslices: the
    slice's ratio as good out of 1. A slice with no traffic (or no reading) is a good slice: nothing
    failed in it.
    """
    if method == "Occurrences" and op is None:
        return s.good, s.total
    if op is not None:
        if s.value is None or math.isnan(s.value):
            return 1.0, 1.0
        return (1.0 if _OPS[op](s.value, threshold) else 0.0), 1.0
    if s.total <= 0:
        return 1.0, 1.0
    ratio = s.good / s.total
    if method == "Timeslices":
        return (1.0 if ratio >= (slice_target or 1.0) - 1e-12 else 0.0), 1.0
    if method == "RatioTimeslices":
        return ratio, 1.0
    raise ValueError(f"unknown budgeting method {method!r}")


def attainment(
    slices: Sequence[Slice],
    method: str,
    *,
    slice_target: float | None = None,
    op: str | None = None,
    threshold: float | None = None,
) -> float | None:
    """Good units / total units over the slices; None when there is nothing to count."""
    units = [
        slice_units(s, method, slice_target=slice_target, op=op, threshold=threshold)
        for s in slices
    ]
    good = sum(g for g, _ in units)
    total = sum(t for _, t in units)
    return None if total <= 0 else good / total


def status(remaining: float | None, rate: float, tte_hours: float | None, hours_left: float) -> str:
    """no_data, exhausted, at_risk (runs out before the period ends), or healthy."""
    if remaining is None:
        return "no_data"
    if remaining <= 0:
        return "exhausted"
    if tte_hours is not None and tte_hours < hours_left:
        return "at_risk"
    return "healthy"
