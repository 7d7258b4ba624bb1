"""Survey exports are read strictly: a quote left open, a ragged row or a line break that swallows
rows refuses the file at the line where the problem starts; quoted multi-line answers as the form
tools export them still load; free text is redacted and capped before storage."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from pipelines.ingest import ensure_raw_tables
from pipelines.surveys.loader import INSTRUMENT_PATH, Instrument, load_inbox
from pipelines.surveys.reader import SurveyFileError, read_rows
from pipelines.surveys.text import (
    CUT_MARK,
    EMAIL_MARK,
    EMAIL_REACH,
    PHONE_MARK,
    RESPONDENT_MARK,
    redact,
)
from pipelines.warehouse import open_warehouse
from tests.test_survey_formats import INSTRUMENT, SALT, TEAMS, _answers, _item_header, typeform

RAW = ("survey_responses", "survey_comments", "survey_waves")


def header() -> list[str]:
    return ["Timestamp", "Email Address", "Team", *map(_item_header, INSTRUMENT.items)]


def row(k: int, comment: str | None = None) -> list[str]:
    answers = _answers(k)
    if comment is not None:
        answers["OT1"] = comment
    return [f"2026/07/{k + 1:02d} 10:00:00", f"dev{k}@example.com", "checkout", *answers.values()]


def export(rows: list[list[str]]) -> str:
    """A Google Forms export as the form tool writes it (quotes only where needed, CRLF)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([header(), *rows])
    return out.getvalue()


def probe(respondents: int = 11, broken: int = 6) -> str:
    """The probe's file: respondent ``broken`` (1-based) typed an opening quote only."""
    lines = export([row(k) for k in range(respondents)]).splitlines(keepends=True)
    cells = lines[broken].rstrip("\r\n").rsplit(",", 1)
    lines[broken] = f'{cells[0]},"unbalanced quote\r\n'
    return "".join(lines)


def load(tmp_path: Path, body: str, **kwargs) -> tuple[Path, list, list, dict[str, int], list]:
    inbox = tmp_path / "inbox"
    inbox.mkdir(exist_ok=True)
    (inbox / "2026-Q3.csv").write_bytes(body.encode("utf-8"))
    with open_warehouse(tmp_path / "w.duckdb") as con:
        ensure_raw_tables(con)
        loaded, rejected = load_inbox(con, inbox, salt=SALT, teams=TEAMS, **kwargs)
        counts = {t: con.execute(f"SELECT count(*) FROM raw.{t}").fetchone()[0] for t in RAW}
        comments = [
            json.loads(p)["text"]
            for (p,) in con.execute("SELECT payload FROM raw.survey_comments").fetchall()
        ]
    return inbox, loaded, rejected, counts, comments


def assert_refused(tmp_path: Path, body: str, message: str) -> str:
    inbox, loaded, rejected, counts, _ = load(tmp_path, body)
    assert loaded == [] and counts == dict.fromkeys(RAW, 0)
    assert [p for p, _ in rejected] == [inbox / "rejected" / "2026-Q3.csv"]
    report = (inbox / "rejected" / "2026-Q3.csv.error.txt").read_text(encoding="utf-8")
    assert message in rejected[0][1] and message in report
    assert not (inbox / "processed").exists()
    return report


def test_the_probes_unbalanced_quote_refuses_the_file_at_its_line(tmp_path):
    """11 respondents, the 6th opened a quote and never closed it: before, rows 7-11 (with their
    e-mail addresses) became the 6th respondent's comment and the file went to processed/."""
    body = probe()
    assert body.count("@example.com") == 11
    report = assert_refused(
        tmp_path, body, "line 7: a quote opened here is never closed; the file ends inside"
    )
    assert "5 of them whole rows" in report
    assert "dev7@example.com" not in report  # the reason names lines, not what they hold


