"""The DevEx, platform-value and overview pages with their marts, in Debian's headless Chromium from
file:// with the network blocked: charts drawn, no script errors, no request leaves the folder."""

from __future__ import annotations

import re

import pytest

from dashboards.leadership import write_leadership_reports
from dashboards.site import build_site
from tests import test_site_browser as browser
from tests.experience_fixtures import add_marts
from tests.mart_fixtures import BUILD_TIME, make_warehouse

PAGES = ("index.html", "devex.html", "platform-value.html", "leadership-weekly.html")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        browser.CHROMIUM is None, reason="no Chrome, Chromium or Edge (apt chromium)"
    ),
]


@pytest.fixture(scope="module")
def doms(tmp_path_factory) -> dict[str, tuple[str, str]]:
    root = tmp_path_factory.mktemp("experience-browser")
    warehouse = add_marts(make_warehouse(root / "warehouse.duckdb"))
    reports = write_leadership_reports(
        warehouse, root / "leadership", organisation="Acme", now=BUILD_TIME, pdf=False
    )
    site = build_site(
        warehouse, root / "site", organisation="Acme", now=BUILD_TIME, extra_files=reports.files
    ).path
    profile = root / "profile"
    out = {}
    for page in PAGES:
        done = browser._chromium(profile, "--dump-dom", (site / page).resolve().as_uri())
        assert done.returncode == 0, done.stderr[-2000:]
        out[page] = (done.stdout, done.stderr)
    return out


def test_the_new_pages_draw_every_chart_offline(doms):
    for page in ("index.html", "devex.html", "platform-value.html"):
        dom, _ = doms[page]
        containers = len(re.findall(r'class="plotly-graph-div\b', dom))
        drawn = len(re.findall(r'class="plotly-graph-div js-plotly-plot"', dom))
        assert containers > 0, page
        assert drawn == containers, f"{page}: {drawn} of {containers} figures drawn"
        assert dom.count('class="main-svg"') >= containers, page


def test_the_new_pages_have_no_script_errors_or_failed_requests(doms):
    for page, (dom, stderr) in doms.items():
        console = "\n".join(browser._console(stderr))
        assert "Uncaught" not in console, f"{page}: {console}"
        assert "is not defined" not in dom and "is not defined" not in console, page
        assert "ERR_" not in console and "Failed to load resource" not in console, console


def test_the_rendered_pages_carry_the_scorecard_and_the_hidden_groups(doms):
    assert "Success scorecard: 3 met" in doms["index.html"][0]
    assert "fewer than 5 responses — hidden" in doms["devex.html"][0]
    assert "Assumptions behind the value" in doms["platform-value.html"][0]
    assert ">Success scorecard</h2>" in doms["leadership-weekly.html"][0]
