"""The privacy scan finds each kind of leak (so the end-to-end scan of the published site and
snapshot, in test_end_to_end.py, is known to be able to fail)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from tests.privacy_scan import Secrets, scan_database, scan_files

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