def test_a_quote_closed_rows_later_is_refused_by_the_count_check(tmp_path):
    """The open quote is closed by a quote at the end of a later answer: every field count is
    right, but lines 8-10 inside the 6th row's answer are whole rows of their own."""
    lines = probe().splitlines(keepends=True)
    lines[9] = lines[9].rstrip("\r\n") + ' on Mondays"\r\n'  # the quote ends the 9th answer
    assert_refused(
        tmp_path,
        "".join(lines),
        "line 7: a quoted field in this row runs over 3 line(s) that are whole rows themselves "
        "(lines 8-10); a quote left open? The file holds 11 rows, 8 were read",
    )


def test_a_quote_that_closes_inside_another_field_is_refused_where_it_opened(tmp_path):
    lines = probe().splitlines(keepends=True)
    lines[9] = lines[9].rstrip("\r\n").rsplit(",", 1)[0] + ',"flaky, slow"\r\n'
    assert_refused(tmp_path, "".join(lines), "line 7: a quote opened here closes on line 10")


def test_a_row_with_a_different_number_of_fields_is_refused(tmp_path):
    rows = [row(k) for k in range(4)]
    rows[2] = [*rows[2][:3], *rows[2][4:]]  # one answer missing
    assert_refused(
        tmp_path,
        export(rows),
        f"line 4: {len(header()) - 1} fields where the header has {len(header())}",
    )


def test_a_stray_delimiter_in_an_unquoted_answer_is_refused(tmp_path):
    body = export([row(0), row(1)]).replace("builds are slow 1", "builds, are slow")
    assert_refused(tmp_path, body, f"line 3: {len(header()) + 1} fields where the header has")


MULTI_LINE = 'Two things:\r\n- CI queues, often 20 min\r\n- reviews wait "days"\r\n\r\nThanks'


def test_a_quoted_multi_line_answer_loads_as_written(tmp_path):
    rows = [row(0), row(1, MULTI_LINE), row(2)]
    body = export(rows)
    assert body.count("\r\n") == 4 + 4  # header and three rows, and four breaks in the answer
    _, loaded, rejected, _, comments = load(tmp_path, body)
    assert rejected == [] and [f.responses for f in loaded] == [3]
    assert MULTI_LINE in comments


def test_a_multi_line_answer_in_a_middle_column_loads(tmp_path):
    """Typeform puts the questions before Team and the hidden fields, so the answer's line breaks
    fall in the middle of the row."""
    body = typeform(3).replace("builds are slow 1", '"slow\nbuilds, mostly\non Mondays"')
    _, loaded, rejected, _, comments = load(tmp_path, body, form_format="typeform")
    assert rejected == [] and [f.responses for f in loaded] == [3]
    assert "slow\nbuilds, mostly\non Mondays" in comments


def test_row_numbers_in_errors_are_physical_lines_after_a_multi_line_answer(tmp_path):
    rows = [row(0, MULTI_LINE), row(1), row(2)]
    rows[2][5] = "9"
    body = export(rows)
    assert_refused(tmp_path, body, "line 8, column 'FL3. ")


