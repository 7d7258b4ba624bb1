"""Build the offline static site from the warehouse marts and swap it in atomically.

Layout on disk (``site_dir = build/site``)::

    build/site -> site-versions/20250102T050000Z      a symlink, replaced atomically
    build/site-versions/20250101T050000Z/             dated copies, the newest ``keep_copies`` kept
    build/site-versions/20250102T050000Z/
        index.html dora.html ... assets/plotly.min.js assets/site.css

Every page is rendered into a fresh temporary folder beside the versions; only when all pages are
written is the folder renamed to its dated name and the ``site`` symlink replaced with
``os.replace`` (atomic on POSIX), so a reader sees either the old site or the new one, and a build
that fails leaves the previous site untouched. plotly.js is written once per version and every page
loads it from ``assets/``: the site works from ``file://`` or an intranet server with no internet.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from dashboards.alert_rules import RULES_DIR, RULES_FILE, AlertThresholds, alert_rules_yaml
from dashboards.context import PageContext
from dashboards.definitions import DEFINITIONS
from dashboards.exposition import EXPOSITION_FILE, exposition
from dashboards.gate import CheckStatus, GateNotice
from dashboards.grafana import GRAFANA_DIR, write_grafana_bundle
from dashboards.marts import WarehouseReader
from dashboards.pages import PAGES, Page
from dashboards.swap import point_symlink, prune_versions, staging_folder, unique_path
from pipelines.errors import PlatformMetricsError
from pipelines.warehouse import connect

STATIC_DIR = Path(__file__).parent / "static"
TEMPLATES_DIR = Path(__file__).parent / "templates"
ASSETS = "assets"
PLOTLY_JS = "plotly.min.js"
# Copied into every version's assets/: the stylesheet and the filters' script (static/filters.js).
STATIC_FILES = ("site.css", "filters.js")
STAGING_PREFIX = ".building-"
_STALE_TMP = dt.timedelta(hours=6)
# The published outputs besides the pages, linked from every page (second navigation row) when the
# version holds them: the leadership reports, the SLO report, dbt docs, metrics.prom, the Grafana
# folder (its index.html lists the files) and the alerting rules.
OUTPUT_LINKS: tuple[tuple[str, str], ...] = (
    ("Weekly report", "leadership-weekly.html"),
    ("Monthly report", "leadership-monthly.html"),
    ("Weekly PDF", "leadership-weekly.pdf"),
    ("Monthly PDF", "leadership-monthly.pdf"),
    ("SLO report", "slo-report.html"),
    ("dbt docs", "dbt-docs.html"),
    ("metrics.prom", EXPOSITION_FILE),
    ("Grafana", f"{GRAFANA_DIR}/index.html"),
    ("Alert rules", f"{RULES_DIR}/{RULES_FILE}"),
)


class SiteError(PlatformMetricsError):
    """The site cannot be published where configured (the target is not ours to replace)."""


@dataclass(frozen=True)
class SiteBuild:
    path: Path
    version_dir: Path
    pages: list[str]
    bytes: int


def versions_dir(site_dir: Path) -> Path:
    return site_dir.parent / f"{site_dir.name}-versions"


def build_site(
    warehouse_path: Path,
    site_dir: Path,
    *,
    organisation: str,
    keep_copies: int = 14,
    now: dt.datetime | None = None,
    min_sample: int = 5,
    extra_files: Sequence[Path] = (),
    checks: Sequence[CheckStatus] = (),
    pr_url: str | None = None,
    benchmark: str = "dora_2024",
    site_url: str | None = None,
    alerting: AlertThresholds | None = None,
    link_sources: bool = True,
    timezone: str = "UTC",
) -> SiteBuild:
    """Render every page from the warehouse (opened read-only) and make it the live site.

    ``extra_files`` (reports built by other steps, such as the SLO report) are copied into the new
    version's root before the swap; a missing one is skipped. ``checks`` are the latest asset-check
    outcomes (from the asset layer), listed on the data-quality page.
    """
    if keep_copies < 1:
        raise ValueError("keep_copies must be at least 1")
    now = utc(now or dt.datetime.now(dt.UTC))
    site_dir = Path(site_dir)
    versions = versions_dir(site_dir)
    versions.mkdir(parents=True, exist_ok=True)
    _check_target(site_dir)

    with staging_folder(versions, STAGING_PREFIX) as tmp:
        # Copied first: the pages link every output the version holds.
        for extra in map(Path, extra_files):
            if extra.is_file():
                shutil.copyfile(extra, tmp / extra.name)
        pages = render_pages(
            tmp,
            Path(warehouse_path),
            organisation,
            now,
            min_sample,
            checks=checks,
            pr_url=pr_url,
            benchmark=benchmark,
            site_url=site_url,
            alerting=alerting,
            link_sources=link_sources,
            timezone=timezone,
        )
        version_dir = unique_path(versions / now.strftime("%Y%m%dT%H%M%SZ"))
        tmp.rename(version_dir)
    publish_version(site_dir, version_dir, keep_copies, now=now)
    size = sum(p.stat().st_size for p in version_dir.rglob("*") if p.is_file())
    return SiteBuild(path=site_dir, version_dir=version_dir, pages=pages, bytes=size)


def render_pages(
    folder: Path,
    warehouse_path: Path,
    organisation: str,
    now: dt.datetime,
    min_sample: int,
    *,
    only: Sequence[str] | None = None,
    checks: Sequence[CheckStatus] = (),
    gate: GateNotice | None = None,
    pr_url: str | None = None,
    benchmark: str = "dora_2024",
    site_url: str | None = None,
    alerting: AlertThresholds | None = None,
    link_sources: bool = True,
    timezone: str = "UTC",
) -> list[str]:
    """Render every page (or the pages named in ``only``, into an existing version), metrics.prom
    and the Grafana bundle; every page links the outputs the folder holds (``OUTPUT_LINKS``)."""
    if only is None:
        assets = folder / ASSETS
        assets.mkdir()
        (assets / PLOTLY_JS).write_text(get_plotlyjs(), encoding="utf-8")
        for static in STATIC_FILES:
            shutil.copyfile(STATIC_DIR / static, assets / static)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
    )
    template = env.get_template("page.html.j2")
    written: list[str] = []
    con = connect(warehouse_path, read_only=True)
    try:
        ctx = PageContext(
            reader=WarehouseReader(con),
            organisation=organisation,
            now=now,
            min_sample=min_sample,
            checks=list(checks),
            gate=gate,
            benchmark=benchmark,
            link_sources=link_sources,
            timezone=timezone,
        )
        if pr_url:
            ctx.pr_url = pr_url
        if only is None:
            (folder / EXPOSITION_FILE).write_text(exposition(ctx.reader, now=now), encoding="utf-8")
            write_grafana_bundle(folder / GRAFANA_DIR, benchmark=benchmark, site_url=site_url or "")
            _write_folder_index(folder / GRAFANA_DIR, f"{organisation}: Grafana bundle")
            rules = folder / RULES_DIR / RULES_FILE
            rules.parent.mkdir()
            rules.write_text(alert_rules_yaml(alerting or AlertThresholds()), encoding="utf-8")
        outputs = [(label, href) for label, href in OUTPUT_LINKS if (folder / href).is_file()]
        for page in PAGES:
            if only is not None and page.filename not in only:
                continue
            html = template.render(
                page=page,
                pages=PAGES,
                outputs=outputs,
                blocks=page.build(ctx),
                organisation=organisation,
                definitions=DEFINITIONS,
                built_at=now.strftime("%Y-%m-%d %H:%M UTC"),
            )
            _write_page(folder, page, html)
            written.append(page.filename)
    finally:
        con.close()
    return written


def _write_page(folder: Path, page: Page, html: str) -> None:
    (folder / page.filename).write_text(html, encoding="utf-8")


def _write_folder_index(folder: Path, title: str) -> None:
    """An index.html listing every file under ``folder`` (a folder link works on ``file://`` and
    on a server without directory listings)."""
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    items = "".join(
        str(Markup('<li><a href="{0}">{0}</a></li>').format(name))
        for name in files
        if name != "index.html"
    )
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{Markup.escape(title)}</title>"
        '<link rel="stylesheet" href="../assets/site.css"></head><body><main>'
        f"<h1>{Markup.escape(title)}</h1>"
        '<p class="lede">Dashboards and provisioning files for Grafana (docs/grafana.md). '
        '<a href="../index.html">Back to the site</a>.</p>'
        f"<ul>{items}</ul></main></body></html>"
    )
    (folder / "index.html").write_text(page, encoding="utf-8")


def utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _check_target(site_dir: Path) -> None:
    """Refuse to replace a real folder that does not look like a site (a misconfigured path)."""
    if site_dir.is_symlink() or not site_dir.exists():
        return
    if not site_dir.is_dir():
        raise SiteError(f"{site_dir}: publish.site_dir is a file; point it at a folder path")
    if any(site_dir.iterdir()) and not (site_dir / "index.html").exists():
        raise SiteError(
            f"{site_dir}: publish.site_dir is a folder that holds something other than a site; "
            "empty it or choose another publish.site_dir"
        )


def publish_version(
    site_dir: Path, version_dir: Path, keep_copies: int, *, now: dt.datetime
) -> None:
    """Make ``version_dir`` the live site (the ``site_dir`` symlink, swapped atomically) and prune
    the versions to ``keep_copies``."""
    point_symlink(site_dir, version_dir)
    prune_versions(
        versions_dir(site_dir),
        keep_copies,
        live=version_dir,
        now=now,
        staging_prefix=STAGING_PREFIX,
        stale_after=_STALE_TMP,
    )
