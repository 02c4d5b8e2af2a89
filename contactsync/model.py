"""The provider-neutral domain model: contacts, subscriptions, import jobs and their statuses."""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

import attrs

from contactsync.emails import normalize_email
from contactsync.errors import InvalidInput

__all__ = [
    "Contact",
    "ContactEvent",
    "ContactList",
    "EventType",
    "FieldDefinition",
    "FieldType",
    "ImportJob",
    "ImportStatus",
    "ListMember",
    "ListSubscription",
    "Membership",
    "PropertyValue",
    "RowError",
    "Shape",
    "SubscriptionAction",
    "field_type_of",
]

PropertyValue = str | int | float | bool | datetime | date | None
"""What a contact property may hold; ``None`` clears the property at the provider."""

_PROPERTY_TYPES = (str, int, float, bool, datetime, date, type(None))


class SubscriptionAction(str, enum.Enum):
    """What to do with a contact's membership of one list (the values are Mailjet's, seed 000/001)."""

    ADD_FORCE = "addforce"
    """Add to the list and subscribe, even if the contact had unsubscribed."""
    ADD_NO_FORCE = "addnoforce"
    """Add to the list; a contact who unsubscribed stays unsubscribed."""
    REMOVE = "remove"
    """Take the contact off the list."""
    UNSUBSCRIBE = "unsub"
    """Keep the contact on the list, marked unsubscribed."""


class ImportStatus(str, enum.Enum):
    """The one status vocabulary every provider's raw job status maps onto."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    COMPLETED_WITH_ERRORS = "completed_with_errors"
    FAILED = "failed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"

    @property
    def is_terminal(self) -> bool:
        """True once the job will not change any more.

        ``UNKNOWN`` is not terminal: a raw status we have never seen may well be an
        intermediate one, so :meth:`Provider.wait <contactsync.provider.Provider.wait>` keeps polling until its timeout.
        """
        return self in _TERMINAL

    @property
    def is_success(self) -> bool:
        """True when the job ran to its end and applied its rows (some rows may have failed)."""
        return self in (ImportStatus.COMPLETED, ImportStatus.COMPLETED_WITH_ERRORS)


_TERMINAL = frozenset(
    {
        ImportStatus.COMPLETED,
        ImportStatus.COMPLETED_WITH_ERRORS,
        ImportStatus.FAILED,
        ImportStatus.REJECTED,
        ImportStatus.CANCELLED,
    }
)

# How far along a status is (lower is less finished) and, among terminal ones, how bad.
_AGGREGATE_RANK = {
    ImportStatus.PENDING: 0,
    ImportStatus.UNKNOWN: 1,
    ImportStatus.RUNNING: 2,
    ImportStatus.FAILED: 3,
    ImportStatus.REJECTED: 4,
    ImportStatus.CANCELLED: 5,
    ImportStatus.COMPLETED_WITH_ERRORS: 6,
    ImportStatus.COMPLETED: 7,
}


def aggregate_status(statuses: list[ImportStatus], *, local_errors: bool = False) -> ImportStatus:
    """The status of a job made of parts: the least finished part, else the worst outcome.

    A mix of finished and pending parts is ``RUNNING``; rows rejected before sending
    (``local_errors``) turn a clean completion into ``COMPLETED_WITH_ERRORS``.
    """
    if not statuses:
        return ImportStatus.COMPLETED_WITH_ERRORS if local_errors else ImportStatus.COMPLETED
    status = min(statuses, key=_AGGREGATE_RANK.__getitem__)
    if status is ImportStatus.PENDING and any(s is not ImportStatus.PENDING for s in statuses):
        status = ImportStatus.RUNNING
    if status is ImportStatus.COMPLETED and local_errors:
        status = ImportStatus.COMPLETED_WITH_ERRORS
    return status


class FieldType(str, enum.Enum):
    """The type of a custom contact field, as the user declares it."""

    TEXT = "text"
    NUMBER = "number"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"


def field_type_of(value: PropertyValue) -> FieldType | None:
    """The field type a property value calls for (None for ``None``, which clears rather than sets)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return FieldType.BOOLEAN
    if isinstance(value, int):
        return FieldType.INTEGER
    if isinstance(value, float):
        return FieldType.NUMBER
    if isinstance(value, datetime):
        return FieldType.DATETIME
    if isinstance(value, date):
        return FieldType.DATE
    return FieldType.TEXT


