"""The publishing quality gate, as plain data for the site (no Dagster here).

The asset layer reads the latest outcome of every asset check (the blocking Great Expectations
checks on raw payloads and the dbt tests, among them ``no_deployment_before_its_commit``) and passes
them here as :class:`CheckStatus` rows. The data-quality page lists them. When a blocking check
fails, Dagster skips the dbt build and the site; ``publish_gate_notice`` (dashboards/gate_notice.py)
then keeps the previous site's pages and numbers and replaces only its data-quality page with one
that says why the site was not refreshed (a new dated version, swapped in atomically like any other
build).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class CheckStatus:
    asset: str  # "raw/github_deployments"
    check: str  # "payloads_are_well_formed"
    passed: bool | None  # None: planned or skipped, no outcome yet
    description: str = ""
    checked_at: dt.datetime | None = None
    blocking: bool = True


@dataclass(frozen=True)
class GateNotice:
    """What the data-quality page says when the gate held the site back."""

    failed: list[CheckStatus]
    previous_build: str  # the kept version's name, e.g. 20250310T060000Z
    at: dt.datetime


def failed_checks(checks: Sequence[CheckStatus]) -> list[CheckStatus]:
    return [c for c in checks if c.passed is False and c.blocking]
