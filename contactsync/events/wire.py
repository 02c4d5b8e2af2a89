"""Reading webhook requests leniently: the JSON body, headers by any case, and values as providers send them.

Shared by every provider's parser, so each holds only its own field names and mapping.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from contactsync.emails import normalize_email
from contactsync.errors import InvalidEmail, InvalidInput

__all__ = [
    "MILLISECONDS_FROM",
    "event_records",
    "flag",
    "header",
    "integer",
    "recipient",
    "summary",
    "text",
    "unix_time",
]

_INTEGER = re.compile(r"\s*-?[0-9]+\s*")

MILLISECONDS_FROM = 10**11
"""A Unix time above this is taken as milliseconds (year 5138 in seconds; 1973 in milliseconds)."""


def header(headers: Mapping[str, str], name: str) -> str | None:
    """The value of header ``name`` looked up regardless of case, or None."""
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    for key, candidate in headers.items():
        if key.lower() == wanted:
            return candidate
    return None


def event_records(provider: str, body: bytes | str) -> list[dict[str, Any]]:
    """The JSON objects of a webhook body: an array of them, or one bare object.

    Raises InvalidInput for a body that is not UTF-8 JSON, or holds anything but objects
    (the row is the 1-based position of the offending item).
    """
    try:
        text_body = body.decode("utf-8-sig") if isinstance(body, bytes) else body
        payload = json.loads(text_body)
    except UnicodeDecodeError:
        raise InvalidInput(f"the {provider} webhook body is not UTF-8 text") from None
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(f"the {provider} webhook body is not JSON: {str(exc)[:200]}") from None
    items = payload if isinstance(payload, list) else [payload]
    for row, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise InvalidInput(
                f"the {provider} webhook body holds a {type(item).__name__}, not an event object", row=row
            )
    return items


def text(value: object) -> str | None:
    """A string field: strings as they are, numbers as their decimal text, anything else None."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def integer(value: object) -> int | None:
    """An integer sent as a number or as decimal text; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return int(value)
    return None


def flag(value: object) -> bool | None:
    """A boolean sent as ``true``/``false``, ``1``/``0`` or their text; None for anything else."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, str)):
        return {"1": True, "true": True, "0": False, "false": False}.get(str(value).strip().lower())
    return None


def unix_time(value: object) -> datetime | None:
    """A Unix time in seconds (or milliseconds, beyond :data:`MILLISECONDS_FROM`), as a number or
    numeric text, in UTC; None when absent or unreadable, so one odd field never drops the event."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, (int, float)):
        return None
    seconds = value / 1000 if abs(value) > MILLISECONDS_FROM else value
    try:
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def recipient(value: object) -> str | None:
    """The recipient address in the form contacts are keyed by (trimmed, lower-cased, NFC);
    an address email-validator refuses is kept as sent, trimmed, so the event still says whom it is about."""
    address = text(value)
    if address is None:
        return None
    try:
        return normalize_email(address)
    except InvalidEmail:
        return address.strip() or None


def summary(head: str | None, *details: str | None) -> str | None:
    """``head: detail; detail`` of the parts present, for an event's ``reason``; None when none is."""
    present = [d for d in details if d]
    if head is None:
        return "; ".join(present) or None
    return f"{head}: {'; '.join(present)}" if present else head
