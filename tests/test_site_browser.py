"""The built site in a real browser: Debian's headless Chromium opens every page from file:// with
the network blocked, runs plotly.js from the site's own assets folder and draws the charts."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from dashboards.browser import find_browser, run_chromium
from dashboards.leadership import write_leadership_reports
from dashboards.site import build_site
from tests.mart_fixtures import BUILD_TIME, make_warehouse

CHROMIUM = find_browser()
REPO_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO_ROOT / "build" / "test-artifacts"
PAGES_WITH_CHARTS = ("index.html", "dora.html", "lead-time.html", "deployments.html")
PAGES_WITHOUT_DATA = ("devex.html", "platform-value.html", "slos.html")
LEADERSHIP_PAGES = ("leadership-weekly.html", "leadership-monthly.html")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chrome, Chromium or Edge (apt chromium)"),
]


def _chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # The product's launcher: any request leaving the machine fails, so the page must need
    # nothing but its folder.
    return run_chromium(
        CHROMIUM, "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", *args,
        profile=profile, timeout=90,
    )  # fmt: skip


def _console(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "CONSOLE" in line]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("browser")
    warehouse = make_warehouse(root / "warehouse.duckdb")
    reports = write_leadership_reports(
        warehouse, root / "leadership", organisation="Acme", now=BUILD_TIME
    )
    result = build_site(
        warehouse, root / "site", organisation="Acme", now=BUILD_TIME, extra_files=reports.files
    )
    return result.path


@pytest.fixture(scope="module")
def doms(site: Path, tmp_path_factory) -> dict[str, tuple[str, str]]:
    profile = tmp_path_factory.mktemp("chromium-profile")
    out = {}
    for page in sorted(p.name for p in site.glob("*.html")):
        done = _chromium(profile, "--dump-dom", (site / page).resolve().as_uri())
        assert done.returncode == 0, done.stderr[-2000:]
        out[page] = (done.stdout, done.stderr)
    return out


def test_every_page_opens_from_file_url(doms):
    assert len(doms) == 10
    for page, (dom, _) in doms.items():
        if page in LEADERSHIP_PAGES:
            continue
        assert "<nav" in dom and "platform metrics" in dom, page


def test_leadership_reports_open_offline_with_their_chart_image(doms):
    for page in LEADERSHIP_PAGES:
        dom, _ = doms[page]
        assert "engineering report" in dom and "Headline numbers" in dom, page
        assert dom.count('src="data:image/png;base64,') == 1, page


def test_every_chart_container_is_drawn(doms):
    for page, (dom, _) in doms.items():
        containers = len(re.findall(r'class="plotly-graph-div\b', dom))
        drawn = len(re.findall(r'class="plotly-graph-div js-plotly-plot"', dom))
        assert drawn == containers, f"{page}: {drawn} of {containers} figures drawn"
        assert dom.count('class="main-svg"') >= containers, page


def test_pages_with_charts_draw_plotly_svgs_offline(doms):
    for page in PAGES_WITH_CHARTS:
        dom, _ = doms[page]
        assert dom.count('class="main-svg"') > 0, f"{page}: no chart was drawn"
        assert len(re.findall(r'class="[^"]*\bplotly-graph-div\b', dom)) > 0, page


def test_no_page_has_script_errors_or_failed_requests(doms):
    for page, (dom, stderr) in doms.items():
        assert "is not defined" not in dom, page
        console = "\n".join(_console(stderr))
        assert "Uncaught" not in console, f"{page}: {console}"
        assert "is not defined" not in console, f"{page}: {console}"
        assert "ERR_" not in console and "Failed to load resource" not in console, console


def test_pages_without_their_marts_show_no_data_yet(doms):
    for page in PAGES_WITHOUT_DATA:
        dom, _ = doms[page]
        assert "No data yet" in dom, page
        assert 'class="main-svg"' not in dom, page


def test_overview_screenshot_is_saved_for_review(site, tmp_path):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / "overview.png"
    target.unlink(missing_ok=True)
    shot = tmp_path / "overview.png"

    done = _chromium(
        tmp_path / "profile",
        f"--screenshot={shot}",
        "--window-size=1280,900",
        (site / "index.html").resolve().as_uri(),
    )

    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000  # a blank page is a few kB; charts and cards are more
    shutil.copyfile(shot, target)


def _nav_links(dom: str) -> list[str]:
    """The hrefs of every <nav> of a rendered page."""
    return [
        href
        for nav in re.findall(r"<nav\b.*?</nav>", dom, flags=re.S)
        for href in re.findall(r'<a [^>]*href="([^"]+)"', nav)
    ]


def test_navigation_reaches_every_page_and_every_published_output(site, tmp_path):
    """From the overview, follow the navigation in the browser: every page, the leadership reports,
    metrics.prom, the Grafana folder's index (and so its dashboards) and the alert rules."""
    from dashboards.site import OUTPUT_LINKS

    root = site.resolve()
    seen: set[str] = set()
    queue = ["index.html"]
    while queue:
        href = queue.pop(0)
        if href in seen:
            continue
        seen.add(href)
        target = (root / href).resolve()
        assert target.is_file(), f"{href} is linked but missing"
        if target.suffix != ".html":
            continue
        done = _chromium(tmp_path / "profile", "--dump-dom", target.as_uri())
        assert done.returncode == 0, done.stderr[-2000:]
        base = Path(href).parent
        links = _nav_links(done.stdout)
        if href.startswith("grafana/"):  # the folder index lists its files, not a <nav>
            links = re.findall(r'<li><a href="([^"]+)"', done.stdout)
            assert links, "the Grafana index lists no file"
        for link in links:
            queue.append((base / link).as_posix().removeprefix("./"))
    pages = {p.name for p in root.glob("*.html")}
    outputs = {href for _, href in OUTPUT_LINKS if (root / href).is_file()}
    assert {"leadership-weekly.html", "leadership-monthly.html", "metrics.prom"} <= outputs
    assert {"grafana/index.html", "prometheus/platform-metrics.rules.yaml"} <= outputs
    assert pages | outputs <= seen, sorted((pages | outputs) - seen)
    dashboards_reached = [s for s in seen if s.startswith("grafana/") and s.endswith(".json")]
    assert dashboards_reached, "no Grafana dashboard reached from the Grafana index"
