"""Brevo's mapping: a cattrs converter for its JSON names, and pure functions between the model and the wire.

Decisions (docs/providers/brevo.rst): ``Contact.name`` splits at its first space into
the built-in FIRSTNAME and LASTNAME attributes; a property is the attribute of its name
in capitals, as Brevo writes them (reference/brevo.md §6), matched without regard to case
and read back under the spelling the application gave; values must match the attribute's
type, because Brevo drops unknown attributes and mistyped values silently (§2, §4), and an
attribute the account lacks is noted for creation with the type its first value calls for.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timezone
from typing import Any

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from contactsync import (
    Contact,
    FieldType,
    ImportJob,
    ImportStatus,
    InvalidInput,
    ListSubscription,
    Membership,
    SubscriptionAction,
    UnrepresentableValue,
)
from contactsync.model import PropertyValue
from contactsync_brevo.wire import CAMEL_CASE, AttributeRecord, ContactRecord, ImportContact, Process, ProcessInfo

__all__ = [
    "IDENTIFIERS",
    "NAME_ATTRIBUTES",
    "STATUSES",
    "AttributeBook",
    "attribute_name",
    "attribute_value",
    "camel",
    "contact_attributes",
    "contact_from_wire",
    "contact_to_wire",
    "converter",
    "field_type_from_wire",
    "field_type_to_wire",
    "job_from_wire",
    "join_name",
    "lists_to_add",
    "memberships_from_wire",
    "parse_timestamp",
    "property_value",
    "split_name",
    "status_of",
    "subscribed_to",
    "wire_type_of",
]

PROVIDER = "brevo"
NAME_ATTRIBUTES = ("FIRSTNAME", "LASTNAME")
"""The built-in attributes ``Contact.name`` is written to (reference/brevo.md §6)."""
IDENTIFIERS = ("EMAIL", "SMS", "EXT_ID", "WHATSAPP", "LANDLINE_NUMBER")
"""Attribute names with the roles of identifiers, never written as properties (reference/brevo.md §6)."""
SMS_PLACEHOLDER = "@mailin-sms.com"
"""The domain of the stand-in address Brevo lists for an SMS-only contact (reference/brevo.md §4)."""
MAX_EXACT_INT = 2**53
"""Float attributes hold integers exactly up to here."""

STATUSES: Mapping[str, ImportStatus] = {
    "queued": ImportStatus.PENDING,
    "in_process": ImportStatus.RUNNING,
    "processing": ImportStatus.RUNNING,
    "completed": ImportStatus.COMPLETED,
    "failed": ImportStatus.FAILED,
    "cancelled": ImportStatus.CANCELLED,
}
"""reference/brevo.md §3: every process status; ``completed`` with invalid emails is COMPLETED_WITH_ERRORS."""

_WIRE_TYPES: Mapping[FieldType, str] = {
    FieldType.TEXT: "text",
    FieldType.NUMBER: "float",
    FieldType.INTEGER: "float",
    FieldType.BOOLEAN: "boolean",
    FieldType.DATE: "date",
}
_FIELD_TYPES: Mapping[str, FieldType] = {
    "text": FieldType.TEXT,
    "float": FieldType.NUMBER,
    "boolean": FieldType.BOOLEAN,
    "date": FieldType.DATE,
}
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
"""Names this client gives attributes: the reference states no rule (§6), so ASCII letters, digits and ``_``."""
_FRACTION = re.compile(r"\.\d+")


# -- the converter -----------------------------------------------------------------------------


def camel(name: str) -> str:
    """``list_unsubscribed`` -> ``listUnsubscribed``: Brevo's JSON name for a snake_case attribute."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def parse_timestamp(raw: Any) -> datetime | None:
    """An ISO date-time read leniently (``Z``, fractions, offsets, a bare date); naive means UTC; None if unreadable."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    text = raw.strip().replace("Z", "+00:00").replace("z", "+00:00")
    for candidate in (text, _FRACTION.sub("", text, count=1)):
        try:
            parsed = datetime.fromisoformat(candidate)
        except ValueError:
            continue
        return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed
    return None


def _lenient_int(value: Any, _: type) -> int:
    # reference/brevo.md §3: ids and counts are numbers; accept 3, 3.0 and "3" alike
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    return int(float(value)) if isinstance(value, str | float) else int(value)


def _text_or_none(value: Any, _: type) -> str | None:
    return None if value is None else str(value)


def _camel_renames(cls: type) -> dict[str, Any]:
    """cattrs overrides renaming each attribute of ``cls`` to its camelCase JSON name."""
    return {field.name: override(rename=camel(field.name)) for field in attrs.fields(cls)}


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter()
    conv.register_structure_hook(int, _lenient_int)
    conv.register_structure_hook(datetime | None, lambda v, _: v if isinstance(v, datetime) else parse_timestamp(v))
    conv.register_structure_hook(str | None, _text_or_none)
    conv.register_structure_hook(
        str | int, lambda v, _: v if isinstance(v, int) and not isinstance(v, bool) else str(v)
    )
    conv.register_structure_hook(bool, lambda v, _: v if isinstance(v, bool) else str(v).lower() == "true")
    for cls in CAMEL_CASE:
        renames = _camel_renames(cls)
        conv.register_structure_hook(cls, make_dict_structure_fn(cls, conv, **renames))
        conv.register_unstructure_hook(
            cls, make_dict_unstructure_fn(cls, conv, _cattrs_omit_if_default=True, **renames)
        )
    conv.register_structure_hook(
        ProcessInfo, make_dict_structure_fn(ProcessInfo, conv, import_=override(rename="import"))
    )
    contact = make_dict_structure_fn(ContactRecord, conv, **_camel_renames(ContactRecord))
    # reference/brevo.md §4: optional keys may come as null; read them as absent
    conv.register_structure_hook(ContactRecord, lambda v, t: contact({k: x for k, x in v.items() if x is not None}, t))
    conv.register_unstructure_hook(
        ImportContact, make_dict_unstructure_fn(ImportContact, conv, _cattrs_omit_if_default=True)
    )
    return conv


converter = _make_converter()
"""Structures and unstructures every record of :mod:`.wire` in Brevo's exact JSON names."""


