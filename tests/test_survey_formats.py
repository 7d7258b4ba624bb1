"""Survey exports in Google Forms, Microsoft Forms and Typeform shapes; validation; privacy; sensor."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import dagster as dg
import pytest

from assets.file_drops import file_drop_sensor
from pipelines.config import SurveySourceConfig, load_config
from pipelines.ingest import ensure_raw_tables
from pipelines.sources import get_source
from pipelines.surveys.loader import Instrument, load_inbox
from pipelines.warehouse import open_warehouse

INSTRUMENT = Instrument.load()
TEAMS = {"checkout", "platform"}
SALT = "test-salt"


def _answers(seed: int) -> dict[str, str]:
    out = {}
    for i, item in enumerate(INSTRUMENT.items):
        kind = item.get("kind", "likert")
        if kind == "free_text":
            out[item["id"]] = f"builds are slow {seed}"
        elif kind == "hours_lost":
            out[item["id"]] = item["choices"][(seed + i) % len(item["choices"])]
        elif kind == "nps":
            out[item["id"]] = str((seed + i) % 11)
        else:
            out[item["id"]] = str(1 + (seed + i) % 5) if (seed + i) % 7 else "N/A"
    return out


def _item_header(item: dict) -> str:
    return f"{item['id']}. {item['text']}"


def _csv(header: list[str], rows: list[list[str]], delimiter: str = ",") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def google_forms(n: int = 3) -> str:
    header = ["Timestamp", "Email Address", "Team", *map(_item_header, INSTRUMENT.items)]
    rows = [
        [f"2026/07/0{k + 1} 10:00:00", f"dev{k}@example.com", "checkout", *_answers(k).values()]
        for k in range(n)
    ]
    return _csv(header, rows)


def microsoft_forms(n: int = 3) -> str:
    header = [
        "ID",
        "Start time",
        "Completion time",
        "Email",
        "Name",
        "Last modified time",
        "Which team are you in?",
        *map(_item_header, INSTRUMENT.items),
    ]
    rows = [
        [
            str(k + 1),
            "7/1/26 10:00:00",
            "7/1/26 10:05:00",
            f"dev{k}@example.com",
            f"Dev {k}",
            "",
            "platform",
            *_answers(k).values(),
        ]
        for k in range(n)
    ]
    return _csv(header, rows)


def typeform(n: int = 3) -> str:
    header = [
        "#",
        *map(_item_header, INSTRUMENT.items),
        "Team",
        "email",
        "Start Date (UTC)",
        "Submit Date (UTC)",
        "Network ID",
    ]
    rows = [
        [
            f"tok{k}abcdef",
            *_answers(k).values(),
            "checkout",
            f"dev{k}@example.com",
            "2026-07-01 10:00:00",
            "2026-07-01 10:04:00",
            f"net{k}",
        ]
        for k in range(n)
    ]
    return _csv(header, rows)


def _load(tmp_path: Path, files: dict[str, str | bytes], **kwargs):
    inbox = tmp_path / "inbox"
    inbox.mkdir(exist_ok=True)
    for name, body in files.items():
        target = inbox / name
        if isinstance(body, bytes):
            target.write_bytes(body)
        else:
            target.write_text(body, encoding="utf-8")
    with open_warehouse(tmp_path / "w.duckdb") as con:
        ensure_raw_tables(con)
        loaded, rejected = load_inbox(con, inbox, salt=SALT, teams=TEAMS, **kwargs)
        counts = {
            t: con.execute(f"SELECT count(*) FROM raw.{t}").fetchone()[0]
            for t in ("survey_responses", "survey_comments", "survey_waves")
        }
        payloads = [
            p
            for t in ("survey_responses", "survey_comments", "survey_waves")
            for (p,) in con.execute(f"SELECT payload FROM raw.{t}").fetchall()
        ]
    return inbox, loaded, rejected, counts, payloads


@pytest.mark.parametrize(
    ("form_format", "body", "columns"),
    [
        ("google_forms", google_forms(), {}),
        ("microsoft_forms", microsoft_forms(), {"Which team are you in?": "team"}),
        ("typeform", typeform(), {}),
    ],
)
def test_each_form_tool_export_loads_without_identities(
    tmp_path: Path, form_format: str, body: str, columns: dict[str, str]
) -> None:
    inbox, loaded, rejected, counts, payloads = _load(
        tmp_path, {"2026-Q3.csv": body}, form_format=form_format, columns=columns
    )
    assert rejected == []
    assert [f.responses for f in loaded] == [3]
    assert counts["survey_responses"] == 3 and counts["survey_comments"] == 3
    assert (inbox / "processed" / "2026-Q3.csv").exists()
    text = json.dumps(payloads)
    assert "@" not in text and "Dev 0" not in text and "tok0abcdef" not in text
    assert "net0" not in text


BAD = {
    "unknown column": (
        google_forms().replace("Team,", "Team,Salary,", 1).replace("checkout,", "checkout,9,"),
        "header row: unknown columns ['Salary']",
    ),
    "missing column": (
        google_forms().replace("FL2. ", "XX2. ", 1),
        "header row: missing column for item FL2",
    ),
    "outside the scale": (
        None,  # built in the test: FL1 of line 2 set to 7
        "line 2, column 'FL1. CI is fast enough for me to stay in flow': '7' is outside the scale 1-5",
    ),
    "duplicate respondent": (
        google_forms().replace("dev1@example.com", "DEV0@example.com"),
        "line 3: the same respondent already answered on line 2 of wave 2026-Q3",
    ),
    "unknown team": (
        google_forms().replace(",checkout,", ",marketing,"),
        "line 2, column 'Team': unknown team 'marketing'",
    ),
    "empty file": ("", "the file is empty"),
    "only a header": (google_forms(0), "no responses"),
    "wrong encoding": (
        google_forms().replace("builds are slow 0", "Bürokratie").encode("latin-1"),
        "not UTF-8",
    ),
    "wrong delimiter": (
        google_forms().replace(",", ";"),
        "columns are separated by ';'; export with commas",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_survey_file_lands_nothing_and_reports_file_line_column(
    tmp_path: Path, case: str
) -> None:
    body, message = BAD[case]
    if body is None:
        body = google_forms()
        lines = body.splitlines()
        cells = next(csv.reader([lines[1]]))
        cells[3] = "7"
        lines[1] = _csv([], [cells]).strip()
        body = "\n".join(lines) + "\n"
    inbox, loaded, rejected, counts, _ = _load(tmp_path, {"2026-Q3.csv": body})
    assert loaded == [] and len(rejected) == 1
    assert counts == {"survey_responses": 0, "survey_comments": 0, "survey_waves": 0}
    moved, reason = rejected[0]
    assert moved == inbox / "rejected" / "2026-Q3.csv"
    report = (inbox / "rejected" / "2026-Q3.csv.error.txt").read_text(encoding="utf-8")
    assert message in reason and message in report
    assert "2026-Q3.csv" in report
    assert not (inbox / "2026-Q3.csv").exists()


def test_redropping_a_processed_file_is_a_no_op(tmp_path: Path) -> None:
    body = google_forms()
    _, loaded, _, first, _ = _load(tmp_path, {"2026-Q3.csv": body})
    assert len(loaded) == 1
    with open_warehouse(tmp_path / "w.duckdb") as con:
        before = con.execute(
            "SELECT natural_key, fetched_at FROM raw.survey_responses ORDER BY 1"
        ).fetchall()
    inbox, loaded, rejected, second, _ = _load(tmp_path, {"2026-Q3.csv": body})
    assert loaded == [] and rejected == [] and second == first
    with open_warehouse(tmp_path / "w.duckdb") as con:
        after = con.execute(
            "SELECT natural_key, fetched_at FROM raw.survey_responses ORDER BY 1"
        ).fetchall()
    assert after == before
    assert not (inbox / "2026-Q3.csv").exists()


def test_unknown_mapping_role_is_named(tmp_path: Path) -> None:
    _, loaded, rejected, _, _ = _load(
        tmp_path, {"2026-Q3.csv": google_forms()}, columns={"Team": "squad"}
    )
    assert loaded == [] and "sources.surveys.columns.Team: 'squad'" in rejected[0][1]


def test_inbox_sensor_requests_one_run_per_file_content(tmp_path: Path) -> None:
    config = load_config()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    sources = config.sources.model_copy(update={"surveys": SurveySourceConfig(inbox=inbox)})
    config = config.model_copy(update={"sources": sources})
    sensor = file_drop_sensor(config, get_source("surveys"), dg.define_asset_job("survey_ingest"))

    context = dg.build_sensor_context()
    assert isinstance(sensor(context), dg.SkipReason)
    (inbox / "2026-Q3.csv").write_text(google_forms(), encoding="utf-8")
    requests = sensor(context)
    assert [r.run_key for r in requests] == [requests[0].run_key]
    assert requests[0].run_key.startswith("survey:")
    # same inbox, the cursor already holds the file: nothing new
    assert isinstance(sensor(dg.build_sensor_context(cursor=context.cursor)), dg.SkipReason)
    # the same content dropped again under another name: same content, no new run
    (inbox / "2026-Q3-copy.csv").write_text(google_forms(), encoding="utf-8")
    assert isinstance(sensor(dg.build_sensor_context(cursor=context.cursor)), dg.SkipReason)
