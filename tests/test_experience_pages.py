"""The DevEx and platform-value pages and the overview's success scorecard, from small hand-made
marts (tests/experience_fixtures.py): suppressed groups show their reason and no number, comments
come only from metrics_devex_comments, the value sits beside its assumptions, "No data yet"."""

from __future__ import annotations

import html as htmllib
import re
from pathlib import Path

import duckdb
import pytest

from dashboards.site import build_site
from tests.experience_fixtures import (
    COMPLEMENTARY_REASON,
    EXPERIENCE_MARTS,
    FORMULA_COMMENT,
    LATEST_WAVE,
    OLD_WAVE_COMMENT,
    RAW_ONLY_COMMENT,
    SCORECARD_MARTS,
    STAGING_ONLY_COMMENT,
    THRESHOLD_REASON,
    VALUE_MARTS,
    add_marts,
    add_unpublishable_comments,
)
from tests.mart_fixtures import BUILD_TIME, make_warehouse


def _text(fragment: str) -> str:
    """Visible text: tags dropped, entities decoded, whitespace collapsed."""
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _panels(page: str) -> list[str]:
    return re.findall(r'<section class="panel[^"]*">.*?</section>', page, re.S)


def _panel(page: str, heading: str) -> str:
    found = [p for p in _panels(page) if heading in p]
    assert found, f"no panel with {heading!r}"
    return found[0]


def _row(panel: str, first_cell: str) -> str:
    rows = re.findall(r"<tr>(.*?)</tr>", panel, re.S)
    found = [r for r in rows if re.match(rf"\s*<td[^>]*>{re.escape(first_cell)}</td>", r)]
    assert len(found) == 1, f"{first_cell!r}: {len(found)} rows"
    return found[0]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("experience")
    warehouse = add_marts(make_warehouse(root / "warehouse.duckdb"))
    add_unpublishable_comments(warehouse)
    return build_site(warehouse, root / "site", organisation="Acme", now=BUILD_TIME).path


