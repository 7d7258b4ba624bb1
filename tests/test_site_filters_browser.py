"""A newcomer's walk through the site in a real headless Chromium (driven over the DevTools pipe,
tests/cdp.py, offline): from the overview to a filtered team view, from each headline number to the
rows behind it, and the filters choosing team, service and days. What the page shows is compared
with what the warehouse says for that team and period (SQL over the same DuckDB file).

The site is built in a time zone 14 hours ahead of UTC, where a 10:00 UTC deployment lands on the
next day: the rows' days must be the marts' days, not UTC's."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from dashboards.blocks import fmt_hours
from dashboards.browser import find_browser
from dashboards.site import build_site
from tests.cdp import Browser
from tests.mart_fixtures import BUILD_TIME, make_warehouse

CHROMIUM = find_browser()
TZ = "Pacific/Kiritimati"  # UTC+14
WEEK = ("2025-02-24", "2025-03-02")  # the fixture's latest complete week (BUILD_TIME 2025-03-10)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chrome, Chromium or Edge (apt chromium)"),
]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    """The mart fixture plus a second run of facts six and seven weeks later, so the latest
    complete week has deployments (some failed, some not successful), changes and incidents."""
    path = make_warehouse(tmp_path_factory.mktemp("filters") / "warehouse.duckdb")
    con = duckdb.connect(str(path))
    try:
        con.execute(
            """
            INSERT INTO marts.fct_deployments
            SELECT * REPLACE (
                'late-' || deployment_id AS deployment_id,
                deployed_at + INTERVAL 42 DAY AS deployed_at,
                started_at + INTERVAL 42 DAY AS started_at,
                CASE WHEN cast(split_part(deployment_id, '-', 2) AS int) % 5 = 1
                     THEN 'failure' ELSE status END AS status,
                cast(split_part(deployment_id, '-', 2) AS int) % 3 = 0 AS is_failure)
            FROM marts.fct_deployments
            """
        )
        con.execute(
            """
            INSERT INTO marts.fct_changes
            SELECT * REPLACE ('late-' || change_id AS change_id,
                deployed_at + INTERVAL 42 DAY AS deployed_at,
                lead_time_hours + cast(split_part(change_id, '-', 2) AS int) AS lead_time_hours)
            FROM marts.fct_changes
            """
        )
        con.execute(
            """
            INSERT INTO marts.fct_incidents
            SELECT * REPLACE ('late-' || incident_id AS incident_id,
                started_at + INTERVAL 48 DAY AS started_at,
                resolved_at + INTERVAL 48 DAY AS resolved_at)
            FROM marts.fct_incidents
            """
        )
    finally:
        con.close()
    return path


@pytest.fixture(scope="module")
def site(warehouse, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("filters-site")
    return build_site(
        warehouse, root / "site", organisation="Acme", now=BUILD_TIME, timezone=TZ
    ).path.resolve()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium = Browser(CHROMIUM, tmp_path_factory.mktemp("cdp-profile"))
    yield chromium
    chromium.close()


def sql(warehouse: Path, query: str, *params):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(query, list(params)).fetchone()[0]
    finally:
        con.close()


def local_day(column: str) -> str:
    return f"cast(timezone('{TZ}', {column}) AS date)"


def shown(browser: Browser, section: str) -> int:
    """The rows the page shows in ``section``, counted from the DOM (not from the count line)."""
    return browser.evaluate(
        f"document.querySelectorAll('#{section} tbody tr:not([hidden])').length"
    )


def count_line(browser: Browser, section: str) -> str:
    return browser.evaluate(f"document.querySelector('#{section} [data-filter-count]').textContent")


def choose(browser: Browser, name: str, value: str) -> None:
    """Set a filter field as a person would, firing the change event the form listens to."""
    browser.evaluate(
        f"(() => {{ const f = document.querySelector('form[data-filters] [name={name}]');"
        f" f.value = {json.dumps(value)};"
        " f.dispatchEvent(new Event('change', {bubbles: true})); })()"
    )


def visible_teams(browser: Browser) -> set[str]:
    """The teams of the chart traces still drawn on the page."""
    return set(
        browser.evaluate(
            "Array.from(document.querySelectorAll('.js-plotly-plot')).flatMap(gd => gd.data"
            ".filter(t => t.visible !== false && t.meta && t.meta.team).map(t => t.meta.team))"
        )
    )


def errors(browser: Browser) -> list[dict]:
    return [e for e in browser.events if e.get("method") == "Runtime.exceptionThrown"]


def test_the_overview_leads_to_a_filtered_team_view_that_is_a_link(site, warehouse, browser):
    browser.open((site / "index.html").as_uri())
    href = browser.click("a.team-view")

    assert href.endswith("dora.html#team=payments")
    weeks = sql(
        warehouse,
        "SELECT count(*) FROM marts.metrics_dora_weekly WHERE scope = 'team' AND "
        "scope_name = 'payments' AND period_start + 7 <= ?",
        BUILD_TIME.date(),
    )
    assert weeks > 0
    assert shown(browser, "weekly-rows") == weeks
    assert count_line(browser, "weekly-rows").startswith(f"Showing {weeks} of {2 * weeks} ")
    teams = browser.evaluate(
        "Array.from(document.querySelectorAll('#weekly-rows tbody tr:not([hidden])'))"
        ".map(r => r.dataset.team)"
    )
    assert set(teams) == {"payments"}
    assert shown(browser, "latest-week") == 1
    assert visible_teams(browser) == {"payments"}

    choose(browser, "team", "search")

    assert browser.evaluate("location.hash") == "#team=search"
    assert visible_teams(browser) == {"search"}
    assert shown(browser, "weekly-rows") == weeks
    # The address is the view: opened afresh, it shows the same rows.
    browser.open((site / "dora.html").as_uri() + "#team=search")
    assert visible_teams(browser) == {"search"}
    assert browser.evaluate("document.querySelector('[name=team]').value") == "search"
    assert not errors(browser)


def _card_link(browser: Browser, label: str) -> str:
    """The href of the first (weekly) card labelled ``label`` on the overview."""
    return browser.evaluate(
        "Array.from(document.querySelectorAll('.card')).find(c => c.querySelector('.card-label')"
        f".textContent === {json.dumps(label)}).querySelector('a.card-link').href"
    )


@pytest.mark.parametrize(
    ("label", "section", "query"),
    [
        (
            "Deployments",
            "deployments",
            "SELECT count(*) FROM marts.fct_deployments WHERE status = 'success' AND "
            f"{local_day('deployed_at')} BETWEEN ? AND ?",
        ),
        (
            "Lead time p50",
            "changes",
            f"SELECT count(*) FROM marts.fct_changes WHERE {local_day('deployed_at')} "
            "BETWEEN ? AND ?",
        ),
        (
            "Change failure rate",
            "failed-deployments",
            f"SELECT count(*) FROM marts.fct_deployments WHERE is_failure AND "
            f"{local_day('deployed_at')} BETWEEN ? AND ?",
        ),
        (
            "Recovery time p50",
            "incidents",
            f"SELECT count(*) FROM marts.fct_incidents WHERE {local_day('resolved_at')} "
            "BETWEEN ? AND ?",
        ),
    ],
)
def test_a_headline_number_opens_the_rows_behind_it_for_its_period(
    site, warehouse, browser, label, section, query
):
    browser.open((site / "index.html").as_uri())
    href = _card_link(browser, label)
    assert f"from={WEEK[0]}&to={WEEK[1]}" in href and f"show={section}" in href

    browser.click(f"a.card-link[href='{href.rsplit('/', 1)[-1]}']")

    expected = sql(warehouse, query, *WEEK)
    assert expected > 0, "the fixture's latest complete week has rows"
    assert shown(browser, section) == expected
    assert count_line(browser, section).startswith(f"Showing {expected} of ")
    assert browser.evaluate(f"document.getElementById('{section}').classList.contains('target')")
    assert not errors(browser)


def test_the_rows_behind_lead_time_give_the_warehouse_percentile(site, warehouse, browser):
    browser.open((site / "lead-time.html").as_uri() + f"#from={WEEK[0]}&to={WEEK[1]}")
    p50 = sql(
        warehouse,
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY lead_time_hours) FROM "
        f"marts.fct_changes WHERE {local_day('deployed_at')} BETWEEN ? AND ?",
        *WEEK,
    )
    n = sql(
        warehouse,
        f"SELECT count(*) FROM marts.fct_changes WHERE {local_day('deployed_at')} BETWEEN ? AND ?",
        *WEEK,
    )
    assert f"lead time p50: {fmt_hours(p50)} (n = {n})" in count_line(browser, "changes")


def test_choosing_team_and_days_redraws_the_timeline_and_keeps_the_state_in_the_address(
    site, warehouse, browser
):
    browser.open((site / "deployments.html").as_uri())
    everything = shown(browser, "deployments")
    choose(browser, "team", "search")
    choose(browser, "from", "2025-02-20")
    choose(browser, "to", "2025-03-05")

    assert browser.evaluate("location.hash") == "#team=search&from=2025-02-20&to=2025-03-05"
    expected = sql(
        warehouse,
        "SELECT count(*) FROM marts.fct_deployments WHERE team = 'search' AND "
        f"{local_day('deployed_at')} BETWEEN ? AND ?",
        "2025-02-20",
        "2025-03-05",
    )
    assert 0 < expected < everything
    assert shown(browser, "deployments") == expected
    points = browser.evaluate(
        "(() => { const gd = document.querySelector('.js-plotly-plot');"
        " return gd.data.filter(t => t.name.includes('deployment'))"
        ".reduce((n, t) => n + t.x.length, 0); })()"
    )
    assert points == expected
    assert browser.evaluate("document.querySelector('.js-plotly-plot').layout.xaxis.range[0]") == (
        "2025-02-20"
    )

    browser.evaluate("document.querySelector('form[data-filters] button[type=reset]').click()")

    assert browser.evaluate("location.hash") == ""
    assert shown(browser, "deployments") == everything
    assert not errors(browser)
