"""The site says how far back GitHub is synced while its progressive backfill runs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from dashboards.site import build_site
from pipelines.warehouse import connect, set_coverage, transaction
from tests.mart_fixtures import BUILD_TIME, make_warehouse

NOW = dt.datetime(2025, 3, 10, 6, 0, tzinfo=dt.UTC)
TARGET = NOW - dt.timedelta(days=365)
LINE = "GitHub synced back to 2025-02-08; backfilling to 2024-03-10."


def _cover(warehouse: Path, **synced_from: dt.datetime) -> None:
    con = connect(warehouse)
    with transaction(con):
        for entity, start in synced_from.items():
            set_coverage(
                con,
                "github",
                "acme/api",
                entity,
                synced_from=start,
                synced_to=NOW,
                target_from=TARGET,
                resume_at=None,
            )
    con.close()


def _pages(warehouse: Path, site_dir: Path) -> dict[str, str]:
    build_site(warehouse, site_dir, organisation="Acme", now=BUILD_TIME)
    return {
        p: (site_dir / p).read_text(encoding="utf-8") for p in ("index.html", "data-quality.html")
    }


def test_overview_and_data_quality_say_how_far_back_github_is_synced_while_backfilling(tmp_path):
    warehouse = make_warehouse(tmp_path / "warehouse.duckdb")
    # Pull requests are back 90 days, commits only 30: the site gives the later (the org-wide).
    _cover(
        warehouse,
        pull_requests=NOW - dt.timedelta(days=90),
        commits=NOW - dt.timedelta(days=30),
    )
    for page, html in _pages(warehouse, tmp_path / "site").items():
        assert LINE in html, page


def test_the_line_goes_once_the_backfill_is_complete(tmp_path):
    warehouse = make_warehouse(tmp_path / "warehouse.duckdb")
    _cover(warehouse, pull_requests=TARGET, commits=TARGET)
    for page, html in _pages(warehouse, tmp_path / "site").items():
        assert "synced back to" not in html, page
