"""Records as a source: dicts (rows of a DataFrame, an API's JSON) or objects (ORM rows) with a field map.

:func:`read_records` yields a :class:`~contactsync.model.Contact` or a
:class:`~contactsync.model.RowError` per record, numbered from 1, so an application
feeds a sync without a ``try``/``except`` per row. Values keep their Python types;
text is parsed by ``field_types`` where given; ``None`` and NaN (a DataFrame's missing
value) leave the property out; numpy scalars and decimals become ``int`` or ``float``.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from typing import Any

from contactsync.csvio import EMAIL_COLUMNS, parse_value
from contactsync.errors import InvalidInput
from contactsync.model import Contact, FieldType, PropertyValue, RowError

__all__ = ["read_records"]

_MISSING = object()
_NAMES = frozenset({"name", "fullname"})
_SCALARS = (str, bool, int, float, datetime, date)


def _squash(key: str) -> str:
    return "".join(ch for ch in key.lower() if ch.isalnum())


def _plain(value: Any) -> Any:
    """A record's value as a property value, or _MISSING to leave it out; ValueError for what cannot be one."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return _MISSING
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a finite number")
        return int(value) if value == value.to_integral_value() else float(value)
    item = getattr(value, "item", None)  # numpy scalars (np.int64, np.float64, np.bool_...)
    if callable(item):
        return _plain(item())
    raise ValueError(f"a {type(value).__name__} cannot be a property value (str, int, float, bool, date, datetime)")


class _Plan:
    """Which key of a record is the email, the name, and each property."""

    def __init__(self, fields: Mapping[str, str] | None, types: Mapping[str, FieldType]) -> None:
        self.fields = dict(fields) if fields is not None else None
        self.types = {name.lower(): FieldType(kind) for name, kind in types.items()}

    def pairs(self, record: Any) -> Iterator[tuple[str, Any]]:
        """(contact field, value) of a record: the mapped keys when there is a map, else every key."""
        if self.fields is not None:
            mapping = _as_mapping(record)
            for key, field in self.fields.items():
                if not field:
                    continue
                value = mapping.get(key, _MISSING) if mapping is not None else getattr(record, key, _MISSING)
                yield field, value
            return
        mapping = _as_mapping(record)
        if mapping is None:
            raise InvalidInput(f"a {type(record).__name__} record needs a field map (fields={{attribute: field}})")
        for key, value in mapping.items():
            squashed = _squash(str(key))
            if squashed in EMAIL_COLUMNS:
                yield "email", value
            elif squashed in _NAMES:
                yield "name", value
            else:
                yield str(key), value


def _as_mapping(record: Any) -> Mapping[str, Any] | None:
    if isinstance(record, Mapping):
        return record
    inner = getattr(record, "_mapping", None)  # SQLAlchemy's Row
    return inner if isinstance(inner, Mapping) else None


def _item(plan: _Plan, record: Any, row: int) -> Contact | RowError:
    email: Any = None
    name: Any = None
    properties: dict[str, PropertyValue] = {}
    for field, given in plan.pairs(record):
        if field == "email":
            email = given
            continue
        try:
            value = _plain(given)
        except ValueError as exc:
            return RowError(email if isinstance(email, str) else None, row, field, str(exc))
        if value is _MISSING:
            continue
        if field == "name":
            name = value if isinstance(value, str) else str(value)
            continue
        kind = plan.types.get(field.lower())
        if kind is not None and isinstance(value, str):
            try:
                value = parse_value(value, kind)
            except ValueError as exc:
                return RowError(email if isinstance(email, str) else None, row, field, str(exc))
        properties[field] = value
    if email is None or email is _MISSING or (isinstance(email, str) and not email.strip()):
        return RowError(None, row, "email", "the email is missing")
    if not isinstance(email, str):
        return RowError(None, row, "email", f"the email must be text, got {type(email).__name__}")
    try:
        return Contact(email, name, properties)
    except InvalidInput as exc:
        return RowError(email, row, exc.field, exc.message)


def read_records(
    records: Iterable[Any],
    *,
    fields: Mapping[str, str] | None = None,
    field_types: Mapping[str, FieldType] | None = None,
) -> Iterator[Contact | RowError]:
    """One contact (or row error) per record, numbered from 1.

    ``fields`` {key: field} picks and renames what is read: ``email`` and ``name`` are
    the contact's own, any other field a property, an empty field skips the key; with a
    map, only the mapped keys are read (attributes of objects, keys of mappings). Without
    one, every key of a mapping is read, the email and name found by their usual names
    (``email``, ``E-mail``, ``name``...). ``field_types`` {field: type} parses text values.
    """
    plan = _Plan(fields, field_types or {})
    for row, record in enumerate(records, start=1):
        yield _item(plan, record, row)