# -- processes ---------------------------------------------------------------------------------


def status_of(process: Process) -> ImportStatus:
    """The one status for a process; an unseen raw value is UNKNOWN (and kept as ``provider_status``)."""
    status = STATUSES.get(process.status, ImportStatus.UNKNOWN)
    report = process.info.import_ if process.info is not None else None
    if status is ImportStatus.COMPLETED and report is not None and report.invalid_emails:
        return ImportStatus.COMPLETED_WITH_ERRORS
    return status


def job_from_wire(process: Process, sent: int | None = None) -> ImportJob:
    """One process as a part. Brevo counts invalid emails only, no created or updated ones (§3).

    ``sent`` is how many contacts the request carried, when the client knows it: a completed
    process accepted those it did not count invalid. Unknown, nothing is counted accepted.
    """
    report = process.info.import_ if process.info is not None else None
    invalid = report.invalid_emails if report is not None else 0
    extra: dict[str, Any] = {"name": process.name}
    if process.error:
        extra["error"] = f"the Brevo import failed: {process.error}"
    if report is not None:
        extra["invalid_emails"] = invalid
        if report.duplicate_email_id:
            extra["duplicate_email_url"] = report.duplicate_email_id
    status = status_of(process)
    done = status in (ImportStatus.COMPLETED, ImportStatus.COMPLETED_WITH_ERRORS)
    return ImportJob(
        provider=PROVIDER,
        id=str(process.id),
        status=status,
        provider_status=process.status,
        requested=sent or 0,
        errored=invalid,
        accepted=max(sent - invalid, 0) if done and sent is not None else 0,
        started_at=process.created_at,
        finished_at=process.completed_at,
        extra=extra,
    )


# -- attributes (fields) -------------------------------------------------------------------------


def field_type_to_wire(kind: FieldType, name: str) -> str:
    """The type of a normal attribute holding ``kind``; Brevo's dates hold no time of day."""
    wire = _WIRE_TYPES.get(kind)
    if wire is None:
        raise UnrepresentableValue(
            "Brevo date attributes hold a day, not a time: use FieldType.DATE, or TEXT for ISO text", field=name
        )
    return wire


def field_type_from_wire(kind: str | None) -> FieldType | None:
    """Our type for a Brevo attribute type; None for the types this library does not write."""
    return _FIELD_TYPES.get(kind or "")


