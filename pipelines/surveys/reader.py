"""Read a survey CSV export strictly: every row accounted for, or the file is refused.

Python's csv module, non-strict (as ``csv.DictReader`` is by default), reads a quote that is never
closed as one field running to the end of the file: every later row becomes the text of one answer.
This reader refuses that and the quieter variants:

- the csv module runs with ``strict=True``: a quote still open at the end of the file, or a closing
  quote followed by anything but a delimiter, is an error, reported at the line where the quote
  opened;
- every row must have exactly the header's number of fields;
- the count check: the rows the file holds are the rows read plus any physical line inside a
  quoted field that on its own has at least the header's number of fields, which is a whole row
  swallowed by a quote opened earlier. The counts must agree.

A legitimate multi-line answer (Google Forms, Microsoft Forms and Typeform export them quoted, with
the line breaks kept) passes: its continuation lines are prose, not lines with a delimiter for
every column. Line numbers are physical lines of the file, the header being line 1.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from pipelines.errors import PlatformMetricsError


class SurveyFileError(PlatformMetricsError):
    """A survey file that cannot be loaded; the message names the file, line and column."""


@dataclass(frozen=True)
class Row:
    line: int  # the physical line the row starts on
    values: dict[str, str]


def read_rows(path: Path) -> tuple[list[str], list[Row]]:
    """The header and the rows of the CSV at ``path``; :class:`SurveyFileError` if it is malformed."""
    raw = path.read_bytes()
    if not raw.strip():
        raise SurveyFileError(f"{path}: the file is empty")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SurveyFileError(
            f"{path}: not UTF-8 (byte {exc.start}); export the survey as CSV UTF-8"
        ) from None
    try:
        dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    if dialect.delimiter != ",":
        raise SurveyFileError(
            f"{path}: columns are separated by {dialect.delimiter!r}; export with commas"
        )
    # newline="": line breaks inside quoted fields reach the csv module as written (its docs' rule).
    lines = io.StringIO(text, newline="").readlines()
    reader = csv.reader(lines, strict=True)
    records: list[tuple[int, int, list[str]]] = []  # (first line, last line, fields)
    while True:
        start = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise SurveyFileError(_quote_error(path, lines, start, reader.line_num, exc)) from None
        if fields:  # a blank line is no row
            records.append((start, reader.line_num, fields))
    if not records:
        raise SurveyFileError(f"{path}: the file is empty")
    (_, _, header), body = records[0], records[1:]
    rows = []
    swallowed: list[tuple[int, list[int]]] = []
    for first, last, fields in body:
        if len(fields) != len(header):
            raise SurveyFileError(
                f"{path}: line {first}: {len(fields)} fields where the header has {len(header)} "
                "(a stray delimiter or quote?)"
            )
        inside = [
            n for n in range(first + 1, last + 1) if _looks_like_row(lines[n - 1], len(header))
        ]
        if inside:
            swallowed.append((first, inside))
        rows.append(Row(first, dict(zip(header, fields, strict=True))))
    held = len(rows) + sum(len(inside) for _, inside in swallowed)
    if held != len(rows):
        first, inside = swallowed[0]
        raise SurveyFileError(
            f"{path}: line {first}: a quoted field in this row runs over {len(inside)} line(s) "
            f"that are whole rows themselves (lines {_span(inside)}); a quote left open? "
            f"The file holds {held} rows, {len(rows)} were read"
        )
    return header, rows


def _looks_like_row(line: str, width: int) -> bool:
    """A physical line that parses on its own into at least ``width`` fields (a whole row)."""
    fields = next(csv.reader([line.rstrip("\r\n")]), [])
    return len(fields) >= width > 1


def _width(header_line: str) -> int:
    return len(next(csv.reader([header_line.rstrip("\r\n")]), []))


def _span(numbers: list[int]) -> str:
    return str(numbers[0]) if len(numbers) == 1 else f"{numbers[0]}-{numbers[-1]}"


def _quote_error(path: Path, lines: list[str], start: int, seen: int, exc: csv.Error) -> str:
    if "end of data" in str(exc):
        opened = _open_quote(lines, start, len(lines)) or start
        rows = sum(1 for line in lines[opened:] if _looks_like_row(line, _width(lines[0])))
        return (
            f"{path}: line {opened}: a quote opened here is never closed; the file ends inside "
            f"the quoted field, which would swallow the {len(lines) - opened} line(s) after it"
            + (f", {rows} of them whole rows" if rows else "")
        )
    opened = _open_quote(lines, start, seen - 1) or seen
    return (
        f"{path}: line {opened}: a quote opened here closes on line {seen} inside another "
        f"field ({exc}); a quote left open or a stray quote?"
    )


def _open_quote(lines: list[str], start: int, end: int) -> int | None:
    """The line whose quote is still open at the end of line ``end``, reading from ``start``."""
    quoted, opened = False, None
    for number in range(start, min(end, len(lines)) + 1):
        line, i = lines[number - 1], 0
        while i < len(line):
            if line[i] == '"':
                if not quoted:
                    quoted, opened = True, number
                elif line[i + 1 : i + 2] == '"':
                    i += 1  # "" inside quotes is one literal quote
                else:
                    quoted = False
            i += 1
    return opened if quoted else None
