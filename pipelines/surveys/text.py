"""Free-text survey answers: what is removed before storage, and how they are made safe to export.

Before a comment is stored, e-mail addresses, phone numbers and the respondent identifiers of the
same file are replaced by a marker (the rest of the text is kept), then the text is cut to the
instrument's ``comment_max_chars`` (docs/surveys.md#free-text). The stored text is otherwise
verbatim; :func:`spreadsheet_safe` is applied only where text is exported or shown for copy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

EMAIL_MARK = "[e-mail removed]"
PHONE_MARK = "[phone removed]"
RESPONDENT_MARK = "[respondent removed]"
CUT_MARK = "…"
# Shorter identifiers (Microsoft Forms' ID "7", say) are ordinary words and numbers in prose.
MIN_IDENTIFIER_LENGTH = 6
# A cell beginning with one of these is a formula in Excel, LibreOffice and Google Sheets (OWASP
# "CSV Injection"); a leading apostrophe makes the cell text. dbt's metrics_devex_comments applies
# the same list, and a test holds the two equal.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
# Phone candidates: an optional +country code or (area), then digit groups of at least two digits
# joined by single spaces, dots or dashes; or + and 9-15 digits. A candidate is a phone when it
# holds 9-15 digits. Groups must be whole runs (nothing joined on either side), so dates, times,
# decimals, versions and ids in URLs are not taken for phones.
PHONE = re.compile(
    r"(?<![\w.,:/+-])"
    r"(?:\+\d{9,15}"
    r"|(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d{2,5}(?:[ .-]\d{2,8}){1,4})"
    r"(?![\w.,:/-]|[ .-]\d)"
)
MIN_PHONE_DIGITS, MAX_PHONE_DIGITS = 9, 15


# How far from an "@" an address is looked for: more than any valid local part (64 characters) or
# domain (255).
EMAIL_REACH = 300


def emails(text: str) -> list[re.Match[str]]:
    """Each e-mail address in ``text`` (as a regex match), read only around each "@".

    EMAIL over a whole text backtracks through every long run of characters a local part may
    hold, for each position in it: a pasted base64 blob or a report's inline image of 140 KB took
    55 s. Around each "@" the cost is bounded; an address whose local part is longer than
    EMAIL_REACH is found cut to it, one whose domain is longer than that not at all (no valid
    address is either). Two matches may overlap where a domain runs on past the reach into the
    next address; redact() removes their union."""
    found: list[re.Match[str]] = []
    at = text.find("@")
    while at != -1:
        for match in EMAIL.finditer(text, max(0, at - EMAIL_REACH), at + EMAIL_REACH):
            if match.start() <= at < match.end():
                found.append(match)
                break
        at = text.find("@", at + 1)
    return found


def phones(text: str) -> Iterator[re.Match[str]]:
    """Each phone number in ``text`` (as a regex match)."""
    for match in PHONE.finditer(text):
        digits = sum(c.isdigit() for c in match.group())
        if MIN_PHONE_DIGITS <= digits <= MAX_PHONE_DIGITS:
            yield match


def personal_data(text: str, phone_text: str | None = None) -> list[str]:
    """The e-mail addresses in ``text`` and the phone numbers in ``phone_text`` (default: ``text``),
    for the privacy scan."""
    numbers = text if phone_text is None else phone_text
    return [m.group() for m in emails(text)] + [m.group() for m in phones(numbers)]


def redact(text: str, identifiers: Iterable[str] = ()) -> str:
    """``text`` with e-mail addresses, phone numbers and ``identifiers`` replaced by markers."""
    spans: list[list[int]] = []
    for match in emails(text):
        if spans and match.start() < spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], match.end())
        else:
            spans.append([match.start(), match.end()])
    for start, end in reversed(spans):
        text = text[:start] + EMAIL_MARK + text[end:]
    for match in reversed(list(phones(text))):
        text = text[: match.start()] + PHONE_MARK + text[match.end() :]
    names = sorted(
        {i.strip() for i in identifiers if len(i.strip()) >= MIN_IDENTIFIER_LENGTH},
        key=len,
        reverse=True,
    )
    if names:
        pattern = re.compile("|".join(map(re.escape, names)), re.IGNORECASE)
        text = pattern.sub(RESPONDENT_MARK, text)
    return text


def cap(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, the last one a … when it was cut."""
    if len(text) <= limit:
        return text
    return text[: limit - len(CUT_MARK)].rstrip() + CUT_MARK


def spreadsheet_safe(text: str) -> str:
    """``text`` with a leading ``'`` when a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text
