"""dotmailer's mapping: the cattrs converter for its JSON, the faults CSV, and Contact <-> ApiContact.

Decisions (docs/providers/dotmailer.rst): ``Contact.name`` is the ``FULLNAME`` data field
(FIRSTNAME and LASTNAME stay ordinary properties, so nothing is split or joined);
property names become upper-case data field names of at most 20 characters
``[a-zA-Z0-9_-]``; dates are written ``YYYY-MM-DDTHH:MM:SS`` in UTC and booleans
``True``/``False`` (reference/dotmailer.md §6 recommendations).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from contactsync.errors import UnrepresentableValue
from contactsync.model import (
    Contact,
    ContactEvent,
    EventType,
    FieldDefinition,
    FieldType,
    ListMember,
    PropertyValue,
    field_type_of,
)
from contactsync.providers.dotmailer import wire
from contactsync.timestamps import as_date_if_midnight, property_instant, usual_utc_text

__all__ = [
    "NAME_FIELD",
    "Formatter",
    "cell_formatter",
    "contact_record",
    "converter",
    "field_type_from_wire",
    "field_type_to_wire",
    "format_faults",
    "format_value",
    "from_wire",
    "import_cells",
    "infer_field_type",
    "member_from_wire",
    "parse_removed",
    "stored_contact",
    "suppression_event",
    "parse_faults",
    "parse_value",
    "reason_code",
    "structure",
    "to_wire",
    "unstructure",
    "wire_field_name",
]

T = TypeVar("T")

NAME_FIELD = "FULLNAME"
"""The data field that holds ``Contact.name``."""
EMAIL_COLUMN = "Email"
_RESERVED = frozenset({NAME_FIELD, "EMAIL"})
_FIELD_NAME = re.compile(r"[a-zA-Z0-9_-]{1,20}")  # reference/dotmailer.md §6 (S2 POST /v2/data-fields)
MAX_TEXT = 255  # reference/dotmailer.md §6: text values up to 255 characters


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _lower_first(data: Any) -> Any:
    """PascalCase keys (``Email``, ``DataFields``) as camelCase: clients send both (reference §1, §4)."""
    if isinstance(data, Mapping):
        return {(k[:1].lower() + k[1:] if isinstance(k, str) else k): v for k, v in data.items()}
    return data


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter()
    conv.register_structure_hook(int, lambda value, _: int(value))  # ids and counts may come as strings
    for cls in (
        wire.ContactImport,
        wire.ImportReport,
        wire.DataFieldValue,
        wire.ApiContact,
        wire.AddressBook,
        wire.DataField,
        wire.ApiError,
        wire.ContactSuppression,
        wire.Resubscription,
        wire.ResubscribeResult,
        wire.AccountProperty,
        wire.AccountInfo,
    ):
        renames: dict[str, Any] = {a.name: override(rename=_camel(a.name)) for a in attrs.fields(cls) if "_" in a.name}
        conv.register_unstructure_hook(
            cls, make_dict_unstructure_fn(cls, conv, _cattrs_omit_if_default=True, **renames)
        )
        conv.register_structure_hook(cls, _lenient(make_dict_structure_fn(cls, conv, **renames)))
    return conv


def _lenient(inner: Callable[[Any, Any], T]) -> Callable[[Any, Any], T]:
    def structure(data: Any, cls: Any) -> T:
        return inner(_lower_first(data), cls)

    return structure


converter = _make_converter()


def structure(data: Any, cls: type[T]) -> T:
    """A wire record from decoded JSON; raises ``cattrs`` errors on a body of the wrong shape."""
    return converter.structure(data, cls)


def unstructure(record: Any) -> Any:
    """Decoded JSON for a wire record (fields at their defaults left out)."""
    return converter.unstructure(record)


# -- the report-faults CSV ---------------------------------------------------------

_REASONS = {
    # reference/dotmailer.md §3: the docs' list and the Magento connector's list disagree; both are read.
    "invalid email": "InvalidEmail",
    "invalid entries": "InvalidEmail",
    "duplicate": "Duplicate",
    "unsubscribed": "Unsubscribed",
    "globally suppressed": "GloballySuppressed",
    "blocker": "Blocked",
    "blocked": "Blocked",
    "hard bounced": "HardBounced",
    "soft bounced": "SoftBounced",
    "complained to isp": "IspComplained",
    "isp complaints": "IspComplained",
    "mail blocked": "MailBlocked",
    "suppressed by domain": "DomainSuppressed",
    "domain suppressed": "DomainSuppressed",
    "pending optin": "PendingOptIn",
    "failures": "Failure",
    "suppressed by you": "SuppressedByYou",
}


def reason_code(reason: str) -> str:
    """A stable code for a fault reason, matched case-insensitively; ``Other`` when unknown."""
    return _REASONS.get(" ".join(reason.lower().split()), "Other")


def parse_faults(data: bytes) -> list[wire.ImportFault]:
    """The report-faults CSV: header first, ``Reason`` then the uploaded columns; a UTF-8 BOM is dropped."""
    rows = csv.reader(io.StringIO(data.decode("utf-8-sig", errors="replace"), newline=""))
    header = next(rows, None)
    if not header:
        return []
    at = next((i for i, name in enumerate(header) if name.strip().lower() == "reason"), 0)
    columns = header[:at] + header[at + 1 :]
    faults = []
    for row in rows:
        if not any(row):
            continue
        cells = (row + [""] * len(header))[: len(header)]
        values = cells[:at] + cells[at + 1 :]
        faults.append(wire.ImportFault(cells[at], tuple(zip(columns, values, strict=True))))
    return faults


def format_faults(faults: Iterable[wire.ImportFault], columns: Iterable[str] = ()) -> bytes:
    """A report-faults CSV as the server writes it (BOM, header, one row per fault)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    items = list(faults)
    names = list(columns)
    if not names and items:
        names = [name for name, _ in items[0].cells]
    writer.writerow(["Reason", *names])
    for fault in items:
        writer.writerow([fault.reason, *(value for _, value in fault.cells)])
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


