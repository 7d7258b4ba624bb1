"""One catalogue of hover definitions (dashboards/definitions.py): docs/metrics.md shows exactly it,
and every hover text the site and the reports show comes from it, so the two cannot drift."""

from __future__ import annotations

import html
import re
from pathlib import Path

import duckdb
import pytest

from dashboards import definitions
from dashboards.definitions import CATALOGUE, DEFINITIONS, METRICS_MD
from dashboards.leadership import write_leadership_reports
from dashboards.site import build_site
from tests.experience_fixtures import add_marts
from tests.mart_fixtures import BUILD_TIME, make_warehouse

TITLE = re.compile(r'\stitle="([^"]*)"')


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("catalogue")
    warehouse = add_marts(make_warehouse(root / "warehouse.duckdb"))
    reports = write_leadership_reports(
        warehouse, root / "leadership", organisation="Acme", now=BUILD_TIME, pdf=False
    )
    site = build_site(
        warehouse, root / "site", organisation="Acme", now=BUILD_TIME, extra_files=reports.files
    ).path
    return warehouse, site


def test_docs_metrics_md_shows_the_catalogue_as_generated():
    text = METRICS_MD.read_text(encoding="utf-8")
    assert definitions.documented(text) == definitions.markdown(), (
        "docs/metrics.md's definitions differ from dashboards/definitions.py: run "
        "`python -m dashboards.definitions --write`"
    )


def test_every_catalogue_entry_is_in_the_docs_once():
    section = definitions.documented(METRICS_MD.read_text(encoding="utf-8")) or ""
    for key, text in DEFINITIONS.items():
        assert section.count(f"| `{key}` | {text} |") == 1, key


def test_a_key_in_two_sections_is_refused():
    with pytest.raises(ValueError, match="'x' is in two sections"):
        definitions._flatten({"A": {"x": "one"}, "B": {"x": "two"}})


def test_rewriting_the_docs_replaces_only_the_generated_part():
    stale = f"intro\n{definitions.BEGIN}\n| `old` | gone |\n{definitions.END}\noutro\n"
    fresh = definitions.rewrite(stale)
    assert fresh.startswith("intro\n") and fresh.endswith("\noutro\n")
    assert definitions.markdown() in fresh and "`old`" not in fresh
    with pytest.raises(ValueError, match="no definitions markers"):
        definitions.rewrite("no markers here")


def test_every_hover_text_of_the_site_and_reports_comes_from_the_catalogue(built):
    warehouse, site = built
    con = duckdb.connect(str(warehouse), read_only=True)
    try:  # the scorecard's per-measure descriptions are data: its seed's description column
        seeded = {d for (d,) in con.execute(
            "SELECT DISTINCT description FROM marts.metrics_success_scorecard"
        ).fetchall()}  # fmt: skip
    finally:
        con.close()
    known = set(DEFINITIONS.values()) | seeded
    shown: set[str] = set()
    for page in sorted(site.glob("*.html")):
        for title in TITLE.findall(page.read_text(encoding="utf-8")):
            text = html.unescape(title)
            assert text in known, f"{page.name}: hover text not in the catalogue: {text!r}"
            shown.add(text)
    # Most of the catalogue is on these pages (the rest needs marts the fixture does not build).
    assert len(shown & set(DEFINITIONS.values())) > len(DEFINITIONS) // 2
    assert all(CATALOGUE.values())
