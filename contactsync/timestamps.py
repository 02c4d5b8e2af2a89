"""Instants on the wire: the one conversion to UTC every translator shares."""

from __future__ import annotations

from datetime import date, datetime, timezone

from contactsync.errors import UnrepresentableValue

__all__ = ["to_utc", "usual_utc_text", "utc_text"]


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


_DAYS: dict[int, str] = {}
_CLOCKS: dict[int, str] = {}
_MAX_DAYS = 100_000


def utc_text(value: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS`` of a UTC (or naive) datetime with whole seconds, no zone.

    The import's hot path: ``isoformat`` on an aware datetime costs about a microsecond, so
    the day and the time of day are formatted once each and remembered (at most 100,000
    days and the 86,400 seconds of a day).
    """
    ordinal = value.toordinal()
    day = _DAYS.get(ordinal)
    if day is None:
        if len(_DAYS) >= _MAX_DAYS:
            _DAYS.clear()
        day = _DAYS[ordinal] = value.date().isoformat()
    second = value.hour * 3600 + value.minute * 60 + value.second
    clock = _CLOCKS.get(second)
    if clock is None:
        clock = _CLOCKS[second] = f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    return f"{day}T{clock}"


def usual_utc_text(value: object) -> str | None:
    """``YYYY-MM-DDTHH:MM:SS`` (UTC, no zone) of the usual instants: a ``date`` at its midnight, a UTC
    ``datetime`` with whole seconds, of exactly those types. None for any other value, which the
    caller's general path decides (and may refuse)."""
    exact = type(value)
    if exact is date:
        return f"{value.isoformat()}T00:00:00"  # type: ignore[attr-defined]
    if exact is datetime and value.tzinfo is timezone.utc and not value.microsecond:  # type: ignore[attr-defined]
        return utc_text(value)  # type: ignore[arg-type]
    return None