# -- data fields and values --------------------------------------------------------

_TO_WIRE_TYPE = {
    FieldType.TEXT: "String",
    FieldType.NUMBER: "Numeric",
    FieldType.INTEGER: "Numeric",
    FieldType.BOOLEAN: "Boolean",
    FieldType.DATE: "Date",
    FieldType.DATETIME: "Date",
}
_FROM_WIRE_TYPE = {
    "string": FieldType.TEXT,
    "numeric": FieldType.NUMBER,
    "boolean": FieldType.BOOLEAN,
    "date": FieldType.DATETIME,
}


def field_type_to_wire(kind: FieldType) -> str:
    """dotmailer's data field type for ours (it has one number type and one date-time type)."""
    return _TO_WIRE_TYPE[kind]


def field_type_from_wire(kind: str) -> FieldType:
    """Our type for a dotmailer data field type; an unknown one reads as text."""
    return _FROM_WIRE_TYPE.get(kind.lower(), FieldType.TEXT)


def infer_field_type(value: PropertyValue) -> FieldType | None:
    """The field type a value calls for when its field must be created (None for ``None``).

    dotmailer has one Numeric type, so whole numbers call for NUMBER like any other.
    """
    kind = field_type_of(value)
    return FieldType.NUMBER if kind is FieldType.INTEGER else kind


def wire_field_name(name: str) -> str:
    """The data field name for a property name: upper-cased; raises if dotmailer cannot hold it."""
    if not _FIELD_NAME.fullmatch(name):
        raise UnrepresentableValue(
            "dotmailer data field names are 1 to 20 characters of letters, digits, '_' and '-'", field=name
        )
    upper = name.upper()
    if upper in _RESERVED:
        raise UnrepresentableValue(
            f"{upper} is reserved: the name goes in Contact.name, the address in Contact.email", field=name
        )
    return upper


def _format_datetime(value: datetime, field: str) -> str:
    return property_instant(value, field, "dotmailer").replace(tzinfo=None).isoformat(timespec="seconds")


def _json_value(value: PropertyValue, field: str) -> Any:
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise UnrepresentableValue(f"dotmailer text values hold at most {MAX_TEXT} characters", field=field)
        return value
    if isinstance(value, datetime):
        return _format_datetime(value, field)
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00"
    return value


def format_value(value: PropertyValue, field: str) -> str:
    """One import-file cell: ISO 8601 UTC date-times, ``True``/``False``, numbers without exponents.

    A float keeps a decimal point (``1e16`` is ``10000000000000000.0``), so that it is read as the
    float it is, not as an integer of other digits.
    """
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        text = format(Decimal(repr(value)), "f")
        return text if "." in text else f"{text}.0"
    if value is None:
        return ""
    return str(_json_value(value, field))


Formatter = Callable[[Any], "str | None"]
"""An import-file cell for a value of the usual exact type, or None to take the general path."""


