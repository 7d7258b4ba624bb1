"""The privacy scan finds each kind of leak (so the end-to-end scan of the published site and
snapshot, in test_end_to_end.py, is known to be able to fail)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from tests.privacy_scan import (
    Secrets,
    identities_from_exports,
    scan_database,
    scan_files,
    scan_parquet,
)

SECRETS = Secrets(threshold=5, hidden_texts={"my manager ignores me"}, respondents={"a" * 32})


def published(tmp_path: Path, rows: list[tuple], extra_sql: str = "") -> Path:
    path = tmp_path / "snapshot.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute(
            "CREATE TABLE marts.metrics_devex_wave (wave VARCHAR, group_type VARCHAR, "
            "group_value VARCHAR, respondents INTEGER, invited INTEGER, suppressed BOOLEAN, "
            "suppression_reason VARCHAR, devex_index DOUBLE, satisfaction_mean DOUBLE)"
        )
        con.executemany(
            "INSERT INTO marts.metrics_devex_wave VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
        )
        if extra_sql:
            con.execute(extra_sql)
    return path


CLEAN = [
    ("W1", "org", "all", 18, 20, False, None, 50.0, 3.5),
    ("W1", "team", "a", 3, 4, True, "fewer than 5 responses", None, None),
    ("W1", "team", "b", 6, 7, True, "hidden so that ...", None, None),
    ("W1", "team", "c", 9, 9, False, None, 40.0, 3.2),
]


def test_clean_publication_has_no_problem(tmp_path):
    assert scan_database(published(tmp_path, CLEAN), SECRETS) == []


def test_a_hidden_organisation_reveals_nothing_by_subtraction(tmp_path):
    rows = [
        ("W2", "org", "all", 3, 5, True, "fewer than 5 responses", None, None),
        ("W2", "team", "a", 3, 4, True, "fewer than 5 responses", None, None),
    ]
    assert scan_database(published(tmp_path, rows), SECRETS) == []


def test_a_score_of_a_small_group_is_found(tmp_path):
    rows = [*CLEAN[:1], ("W1", "team", "a", 3, 4, True, "small", 20.0, None), *CLEAN[2:]]
    problems = scan_database(published(tmp_path, rows), SECRETS)
    assert problems == [
        "marts.metrics_devex_wave.devex_index: 1 row(s) of a hidden group carry a value"
    ]


def test_a_small_group_left_unsuppressed_is_found(tmp_path):
    rows = [*CLEAN[:1], ("W1", "team", "a", 3, 4, False, None, None, None), *CLEAN[2:]]
    problems = scan_database(published(tmp_path, rows), SECRETS)
    assert any("under 5 respondents are not suppressed" in p for p in problems)


def test_a_group_revealed_by_subtraction_is_found(tmp_path):
    rows = [*CLEAN[:2], ("W1", "team", "b", 6, 7, False, None, 45.0, 3.0), CLEAN[3]]
    problems = scan_database(published(tmp_path, rows), SECRETS)
    assert problems == [
        "marts.metrics_devex_wave: wave W1: the hidden team groups hold 3 respondents together, "
        "which the organisation minus the shown groups reveals"
    ]


def test_hidden_free_text_and_respondent_hashes_are_found_in_tables_and_pages(tmp_path):
    extra = (
        f"CREATE TABLE marts.notes AS SELECT 'my manager ignores me' AS body, '{'a' * 32}' AS who"
    )
    problems = scan_database(published(tmp_path, CLEAN, extra), SECRETS)
    assert sorted(problems) == [
        "marts.notes.body: free text of a hidden group: 'my manager ignores me'",
        f"marts.notes.who: a respondent hash: {'a' * 32}",
    ]
    page = tmp_path / "devex.html"
    page.write_text("<p>my manager ignores me</p>", encoding="utf-8")
    assert scan_files([page], SECRETS) == [
        f"{page}: free text of a hidden group: 'my manager ignores me'"
    ]


def test_respondent_level_survey_relations_outside_marts_are_found(tmp_path):
    extra = "CREATE SCHEMA staging; CREATE TABLE staging.stg_surveys__responses (x INTEGER)"
    problems = scan_database(published(tmp_path, CLEAN, extra), SECRETS)
    assert problems == [
        "staging.stg_surveys__responses: a respondent-level survey relation is published"
    ]


# ------------------------------------------------------------------------------- personal data
LEAKY = Secrets(threshold=5, identities={"tok1abcdef"})
COMMENTS_SQL = (
    "CREATE TABLE marts.metrics_devex_comments AS SELECT * FROM (VALUES "
    "('W1', 'c', 'slow CI'), ('W1', 'c', 'ask Dev7@Example.com'), "
    "('W1', 'c', 'call +44 20 7946 0958'), ('W1', 'c', 'same as TOK1ABCDEF')) t(wave, team, comment_text)"
)


def test_an_email_phone_or_identity_in_a_published_table_is_found(tmp_path):
    problems = scan_database(published(tmp_path, CLEAN, COMMENTS_SQL), LEAKY)
    assert sorted(problems) == [
        "marts.metrics_devex_comments.comment_text: a respondent identity of the survey files: "
        "'tok1abcdef'",
        "marts.metrics_devex_comments.comment_text: personal data: '+44 20 7946 0958'",
        "marts.metrics_devex_comments.comment_text: personal data: 'Dev7@Example.com'",
    ]


def test_an_email_phone_or_identity_in_a_parquet_file_is_found(tmp_path):
    path = published(tmp_path, CLEAN, COMMENTS_SQL)
    parquet = tmp_path / "metrics_devex_comments.parquet"
    with duckdb.connect(str(path)) as con:
        con.execute(f"COPY marts.metrics_devex_comments TO '{parquet}' (FORMAT parquet)")
    problems = scan_parquet([parquet], LEAKY)
    assert len(problems) == 3 and all(p.startswith(f"{parquet}:comment_text: ") for p in problems)
    assert any("Dev7@Example.com" in p for p in problems)


@pytest.mark.parametrize(
    ("name", "body", "found"),
    [
        ("devex.html", "<td>mail dev7&#64;example.com</td>", "personal data: 'dev7@example.com'"),
        ("leadership-weekly.md", "| call (555) 123-4567 |", "personal data: '(555) 123-4567'"),
        ("metrics.prom", 'x{who="tok1abcdef"} 1', "identity of the survey files: 'tok1abcdef'"),
    ],
)
def test_an_email_phone_or_identity_in_a_page_or_report_is_found(tmp_path, name, body, found):
    page = tmp_path / name
    page.write_text(body, encoding="utf-8")
    problems = scan_files([page], LEAKY)
    assert len(problems) == 1 and found in problems[0]


def test_every_email_of_a_page_with_a_base64_image_is_found_once(tmp_path):
    """Addresses beside and glued to a long run of characters a local part may hold (a report's
    base64 image) are found, each once; one glued to the run is cut to the scan's reach."""
    image = "iVBORw0KGgo" + "A" * 20_000
    page = tmp_path / "leadership-weekly.html"
    page.write_text(
        f"<img src='data:image/png;base64,{image}'><p>mail dev7@example.com or ops@example.org</p>"
        f"<p>{image}lead@example.net</p>",
        encoding="utf-8",
    )
    problems = scan_files([page], LEAKY)
    assert len(problems) == 3, problems
    assert "personal data: 'dev7@example.com'" in problems[0]
    assert "personal data: 'ops@example.org'" in problems[1]
    assert problems[2].endswith("A" * 50 + "lead@example.net'")