class AttributeBook:
    """The account's attributes by name in capitals (``GET /v3/contacts/attributes``), and those still to create.

    An import notes each attribute its contacts need and the account lacks (:meth:`note`);
    its route creates them before sending (:meth:`take_new`). Batches are sent from
    several threads, hence the lock.
    """

    def __init__(self, records: Iterable[AttributeRecord] = ()) -> None:
        self.by_name: dict[str, AttributeRecord] = {}
        self.new: dict[str, tuple[str, str]] = {}
        """Attribute name -> (the property name as given, the attribute type) of attributes still to create."""
        self._lock = threading.Lock()
        for record in records:
            self.add(record)

    def add(self, record: AttributeRecord) -> None:
        """Know one more attribute."""
        with self._lock:
            self.by_name[record.name.upper()] = record
            self.new.pop(record.name.upper(), None)

    def get(self, name: str) -> AttributeRecord | None:
        """The attribute of this name, whatever its case."""
        return self.by_name.get(name.upper())

    def type_for(self, attribute: str, name: str, value: PropertyValue) -> tuple[str, bool]:
        """The type of attribute ``attribute`` for property ``name``, and whether it is still to create.

        An attribute the account has must be a normal one of a type this library writes; one it
        lacks takes the type ``value`` calls for (or the one noted by an earlier contact).
        """
        with self._lock:
            record = self.by_name.get(attribute)
            pending = self.new.get(attribute)
        if record is not None:
            if record.category != "normal" or field_type_from_wire(record.type) is None:
                raise UnrepresentableValue(
                    f"the Brevo attribute is a {record.category} attribute of type {record.type}; "
                    "this library writes normal text, float, boolean and date attributes",
                    field=name,
                )
            return str(record.type), False
        if pending is not None:
            return pending[1], True
        return wire_type_of(value, name), True

    def note(self, attribute: str, name: str, kind: str) -> None:
        """Note an attribute to create (the first contact needing it decides its type)."""
        with self._lock:
            if attribute not in self.by_name:
                self.new.setdefault(attribute, (name, kind))

    def take_new(self) -> dict[str, tuple[str, str]]:
        """The attributes still to create, forgotten here (the caller creates them and :meth:`add` s them)."""
        with self._lock:
            taken, self.new = self.new, {}
        return taken


# -- contacts ----------------------------------------------------------------------------------


def split_name(name: str) -> tuple[str, str | None]:
    """(FIRSTNAME, LASTNAME or None) of a name: split at its first space.

    An import cannot clear an attribute (``emptyContactsAttributes`` is false), so a name
    that would leave an empty part behind (empty, or with white space at either end) is refused.
    """
    if not name or name != name.strip():
        raise UnrepresentableValue(
            "a Brevo import cannot clear FIRSTNAME or LASTNAME: give a name without white space at either end",
            field="name",
        )
    first, space, last = name.partition(" ")
    return first, (last if space else None)


def join_name(first: str, last: str) -> str | None:
    """The name read back from FIRSTNAME and LASTNAME (the inverse of :func:`split_name`)."""
    if last:
        return f"{first} {last}"
    return first or None


def attribute_name(name: str) -> str:
    """The attribute property ``name`` is written to: the name in capitals (reference/brevo.md §6).

    Raises UnrepresentableValue for a name this client does not give an attribute, and for
    the attributes that are the name (FIRSTNAME, LASTNAME) or an identifier (EMAIL, SMS...).
    """
    if not _ATTRIBUTE_NAME.fullmatch(name):
        raise UnrepresentableValue(
            "Brevo attribute names are taken here as ASCII letters, digits and '_', starting with a letter",
            field=name,
        )
    upper = name.upper()
    if upper in NAME_ATTRIBUTES:
        raise UnrepresentableValue(f"set Contact.name: it fills {' and '.join(NAME_ATTRIBUTES)}", field=name)
    if upper in IDENTIFIERS:
        raise UnrepresentableValue(f"{upper} is one of Brevo's identifiers, not written as a property", field=name)
    return upper


def wire_type_of(value: PropertyValue, name: str) -> str:
    """The type of a new attribute for ``value``: float for any number, as Brevo has no integer type."""
    if isinstance(value, datetime):
        raise UnrepresentableValue("Brevo date attributes hold a day, not a time (reference §4)", field=name)
    if value is None:
        raise UnrepresentableValue(
            "a Brevo import cannot clear an attribute: empty values leave the stored one as it is", field=name
        )
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "float"
    if isinstance(value, date):
        return "date"
    return "text"


def attribute_value(kind: str, name: str, value: PropertyValue) -> Any:
    """The JSON value of ``value`` for an attribute of type ``kind``; raises UnrepresentableValue naming the property.

    Brevo ignores a value that does not match the attribute's type (reference/brevo.md §4),
    so a mismatch is refused here rather than lost there.
    """
    if value is None:
        raise UnrepresentableValue(
            "a Brevo import cannot clear an attribute: empty values leave the stored one as it is", field=name
        )
    if kind == "text" and isinstance(value, str):
        if not value:
            raise UnrepresentableValue("Brevo keeps no empty text, and an import cannot clear it", field=name)
        return value
    if kind == "float" and isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, int) and abs(value) > MAX_EXACT_INT:
            raise UnrepresentableValue(f"{value} is too large for a Brevo float attribute to hold exactly", field=name)
        return value
    if kind == "boolean" and isinstance(value, bool):
        return value
    if kind == "date" and isinstance(value, date):
        if isinstance(value, datetime):
            raise UnrepresentableValue("Brevo date attributes hold a day, not a time (reference §4)", field=name)
        return value.isoformat()  # reference/brevo.md §4: dates are YYYY-MM-DD
    raise UnrepresentableValue(
        f"the Brevo attribute is {kind}, got {type(value).__name__} (Brevo would ignore the value)", field=name
    )