def _text_cell(value: Any) -> str | None:
    return value if type(value) is str and value and len(value) <= MAX_TEXT else None


def _number_cell(value: Any) -> str | None:
    exact = type(value)
    if exact is int:
        return int.__repr__(value)
    if exact is float:
        text = float.__repr__(value)
        return None if "e" in text else text  # without an exponent, repr is what format_value writes
    return None


def _boolean_cell(value: Any) -> str | None:
    if type(value) is bool:
        return "True" if value else "False"
    return None


_CELLS: Mapping[FieldType, Formatter] = {
    FieldType.TEXT: _text_cell,
    FieldType.NUMBER: _number_cell,
    FieldType.BOOLEAN: _boolean_cell,
    FieldType.DATETIME: usual_utc_text,
}


def cell_formatter(kind: FieldType) -> Formatter | None:
    """What :func:`format_value` writes for the usual values a data field of ``kind`` takes, for the hot path.

    A value of another type, or an empty one, gets None: the caller encodes that contact the
    general way (:func:`import_cells`), which also raises for what does not fit. None for a
    kind without a fast path.
    """
    return _CELLS.get(kind)


def _parse_datetime(value: Any) -> datetime:
    text = str(value).strip().replace(" ", "T", 1)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def _parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1"):
        return True
    if text in ("false", "no", "0"):
        return False
    raise ValueError(f"{value!r} is not a boolean")


def _parse_number(value: Any, integer: bool) -> int | float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value) if integer and float(value).is_integer() else value
    text = str(value).strip()
    try:
        return int(text)
    except ValueError:
        number = float(text)
        return int(number) if integer and number.is_integer() else number


def parse_value(value: Any, kind: FieldType | None) -> PropertyValue:
    """A data field value read back, typed by the field's type when known (lenient about strings)."""
    if value is None:
        return None
    try:
        if kind is FieldType.TEXT:
            return value if isinstance(value, str) else str(value)
        if kind in (FieldType.NUMBER, FieldType.INTEGER):
            return _parse_number(value, kind is FieldType.INTEGER)
        if kind is FieldType.BOOLEAN:
            return _parse_bool(value)
        if kind in (FieldType.DATETIME, FieldType.DATE):
            return as_date_if_midnight(_parse_datetime(value))  # a date is held as its midnight UTC
    except ValueError:
        return str(value)
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)


# -- Contact <-> ApiContact --------------------------------------------------------


def _check_names(contact: Contact) -> dict[str, str]:
    names: dict[str, str] = {}
    for key in contact.properties:
        upper = wire_field_name(key)
        if upper in names:
            message = f"dotmailer field names ignore case; {names[upper]!r} is the same field"
            raise UnrepresentableValue(message, field=key)
        names[upper] = key
    return names


def to_wire(contact: Contact) -> wire.ApiContact:
    """The ApiContact for a contact: ``FULLNAME`` from the name, one data field per property."""
    pairs = []
    if contact.name is not None:
        pairs.append(wire.DataFieldValue(NAME_FIELD, _json_value(contact.name, "name")))
    names = _check_names(contact)
    for upper, key in names.items():
        pairs.append(wire.DataFieldValue(upper, _json_value(contact.properties[key], key)))
    return wire.ApiContact(email=contact.email, data_fields=tuple(pairs) or None)


def from_wire(record: wire.ApiContact, fields: Mapping[str, FieldDefinition] | None = None) -> Contact:
    """The contact for an ApiContact. ``fields`` maps upper-case data field names to the caller's
    definitions (their spelling and type); fields not in it keep the wire's name and JSON type."""
    known = fields or {}
    name: str | None = None
    properties: dict[str, PropertyValue] = {}
    for pair in record.data_fields or ():
        upper = pair.key.upper()
        if upper == NAME_FIELD:
            name = None if pair.value is None else str(pair.value)
            continue
        definition = known.get(upper)
        key = definition.name if definition is not None else pair.key
        properties[key] = parse_value(pair.value, definition.type if definition is not None else None)
    return Contact(record.email, name=name, properties=properties)


