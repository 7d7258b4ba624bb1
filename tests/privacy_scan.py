"""A scan of published survey data for anything the anonymity rules forbid (docs/surveys.md#privacy).

Used by the end-to-end test on the real published snapshot and site, and tested itself on small
hand-made leaks so that it is known to find them.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

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
    """What must never be published: free text of hidden groups and respondent hashes."""

    threshold: int
    hidden_texts: set[str] = field(default_factory=set)
    respondents: set[str] = field(default_factory=set)


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
                for text in sorted(values & secrets.hidden_texts)[:3]:
                    problems.append(f"{name}.{column}: free text of a hidden group: {text!r}")
                for value in sorted(values & secrets.respondents)[:3]:
                    problems.append(f"{name}.{column}: a respondent hash: {value}")
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


def scan_files(paths: Iterable[Path], secrets: Secrets) -> list[str]:
    """Every problem found in published text files (pages, reports, metrics)."""
    problems: list[str] = []
    for path in paths:
        if path.suffix not in TEXT_SUFFIXES or not path.is_file():
            continue
        text = html.unescape(path.read_text(encoding="utf-8", errors="replace"))
        for secret in sorted(secrets.hidden_texts):
            if secret in text:
                problems.append(f"{path}: free text of a hidden group: {secret!r}")
        for respondent in sorted(secrets.respondents):
            if respondent in text:
                problems.append(f"{path}: a respondent hash: {respondent}")
    return problems
