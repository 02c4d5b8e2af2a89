"""Instants on the wire: the one conversion to UTC every translator shares."""

from __future__ import annotations

from datetime import date, datetime, timezone

from contactsync.errors import UnrepresentableValue

__all__ = ["as_date_if_midnight", "property_instant", "to_utc", "usual_utc_text", "utc_text"]


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


def property_instant(value: datetime, field: str, provider: str) -> datetime:
    """A datetime property value as the instant a provider with one date-time type stores: in UTC.

    Every built-in provider stores property instants in UTC to the second, and reads an
    instant at 00:00:00 UTC back as a ``date``: so a naive datetime (no instant at all), a
    fraction of a second, and a datetime at exactly midnight UTC (it would come back a
    ``date``) raise UnrepresentableValue naming ``field`` rather than being stored differently.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise UnrepresentableValue(
            f"{provider} stores datetimes as instants: give a timezone-aware datetime, not a naive one", field=field
        )
    if value.microsecond:
        raise UnrepresentableValue(
            f"{provider} keeps datetimes to the second: drop the fraction (value.replace(microsecond=0))", field=field
        )
    utc = to_utc(value, field)
    if not (utc.hour or utc.minute or utc.second):
        raise UnrepresentableValue(
            f"{provider} reads an instant at 00:00:00 UTC back as a date: pass the date itself (value.date())",
            field=field,
        )
    return utc


def as_date_if_midnight(value: datetime) -> date | datetime:
    """A stored instant as read back: a ``date`` when it is 00:00:00 UTC (how dates are held), else the datetime."""
    utc = value.astimezone(timezone.utc) if value.tzinfo is not None else value
    if not (utc.hour or utc.minute or utc.second or utc.microsecond):
        return utc.date()
    return utc


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
    ``datetime`` with whole seconds and not at midnight, of exactly those types. None for any other
    value, which the caller's general path decides (and may refuse, see :func:`property_instant`)."""
    exact = type(value)
    if exact is date:
        return f"{value.isoformat()}T00:00:00"  # type: ignore[attr-defined]
    if exact is not datetime or value.tzinfo is not timezone.utc or value.microsecond:  # type: ignore[attr-defined]
        return None
    if value.hour or value.minute or value.second:  # type: ignore[attr-defined]
        return utc_text(value)  # type: ignore[arg-type]
    return None