def _check_properties(properties: Mapping[str, PropertyValue]) -> None:
    for name, item in properties.items():
        if not isinstance(name, str) or not name:
            raise InvalidInput(f"property names must be non-empty strings, got {name!r}", field="properties")
        if _has_surrogate(name):
            raise InvalidInput(f"the property name {name!r} holds a lone surrogate, which no encoding can carry")
        if not isinstance(item, _PROPERTY_TYPES):
            raise InvalidInput(
                f"{type(item).__name__} is not a property type (str, int, float, bool, datetime, date or None)",
                field=name,
            )
        if isinstance(item, float) and not math.isfinite(item):
            raise InvalidInput(f"{item!r} cannot be sent to a provider", field=name)
        if isinstance(item, str) and _has_surrogate(item):
            raise InvalidInput(_SURROGATE_MESSAGE, field=name)


_SURROGATE = re.compile("[\ud800-\udfff]").search
_SURROGATE_MESSAGE = "the text holds a lone surrogate (half of a UTF-16 pair), which no encoding can carry"


def _has_surrogate(text: str) -> bool:
    """True for text no encoding can carry: a lone surrogate, as a bad decode with surrogateescape leaves."""
    return not text.isascii() and _SURROGATE(text) is not None


def _plain_value(value: PropertyValue) -> PropertyValue:
    """A value of a subclass of a property type as the type itself: numpy's float64 as a float, an IntEnum
    member as an int, a pandas Timestamp as a datetime; the encoders then meet only the types they know."""
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, datetime):
        parts = (value.year, value.month, value.day, value.hour, value.minute, value.second, value.microsecond)
        return datetime(*parts, tzinfo=value.tzinfo, fold=value.fold)
    return date(value.year, value.month, value.day)


class Shape:
    """The names of a contact's properties and the exact type of each value, in order.

    One object per distinct shape, made when a contact of that shape first passes its
    checks: later contacts of the shape skip the per-value type checks (only floats are
    checked, for being finite, and non-ASCII text, for lone surrogates), and encoders key
    their plans on it by identity. A shape with a value of a subclass of a property type
    (numpy's float64) is ``coerced``: its contacts store the values as the types themselves.
    """

    __slots__ = ("coerced", "floats", "kinds", "names", "texts")

    def __init__(self, names: tuple[str, ...], kinds: tuple[type, ...]) -> None:
        self.names = names
        self.kinds = kinds
        self.floats = tuple(name for name, kind in zip(names, kinds, strict=True) if issubclass(kind, float))
        """The names of the float values, whose finiteness each contact must still show."""
        self.texts = tuple(name for name, kind in zip(names, kinds, strict=True) if issubclass(kind, str))
        """The names of the text values, which each contact must show free of lone surrogates."""
        self.coerced = any(kind not in _PROPERTY_TYPES for kind in kinds)
        """True when a value is of a subclass of a property type, to be stored as the type itself."""

    def __repr__(self) -> str:
        return f"Shape({dict(zip(self.names, (k.__name__ for k in self.kinds), strict=True))!r})"


_SHAPES: dict[tuple[tuple[str, ...], tuple[type, ...]], Shape] = {}
_MAX_SHAPES = 10_000


def _new_shape(key: tuple[tuple[str, ...], tuple[type, ...]], properties: Mapping[str, PropertyValue]) -> Shape:
    """Check properties of a shape not met yet, then remember the shape; raises InvalidInput naming the property."""
    _check_properties(properties)
    if len(_SHAPES) >= _MAX_SHAPES:
        _SHAPES.clear()
    shape = _SHAPES[key] = Shape(*key)
    return shape


def _freeze(properties: Mapping[str, Any] | None) -> MappingProxyType[str, Any]:
    """A read-only copy: a mapping proxy given in is copied too, since its owner can still change what it shows."""
    return MappingProxyType(dict(properties or {}))


