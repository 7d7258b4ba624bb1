"""Hourly request counts (good and total) for ``critical`` services, with dips during incidents."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pipelines.demo._common import HOUR, UTC, rng_for, stable_int

if TYPE_CHECKING:
    from pipelines.demo.generator import Organisation


@dataclass(frozen=True)
class Series:
    """``total[h]``/``good[h]``: requests in hour ``[start + h, start + h + 1h)``."""

    service: str
    start: dt.datetime
    total: list[float]
    good: list[float]

    def latency_p99(self) -> list[float]:
        """p99 request latency per hour (seconds): slower when more requests fail."""
        out = []
        for h, (total, good) in enumerate(zip(self.total, self.good, strict=True)):
            error = 1.0 - good / total if total else 0.0
            jitter = (stable_int("latency", self.service, h) % 1000) / 1000
            out.append(round(0.16 + 0.08 * jitter + 4.0 * error, 4))
        return out

    def bucket_ending_at(self, epoch: float) -> int | None:
        """Index of the hour that ends at (or contains the end) ``epoch``; None outside the series."""
        h = math.floor((epoch - self.start.timestamp()) / 3600) - 1
        return h if 0 <= h < len(self.total) else None


def generate_series(org: Organisation, service: str) -> Series:
    from pipelines.demo.incidents import service_records

    start = org.start.replace(minute=0, second=0, microsecond=0)
    hours = int((org.horizon - start) / HOUR)
    rng = rng_for(org.seed, "sli", service, org.horizon.isoformat())
    base = 20_000 + stable_int(org.seed, "traffic", service) % 180_000
    base_error = 0.0002 + (stable_int(org.seed, "errors", service) % 800) / 1_000_000
    bad_ratio = [0.0] * hours
    for r in service_records(org, service):
        end = r.resolved or org.horizon
        severity = rng.uniform(0.03, 0.25) if r.urgency == "high" else rng.uniform(0.004, 0.03)
        h0 = int((r.start - start) / HOUR)
        h1 = int((end - start) / HOUR)
        for h in range(max(0, h0), min(hours, h1 + 1)):
            lo = max(r.start, start + HOUR * h)
            hi = min(end, start + HOUR * (h + 1))
            overlap = max(0.0, (hi - lo) / HOUR)
            bad_ratio[h] = min(0.9, bad_ratio[h] + severity * overlap)
    total, good = [], []
    for h in range(hours):
        t = start + HOUR * h
        local = (t.hour + 1) % 24  # roughly Europe/Berlin
        diurnal = (
            0.35 + 0.65 * max(0.0, math.sin(math.pi * (local - 6) / 17))
            if 6 <= local < 23
            else 0.25
        )
        weekly = 0.85 if t.weekday() >= 5 else 1.0
        growth = 1.0 + 0.25 * h / max(hours, 1)
        n = round(base * diurnal * weekly * growth * rng.uniform(0.93, 1.07))
        errors = base_error * rng.uniform(0.5, 1.8) + bad_ratio[h]
        total.append(float(n))
        good.append(float(n - round(n * min(errors, 0.95))))
    return Series(service, start.astimezone(UTC), total, good)
