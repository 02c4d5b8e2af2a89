"""The JSON routes' hot path: contacts of a familiar shape written by orjson, with no per-value checks.

A contact's :class:`~contactsync.model.Shape` is its property names with the exact type
of each value. The first contact of a shape asks the provider's planner how each
(name, type) goes on the wire: as it is, through a conversion, or not at all on this
path. Later contacts of the same shape then cost a dictionary and one ``orjson.dumps``.
Whatever the plan cannot write (a conversion that declines a value, an integer past
2**53) returns None, and the route encodes that contact through its general path,
which decides and raises exactly.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import date, datetime, timezone
from types import MappingProxyType
from typing import Any

import attrs
import orjson

from contactsync.model import Contact, Shape
from contactsync.timestamps import usual_utc_text

__all__ = ["AS_IS", "WHEN_AS_UTC", "Conversion", "JsonPlan", "JsonPlans", "Planner", "Record"]

Conversion = Callable[[Any], Any]
"""A value's wire form, or None when the general path must decide (never called with None)."""


def _as_is(value: Any) -> Any:
    return value


AS_IS: Conversion = _as_is
"""The conversion of a value orjson writes as the provider wants it; the plan skips calling it."""


@functools.lru_cache(maxsize=100_000)
def _utc_midnight(value: date) -> str:
    return f"{usual_utc_text(value)}Z"


def _utc_seconds(value: datetime) -> datetime | None:
    if value.tzinfo is timezone.utc and not value.microsecond and (value.hour or value.minute or value.second):
        return value
    return None  # the general path refuses a fraction and a midnight, and converts other zones


WHEN_AS_UTC: Mapping[type, Conversion] = {date: _utc_midnight, datetime: _utc_seconds}
"""Dates and date-times as the providers' UTC instants with a "Z": a date at midnight (remembered
per day), a UTC date-time with whole seconds and not at midnight (written by orjson); any other goes
the general way."""

Planner = Callable[[str, type], "tuple[str, Conversion] | None"]
"""Per property name and exact value type: (wire key, conversion), or None for the general path."""

_MAX_SHAPES = 1_000
_UNSEEN: Any = object()


Record = Callable[[Contact, dict[str, Any]], "dict[str, Any] | None"]
"""The provider's record of a contact around its properties' wire object, or None for the general path."""

_OPTIONS = orjson.OPT_STRICT_INTEGER | orjson.OPT_UTC_Z


@attrs.frozen
class JsonPlan:
    """How contacts of one shape are written: their wire keys (None: the property names) and what to convert."""

    keys: tuple[str, ...] | None
    conversions: tuple[tuple[str, Conversion], ...]


class JsonPlans:
    """The plans of one route, one per contact :class:`~contactsync.model.Shape` (at most 1,000 kept)."""

    def __init__(self, planner: Planner, record: Record) -> None:
        self._planner = planner
        self._record = record
        self._plans: dict[Shape, JsonPlan | None] = {}

    def encode(self, contact: Contact) -> bytes | None:
        """The contact's compact UTF-8 JSON by its shape's plan, or None for the general path.

        The bytes are copied once: orjson's keep their whole write buffer (about 4 KiB)
        allocated, and a batch holds tens of thousands (60,000 took 236 MiB, copied 11 MiB).
        """
        plan = self._plans.get(contact.shape, _UNSEEN)
        if plan is _UNSEEN:
            plan = self._plan(contact.shape)
        if plan is None:
            return None
        properties = contact.properties
        if plan.keys is None:
            members = properties.copy() if type(properties) is MappingProxyType else dict(properties)
        else:
            members = dict(zip(plan.keys, properties.values(), strict=False))  # one key a value, by the plan's shape
        for key, convert in plan.conversions:
            wire = convert(members[key])
            if wire is None:
                return None
            members[key] = wire
        record = self._record(contact, members)
        if record is None:
            return None
        try:
            return memoryview(orjson.dumps(record, option=_OPTIONS)).tobytes()
        except orjson.JSONEncodeError:  # an integer past 2**53, a string that is not UTF-8
            return None

    def forget(self) -> None:
        """Drop every plan: the account's fields changed, so the next contacts are planned again."""
        self._plans.clear()

    def _plan(self, shape: Shape) -> JsonPlan | None:
        keys: list[str] = []
        conversions: list[tuple[str, Conversion]] = []
        plan: JsonPlan | None = None
        for name, kind in zip(shape.names, shape.kinds, strict=True):
            step = self._planner(name, kind)
            if step is None:
                break
            keys.append(step[0])
            if step[1] is not AS_IS:
                conversions.append(step)
        else:
            plan = JsonPlan(None if tuple(keys) == shape.names else tuple(keys), tuple(conversions))
        if len(self._plans) >= _MAX_SHAPES:
            self._plans.clear()
        self._plans[shape] = plan
        return plan
