"""Instants on the wire: the one conversion to UTC every translator shares."""

from __future__ import annotations

from datetime import datetime, timezone

from contactsync.errors import UnrepresentableValue

__all__ = ["to_utc"]


def to_utc(value: datetime, field: str) -> datetime:
    """``value`` in UTC (a naive value is returned as it is, for the caller's own policy).

    Raises UnrepresentableValue, naming ``field``, when UTC falls outside years 1-9999.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        return value
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:
        raise UnrepresentableValue(f"{value.isoformat()} falls outside the years 1-9999 in UTC", field=field) from None