def test_reader_names_lines_from_one_for_the_header(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text(export([row(0, MULTI_LINE), row(1)]), encoding="utf-8")
    columns, rows = read_rows(path)
    assert columns == header()
    assert [r.line for r in rows] == [2, 7]
    path.write_text("a,b\n1,2\n3\n", encoding="utf-8")
    with pytest.raises(SurveyFileError, match=r"line 3: 1 fields where the header has 2"):
        read_rows(path)


# ------------------------------------------------------------------------ free text before storage
def test_email_phone_and_respondent_ids_are_removed_from_comments_before_storage(tmp_path):
    comment = (
        "Ask dev1@example.com or call +44 20 7946 0958 / (555) 123-4567; "
        "DEV2@EXAMPLE.COM knows. CI took 2-4 hours on 2026-07-01 10:00, v1.2.3"
    )
    _, loaded, rejected, _, comments = load(tmp_path, export([row(0, comment), row(1), row(2)]))
    assert rejected == [] and len(loaded) == 1
    [stored] = [c for c in comments if c.startswith("Ask")]
    assert stored == (
        f"Ask {EMAIL_MARK} or call {PHONE_MARK} / {PHONE_MARK}; "
        f"{EMAIL_MARK} knows. CI took 2-4 hours on 2026-07-01 10:00, v1.2.3"
    )


def test_a_comment_with_a_pasted_blob_is_stored_without_its_address(tmp_path):
    """A comment holding a long run of characters an address may start with (a pasted base64
    image or token) is stored, its address removed: the pattern is read around each "@"; over the
    whole run it backtracked for minutes."""
    blob = "iVBORw0KGgo" + "A" * 60_000
    comment = f"see dev1@example.com {blob} end"
    _, loaded, rejected, _, comments = load(tmp_path, export([row(0, comment), row(1), row(2)]))
    assert rejected == [] and len(loaded) == 1
    [stored] = [c for c in comments if c.startswith("see")]
    assert stored.startswith(f"see {EMAIL_MARK} iVBORw0KGgoAAAA") and stored.endswith(CUT_MARK)


def test_an_address_glued_to_a_long_run_is_removed_with_the_run_near_it():
    """Its local part is read back EMAIL_REACH characters from the "@" (more than any valid one)."""
    blob = "iVBORw0KGgo" + "A" * 60_000
    redacted = redact(f"{blob}ops@example.org end and dev1@example.com")
    assert redacted == f"{blob[: -EMAIL_REACH + 3]}{EMAIL_MARK} end and {EMAIL_MARK}"


def test_addresses_whose_reads_overlap_are_removed_as_one():
    """A domain that runs on past the reach into the next address: both reads are removed, their
    union once; elsewhere addresses are read as one pass of the pattern reads them."""
    run_on = "x@" + "y" * 250 + ".com" + "y" * 100 + "z@q.com, a@b.org"
    assert redact(run_on) == f"{EMAIL_MARK}, {EMAIL_MARK}"
    assert redact("a@b.c@d.e") == f"{EMAIL_MARK}@d.e"
    assert redact("x@y.com%foo@bar.com") == EMAIL_MARK * 2


def test_a_respondent_token_of_the_file_is_removed_from_comments(tmp_path):
    body = typeform(3).replace("builds are slow 2", "same as tok1abcdef said")
    _, _, rejected, _, comments = load(tmp_path, body, form_format="typeform")
    assert rejected == []
    assert f"same as {RESPONDENT_MARK} said" in comments


def test_an_over_long_comment_is_cut_to_the_instruments_cap(tmp_path):
    limit = INSTRUMENT.comment_max_chars
    assert limit == 2000  # the documented default (docs/surveys.md#free-text)
    long = "slow " * 1000
    _, _, rejected, _, comments = load(tmp_path, export([row(0, long), row(1)]))
    assert rejected == []
    [stored] = [c for c in comments if c.startswith("slow slow")]
    assert len(stored) <= limit and stored.endswith(CUT_MARK)
    assert long.startswith(stored[: -len(CUT_MARK)])


def test_the_cap_comes_from_the_instrument_file(tmp_path):
    text = INSTRUMENT_PATH.read_text(encoding="utf-8")
    custom = tmp_path / "instrument.yaml"
    custom.write_text(text.replace("comment_max_chars: 2000", "comment_max_chars: 40"), "utf-8")
    instrument = Instrument.load(custom)
    assert instrument.comment_max_chars == 40
    _, _, _, _, comments = load(
        tmp_path, export([row(0, "slow " * 20), row(1)]), instrument=instrument
    )
    assert max(map(len, comments)) == 40
    custom.write_text(text.replace("comment_max_chars: 2000", "comment_max_chars: many"), "utf-8")
    with pytest.raises(SurveyFileError, match="comment_max_chars: expected a whole number"):
        Instrument.load(custom)
