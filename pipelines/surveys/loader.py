"""Load survey CSV exports from an inbox folder: validate, pseudonymise, land, file away.

A file is ``<wave>.csv`` (e.g. ``2026-Q3.csv``), optionally with ``<wave>.invited.yaml`` beside it
(``invited: {team: count}``) for response rates. The columns depend on the form tool
(:data:`FORMATS`: Google Forms, Microsoft Forms, Typeform) plus the config's ``columns`` mapping: a
respondent column, ``Team``, optional timestamp/``Tenure``/``Role``, and one column per instrument
item whose header starts with the item id (``FL1`` or ``FL1. CI is fast enough...``) or is mapped.
A file whose exact content was loaded before is a no-op (its hash is kept in ``raw.sync_state``).

Each file is one transaction: it lands whole or not at all. A good file moves to ``processed/``; a bad
one to ``rejected/`` with ``<file>.error.txt`` naming the line and column; a file whose quoting
would swallow rows is refused (:mod:`pipelines.surveys.reader`). E-mail addresses and names
never reach the warehouse: the respondent becomes a salted SHA-256 hash, and free text is
redacted and capped before storage (:mod:`pipelines.surveys.text`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipelines.surveys.reader import Row, SurveyFileError, read_rows
from pipelines.surveys.text import cap, redact
from pipelines.warehouse import (
    RawRecord,
    ensure_raw_schema,
    get_sync_state,
    set_cursor,
    transaction,
    upsert_raw,
)
from pipelines.yaml_safe import load_yaml_file

RAW_TABLES = ("survey_responses", "survey_comments", "survey_waves")
# Loaded files are remembered in raw.sync_state: source "surveys", scope = content hash.
SURVEY_SOURCE = "surveys"
FILE_ENTITY = "survey_file"
INSTRUMENT_PATH = Path(__file__).with_name("instrument.yaml")
RESPONDENT_COLUMNS = ("Email Address", "Respondent", "Respondent ID", "Email")
DROPPED_COLUMNS = frozenset({"Name", "Full Name", "Email Address", "Email"})
ROLES = frozenset({"respondent", "team", "timestamp", "tenure", "role", "drop"})
# Columns that name a person: their values never reach the warehouse, not even inside free text.
NAME_COLUMNS = ("Name", "Full Name", "name", "Email Address", "Email", "email")
DEFAULT_COMMENT_MAX_CHARS = 2000


@dataclass(frozen=True)
class FormFormat:
    """How one form tool names its columns (item columns are matched by id prefix or mapping)."""

    respondent: tuple[str, ...]
    timestamp: tuple[str, ...]
    dropped: frozenset[str]


FORMATS = {
    # Google Forms: Timestamp, Email Address (when collected), then one column per question.
    "google_forms": FormFormat(RESPONDENT_COLUMNS, ("Timestamp",), DROPPED_COLUMNS),
    # Microsoft Forms: ID, Start time, Completion time, Email, Name, Last modified time, questions.
    "microsoft_forms": FormFormat(
        ("Email", "ID"),
        ("Completion time",),
        frozenset({"ID", "Start time", "Last modified time", "Email", "Name"}),
    ),
    # Typeform: #, questions, hidden fields (email), Start Date (UTC), Submit Date (UTC), Network ID.
    "typeform": FormFormat(
        ("email", "Email", "#"),
        ("Submit Date (UTC)",),
        frozenset(
            {"#", "email", "Email", "name", "Start Date (UTC)", "Stage Date (UTC)", "Network ID"}
            | {"Response Type", "Tags", "Ending"}
        ),
    ),
    "custom": FormFormat(RESPONDENT_COLUMNS, ("Timestamp",), DROPPED_COLUMNS),
}


@dataclass(frozen=True)
class Instrument:
    scale_min: int
    scale_max: int
    not_applicable: str
    items: list[dict[str, Any]]
    # Scoring recipes (docs/metrics.md#developer-experience): favourable threshold, the load
    # constructs, the constructs averaged into the DevEx index, and the satisfaction construct.
    favourable_from: int = 4
    cognitive_load: tuple[str, ...] = ()
    devex_index: tuple[str, ...] = ()
    satisfaction: str = "satisfaction"
    # Free-text answers longer than this are cut before storage (docs/surveys.md#free-text).
    comment_max_chars: int = DEFAULT_COMMENT_MAX_CHARS

    @classmethod
    def load(cls, path: Path = INSTRUMENT_PATH) -> Instrument:
        data = load_yaml_file(path)
        scale = data["scale"]
        return cls(
            scale["min"],
            scale["max"],
            scale["not_applicable"],
            data["items"],
            int(data.get("favourable_from", scale["max"] - 1)),
            tuple(data.get("cognitive_load", ())),
            tuple(data.get("devex_index", ())),
            str(data.get("satisfaction", "satisfaction")),
            _comment_max_chars(path, data.get("comment_max_chars", DEFAULT_COMMENT_MAX_CHARS)),
        )

    @property
    def item_ids(self) -> list[str]:
        return [item["id"] for item in self.items]


def _comment_max_chars(path: Path, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 10:
        raise SurveyFileError(
            f"{path}: comment_max_chars: expected a whole number of characters >= 10, got {value!r}"
        )
    return value


@dataclass(frozen=True)
class LoadedFile:
    path: Path
    wave: str
    responses: int
    comments: int


def respondent_hash(salt: str, respondent: str) -> str:
    return hashlib.sha256(f"{salt}\x00{respondent.strip().lower()}".encode()).hexdigest()[:32]


def identities(rows: list[Row], identity_columns: tuple[str, ...]) -> set[str]:
    """The values of a file's identity columns (non-empty, stripped)."""
    found = set()
    for row in rows:
        for column in identity_columns:
            value = (row.values.get(column) or "").strip()
            if value:
                found.add(value)
    return found