@pytest.fixture(scope="module")
def devex(site) -> str:
    return (site / "devex.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def value(site) -> str:
    return (site / "platform-value.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def overview(site) -> str:
    return (site / "index.html").read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------------ DevEx
def test_devex_headline_cards_show_the_latest_wave_with_sample_and_change(devex):
    cards = _text(_panel(devex, "Latest wave"))
    assert f"Latest wave: {LATEST_WAVE} (closed 2025-03-05), organisation" in cards
    assert "DevEx index 62.5/100 n = 32 respondents · +10.0 since 2024-Q4" in cards
    assert "Satisfaction 3.92/5 target > 4.0 (not met) · n = 32 respondents · +0.22" in cards
    assert "Platform NPS +12 n = 32 respondents · +22 since 2024-Q4" in cards
    assert "Response rate 80.0% 32 of 40 invited · +5.0 pp since 2024-Q4" in cards
    assert "Hours lost per week 3.2 h" in cards and "−0.8 h since 2024-Q4" in cards
    assert "Cognitive load index" in cards and "higher = more load" in cards
    assert len(re.findall(r'class="card[^"]*" title="[^"]+"', _panel(devex, "Latest wave"))) == 6


def test_devex_trend_chart_is_drawn_per_wave(devex):
    chart = _panel(devex, "DevEx index and satisfaction per wave")
    assert "Plotly.newPlot" in chart
    assert "2024-Q4" in chart and "2025-Q1" in chart


def test_a_suppressed_team_shows_its_reason_and_no_number(devex):
    teams = _panel(devex, "Where it hurts: favourable % per team")
    infra = _row(teams, "infra")
    assert _text(infra) == f"infra {THRESHOLD_REASON} — hidden"
    # The only digit in the row is the threshold inside the reason: no score, no count (3).
    assert re.findall(r"\d+", _text(infra)) == ["5"]
    data = _row(teams, "data")
    assert _text(data) == f"data {COMPLEMENTARY_REASON}"
    assert re.findall(r"\d+", _text(data)) == ["5"]
    # The mart wrongly carried scores for this hidden team: none reaches the page.
    for leaked in ("93.7", "94%", "96%", "4.93", "9.3"):
        assert leaked not in devex, leaked
    payments = _text(_row(teams, "payments"))
    assert payments.startswith("payments 12 86% 71% 72%")
    assert "2 team groups shown, 2 hidden" in _text(teams)


def test_tenure_and_role_groups_are_shown_with_the_same_rule(devex):
    tenure = _panel(devex, "favourable % per tenure")
    assert _text(_row(tenure, "&lt;1 year")) == f"<1 year {THRESHOLD_REASON} — hidden"
    assert _text(_row(tenure, "2-5 years")).startswith("2-5 years 28 62%")
    assert "favourable % per role" in devex


def test_cognitive_load_signals_cover_the_latest_four_complete_weeks(devex):
    signals = _panel(devex, "Objective cognitive-load signals")
    # Built 2025-03-10: the week of 03-10 is running, so the four weeks are 02-10 .. 03-03.
    assert "the 4 complete weeks 2025-02-10 to 2025-03-09" in signals
    payments = _text(_row(signals, "payments"))
    # open PRs per developer: weeks 5..8 -> (15+16+17+18)/4/8; CI queue mean 36.5 s.
    assert payments.startswith("payments 8 0.25 0.50")
    assert f"{(15 + 16 + 17 + 18) / 4 / 8:.2f}" in payments
    assert "36 s" in payments or "37 s" in payments
    assert "n = 8 developers" in payments
    assert "not a productivity score" in signals


def test_comments_show_their_question_text_not_the_item_id(devex):
    text = _text(devex)
    # OT1 is the instrument's "The biggest thing slowing you down"; OT2 is not in it and stays.
    assert "The biggest thing slowing you down Provisioning a database needs a ticket" in text
    assert "OT1" not in text
    assert "OT2 Flaky <integration> tests & slow CI" in text


def test_comments_of_the_latest_wave_come_only_from_the_comments_mart(devex):
    text = _text(devex)
    assert "Comments from payments (n = 3, 3 distinct)" in text
    assert "Comments from search (n = 5, 3 distinct)" in text
    assert "Provisioning a database needs a ticket" in text
    assert "Flaky <integration> tests & slow CI" in text  # escaped, not markup
    assert "<integration>" not in devex
    assert OLD_WAVE_COMMENT not in text
    assert RAW_ONLY_COMMENT not in devex and STAGING_ONLY_COMMENT not in devex
    assert "Comments from infra" not in text and "Comments from data" not in text


def _comment_rows(devex: str, team: str) -> list[tuple[str, str, str]]:
    """(question, comment, answers) of one team's comments table."""
    section = devex.split(f"Comments from {team} (")[1].split("</table>")[0]
    rows = re.findall(r"<tr><td>(.*?)</td><td><span class=\"comment\">(.*?)</span></td>"
                      r"<td class=\"num\">(\d+)</td></tr>", section, re.S)  # fmt: skip
    return [(_text(q), _text(c), n) for q, c, n in rows]


def test_identical_comments_are_shown_once_with_their_count_per_group_and_question(devex):
    search = _comment_rows(devex, "search")
    payments = _comment_rows(devex, "payments")
    slowest = "The biggest thing slowing you down"
    train = [r for r in search if r[1].casefold().startswith("waiting for the")]
    # OT1 once with 3 answers (first as given), OT2 apart: another question.
    assert train == [
        (slowest, "Waiting for the release train", "3"),
        ("OT2", "Waiting for the release train", "1"),
    ]
    assert (slowest, "Waiting for the release train", "1") in payments  # another team
    assert sum(int(n) for *_, n in search) == 5


def test_a_comment_a_spreadsheet_would_run_is_shown_with_a_leading_apostrophe(devex):
    comments = [_text(c) for c in re.findall(r'<span class="comment">(.*?)</span>', devex, re.S)]
    assert "'" + FORMULA_COMMENT in comments
    assert FORMULA_COMMENT not in comments
    assert "Waiting for the release train" in comments  # ordinary text is untouched


def test_the_anonymity_rule_is_explained(devex):
    text = _text(devex)
    assert "Anonymity: a team, tenure or role group with fewer than 5 responses is hidden" in text
    assert "complementary suppression" in text
    assert "docs/surveys.md#privacy" in text


def test_devex_page_without_its_marts_says_no_data_yet(tmp_path):
    warehouse = make_warehouse(tmp_path / "w.duckdb")
    site = build_site(warehouse, tmp_path / "site", organisation="Acme", now=BUILD_TIME).path
    text = _text((site / "devex.html").read_text())
    assert "Developer survey No data yet No data yet: marts.metrics_devex_wave" in text
    assert "marts.metrics_cognitive_load_signals has no complete week yet" in text
    assert "marts.metrics_devex_comments has not been built yet" in text


def test_empty_devex_marts_say_no_data_yet(tmp_path):
    warehouse = add_marts(make_warehouse(tmp_path / "w.duckdb"), EXPERIENCE_MARTS)
    with duckdb.connect(str(warehouse)) as con:
        for table in EXPERIENCE_MARTS:
            con.execute(f"DELETE FROM marts.{table}")
    site = build_site(warehouse, tmp_path / "site", organisation="Acme", now=BUILD_TIME).path
    page = (site / "devex.html").read_text()
    assert page.count('class="panel no-data"') == 3
    assert "Plotly.newPlot" not in page


def test_a_suppressed_organisation_shows_no_headline_numbers(tmp_path):
    warehouse = add_marts(make_warehouse(tmp_path / "w.duckdb"), EXPERIENCE_MARTS)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "UPDATE marts.metrics_devex_wave SET suppressed = true, suppression_reason = "
            f"'{THRESHOLD_REASON}' WHERE group_type = 'org' AND wave = '{LATEST_WAVE}'"
        )
    site = build_site(warehouse, tmp_path / "site", organisation="Acme", now=BUILD_TIME).path
    text = _text((site / "devex.html").read_text())
    assert f"Wave {LATEST_WAVE}: the organisation's results are hidden ({THRESHOLD_REASON}" in text
    assert "62.5/100" not in text and "n = 32 respondents" not in text


# ---------------------------------------------------------------------------------- platform value
def test_platform_value_headlines_the_latest_complete_month(value):
    cards = _text(_panel(value, "Latest complete month"))
    # Built 2025-03-10: March is running, so February is the latest complete month.
    assert "Latest complete month: February 2025" in cards
    assert "Platform adoption 50.0% 5 of n = 10 eligible services" in cards
    assert "Golden-path share 45.0% 45 of n = 100 deployments" in cards
    assert "Time to first deployment p50 1.6 h n = 1 of 2 new services deployed" in cards
    assert "Self-service ratio — not configured (platform.self_service)" in cards


def test_adoption_per_capability_is_a_line_chart(value):
    chart = _panel(value, "Adoption per capability per month")
    assert "Plotly.newPlot" in chart
    for name in ("ci_templates", "golden_deploy", "any capability"):
        assert re.search(rf'"name":\s*"{name}"', chart), name


def test_the_value_is_printed_beside_the_assumptions_it_rests_on(value):
    panels = _panels(value)
    titles = [_text(re.search(r"<h2[^>]*>(.*?)</h2>", p, re.S).group(1)) for p in panels]
    money = titles.index("Value model (an estimate), February 2025")
    assert titles[money + 1] == "Assumptions behind the value for February 2025"
    cards = _text(panels[money])
    assert "Time-saved value EUR 12,000" in cards
    assert "Platform cost EUR 8,000" in cards
    assert "Value-to-cost ratio 1.50x" in cards
    assert "ROI 50.0%" in cards
    assert "Payback 25.0 months" in cards
    assert "Friction cost EUR 18,200" in cards
    assumptions = _text(panels[money + 1])
    for line in (
        "currency EUR",
        "loaded hourly rate EUR 100 per hour",
        "attribution factor 0.50",
        "working weeks per month 3.50",
        "baseline period 2024-09-01 to 2024-11-30",
        "assumptions: tasks ci_queue_time, change_lead_time",
        "assumptions: capabilities[golden_deploy].golden_path yes",
        "assumptions: working_weeks_per_year 42",
        "assumptions: self_service.workflow_regex not set",
    ):
        assert line in assumptions, line
    assert "Value is an estimate, not a measurement" in _text(value)


def test_time_saved_per_task_and_new_services(value):
    tasks = _text(_panel(value, "Time saved per task, February 2025"))
    assert "ci_queue_time ci job 36 s 18 s 4,000 20.0 h EUR 1,000" in tasks
    assert "change_lead_time change 30.0 h 29.5 h 440 220.0 h EUR 11,000" in tasks
    services = _text(_panel(value, "New services: time to first deployment"))
    assert "ledger-api payments acme/ledger-api 2025-02-03 09:00 UTC" in services
    assert "ranker search acme/ranker 2025-02-13 09:00 UTC not deployed yet" in services
    assert "n = 1 deployed" in services


def test_platform_value_without_its_marts_says_no_data_yet(tmp_path):
    warehouse = make_warehouse(tmp_path / "w.duckdb")
    site = build_site(warehouse, tmp_path / "site", organisation="Acme", now=BUILD_TIME).path
    page = (site / "platform-value.html").read_text()
    assert "No data yet: marts.metrics_platform_value has not been built or is empty." in page
    assert "No data yet: marts.fct_service_onboarding is empty or not built." in page


def test_nulls_on_the_value_page_say_why(tmp_path):
    warehouse = add_marts(make_warehouse(tmp_path / "w.duckdb"), VALUE_MARTS)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "UPDATE marts.metrics_platform_value SET hourly_rate = NULL, time_saved_value = NULL, "
            "value_to_cost_ratio = NULL, roi = NULL, payback_months = NULL, friction_cost = NULL, "
            "notes = 'value: no hourly rate configured (platform.value); payback: no time-saved "
            "value'"
        )
    site = build_site(warehouse, tmp_path / "site", organisation="Acme", now=BUILD_TIME).path
    text = _text((site / "platform-value.html").read_text())
    assert "Time-saved value — no hourly rate configured (platform.value)" in text
    assert "Payback — no time-saved value" in text
    assert "loaded hourly rate not set" in text


