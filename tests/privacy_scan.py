"""A scan of published survey data for anything the anonymity rules forbid (docs/surveys.md#privacy).

Used by the end-to-end test on the real published snapshot (DuckDB file and Parquet) and site
(pages, reports, metrics), and tested itself on small hand-made leaks so that it is known to find
them. Besides the anonymity rules it looks for personal data in every text value: e-mail addresses
and phone numbers (the patterns the loader removes from free text) and the respondent identifiers
and names of the survey exports that were dropped in the inbox.
"""

from __future__ import annotations

import csv
import html
import io
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.surveys.loader import FORMATS, NAME_COLUMNS
from pipelines.surveys.text import MIN_IDENTIFIER_LENGTH, personal_data

# Columns a suppressed survey group may still show: who the group is, how many answered.
COUNT_COLUMNS = frozenset(
    {
        "wave",
        "wave_closed_at",
        "wave_number",
        "group_type",
        "group_value",
        "respondents",
        "invited",
        "response_rate",
        "suppressed",
        "suppression_reason",
        "previous_wave",
    }
)
TEXT_SUFFIXES = (".html", ".md", ".json", ".txt", ".prom", ".csv")


@dataclass
class Secrets:
    """What must never be published: free text of hidden groups, respondent hashes, and the
    respondent identifiers and names of the input files."""

    threshold: int
    hidden_texts: set[str] = field(default_factory=set)
    respondents: set[str] = field(default_factory=set)
    identities: set[str] = field(default_factory=set)


def identities_from_exports(
    paths: Iterable[Path], columns: dict[str, str] | None = None
) -> set[str]:
    """The respondent identifiers and names in survey exports, processed or refused alike.

    Read leniently, since a refused file is the likeliest to leak: the whole file non-strictly, and
    every physical line with a whole row's fields on its own (rows swallowed by an open quote).
    Identity columns are every form tool's respondent columns, the name columns, and the headers
    ``columns`` (the config's mapping) maps to ``respondent``. Values shorter than the loader's
    minimum (a form's row number "7") are left out: they are ordinary numbers in any page.
    """
    wanted = {c for form in FORMATS.values() for c in form.respondent} | set(NAME_COLUMNS)
    wanted |= {header for header, role in (columns or {}).items() if role == "respondent"}
    found: set[str] = set()
    for path in paths:
        text = path.read_bytes().decode("utf-8-sig", errors="replace")
        [header, *rows] = list(csv.reader(io.StringIO(text, newline=""))) or [[]]
        alone = (next(csv.reader([line]), []) for line in text.splitlines()[1:])
        rows += [fields for fields in alone if len(fields) >= len(header)]
        index = [i for i, name in enumerate(header) if name in wanted]
        found |= {f[i].strip() for f in rows for i in index if i < len(f)}
    return {i for i in found if len(i) >= MIN_IDENTIFIER_LENGTH}


def _personal(where: str, text: str, secrets: Secrets, phone_text: str | None = None) -> list[str]:
    problems = [f"{where}: personal data: {found!r}" for found in personal_data(text, phone_text)]
    lowered = text.lower()
    problems += [
        f"{where}: a respondent identity of the survey files: {identity!r}"
        for identity in sorted(secrets.identities)
        if identity.lower() in lowered
    ]
    return problems


def secrets_from_warehouse(warehouse: Path, threshold: int) -> Secrets:
    """Read the live warehouse: comments of team-waves under the threshold or suppressed."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        comments = con.execute(
            "SELECT payload ->> '$.wave', payload ->> '$.team', payload ->> '$.text' "
            "FROM raw.survey_comments"
        ).fetchall()
        shown = {
            (w, t)
            for w, t in con.execute(
                "SELECT wave, group_value FROM marts.metrics_devex_wave "
                "WHERE group_type = 'team' AND NOT suppressed"
            ).fetchall()
        }
        respondents = {
            r
            for (r,) in con.execute(
                "SELECT payload ->> '$.respondent' FROM raw.survey_responses"
            ).fetchall()
        }
    shown_texts = {text for w, t, text in comments if (w, t) in shown}
    hidden = {text for w, t, text in comments if (w, t) not in shown} - shown_texts
    return Secrets(threshold, hidden, respondents)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def scan_database(path: Path, secrets: Secrets) -> list[str]:
    """Every problem found in a published DuckDB file (empty: clean)."""
    problems: list[str] = []
    with duckdb.connect(str(path), read_only=True) as con:
        relations = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables ORDER BY 1, 2"
        ).fetchall()
        for schema, table in relations:
            name = f"{schema}.{table}"
            ref = f"{_quote(schema)}.{_quote(table)}"
            columns = dict(
                con.execute(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = ? AND table_name = ?",
                    [schema, table],
                ).fetchall()
            )
            if "survey" in table and schema != "marts":
                problems.append(f"{name}: a respondent-level survey relation is published")
            if "respondents" in columns:
                problems += _scan_groups(con, name, ref, columns, secrets.threshold)
            for column, data_type in columns.items():
                if data_type != "VARCHAR":
                    continue
                values = {
                    v
                    for (v,) in con.execute(
                        f"SELECT DISTINCT {_quote(column)} FROM {ref}"
                    ).fetchall()
                }
                problems += _scan_column(f"{name}.{column}", values, secrets)
    return problems


def _scan_column(where: str, values: set[str], secrets: Secrets) -> list[str]:
    """Problems in a text column's distinct values (at most three of each kind)."""
    problems = [
        f"{where}: free text of a hidden group: {text!r}"
        for text in sorted(values & secrets.hidden_texts)[:3]
    ]
    problems += [
        f"{where}: a respondent hash: {value}" for value in sorted(values & secrets.respondents)[:3]
    ]
    personal: list[str] = []
    for value in sorted(v for v in values if isinstance(v, str)):
        personal += _personal(where, value, secrets)
        if len(personal) >= 3:
            break
    return problems + personal[:3]


