"""The leadership report's success scorecard: the section in Markdown and HTML, and the DORA
targets read from the scorecard in its units (percentages 0-100, org scope only)."""

from __future__ import annotations

import html as htmllib
import re
from pathlib import Path

import duckdb
import pytest

from dashboards.leadership import _targets, write_leadership_reports
from dashboards.marts import WarehouseReader
from tests.experience_fixtures import SCORECARD_MARTS, add_marts
from tests.mart_fixtures import BUILD_TIME, make_warehouse


def _reader(sql: str | None) -> WarehouseReader:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts")
    if sql:
        con.execute(sql)
    return WarehouseReader(con)


def _text(fragment: str) -> str:
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    root = tmp_path_factory.mktemp("leadership-scorecard")
    warehouse = add_marts(make_warehouse(root / "warehouse.duckdb"), SCORECARD_MARTS)
    return write_leadership_reports(
        warehouse, root / "out", organisation="Acme", now=BUILD_TIME, pdf=False, images=False
    )


def test_targets_are_converted_from_the_scorecards_units():
    reader = _reader(
        "CREATE TABLE marts.metrics_success_scorecard AS SELECT * FROM (VALUES "
        "(1, 'change_failure_rate', 'org', '%', '<', 5.0), "
        "(2, 'deployment_frequency', 'org', 'per week', '>', 20.0), "
        "(3, 'lead_time', 'org', 'h', '<', 24.0), "
        "(4, 'recovery_time', 'org', 'h', '<=', 0.5), "
        "(5, 'rework_rate', 'org', '%', '<', 12.5), "
        "(6, 'change_failure_rate', 'team:payments', '%', '<', 3.0), "
        "(7, 'developer_satisfaction', 'org', '/5', '>', 4.0)) "
        "AS t(position, metric, scope, unit, op, target)"
    )

    has_scorecard, targets = _targets(reader)

    assert has_scorecard
    assert targets == {
        "change_failure_rate": "target: < 5.0%",  # 5 means 5%, not 500%
        "deployments": "target: > 20.0 per week",
        "lead_time_p50_hours": "target: < 24.0 h",
        "recovery_time_p50_hours": "target: ≤ 30 min",
        "rework_rate": "target: < 12.5%",
    }


def test_only_org_rows_are_organisation_targets():
    reader = _reader(
        "CREATE TABLE marts.metrics_success_scorecard AS SELECT * FROM (VALUES "
        "(1, 'change_failure_rate', 'team:payments', '%', '<', 3.0), "
        "(2, 'lead_time', 'service:checkout-api', 'h', '<', 8.0)) "
        "AS t(position, metric, scope, unit, op, target)"
    )
    assert _targets(reader) == (True, {})


def test_a_scorecard_without_unit_or_scope_columns_uses_the_measures_units():
    reader = _reader(
        "CREATE TABLE marts.metrics_success_scorecard AS "
        "SELECT 'change_failure_rate' AS metric, 5 AS target"
    )
    assert _targets(reader) == (True, {"change_failure_rate": "target: 5.0%"})


def test_no_scorecard_mart_means_no_targets():
    assert _targets(_reader(None)) == (False, {})


def test_markdown_lists_every_scorecard_row_with_its_status(reports):
    md = (reports.folder / "leadership-monthly.md").read_text()
    assert "Success scorecard: 3 met, 1 at risk, 2 missed, 1 no data (n = 7 measures)." in md
    assert "| measure | now | previous | target | status |" in md
    for row in (
        "| Developer satisfaction | 3.92/5 (2025-Q1) | 3.70/5 (2024-Q4) | > 4.00/5 | at risk |",
        "| Change failure rate | 4.2% (2025-02) | 6.0% (2025-01) | < 5.0% | met |",
        "| Self-service ratio | — | — | ≥ 50.0% | no data: platform.self_service is not "
        "configured, or no requests |",
        "| Change failure rate (team:payments) | 9.0% (2025-02) | 2.0% (2025-01) | < 3.0% | "
        "missed |",
    ):
        assert row in md, row
    # The headline table's targets come from the org rows, in the right unit.
    assert re.search(r"\| Change failure rate \| [^|]+ \|.*\| target: < 5\.0% \|", md)
    assert re.search(r"\| Deployments \| .*\| target: > 20\.0 per week \|", md)
    assert re.search(r"\| Rework rate \| .*\| n = [^|]+ \|  \|", md)  # no target: blank
    assert "target: not set" not in md
    assert md.index("Success scorecard") < md.index("SLOs:")


def test_html_has_the_scorecard_section(reports):
    html = (reports.folder / "leadership-weekly.html").read_text()
    assert re.search(r"<h2[^>]*>Success scorecard</h2>", html)
    section = html[html.index(">Success scorecard</h2>") : html.index("Service level objectives")]
    rows = [_text(r) for r in re.findall(r"<tr[^>]*>(.*?)</tr>", section, re.S)]
    assert rows[0] == "measure now previous target status"
    assert "Deployment frequency 12.5 per week (2025-02) 11.0 per week (2025-01) > 20.0 per week missed" in rows  # fmt: skip
    assert (
        "Self-service ratio — — ≥ 50.0% no data: platform.self_service is not configured, or no "
        "requests"
    ) in rows
    assert len(rows) == 8
    assert "3 met, 1 at risk, 2 missed, 1 no data (n = 7 measures)" in _text(section)
    assert 'class="status-at-risk"' in section
    assert 'title="Developer satisfaction: what it measures."' in section
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)


def test_without_the_scorecard_mart_the_section_says_no_data_yet(tmp_path: Path):
    warehouse = make_warehouse(tmp_path / "w.duckdb")
    out = write_leadership_reports(
        warehouse, tmp_path / "r", organisation="Acme", now=BUILD_TIME, pdf=False, images=False
    )
    md = (out.folder / "leadership-weekly.md").read_text()
    html = (out.folder / "leadership-weekly.html").read_text()
    assert "Success scorecard: no data yet (marts.metrics_success_scorecard is not built)." in md
    assert "No data yet: marts.metrics_success_scorecard is not built." in html


def test_an_empty_warehouse_report_still_has_the_scorecard_section(tmp_path: Path):
    bare = make_warehouse(tmp_path / "bare.duckdb", marts=False)
    add_marts(bare, SCORECARD_MARTS)
    out = write_leadership_reports(
        bare, tmp_path / "r", organisation="Acme", now=BUILD_TIME, pdf=False, images=False
    )
    md = (out.folder / "leadership-monthly.md").read_text()
    assert "No data yet: no complete period" in md
    assert "| Platform NPS | +12 NPS (2025-Q1) | -10 NPS (2024-Q4) | > 0 NPS | met |" in md