def import_cells(contact: Contact, *, blank_clears: bool) -> list[tuple[str, str, str, PropertyValue]]:
    """The (column, property name, cell, value) of each cell of one contact's import row, ``Email`` excluded.

    With the merge option that keeps stored values for blank cells (our default), a
    ``None`` or empty value cannot be written, so it raises instead of being dropped.
    """
    values: list[tuple[str, PropertyValue]] = []
    if contact.name is not None:
        values.append((NAME_FIELD, contact.name))
    names = _check_names(contact)
    values.extend((upper, contact.properties[key]) for upper, key in names.items())
    cells = []
    for column, value in values:
        field = "name" if column == NAME_FIELD else names[column]
        if not blank_clears and (value is None or value == ""):
            raise UnrepresentableValue(
                "a dotmailer file import that keeps stored values for blank cells cannot clear a field; "
                "pass extra={'mergeOption': 'Overwrite'} to let blank cells clear",
                field=field,
            )
        cells.append((column, field, format_value(value, field), value))
    return cells


# -- read-back: members and suppressions -----------------------------------------------------


def stored_contact(record: wire.ApiContact, fields: Mapping[str, FieldDefinition]) -> Contact:
    """The contact a stored ApiContact stands for, as ``get_contact`` and ``members`` read it.

    The server lists every data field of the account; on a read, an empty one is simply absent.
    """
    if record.data_fields:
        present = tuple(pair for pair in record.data_fields if pair.value is not None)
        record = wire.ApiContact(record.email, record.id, record.opt_in_type, record.email_type, present, record.status)
    return from_wire(record, fields)


def contact_record(raw: Any) -> wire.ApiContact:
    """An ApiContact of a list read; one of the usual shape (camelCase keys, ``{key, value}`` pairs) skips the
    converter, which decides anything else."""
    try:
        pairs = raw["dataFields"]
        if type(raw["email"]) is str and (pairs is None or type(pairs) is list):
            return wire.ApiContact(
                email=raw["email"],
                id=int(raw["id"]) if raw.get("id") is not None else None,
                opt_in_type=raw.get("optInType"),
                email_type=raw.get("emailType"),
                data_fields=None if pairs is None else tuple(wire.DataFieldValue(p["key"], p["value"]) for p in pairs),
                status=raw.get("status"),
            )
    except (KeyError, TypeError, ValueError):
        pass
    return structure(raw, wire.ApiContact)


def parse_removed(text: str | None) -> datetime | None:
    """A ``dateRemoved``: ``2020-01-01T09:40:18.527Z`` or ``2020-01-01 09:40:18.527000+00:00`` (reference §10),
    zone-less read as UTC; None when absent or unreadable."""
    if not text:
        return None
    try:
        return _parse_datetime(text)
    except ValueError:
        return None


def member_from_wire(record: wire.ApiContact, contact: Contact, unsubscribed_at: datetime | None) -> ListMember:
    """A book member: subscribed while its account status is ``Subscribed`` (dotdigital mails no other) and it
    did not unsubscribe from the book (``unsubscribed_at`` from the book's unsubscribes)."""
    subscribed = record.status in (None, "Subscribed") and unsubscribed_at is None
    return ListMember(contact=contact, subscribed=subscribed, unsubscribed_at=unsubscribed_at)


_EVENTS = {
    "Subscribed": EventType.SUBSCRIBED,
    "Unsubscribed": EventType.UNSUBSCRIBED,
    "SoftBounced": EventType.BOUNCED,
    "HardBounced": EventType.BOUNCED,
    "IspComplained": EventType.COMPLAINED,
    "DirectComplaint": EventType.COMPLAINED,
    "MailBlocked": EventType.BLOCKED,
    "Suppressed": EventType.BLOCKED,
    "SharedSuppression": EventType.BLOCKED,
    "DomainSuppression": EventType.BLOCKED,
    "NotAllowed": EventType.BLOCKED,
    "NoMxRecord": EventType.BLOCKED,
    "Deleted": EventType.BLOCKED,
}
"""reference §10: a suppression's ``reason`` (ApiContactStatuses) as an event type; ``PendingOptIn``,
``NotAvailableInThisVersion`` and any unseen value (``RecycleProtected``...) are UNKNOWN, the record kept."""


def suppression_event(record: wire.ContactSuppression, raw: Mapping[str, Any], list_id: str | None) -> ContactEvent:
    """One ``ApiContactSuppression`` of an unsubscribed-since or suppressed-since read as an event."""
    contact = record.suppressed_contact
    return ContactEvent(
        provider="dotmailer",
        type=_EVENTS.get(record.reason or "", EventType.UNKNOWN),
        email=None if contact is None else contact.email.strip().lower(),
        at=parse_removed(record.date_removed),
        list_id=list_id,
        reason=record.reason,
        raw=dict(raw),
    )