@attrs.frozen(init=False)
class Contact:
    """One person's address and data; the email is validated and normalised at construction.

    The constructor is written out rather than generated: it runs once per input row, and
    doing the checks inline halves its cost against attrs converters and validators.
    ``shape`` (the property names and value types, see :class:`Shape`) is worked out there too.
    """

    email: str
    name: str | None = None
    properties: Mapping[str, PropertyValue] = attrs.field(factory=dict, repr=lambda p: repr(dict(p)))
    shape: Shape = attrs.field(init=False, eq=False, hash=False, repr=False)

    def __init__(
        self, email: str, name: str | None = None, properties: Mapping[str, PropertyValue] | None = None
    ) -> None:
        address = normalize_email(email)
        if name is not None:
            if not isinstance(name, str):
                raise InvalidInput(f"the name must be a string, got {type(name).__name__}", field="name")
            if not name.isascii() and _SURROGATE(name):
                raise InvalidInput(_SURROGATE_MESSAGE, field="name")
            if type(name) is not str:
                name = str.__str__(name)
        if type(properties) is dict:
            plain: Mapping[str, PropertyValue] = properties.copy()
            frozen = MappingProxyType(plain)
        else:
            frozen = plain = _freeze(properties)
        key = (tuple(plain), tuple(map(type, plain.values())))
        shape = _SHAPES.get(key)
        if shape is None:
            shape = _new_shape(key, frozen)
        else:
            for prop in shape.floats:
                if not math.isfinite(plain[prop]):  # type: ignore[arg-type]
                    _check_properties(frozen)
            for prop in shape.texts:
                text = plain[prop]
                if not text.isascii() and _SURROGATE(text):  # type: ignore[union-attr, arg-type]
                    raise InvalidInput(_SURROGATE_MESSAGE, field=prop)
        if shape.coerced:
            plain = {prop: _plain_value(value) for prop, value in plain.items()}
            frozen = MappingProxyType(plain)
            key = (tuple(plain), tuple(map(type, plain.values())))
            shape = _SHAPES.get(key) or _new_shape(key, frozen)
        _set_email(self, address)
        _set_name(self, name)
        _set_properties(self, frozen)
        _set_shape(self, shape)

    def __hash__(self) -> int:
        return hash((self.email, self.name, tuple(sorted(self.properties.items(), key=lambda kv: kv[0]))))


# The slots' own setters: what object.__setattr__ would reach past the frozen class's __setattr__, called directly.
_set_email, _set_name, _set_properties, _set_shape = (
    getattr(Contact, slot).__set__ for slot in ("email", "name", "properties", "shape")
)


@attrs.frozen
class ListSubscription:
    """One list and what to do with the contact's membership of it."""

    list_id: str = attrs.field(converter=str)
    action: SubscriptionAction = attrs.field(default=SubscriptionAction.ADD_NO_FORCE, converter=SubscriptionAction)


@attrs.frozen
class Membership:
    """A contact's standing on one list, as the provider reports it."""

    list_id: str
    subscribed: bool
    subscribed_at: datetime | None = None


@attrs.frozen
class ListMember:
    """One contact on a list, as the provider reads it back: its data and its standing on the list."""

    contact: Contact
    subscribed: bool
    subscribed_at: datetime | None = None
    unsubscribed_at: datetime | None = None


class EventType(str, enum.Enum):
    """What happened to a contact, in the one vocabulary every provider's events map onto."""

    SUBSCRIBED = "subscribed"
    """The contact (re)subscribed, to a list or to the account."""
    UNSUBSCRIBED = "unsubscribed"
    """The contact unsubscribed, from a list or from everything."""
    BOUNCED = "bounced"
    """Mail to the address bounced (the provider's own classification is in ``reason`` and ``raw``)."""
    COMPLAINED = "complained"
    """The recipient reported a message as spam."""
    BLOCKED = "blocked"
    """The provider refused to send to the address (suppressed, blocked, dropped)."""
    UNKNOWN = "unknown"
    """An event this library does not map; ``raw`` holds it as the provider sent it."""


@attrs.frozen
class ContactEvent:
    """One change of a contact's state reported by a provider (polled or pushed by a webhook).

    ``raw`` keeps the provider's own record, so nothing the mapping leaves out is lost.
    """

    provider: str
    type: EventType = attrs.field(converter=EventType)
    email: str | None
    at: datetime | None
    list_id: str | None = None
    reason: str | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, converter=_freeze, repr=lambda p: repr(dict(p)))