# -------------------------------------------------------------------------------------- overview
def test_overview_scorecard_follows_the_headline_cards(overview):
    titles = [_text(t) for t in re.findall(r"<h2[^>]*>(.*?)</h2>", overview, re.S)]
    assert titles[0].startswith("Latest complete week")
    assert titles[1].startswith("Latest complete month")
    assert titles[2] == "Success scorecard: 3 met, 1 at risk, 2 missed, 1 no data (n = 7 measures)"


def test_overview_scorecard_rows_are_in_their_units_with_status_words(overview):
    table = _panel(overview, "Success scorecard")
    rows = [_text(r) for r in re.findall(r"<tr>(.*?)</tr>", table, re.S) if "<td" in r]
    assert len(rows) == 7
    expected = [
        "Developer satisfaction 3.92/5 (2025-Q1) 3.70/5 (2024-Q4) > 4.00/5 at risk "
        "marts.metrics_devex_wave",
        "Change failure rate 4.2% (2025-02) 6.0% (2025-01) < 5.0% met marts.metrics_dora_monthly",
        "Deployment frequency 12.5 per week (2025-02) 11.0 per week (2025-01) > 20.0 per week "
        "missed",
        "Lead time for changes (p50) 21.0 h (2025-02) 22.0 h (2025-01) < 24.0 h met",
        "Self-service ratio — — ≥ 50.0% no data: platform.self_service is not configured, or no "
        "requests marts.metrics_platform_value",
        "Change failure rate (team:payments) 9.0% (2025-02) 2.0% (2025-01) < 3.0% missed",
        "Platform NPS +12 NPS (2025-Q1) -10 NPS (2024-Q4) > 0 NPS met",
    ]
    text = " || ".join(rows)
    for row in expected:
        assert row in text, row
    assert "500" not in _text(table)  # a 5% target is 5%, not a fraction scaled twice
    assert 'class="status status-at-risk"' in table
    assert re.search(r'<span title="Developer satisfaction: what it measures.">', table)


def test_overview_without_a_scorecard_says_no_data_yet_in_that_panel_only(tmp_path):
    warehouse = make_warehouse(tmp_path / "w.duckdb")
    site = build_site(warehouse, tmp_path / "site", organisation="Acme", now=BUILD_TIME).path
    page = (site / "index.html").read_text()
    no_data = [p for p in _panels(page) if "No data yet" in p]
    assert len(no_data) == 1 and "Success scorecard" in no_data[0]
    assert "marts.metrics_success_scorecard has not been built yet" in no_data[0]


def test_an_empty_scorecard_says_no_data_yet(tmp_path):
    warehouse = add_marts(make_warehouse(tmp_path / "w.duckdb"), SCORECARD_MARTS)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("DELETE FROM marts.metrics_success_scorecard")
    site = build_site(warehouse, tmp_path / "site", organisation="Acme", now=BUILD_TIME).path
    panel = _panel((site / "index.html").read_text(), "Success scorecard")
    assert "No data yet" in panel and "has no rows" in panel