def scan_parquet(paths: Iterable[Path], secrets: Secrets) -> list[str]:
    """Every problem found in published Parquet files: personal data and hashes in text columns."""
    problems: list[str] = []
    with duckdb.connect() as con:
        for path in paths:
            described = con.execute(
                "DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]
            ).fetchall()
            for column, data_type, *_ in described:
                if data_type != "VARCHAR":
                    continue
                values = {
                    v
                    for (v,) in con.execute(
                        f"SELECT DISTINCT {_quote(column)} FROM read_parquet(?)", [str(path)]
                    ).fetchall()
                }
                problems += _scan_column(f"{path}:{column}", values, secrets)
    return problems


def _scan_groups(con, name: str, ref: str, columns: dict[str, str], k: int) -> list[str]:
    problems: list[str] = []
    scores = [c for c, t in columns.items() if c not in COUNT_COLUMNS and t != "VARCHAR"]
    hidden = "respondents < ?" + (" OR suppressed" if "suppressed" in columns else "")
    for column in scores:
        (n,) = con.execute(
            f"SELECT count(*) FROM {ref} WHERE ({hidden}) AND {_quote(column)} IS NOT NULL", [k]
        ).fetchone()
        if n:
            problems.append(f"{name}.{column}: {n} row(s) of a hidden group carry a value")
    if "suppressed" in columns:
        (n,) = con.execute(
            f"SELECT count(*) FROM {ref} WHERE respondents < ? AND NOT suppressed", [k]
        ).fetchone()
        if n:
            problems.append(f"{name}: {n} group(s) under {k} respondents are not suppressed")
    if {"wave", "group_type", "suppressed"} <= columns.keys():
        # Complementary suppression: the hidden groups of one kind, which the organisation total
        # minus the shown groups reveals, must together hold none or at least k respondents.
        # (When the organisation itself is hidden, nothing is subtracted from it.)
        rows = con.execute(
            f"SELECT wave, group_type, sum(respondents) FROM {ref} "
            "WHERE group_type <> 'org' AND suppressed AND wave IN "
            f"(SELECT wave FROM {ref} WHERE group_type = 'org' AND NOT suppressed) "
            "GROUP BY ALL HAVING sum(respondents) > 0 AND sum(respondents) < ?",
            [k],
        ).fetchall()
        for wave, group_type, n in rows:
            problems.append(
                f"{name}: wave {wave}: the hidden {group_type} groups hold {n} respondents "
                f"together, which the organisation minus the shown groups reveals"
            )
    return problems


def _pdf_text(path: Path) -> str | None:
    """The text of a PDF report (poppler's pdftotext, which .ci/run installs); None without it."""
    if shutil.which("pdftotext") is None:
        return None
    done = subprocess.run(
        ["pdftotext", "-q", str(path), "-"], capture_output=True, text=True, check=False
    )
    return done.stdout if done.returncode == 0 else None


def scan_files(paths: Iterable[Path], secrets: Secrets) -> list[str]:
    """Every problem found in published files: pages, reports (PDF too), metrics."""
    problems: list[str] = []
    for path in paths:
        if not path.is_file() or path.suffix not in (*TEXT_SUFFIXES, ".pdf"):
            continue
        if path.suffix == ".pdf":
            pdf = _pdf_text(path)
            if pdf is None:  # an unread report is not a clean one
                problems.append(f"{path}: could not read the PDF (pdftotext missing or failed)")
                continue
            text = pdf
        else:
            text = html.unescape(path.read_text(encoding="utf-8", errors="replace"))
        # Phone numbers only in what a reader sees: script, style and SVG numbers (dbt docs'
        # polygon points "11 11 5 11 5 12 11 12 11 11") are digit groups too. E-mail addresses
        # and identities are looked for everywhere.
        visible = _visible(text) if path.suffix == ".html" else None
        for secret in sorted(secrets.hidden_texts):
            if secret in text:
                problems.append(f"{path}: free text of a hidden group: {secret!r}")
        for respondent in sorted(secrets.respondents):
            if respondent in text:
                problems.append(f"{path}: a respondent hash: {respondent}")
        problems += _personal(str(path), text, secrets, visible)
    return problems


def _visible(page: str) -> str:
    """A page's text as shown: script, style and svg elements and all tags dropped."""
    page = re.sub(r"<(script|style|svg)\b.*?</\1\s*>", " ", page, flags=re.S | re.I)
    return re.sub(r"<[^>]+>", " ", page)
