"""What every page builder reads: the warehouse and the build's settings (no page logic here).

Its own module so that page families (pages.py, experience.py, value.py, slo_report.py) import it
without importing each other: nothing in dashboards/ imports in a circle
(tests/test_dashboards_imports.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from dashboards.gate import CheckStatus, GateNotice
from dashboards.marts import WarehouseReader

MARTS, RAW = "marts", "raw"
NO_DATA = "No data yet"
# The window of the row tables (lead time, deployments): the days up to the latest row.
RECENT_DAYS = 90


@dataclass
class PageContext:
    reader: WarehouseReader
    organisation: str
    now: dt.datetime
    min_sample: int = 5
    checks: list[CheckStatus] = field(default_factory=list)
    gate: GateNotice | None = None
    # Where a pull request opens ({repository}, {number}) when its row has no url of its own (a mart
    # built before fct_changes.url); empty: no link rather than a guessed one.
    pr_url: str = ""
    # Link ids to their source pages (the rows' urls). Off for the demo organisation: its sources
    # are generated, and a link would lead nowhere.
    link_sources: bool = True
    benchmark: str = "dora_2024"
    # The configured time zone (organisation.timezone): the marts cut days, weeks and months in it,
    # so the rows' days that the page filters read are written in it too.
    timezone: str = "UTC"