def contact_attributes(
    contact: Contact, book: AttributeBook, spell: Callable[[str], str] = attribute_name
) -> dict[str, Any]:
    """The attributes of one contact, keyed by attribute name; raises UnrepresentableValue naming the field.

    ``spell`` gives a property's attribute name (the provider's also remembers the spelling).
    Attributes the account lacks are noted in ``book`` once the whole contact is representable.
    """
    attributes: dict[str, Any] = {}
    if contact.name is not None:
        first, last = split_name(contact.name)
        attributes["FIRSTNAME"] = first
        if last is not None:
            attributes["LASTNAME"] = last
    new = []
    for name, value in contact.properties.items():
        attribute = spell(name)
        kind, missing = book.type_for(attribute, name, value)
        attributes[attribute] = attribute_value(kind, name, value)
        if missing:
            new.append((attribute, name, kind))
    for attribute, name, kind in new:
        book.note(attribute, name, kind)
    return attributes


def contact_to_wire(
    contact: Contact, book: AttributeBook, spell: Callable[[str], str] = attribute_name
) -> ImportContact:
    """One ``jsonBody`` item; raises UnrepresentableValue (naming the field) for what Brevo cannot hold."""
    return ImportContact(contact.email, contact_attributes(contact, book, spell))


def property_value(record: AttributeRecord | None, raw: Any) -> PropertyValue:
    """A stored attribute value as a property, read leniently by the attribute's type."""
    kind = record.type if record is not None else None
    if kind == "date" and isinstance(raw, str):
        text = raw.strip()
        if _DAY.fullmatch(text):
            return date.fromisoformat(text)
        moment = parse_timestamp(text)
        if moment is not None:
            utc = moment.astimezone(timezone.utc)
            return utc.date() if (utc.hour, utc.minute, utc.second, utc.microsecond) == (0, 0, 0, 0) else utc
        return text
    if kind == "float" and isinstance(raw, str):
        try:
            number = float(raw)
        except ValueError:
            return raw
        return int(number) if number.is_integer() and "." not in raw and "e" not in raw.lower() else number
    if kind == "boolean" and isinstance(raw, str) and raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    if raw is None or isinstance(raw, str | int | float | bool):
        return raw
    return json.dumps(raw, ensure_ascii=False)  # multiple-choice lists and the like, kept as JSON text


def contact_from_wire(
    record: ContactRecord, book: AttributeBook, spellings: Mapping[str, str] | None = None
) -> Contact | None:
    """The contact as read back: the name from FIRSTNAME/LASTNAME, every other attribute as a property.

    A property is named as ``spellings`` (attribute name -> the application's spelling) has it,
    else as Brevo stores the attribute.

    None for a record with no real address (SMS-only contacts, shown with a stand-in email, §4).
    """
    email = record.email
    if not email or email.lower().endswith(SMS_PLACEHOLDER):
        return None
    attributes = {name: value for name, value in record.attributes.items() if value is not None and value != ""}
    name = join_name(str(attributes.pop("FIRSTNAME", "")), str(attributes.pop("LASTNAME", "")))
    attributes.pop("EMAIL", None)
    names = spellings or {}
    properties = {names.get(key.upper(), key): property_value(book.get(key), raw) for key, raw in attributes.items()}
    try:
        return Contact(email, name=name, properties=properties)
    except InvalidInput:
        return None  # an address our validation refuses: not one this library can sync


# -- subscriptions -------------------------------------------------------------------------------


def subscribed_to(record: ContactRecord, list_id: int) -> bool:
    """Whether the contact gets the list's mail: not blacklisted, nor unsubscribed from the list (§7)."""
    return not record.email_blacklisted and list_id not in (record.list_unsubscribed or ())


def memberships_from_wire(record: ContactRecord) -> list[Membership]:
    """The contact's lists, then the lists it unsubscribed from and is no longer in."""
    lists = list(dict.fromkeys([*record.list_ids, *(record.list_unsubscribed or ())]))
    return [Membership(str(list_id), subscribed_to(record, list_id)) for list_id in lists]


def lists_to_add(subscriptions: Sequence[ListSubscription], unsubscribed: Iterable[int] = ()) -> list[int]:
    """The lists a contact is added to: every action but REMOVE, except an ADD_NO_FORCE list it unsubscribed from."""
    left = set(unsubscribed)
    added = []
    for sub in subscriptions:
        list_id = int(sub.list_id)
        if sub.action is SubscriptionAction.REMOVE:
            continue
        if sub.action is SubscriptionAction.ADD_NO_FORCE and list_id in left:
            continue
        added.append(list_id)
    return list(dict.fromkeys(added))