def _identity_columns(columns: dict[str, str], form: FormFormat) -> tuple[str, ...]:
    """The respondent column in use, the format's other respondent columns, and name columns."""
    return (columns["respondent"], *form.respondent, *NAME_COLUMNS)


def file_digest(path: Path) -> str:
    """The content hash a file is remembered by (a re-dropped file is recognised by it)."""
    digest = hashlib.sha256(path.read_bytes())
    sidecar = path.with_name(f"{path.stem}.invited.yaml")
    if sidecar.exists():
        digest.update(b"\x00" + sidecar.read_bytes())
    return digest.hexdigest()


def load_inbox(
    con: duckdb.DuckDBPyConnection,
    inbox: Path,
    *,
    salt: str,
    teams: set[str],
    instrument: Instrument | None = None,
    form_format: str = "google_forms",
    columns: dict[str, str] | None = None,
) -> tuple[list[LoadedFile], list[tuple[Path, str]]]:
    """Load every CSV in ``inbox``; returns (loaded files, [(rejected file, reason)]).

    A file whose content was loaded before (same bytes, same sidecar) is a no-op: nothing is written,
    and it moves to ``processed/`` beside the first copy.
    """
    instrument = instrument or Instrument.load()
    ensure_raw_schema(con)
    loaded, rejected = [], []
    for path in sorted(inbox.glob("*.csv")):
        digest = file_digest(path)
        if get_sync_state(con, SURVEY_SOURCE, digest, FILE_ENTITY) is not None:
            _file_away(path, "processed")
            continue
        try:
            result = load_survey_file(
                con,
                path,
                salt=salt,
                teams=teams,
                instrument=instrument,
                form_format=form_format,
                columns=columns,
                digest=digest,
            )
        except SurveyFileError as exc:
            rejected.append((_file_away(path, "rejected", error=str(exc)), str(exc)))
            continue
        loaded.append(result)
        _file_away(path, "processed")
    return loaded, rejected


def load_survey_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    salt: str,
    teams: set[str],
    instrument: Instrument,
    form_format: str = "google_forms",
    columns: dict[str, str] | None = None,
    digest: str | None = None,
) -> LoadedFile:
    wave = path.stem
    header, rows = read_rows(path)
    columns = _map_columns(path, header, instrument, FORMATS[form_format], columns or {})
    invited = _read_invited(path, teams)
    # Every respondent's identifier and name in the file is cut out of the free text, whoever wrote it.
    identifiers = identities(rows, _identity_columns(columns, FORMATS[form_format]))
    responses, comments, seen = [], [], {}
    for line, row in ((r.line, r.values) for r in rows):
        respondent = (row.get(columns["respondent"]) or "").strip()
        if not respondent:
            raise SurveyFileError(
                f"{path}: line {line}, column {columns['respondent']!r}: empty respondent"
            )
        key = respondent_hash(salt, respondent)
        if key in seen:
            raise SurveyFileError(
                f"{path}: line {line}: the same respondent already answered on line {seen[key]} "
                f"of wave {wave}"
            )
        seen[key] = line
        team = (row.get(columns["team"]) or "").strip()
        if team not in teams:
            raise SurveyFileError(
                f"{path}: line {line}, column {columns['team']!r}: unknown team {team!r} "
                f"(known: {sorted(teams)})"
            )
        answers = {}
        for item in instrument.items:
            header_name = columns[item["id"]]
            value = (row.get(header_name) or "").strip()
            answers[item["id"]] = _check_answer(path, line, header_name, item, value, instrument)
        response_key = f"{wave}/{key}"
        free_text = {
            i["id"]: answers.pop(i["id"]) for i in instrument.items if i.get("kind") == "free_text"
        }
        payload = {
            "wave": wave,
            "team": team,
            "tenure": (row.get(columns.get("tenure", "")) or "").strip() or None,
            "role": (row.get(columns.get("role", "")) or "").strip() or None,
            "submitted_at": (row.get(columns.get("timestamp", "")) or "").strip() or None,
            "respondent": key,
            "answers": answers,
        }
        responses.append(RawRecord(response_key, wave, payload, payload["submitted_at"]))
        comments.extend(
            RawRecord(
                f"{response_key}/{item_id}",
                wave,
                {
                    "wave": wave,
                    "team": team,
                    "item": item_id,
                    "text": cap(redact(text, identifiers), instrument.comment_max_chars),
                },
                None,
                response_key,
            )
            for item_id, text in free_text.items()
            if text
        )
    if not responses:
        raise SurveyFileError(f"{path}: no responses (only a header, or an empty file)")
    waves = [
        RawRecord(f"{wave}/{team}", wave, {"wave": wave, "team": team, "invited": count})
        for team, count in sorted(invited.items())
    ]
    with transaction(con):
        upsert_raw(con, "survey_responses", "surveys", responses)
        upsert_raw(con, "survey_comments", "surveys", comments)
        upsert_raw(con, "survey_waves", "surveys", waves)
        if digest is not None:
            set_cursor(con, SURVEY_SOURCE, digest, FILE_ENTITY, cursor=path.name, items_added=0)
    return LoadedFile(path, wave, len(responses), len(comments))


