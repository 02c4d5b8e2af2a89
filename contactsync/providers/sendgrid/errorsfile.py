"""Reading the file at a job's ``errors_url``, whose format SendGrid does not document.

reference/sendgrid.md §6: UNCONFIRMED format; read it as CSV with unknown headers and
find the email and the reason columns by their names, leniently.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence

from contactsync.provider import ReportedError

__all__ = ["parse_errors_file"]

_EMAIL_WORDS = ("email",)
_REASON_WORDS = ("error", "reason", "message", "problem")
_FIELD_WORDS = ("field", "column")


def _find(headers: Sequence[str], words: Sequence[str], skip: set[int]) -> int | None:
    for word in words:
        for index, header in enumerate(headers):
            if index not in skip and word in header:
                return index
    return None


def parse_errors_file(text: str) -> Iterator[ReportedError]:
    """One ReportedError per data row: its email (column named like "email", else the first cell with "@").

    The reason is the column named like "error"/"reason"/"message", else the last cell.
    """
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header is None:
        return
    names = [h.strip().lower() for h in header]
    email_at = _find(names, _EMAIL_WORDS, set())
    reason_at = _find(names, _REASON_WORDS, {i for i in (email_at,) if i is not None})
    field_at = _find(names, _FIELD_WORDS, {i for i in (email_at, reason_at) if i is not None})
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        email = _cell(row, email_at)
        if email is None:
            email = next((cell.strip() for cell in row if "@" in cell), None)
        reason = _cell(row, reason_at) or row[-1].strip() or "rejected by SendGrid"
        yield ReportedError(email=email or None, message=reason, field=_cell(row, field_at))


def _cell(row: Sequence[str], index: int | None) -> str | None:
    if index is None or index >= len(row):
        return None
    value = row[index].strip()
    return value or None