def tiny_pdf(path: Path, text: str) -> Path:
    """A one-page PDF showing ``text`` (uncompressed, as small as PDF allows)."""
    stream = f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 200] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    body, offsets = b"%PDF-1.4\n", []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    body += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.write_bytes(body)
    return path


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils (pdftotext) not installed")
def test_an_email_in_a_pdf_report_is_found(tmp_path):
    leaky = tiny_pdf(tmp_path / "leadership-weekly.pdf", "Comment: ask dev7@example.com")
    assert scan_files([leaky], LEAKY) == [f"{leaky}: personal data: 'dev7@example.com'"]
    clean = tiny_pdf(tmp_path / "leadership-monthly.pdf", "Comment: builds are slow")
    assert scan_files([clean], LEAKY) == []


def test_phone_numbers_are_looked_for_in_a_pages_visible_text_only(tmp_path):
    """dbt docs draw icons with SVG polygon points that look like French phone numbers."""
    page = tmp_path / "dbt-docs.html"
    page.write_text(
        '<svg><polygon points="11 11 5 11 5 12 11 12 11 11 11 11"/></svg>'
        "<script>var p = '01 23 45 67 89';</script><p>call 01 23 45 67 89</p>",
        encoding="utf-8",
    )
    assert scan_files([page], LEAKY) == [f"{page}: personal data: '01 23 45 67 89'"]


def test_clean_pages_with_dates_numbers_and_versions_have_no_problem(tmp_path):
    page = tmp_path / "index.html"
    page.write_text(
        "<p>2026-07-01 10:00:00 · 0.123456789012 · v1.2.3 · 2-4 hours · n = 12,345 · "
        '[1719792000000, 3.14159265358979] · <a href="https://ci.test/runs/123456789">run</a></p>',
        encoding="utf-8",
    )
    assert scan_files([page], LEAKY) == []


def test_identities_are_read_from_refused_files_with_their_swallowed_rows(tmp_path):
    """The probe's file: a quote opened on the 6th row swallows the rest; the scan still knows
    every respondent of it."""
    export = tmp_path / "2026-Q3.csv"
    rows = [f"2026/07/0{k + 1} 10:00,dev{k}@example.com,checkout,slow" for k in range(8)]
    rows[5] = rows[5].replace(",slow", ',"unbalanced quote')
    export.write_text("Timestamp,Email Address,Team,OT1\n" + "\n".join(rows) + "\n", "utf-8")
    assert identities_from_exports([export]) == {f"dev{k}@example.com" for k in range(8)}
    mapped = tmp_path / "2026-Q4.csv"
    mapped.write_text("Who,Team\nstaff-00042,checkout\n7,checkout\n", encoding="utf-8")
    assert identities_from_exports([mapped], columns={"Who": "respondent"}) == {"staff-00042"}