def _map_columns(
    path: Path,
    header: list[str],
    instrument: Instrument,
    form: FormFormat,
    overrides: dict[str, str],
) -> dict[str, str]:
    """Role or item id -> header. ``overrides`` (config ``columns``) maps header -> role/item."""
    item_ids = set(instrument.item_ids)
    for column, role in overrides.items():
        if role not in ROLES and role not in item_ids:
            raise SurveyFileError(
                f"sources.surveys.columns.{column}: {role!r} is neither a role "
                f"{sorted(ROLES)} nor an item id"
            )
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        raise SurveyFileError(f"{path}: header row: columns {duplicated} appear twice")
    columns: dict[str, str] = {}
    dropped = set(form.dropped)
    for column, role in overrides.items():
        if column not in header:
            continue
        if role == "drop":
            dropped.add(column)
        else:
            columns.setdefault(role, column)
    if "respondent" not in columns:
        respondent = next((c for c in form.respondent if c in header), None)
        if respondent is None:
            raise SurveyFileError(
                f"{path}: header row: no respondent column; expected one of "
                f"{list(form.respondent)} or one mapped to respondent in sources.surveys.columns"
            )
        columns["respondent"] = respondent
    for role, default in (("team", ("Team",)), ("timestamp", form.timestamp)):
        if role not in columns:
            found = next((c for c in default if c in header), None)
            if found is not None:
                columns[role] = found
    if "team" not in columns:
        raise SurveyFileError(f"{path}: header row: missing column 'Team'")
    for role, name in (("tenure", "Tenure"), ("role", "Role")):
        if role not in columns and name in header:
            columns[role] = name
    for item_id in instrument.item_ids:
        if item_id in columns:
            continue
        matches = [
            h for h in header if h == item_id or h.startswith((f"{item_id}.", f"{item_id} "))
        ]
        if not matches:
            raise SurveyFileError(f"{path}: header row: missing column for item {item_id}")
        columns[item_id] = matches[0]
    known = {*columns.values(), *dropped}
    unknown = [h for h in header if h not in known]
    if unknown:
        raise SurveyFileError(
            f"{path}: header row: unknown columns {unknown}; map them in "
            "sources.surveys.columns or remove them"
        )
    return columns


def _check_answer(
    path: Path, line: int, column: str, item: dict[str, Any], value: str, instrument: Instrument
) -> Any:
    kind = item.get("kind", "likert")
    where = f"{path}: line {line}, column {column!r}"
    if kind == "free_text":
        return value
    if value == "" or value == instrument.not_applicable:
        return None
    if kind == "hours_lost":
        if value not in item["choices"]:
            raise SurveyFileError(f"{where}: {value!r} is not one of {item['choices']}")
        return value
    low, high = (0, 10) if kind == "nps" else (instrument.scale_min, instrument.scale_max)
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        raise SurveyFileError(f"{where}: {value!r} is outside the scale {low}-{high}")
    return number


def _read_invited(path: Path, teams: set[str]) -> dict[str, int]:
    sidecar = path.with_name(f"{path.stem}.invited.yaml")
    if not sidecar.exists():
        return {}
    data = load_yaml_file(sidecar, error=SurveyFileError) or {}
    invited = data.get("invited") if isinstance(data, dict) else None
    if not isinstance(invited, dict):
        raise SurveyFileError(f"{sidecar}: expected 'invited: {{team: count}}'")
    for team, count in invited.items():
        if team not in teams:
            raise SurveyFileError(f"{sidecar}: invited.{team}: unknown team")
        if not isinstance(count, int) or count < 0:
            raise SurveyFileError(
                f"{sidecar}: invited.{team}: expected a whole number, got {count!r}"
            )
    return invited


def _file_away(path: Path, folder: str, *, error: str | None = None) -> Path:
    target_dir = path.parent / folder
    target_dir.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    target = target_dir / path.name
    if target.exists():
        target = target_dir / f"{path.stem}.{stamp}{path.suffix}"
    shutil.move(path, target)
    sidecar = path.with_name(f"{path.stem}.invited.yaml")
    if sidecar.exists():
        shutil.move(sidecar, target_dir / f"{target.stem}.invited.yaml")
    if error is not None:
        target.with_name(f"{target.name}.error.txt").write_text(error + "\n", encoding="utf-8")
    return target
