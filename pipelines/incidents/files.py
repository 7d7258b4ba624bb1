"""Incident file import (ServiceNow, Jira, a spreadsheet): CSV or JSON Lines with a column mapping.

``sources.incident_files[].columns`` maps the unified fields (``id``, ``started_at``, ``title``, ...) to
the file's columns. Every row is validated (id present and unique in the file, timestamps ISO-8601,
mapped columns present) and each file lands in one transaction, whole or not at all; an error names
the file, the row and the column. The payload holds the mapped fields only (the file's other columns,
which may name people, are not kept). Files are re-read on every run: rows upsert by id.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipelines.errors import PlatformMetricsError
from pipelines.warehouse import RawRecord, transaction, upsert_raw

TIME_FIELDS = ("started_at", "detected_at", "acknowledged_at", "resolved_at")
SUFFIXES = (".csv", ".jsonl", ".ndjson")


class IncidentFileError(PlatformMetricsError):
    """An incident file that cannot be loaded; the message names the file, row and column."""


@dataclass
class FileImportReport:
    files: int = 0
    items: int = 0


def incident_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES)
    if not path.exists():
        raise IncidentFileError(f"{path}: incident file not found")
    return [path]


def _rows(path: Path) -> tuple[list[tuple[int, Mapping[str, Any]]], set[str] | None]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IncidentFileError(f"{path}: not UTF-8 (byte {exc.start})") from None
    if not text.strip():
        raise IncidentFileError(f"{path}: the file is empty")
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        rows = [(line, row) for line, row in enumerate(reader, start=2)]
        return rows, set(reader.fieldnames or [])
    rows = []
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise IncidentFileError(f"{path}: row {line}: malformed JSON ({exc.msg})") from None
        if not isinstance(item, dict):
            raise IncidentFileError(f"{path}: row {line}: expected a JSON object")
        rows.append((line, item))
    return rows, None


def _timestamp(value: str, where: str) -> str:
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise IncidentFileError(f"{where}: {value!r} is not an ISO-8601 timestamp") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC).isoformat()


def parse_file(path: Path, columns: Mapping[str, str]) -> list[RawRecord]:
    """Validate and map one file; raises IncidentFileError naming file, row and column."""
    rows, header = _rows(path)
    present = header if header is not None else set().union(*(set(row) for _, row in rows))
    for field, column in columns.items():
        if column not in present:
            raise IncidentFileError(f"{path}: column {column!r} (mapped to {field}) is missing")
    if not rows:
        raise IncidentFileError(f"{path}: no rows (only a header)")
    records, seen = [], {}
    for line, row in rows:
        fields: dict[str, Any] = {}
        for field, column in columns.items():
            value = row.get(column)
            value = "" if value is None else str(value).strip()
            where = f"{path}: row {line}, column {column!r}"
            if field in TIME_FIELDS and value:
                value = _timestamp(value, where)
            fields[field] = value or None
        for required in ("id", "started_at"):
            if not fields[required]:
                raise IncidentFileError(
                    f"{path}: row {line}, column {columns[required]!r}: empty {required}"
                )
        if fields["id"] in seen:
            raise IncidentFileError(
                f"{path}: row {line}, column {columns['id']!r}: id {fields['id']!r} "
                f"already on row {seen[fields['id']]}"
            )
        seen[fields["id"]] = line
        fields["file"] = path.name
        fields["row"] = line
        records.append(RawRecord(fields["id"], path.name, fields, fields.get("resolved_at")))
    return records


def import_files(
    con: duckdb.DuckDBPyConnection, path: Path, columns: Mapping[str, str], *, source: str
) -> FileImportReport:
    report = FileImportReport()
    for file in incident_files(Path(path)):
        records = parse_file(file, columns)
        with transaction(con):
            report.items += upsert_raw(con, "incident_file_rows", source, records)
        report.files += 1
    return report
