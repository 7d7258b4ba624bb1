"""The offline static site: pages, local plotly.js, "No data yet", atomic swaps and pruning."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import duckdb
import pytest

import dashboards.site as site_module
from dashboards.pages import PAGES
from dashboards.site import SiteError, build_site, versions_dir
from pipelines.errors import WarehouseError
from tests.mart_fixtures import BUILD_TIME, dora_frames, make_warehouse

PAGE_FILES = [
    "index.html",
    "dora.html",
    "lead-time.html",
    "deployments.html",
    "devex.html",
    "platform-value.html",
    "slos.html",
    "data-quality.html",
]
LOCAL_PLOTLY = '<script src="assets/plotly.min.js"></script>'


def _build(warehouse: Path, site_dir: Path, **kwargs):
    kwargs.setdefault("now", BUILD_TIME)
    return build_site(warehouse, site_dir, organisation="Acme", **kwargs)


def _html(site_dir: Path, page: str) -> str:
    return (site_dir / page).read_text(encoding="utf-8")


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return make_warehouse(tmp_path / "warehouse.duckdb")


@pytest.fixture
def site_dir(tmp_path: Path) -> Path:
    return tmp_path / "build" / "site"


def _versions(site_dir: Path) -> list[str]:
    return sorted(p.name for p in versions_dir(site_dir).iterdir())


def test_every_page_is_built_and_listed_in_the_shared_nav(warehouse, site_dir):
    result = _build(warehouse, site_dir)

    assert result.pages == PAGE_FILES
    assert [p.filename for p in PAGES] == PAGE_FILES
    assert result.path == site_dir
    assert result.bytes > 1_000_000  # plotly.js alone is megabytes
    for page in PAGE_FILES:
        html = _html(site_dir, page)
        for other in PAGE_FILES:
            assert f'href="{other}"' in html, f"{page} does not link {other}"
        assert html.count('aria-current="page"') == 1
        assert 'href="assets/site.css"' in html


def test_plotly_js_is_written_once_and_every_page_loads_it_locally(warehouse, site_dir):
    result = _build(warehouse, site_dir)

    copies = [p for p in result.version_dir.rglob("*") if "plotly" in p.name]
    assert copies == [result.version_dir / "assets" / "plotly.min.js"]
    assert copies[0].stat().st_size > 1_000_000
    for page in PAGE_FILES:
        html = _html(site_dir, page)
        assert html.count(LOCAL_PLOTLY) == 1, page
        assert len(html) < 500_000, f"{page} inlines plotly.js"
    assert "Plotly.newPlot" in _html(site_dir, "index.html")


def test_no_page_or_stylesheet_refers_to_anything_off_the_machine(warehouse, site_dir):
    result = _build(warehouse, site_dir)

    remote = re.compile(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", re.IGNORECASE)
    # Links a reader may click (pull requests on GitHub) load nothing; resources must be local.
    pr_link = re.compile(r'<a class="pr-link" href="https://github\.com/[^"]+">')
    for page in PAGE_FILES:
        html = pr_link.sub("", _html(site_dir, page))
        assert not remote.search(html), f"{page}: {remote.search(html)}"
        assert "cdn." not in html.lower()
    css = (result.version_dir / "assets" / "site.css").read_text()
    assert "@import" not in css
    assert "url(" not in css
    assert "@font-face" not in css


def test_pages_without_their_mart_say_no_data_yet(warehouse, site_dir):
    _build(warehouse, site_dir)

    for page in ("devex.html", "platform-value.html", "slos.html"):
        assert "No data yet" in _html(site_dir, page), page
    for page in ("dora.html", "lead-time.html", "deployments.html"):
        assert "No data yet" not in _html(site_dir, page), page
    # The overview's DORA numbers are there; only its success scorecard (not built here) is not.
    index = _html(site_dir, "index.html")
    panels = re.findall(r'<section class="panel no-data">.*?</section>', index, re.S)
    assert len(panels) == 1 and "Success scorecard" in panels[0]


def test_a_warehouse_without_a_marts_schema_still_builds_with_no_data_yet_everywhere(
    tmp_path, site_dir
):
    warehouse = make_warehouse(tmp_path / "bare.duckdb", marts=False)

    result = _build(warehouse, site_dir)

    assert result.pages == PAGE_FILES
    for page in PAGE_FILES:
        assert "No data yet" in _html(site_dir, page), page
    quality = _html(site_dir, "data-quality.html")
    assert "raw.github_pull_requests" in quality
    assert "acme/checkout-api" in quality  # the sync cursor is listed


def test_a_warehouse_with_no_schemas_at_all_still_builds(tmp_path, site_dir):
    warehouse = make_warehouse(tmp_path / "empty.duckdb", marts=False, raw=False)

    result = _build(warehouse, site_dir)

    assert result.pages == PAGE_FILES
    assert "No data yet" in _html(site_dir, "data-quality.html")


def test_empty_mart_tables_say_no_data_yet(tmp_path, site_dir):
    warehouse = make_warehouse(tmp_path / "w.duckdb")
    con = duckdb.connect(str(warehouse))
    for (table,) in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'"
    ).fetchall():
        con.execute(f"DELETE FROM marts.{table}")
    con.close()

    _build(warehouse, site_dir)

    for page in ("index.html", "dora.html", "lead-time.html", "deployments.html"):
        assert "No data yet" in _html(site_dir, page), page


def test_a_mart_with_missing_columns_does_not_break_its_page(tmp_path, site_dir):
    warehouse = make_warehouse(tmp_path / "w.duckdb")
    con = duckdb.connect(str(warehouse))
    con.execute("ALTER TABLE marts.metrics_dora_weekly DROP COLUMN rework_rate")
    con.execute("ALTER TABLE marts.fct_changes DROP COLUMN pickup_hours")
    con.close()

    result = _build(warehouse, site_dir)

    assert result.pages == PAGE_FILES
    assert "Lead time per team" in _html(site_dir, "lead-time.html")


def test_devex_page_shows_its_mart_once_it_exists(warehouse, site_dir):
    # More in tests/test_experience_pages.py; here: one org row is enough for the headline.
    con = duckdb.connect(str(warehouse))
    con.execute(
        "CREATE TABLE marts.metrics_devex_wave AS "
        "SELECT '2025-Q1' AS wave, TIMESTAMPTZ '2025-03-01 12:00:00+00' AS wave_closed_at, "
        "1 AS wave_number, 'org' AS group_type, 'all' AS group_value, 12 AS respondents, "
        "false AS suppressed, 71.5 AS devex_index, 3.9 AS satisfaction_mean"
    )
    con.close()

    _build(warehouse, site_dir)

    devex = _html(site_dir, "devex.html")
    assert "Latest wave: 2025-Q1" in devex
    assert "71.5/100" in devex and "3.90/5" in devex
    assert "n = 12 respondents" in devex


def test_overview_headlines_the_latest_complete_week_and_month_with_sample_sizes(
    warehouse, site_dir
):
    _build(warehouse, site_dir)

    html = _html(site_dir, "index.html")
    # Built on 2025-03-10: the week of 03-03 has just ended, but March is still running.
    assert "Latest complete week: week of 2025-02-24" in html
    assert "Latest complete month: month of 2025-02-01" in html
    weekly, _ = dora_frames()
    last_org_week = weekly[(weekly["scope"] == "org")].iloc[-1]
    assert f"n = {last_org_week['n_changes']} changes" in html
    assert f"of n = {last_org_week['deployments']} deployments" in html
    assert "Deployments per week (org)" in html
    assert "Data freshness" in html and "last sync of github" in html


def test_every_metric_carries_a_one_line_definition_on_hover(warehouse, site_dir):
    _build(warehouse, site_dir)

    dora = _html(site_dir, "dora.html")
    for fragment in ("Change lead time:", "Share of production deployments", "recovery time"):
        assert re.search(rf'title="[^"]*{fragment}', dora), fragment
    index = _html(site_dir, "index.html")
    assert index.count('class="card') >= 12
    assert len(re.findall(r'class="card[^"]*" title="[^"]+"', index)) >= 12


def test_site_dir_is_a_relative_symlink_to_a_dated_version(warehouse, site_dir):
    result = _build(warehouse, site_dir)

    assert site_dir.is_symlink()
    assert not os.path.isabs(os.readlink(site_dir))
    assert result.version_dir == versions_dir(site_dir) / "20250310T060000Z"
    assert site_dir.resolve() == result.version_dir.resolve()


def test_the_warehouse_is_opened_read_only(warehouse, site_dir):
    # DuckDB refuses a second connection to one file with a different access mode, so holding a
    # read-only connection open proves the build also opens it read-only.
    holder = duckdb.connect(str(warehouse), read_only=True)
    try:
        _build(warehouse, site_dir)
    finally:
        holder.close()
    assert (site_dir / "index.html").exists()


def test_versions_are_pruned_to_keep_copies_and_the_live_one_survives(warehouse, site_dir):
    builds = [
        _build(warehouse, site_dir, keep_copies=3, now=BUILD_TIME + dt.timedelta(days=i))
        for i in range(5)
    ]

    assert _versions(site_dir) == [b.version_dir.name for b in builds[-3:]]
    assert site_dir.resolve() == builds[-1].version_dir.resolve()


def test_builds_in_the_same_second_do_not_overwrite_each_other(warehouse, site_dir):
    first = _build(warehouse, site_dir)
    second = _build(warehouse, site_dir)

    assert first.version_dir != second.version_dir
    assert second.version_dir.name == f"{first.version_dir.name}-1"
    assert site_dir.resolve() == second.version_dir.resolve()


def test_a_build_that_fails_midway_leaves_the_previous_site_untouched(
    warehouse, site_dir, monkeypatch
):
    previous = _build(warehouse, site_dir)
    before = (site_dir / "index.html").read_text()
    written: list[str] = []
    real_write = site_module._write_page

    def failing_write(folder, page, html):
        if len(written) == 3:
            raise RuntimeError("disk full")
        written.append(page.filename)
        real_write(folder, page, html)

    monkeypatch.setattr(site_module, "_write_page", failing_write)

    with pytest.raises(RuntimeError, match="disk full"):
        _build(warehouse, site_dir, now=BUILD_TIME + dt.timedelta(days=1))

    assert written == PAGE_FILES[:3]
    assert site_dir.resolve() == previous.version_dir.resolve()
    assert (site_dir / "index.html").read_text() == before
    assert _versions(site_dir) == [previous.version_dir.name]  # no half-built or temp folder


def test_a_real_folder_at_site_dir_is_replaced_by_the_symlink_once(warehouse, site_dir):
    site_dir.mkdir(parents=True)
    (site_dir / "index.html").write_text("old unversioned site")

    result = _build(warehouse, site_dir)

    assert site_dir.is_symlink()
    assert "old unversioned site" not in _html(site_dir, "index.html")
    assert sorted(p.name for p in site_dir.parent.iterdir()) == ["site", "site-versions"]
    again = _build(warehouse, site_dir, now=BUILD_TIME + dt.timedelta(hours=1))
    assert _versions(site_dir) == [result.version_dir.name, again.version_dir.name]


def test_a_folder_that_is_not_a_site_is_never_replaced(warehouse, site_dir):
    site_dir.mkdir(parents=True)
    (site_dir / "notes.txt").write_text("precious")

    with pytest.raises(SiteError, match="something other than a site"):
        _build(warehouse, site_dir)

    assert (site_dir / "notes.txt").read_text() == "precious"
    assert not site_dir.is_symlink()


def test_a_missing_warehouse_is_a_one_line_error_and_the_site_stays(warehouse, site_dir, tmp_path):
    previous = _build(warehouse, site_dir)

    with pytest.raises(WarehouseError, match="warehouse not found"):
        _build(tmp_path / "nowhere.duckdb", site_dir, now=BUILD_TIME + dt.timedelta(days=1))

    assert site_dir.resolve() == previous.version_dir.resolve()
    assert _versions(site_dir) == [previous.version_dir.name]


def test_lead_time_page_lists_every_change_slowest_first_linked_to_its_pull_request(
    warehouse, site_dir
):
    _build(warehouse, site_dir, pr_url="https://ghe.example/{repository}/pull/{number}")

    html = _html(site_dir, "lead-time.html")
    assert "Changes deployed in the window, slowest first (n = 30)" in html
    links = re.findall(r'<a class="pr-link" href="([^"]+)">([^<]+)</a>', html)
    assert len(links) == 30
    assert all(url.startswith("https://ghe.example/acme/") for url, _ in links)
    url, label = links[0]
    repo, number = label.split("#")
    assert url == f"https://ghe.example/{repo}/pull/{number}"


def test_benchmark_level_bands_are_drawn_behind_the_dora_series(warehouse, site_dir):
    con = duckdb.connect(str(warehouse))
    con.execute(
        "CREATE TABLE marts.dora_benchmarks AS SELECT * FROM (VALUES "
        "('dora_2024', 'lead_time', 'elite', 1, 'lead_time_p50_hours', '<', 24.0), "
        "('dora_2024', 'lead_time', 'high', 2, 'lead_time_p50_hours', '<', 168.0), "
        "('dora_2024', 'lead_time', 'low', 4, 'lead_time_p50_hours', 'any', NULL)) "
        "AS t(benchmark, metric, level, level_rank, measure, operator, threshold)"
    )
    con.close()

    _build(warehouse, site_dir)

    dora = _html(site_dir, "dora.html")
    assert '"layer":"below"' in dora.replace(" ", "")
    assert '"text":"elite"' in dora.replace(" ", "") and '"text":"high"' in dora.replace(" ", "")


def test_metrics_prom_is_published_beside_the_pages(warehouse, site_dir):
    _build(warehouse, site_dir)
    prom = (site_dir / "metrics.prom").read_text()
    assert "# TYPE platform_metrics_dora_deployments gauge" in prom
    assert "platform_metrics_site_build_timestamp_seconds" in prom


def test_a_survey_file_is_named_by_its_wave_file_not_its_hash_on_the_data_quality_page(
    tmp_path, site_dir
):
    from tests.mart_fixtures import SURVEY_FILE_DIGEST

    _build(make_warehouse(tmp_path / "w.duckdb"), site_dir)
    quality = _html(site_dir, "data-quality.html")
    assert f"2025-Q1.csv (file {SURVEY_FILE_DIGEST[:8]})" in quality
    assert SURVEY_FILE_DIGEST not in quality


def test_the_slo_report_page_renders_with_the_shared_template_and_no_output_links():
    """slo_report renders page.html.j2 without the site's output links: the template must not
    require them (a run once failed at publish/slo_report on exactly this)."""
    import datetime as dt

    from dashboards.blocks import Note
    from dashboards.slo_report import render_report_html

    html = render_report_html(
        [Note("n = 0 SLOs")], organisation="Acme", now=dt.datetime(2025, 3, 10, tzinfo=dt.UTC)
    )
    assert "SLO report" in html and "n = 0 SLOs" in html
    assert 'aria-label="Reports and files"' not in html


def test_ids_link_to_their_source_pages_from_the_data_and_never_to_a_guess(tmp_path):
    """A change and an incident link to the url their row carries; with no url and no configured
    pull-request host there is no link (the demo: generated sources, nothing to open)."""
    warehouse = make_warehouse(tmp_path / "w.duckdb")
    con = duckdb.connect(str(warehouse))
    con.execute("ALTER TABLE marts.fct_changes ADD COLUMN url VARCHAR")
    con.execute("UPDATE marts.fct_changes SET url = 'https://code.example/pr/' || change_id")
    con.execute("ALTER TABLE marts.fct_incidents ADD COLUMN url VARCHAR")
    con.execute("UPDATE marts.fct_incidents SET url = 'https://pager.example/i/' || incident_id")
    con.close()

    linked = tmp_path / "linked"
    build_site(warehouse, linked, organisation="Acme", now=BUILD_TIME)
    changes = re.findall(
        r'<a class="pr-link" href="([^"]+)">([^<]+)</a>', _html(linked, "lead-time.html")
    )
    assert len(changes) == 30  # every change in the window
    assert all(url.startswith("https://code.example/pr/") for url, _ in changes)
    incidents = re.findall(
        r'<a class="source-link" href="([^"]+)">([^<]+)</a>', _html(linked, "deployments.html")
    )
    assert incidents and all(url == f"https://pager.example/i/{i}" for url, i in incidents)

    demo = tmp_path / "demo"
    build_site(warehouse, demo, organisation="Acme", now=BUILD_TIME, link_sources=False)
    for page in ("lead-time.html", "deployments.html"):
        assert 'class="pr-link"' not in _html(demo, page)
        assert 'class="source-link"' not in _html(demo, page)


def test_without_a_url_or_a_configured_host_a_pull_request_is_plain_text(warehouse, site_dir):
    _build(warehouse, site_dir)
    html = _html(site_dir, "lead-time.html")
    assert "slowest first" in html
    assert 'class="pr-link"' not in html