@attrs.frozen
class ContactList:
    """A list (Mailjet contacts list, SendGrid list, dotmailer address book)."""

    id: str
    name: str


@attrs.frozen
class FieldDefinition:
    """A custom contact field: its name and type."""

    name: str
    type: FieldType = attrs.field(default=FieldType.TEXT, converter=FieldType)


@attrs.frozen
class RowError:
    """One input contact that did not make it, and why.

    ``row`` is the 1-based position of the contact in the input stream (for a file,
    its data row, the header not counted); ``None`` when the provider's report cannot
    be traced back to a row (for instance when reading a job by id alone).
    """

    email: str | None
    row: int | None
    field: str | None
    message: str
    provider_code: str | None = None


def _accepted_of(job: ImportJob) -> int:
    """The default ``accepted``: what the provider said it created and updated (unknown counts as 0)."""
    return (job.created or 0) + (job.updated or 0)


@attrs.frozen
class ImportJob:
    """A bulk import as one unit: possibly several provider jobs (``parts``) aggregated.

    ``status`` of an aggregate is its least finished part, else its worst outcome;
    counts are sums. ``id`` is the provider job id, or the parts' ids joined by commas.
    ``local_errors`` are the rows rejected before anything was sent. Once the job is
    terminal, ``accepted + errored == requested``; ``created`` and ``updated`` are
    ``None`` where the provider does not say (Mailjet does not tell one from the other).
    """

    provider: str
    id: str
    status: ImportStatus
    provider_status: str
    requested: int = 0
    created: int | None = None
    """Contacts the provider created, or None where it does not say."""
    updated: int | None = None
    """Contacts the provider updated, or None where it does not say."""
    errored: int = 0
    accepted: int = attrs.field(default=attrs.Factory(_accepted_of, takes_self=True))
    """Contacts the provider took (created or updated); ``created + updated`` when both are known."""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    parts: tuple[ImportJob, ...] = ()
    local_errors: tuple[RowError, ...] = ()
    extra: Mapping[str, Any] = attrs.field(factory=dict, converter=_freeze, repr=lambda p: repr(dict(p)))
    rows: Any = attrs.field(default=None, eq=False, repr=False)
    """The row index of a part (which input rows it carried); see :mod:`contactsync.batching`."""

    @property
    def provider_jobs(self) -> tuple[ImportJob, ...]:
        """The provider jobs this job stands for: its parts, itself, or none when no row was sent."""
        return self.parts or ((self,) if self.id else ())

    @classmethod
    def combine(cls, provider: str, parts: list[ImportJob], local_errors: tuple[RowError, ...] = ()) -> ImportJob:
        """One job standing for ``parts``: status aggregated, counts summed.

        ``created`` and ``updated`` are None when a part does not report them; a finished
        job that accepted none of the rows it was given is ``FAILED``.
        """
        if len(parts) == 1 and not local_errors:
            return parts[0]
        status = aggregate_status([p.status for p in parts], local_errors=bool(local_errors))
        accepted = sum(p.accepted for p in parts)
        requested = sum(p.requested for p in parts) + len(local_errors)
        if status.is_terminal and requested and not accepted:
            status = ImportStatus.FAILED
        raw = next((p.provider_status for p in parts if p.status is status), status.value)
        starts = [p.started_at for p in parts if p.started_at is not None]
        ends = [p.finished_at for p in parts if p.finished_at is not None]
        finished = status.is_terminal and len(ends) == len(parts)
        return cls(
            provider=provider,
            id=",".join(p.id for p in parts),
            status=status,
            provider_status=raw,
            requested=requested,
            created=_sum_known(p.created for p in parts),
            updated=_sum_known(p.updated for p in parts),
            errored=sum(p.errored for p in parts) + len(local_errors),
            accepted=accepted,
            started_at=min(starts) if starts else None,
            finished_at=max(ends) if finished and ends else None,
            parts=tuple(parts),
            local_errors=local_errors,
        )


def _sum_known(counts: Iterable[int | None]) -> int | None:
    """The sum of counts, or None when any of them is unknown."""
    total = 0
    for count in counts:
        if count is None:
            return None
        total += count
    return total
