"""The overview's headline cards: each links to the rows behind it for the period it states, and
shows its change against the previous complete period (better or worse in the metric's own
direction), with words for screen readers, and nothing when either value is missing."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from dashboards.blocks import Cards
from dashboards.headlines import METRICS, Headline, card_change
from dashboards.overview import _dora_cards, _headline, _previous
from dashboards.site import build_site
from tests.mart_fixtures import BUILD_TIME, make_warehouse

METRIC = {m.key: m for m in METRICS}


def _row(start: str, **values) -> pd.Series:
    base = {
        "period_start": pd.Timestamp(start),
        "scope": "org",
        "scope_name": "all",
        "deployments": 10,
        "deploy_days": 4,
        "lead_time_p50_hours": 20.0,
        "lead_time_p75_hours": 30.0,
        "lead_time_p90_hours": 40.0,
        "n_changes": 12,
        "change_failure_rate": 0.1,
        "n_failed_deployments": 1,
        "recovery_time_p50_hours": 2.0,
        "recovery_time_p90_hours": 3.0,
        "n_incidents": 1,
        "rework_rate": 0.05,
        "performance_level": "high",
        "is_complete": True,
    }
    return pd.Series(base | values)


def test_lower_lead_time_is_better_and_fewer_deployments_are_worse():
    faster = card_change(Headline(METRIC["lead_time_p50_hours"], 10.0, 20.0, 5, 5), "the week of X")
    fewer = card_change(Headline(METRIC["deployments"], 8.0, 10.0, 5, 5), "the week of X")

    assert (faster.arrow, faster.direction, faster.text) == ("▼", "better", "10.0 h")
    assert faster.spoken == "Down 10.0 h from 20.0 h in the week of X: better."
    assert (fewer.arrow, fewer.direction, fewer.text) == ("▼", "worse", "2")


def test_a_rate_changes_in_percentage_points():
    change = card_change(Headline(METRIC["change_failure_rate"], 0.15, 0.10, 5, 5), "then")
    assert (change.arrow, change.text, change.direction) == ("▲", "5.0 pp", "worse")


def test_no_change_is_shown_when_either_period_has_no_value():
    assert card_change(Headline(METRIC["recovery_time_p50_hours"], 2.0, None, 1, 0), "x") is None
    assert card_change(Headline(METRIC["recovery_time_p50_hours"], None, 2.0, 0, 1), "x") is None
    # A real zero is a value: ten deployments after none is a change.
    up = card_change(Headline(METRIC["deployments"], 10.0, 0.0, 4, 0), "x")
    assert (up.arrow, up.direction) == ("▲", "better")


def test_cards_compare_with_the_previous_period_only_when_it_is_the_one_just_before():
    rows = pd.DataFrame([_row("2025-02-10"), _row("2025-02-24")])
    assert _previous(rows, rows.iloc[-1], "week") is None  # the week of 2025-02-17 is missing
    rows = pd.DataFrame([_row("2025-02-17", deployments=12), _row("2025-02-24")])
    cards = _dora_cards(rows.iloc[-1], 5, "week", _previous(rows, rows.iloc[-1], "week"))
    deployments = cards[0]
    assert deployments.change is not None and deployments.change.direction == "worse"
    assert "the week of 2025-02-17" in deployments.change.spoken
    assert cards[-1].change is None  # the performance level has no arrow


@pytest.mark.parametrize(
    ("grain", "first", "last"),
    [("week", "2025-02-24", "2025-03-02"), ("month", "2025-02-01", "2025-02-28")],
)
def test_every_card_links_to_the_rows_of_the_period_it_states(grain, first, last):
    row = _row(first)
    hrefs = [c.href for c in _dora_cards(row, 5, grain)]
    assert hrefs == [
        f"deployments.html#from={first}&to={last}&status=success&show=deployments",
        f"lead-time.html#from={first}&to={last}&show=changes",
        f"deployments.html#from={first}&to={last}&show=failed-deployments",
        f"deployments.html#from={first}&to={last}&show=incidents",
        f"deployments.html#from={first}&to={last}&status=success&show=deployments",
        f"dora.html#from={first}&to={last}&show=weekly-rows",
    ]


def test_the_overview_renders_arrows_with_words_and_none_for_a_missing_previous(tmp_path):
    warehouse = make_warehouse(tmp_path / "warehouse.duckdb")
    site = build_site(warehouse, tmp_path / "site", organisation="Acme", now=BUILD_TIME).path
    html = (site / "index.html").read_text(encoding="utf-8")
    cards = re.findall(r'<div class="card[^"]*"(.*?)</div>\s*</div>', html, flags=re.S)
    recovery = [c for c in cards if "Recovery time p50" in c]
    assert recovery and all("card-change" not in c for c in recovery)  # previous week: none
    lead = next(c for c in cards if "Lead time p50" in c)
    assert '<div class="card-change worse"' in lead
    assert re.search(
        r'<span aria-hidden="true">▲ 1\.0 h</span><span class="sr-only">Up 1\.0 h', lead
    )


def test_the_headline_block_is_the_latest_complete_period(tmp_path):
    from dashboards.context import PageContext
    from dashboards.marts import WarehouseReader
    from pipelines.warehouse import connect

    warehouse = make_warehouse(tmp_path / "warehouse.duckdb")
    con = connect(warehouse, read_only=True)
    try:
        block = _headline(PageContext(WarehouseReader(con), "Acme", BUILD_TIME), "week")
    finally:
        con.close()
    assert isinstance(block, Cards)
    assert block.title == "Latest complete week: week of 2025-02-24"
    assert block.cards[0].href.startswith("deployments.html#from=2025-02-24&to=2025-03-02")
