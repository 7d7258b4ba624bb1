"""The DORA headline metrics and their change against the previous complete period, read the same
way by the site's cards (arrows) and the leadership report (its "change" column).

Which way is better is the metric's own (``better``): more deployments are better; fewer hours and
lower rates are better. A missing value or a missing previous value has no change: never 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dashboards.blocks import Change, fmt_hours, fmt_hours_as, fmt_int, fmt_pct, hours_unit
from dashboards.definitions import DEFINITIONS

# A metric without a configured target shows none (no "target: not set" on every row); the
# headline table has a target column only when some metric has a target.
TARGET_NOT_SET = ""


@dataclass(frozen=True)
class Metric:
    key: str  # the column in metrics_dora_*
    label: str
    unit: str  # "count" | "hours" | "pct"
    sample: str  # the column holding its sample size
    sample_label: str
    better: str  # "up" | "down"
    definition: str


METRICS = (
    Metric("deployments", "Deployments", "count", "deploy_days", "deploy days", "up",
           DEFINITIONS["deployments"]),
    Metric("lead_time_p50_hours", "Lead time p50", "hours", "n_changes", "changes", "down",
           DEFINITIONS["lead_time"]),
    Metric("change_failure_rate", "Change failure rate", "pct", "deployments", "deployments",
           "down", DEFINITIONS["change_failure_rate"]),
    Metric("recovery_time_p50_hours", "Recovery time p50", "hours", "n_incidents", "incidents",
           "down", DEFINITIONS["recovery_time"]),
    Metric("rework_rate", "Rework rate", "pct", "deployments", "deployments", "down",
           DEFINITIONS["rework_rate"]),
)  # fmt: skip


def fmt_value(metric: Metric, value: Any) -> str:
    if metric.unit == "pct":
        return fmt_pct(value)
    if metric.unit == "hours":
        return fmt_hours(value)
    return fmt_int(value)


@dataclass
class Headline:
    metric: Metric
    value: float | None
    previous: float | None
    sample: int
    previous_sample: int
    target: str = TARGET_NOT_SET

    @property
    def delta(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def direction(self) -> str:
        """ "better", "worse" or "flat" given which way is good for this metric."""
        d = self.delta
        if d is None or abs(d) < 1e-12:
            return "flat"
        return "better" if (d > 0) == (self.metric.better == "up") else "worse"

    @property
    def hours_unit(self) -> str:
        """The one unit this row's hours are written in (now, previous and change)."""
        return hours_unit(self.value, self.previous)

    def _fmt(self, value: float | None) -> str:
        if self.metric.unit == "hours":
            return fmt_hours_as(value, self.hours_unit)
        return fmt_value(self.metric, value)

    @property
    def value_text(self) -> str:
        return self._fmt(self.value)

    @property
    def previous_text(self) -> str:
        if self.previous is None:
            return f"no {self.metric.sample_label}" if self.metric.unit == "hours" else "—"
        return self._fmt(self.previous)

    @property
    def change_text(self) -> str:
        d = self.delta
        if self.value is None:
            return "no value this period"
        if d is None:
            return "no previous value"
        sign = "+" if d > 0 else ("−" if d < 0 else "±")
        if self.metric.unit == "pct":
            return f"{sign}{abs(d) * 100:.1f} pp"
        if self.metric.unit == "hours":
            return f"{sign}{fmt_hours_as(abs(d), self.hours_unit)}"
        return f"{sign}{abs(d):,.0f}"


def card_change(headline: Headline, previous_label: str) -> Change | None:
    """The card's arrow: None (nothing shown) when this period or the previous has no value."""
    d = headline.delta
    if d is None:
        return None
    direction = headline.direction
    arrow = "▲" if d > 0 else ("▼" if d < 0 else "=")
    text = headline.change_text.lstrip("+−±")
    if direction == "flat":
        spoken = f"No change from {previous_label}."
        text = "no change"
    else:
        way = "Up" if d > 0 else "Down"
        spoken = f"{way} {text} from {headline.previous_text} in {previous_label}: {direction}."
    return Change(arrow, text, direction, spoken)
