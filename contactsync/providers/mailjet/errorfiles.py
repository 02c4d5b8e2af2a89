"""Reading Mailjet's job error files into ReportedErrors: the JSON file of a bulk job and the CSV file of an import."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from typing import Any

from contactsync.provider import ReportedError

__all__ = ["csv_errors", "json_errors"]

_EMAIL_KEYS = ("Email", "email", "ContactEmail", "ContactAlt")
_MESSAGE_KEYS = ("Error", "ErrorMessage", "Message", "error", "message", "Reason")
_FIELD_KEYS = ("Field", "ErrorField", "ErrorRelatedTo", "Property")
_LIST_KEYS = ("Data", "Errors", "errors", "Items")


def json_errors(payload: Any) -> Iterator[ReportedError]:
    """Entries of the JSONError file, whatever its shape.

    reference/mailjet.md §2: the file's format is UNCONFIRMED, so a list of objects, an
    object wrapping such a list, one object, or an ``{email: message}`` map are all read.
    """
    if isinstance(payload, Mapping):
        for key in _LIST_KEYS:
            if isinstance(payload.get(key), list):
                yield from json_errors(payload[key])
                return
        if not any(key in payload for key in (*_EMAIL_KEYS, *_MESSAGE_KEYS, "Contact")):
            for email, message in payload.items():
                if "@" in str(email):
                    yield ReportedError(str(email), _text(message))
            return
        payload = [payload]
    if not isinstance(payload, list):
        return
    for item in payload:
        if isinstance(item, Mapping):
            yield _from_object(item)
        elif item not in (None, ""):
            yield ReportedError(None, _text(item))


def _from_object(item: Mapping[str, Any]) -> ReportedError:
    contact = item.get("Contact")
    email = _first(item, _EMAIL_KEYS) or (_first(contact, _EMAIL_KEYS) if isinstance(contact, Mapping) else None)
    message = _first(item, _MESSAGE_KEYS)
    field = _first(item, _FIELD_KEYS)
    code = _first(item, ("ErrorCode", "Code"))
    return ReportedError(
        email=str(email) if email is not None else None,
        message=_text(message) if message is not None else _text(item),
        field=str(field) if field else None,
        code=str(code) if code else None,
    )


def _first(item: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    return next((item[key] for key in keys if item.get(key) not in (None, "")), None)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), sort_keys=True)


def csv_errors(text: str) -> Iterator[ReportedError]:
    """Rows of the CSVError file: the row as sent plus an error cell.

    seed 000: ``"bar@example.com", ###Too few columns at line``; php-simple #67:
    ``###message###field``. A first row naming an ``email`` column is a header.
    """
    rows = csv.reader(io.StringIO(text), skipinitialspace=True)
    first = next(rows, None)
    if first is None:
        return
    names = [cell.strip().lower() for cell in first]
    at = names.index("email") if "email" in names else 0
    data = rows if "email" in names else _chain(first, rows)
    for row in data:
        if not row or "###" not in row[-1]:
            continue
        parts = [part.strip() for part in row[-1].split("###")]
        message = next((p for p in parts if p), "rejected")
        field = parts[2] if len(parts) > 2 and parts[2] else None
        cells = row[:-1]
        email = cells[at] if at < len(cells) else (cells[0] if cells else None)
        yield ReportedError(email.strip() if email else None, message, field=field)


def _chain(first: list[str], rest: Iterator[list[str]]) -> Iterator[list[str]]:
    yield first
    yield from rest
