"""Mailjet's mapping: a cattrs converter for its JSON names, and pure functions to and from the domain model.

Parsing is lenient where the reference says Mailjet is loose (counts and ids as strings
or numbers, booleans quoted, timestamps as RFC3339 with or without a zone, empty, or
Unix seconds). Writing is strict: a value Mailjet cannot hold raises
:class:`~contactsync.errors.UnrepresentableValue` naming the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timezone
from typing import Any, TypeVar

import attrs
from cattrs import Converter
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from contactsync.errors import RouteCannotCarry, UnrepresentableValue
from contactsync.jsonplan import AS_IS, WHEN_AS_UTC, Conversion
from contactsync.model import (
    Contact,
    ContactEvent,
    ContactList,
    EventType,
    FieldDefinition,
    FieldType,
    ImportStatus,
    ListMember,
    ListSubscription,
    Membership,
    PropertyValue,
    field_type_of,
)
from contactsync.providers.mailjet import wire
from contactsync.providers.mailjet.wire import MjId
from contactsync.timestamps import as_date_if_midnight, property_instant

__all__ = [
    "CONVERTER",
    "DATATYPES",
    "CSV_DATETIME_FORMAT",
    "contact_from_wire",
    "contact_json",
    "contact_to_wire",
    "csv_cell",
    "data_record",
    "decode_property",
    "encode_property",
    "error_text",
    "field_from_wire",
    "field_to_wire",
    "format_timestamp",
    "infer_datatype",
    "json_conversion",
    "json_record",
    "is_anonymised",
    "list_from_wire",
    "member_from_wire",
    "membership_from_wire",
    "recipient_event",
    "recipient_record",
    "parse_timestamp",
    "status_of",
    "stored_contact",
    "stored_record",
    "structure",
    "subscription_to_wire",
    "unstructure",
]

T = TypeVar("T")

DATATYPES: Mapping[str, FieldType] = {
    "str": FieldType.TEXT,
    "int": FieldType.INTEGER,
    "float": FieldType.NUMBER,
    "bool": FieldType.BOOLEAN,
    "datetime": FieldType.DATETIME,
}
"""Mailjet's property types (reference §5 DOC-NL: str, int, float, bool, datetime) as field types."""

_DATATYPE_OF = {
    FieldType.TEXT: "str",
    FieldType.INTEGER: "int",
    FieldType.NUMBER: "float",
    FieldType.BOOLEAN: "bool",
    FieldType.DATETIME: "datetime",
    FieldType.DATE: "datetime",  # Mailjet has no date type: a date is a datetime at 00:00 UTC.
}

CSV_DATETIME_FORMAT = "yyyy-mm-ddThh:nn:ss"
"""The csvimport ``DateTimeFormat`` we write datetimes in (UTC, ``TimezoneOffset`` 0; reference §4)."""

_INT64 = (-(2**63), 2**63 - 1)

# Status mapping, DESIGN.md; reference §2 (DOC-BULK statuses, NODE-T adds "In Progress").
_STATUSES = {
    "Allocated": ImportStatus.PENDING,
    "Upload": ImportStatus.PENDING,
    "Prepare": ImportStatus.RUNNING,
    "Importing": ImportStatus.RUNNING,
    "In Progress": ImportStatus.RUNNING,
    "Completed": ImportStatus.COMPLETED,
    "Error": ImportStatus.FAILED,
    "Abort": ImportStatus.CANCELLED,
}

# Request records whose unset attributes must not be sent (a null Name would clear the name).
_OMIT_DEFAULTS = frozenset({wire.MjContact})
_SPECIAL_NAMES = {"namespace": "NameSpace"}
# Names Mailjet also uses for a field (seed 000: the csvimport GET says "ContactsList").
_ALIASES = {"contactslist": "contacts_list_id"}


def _json_name(attribute: str) -> str:
    """Mailjet's spelling of an attribute: ``list_id`` -> ``ListID``, ``namespace`` -> ``NameSpace``."""
    if attribute in _SPECIAL_NAMES:
        return _SPECIAL_NAMES[attribute]
    return "".join("ID" if part == "id" else part.capitalize() for part in attribute.split("_"))


# -- lenient scalars --------------------------------------------------------------------


def parse_timestamp(value: Any) -> datetime | None:
    """A Mailjet timestamp: RFC3339 with or without a zone, empty, or Unix seconds (0 is unset).

    reference/mailjet.md §2: JobStart/JobEnd are "timestamp"; examples are zone-less; the
    old batchjob resource used Unix seconds with 0 when unset.
    """
    if type(value) is str:
        if len(value) == 20 and value[19] == "Z":  # the usual form, 2019-01-01T00:00:00Z: one C call
            try:
                return datetime.fromisoformat(value[:19] + "+00:00")
            except ValueError:
                pass
        elif not value:
            return None
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a timestamp")
    if value is None or value in ("", 0):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"-?\d+", text):
            return parse_timestamp(int(text))
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        return datetime.fromisoformat(text.replace(" ", "T", 1))
    raise ValueError(f"{value!r} is not a timestamp")


def format_timestamp(value: datetime | None) -> str:
    """RFC3339: UTC as ``Z``, other zones as offsets, naive values without a zone; None as empty."""
    if value is None:
        return ""
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _lenient_int(value: Any, _: Any = None) -> int:
    """Counts arrive as numbers or strings, empty when unset (seed 000: ``"Count": "1"``, ``"Current": ""``)."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a count")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{value!r} is not a whole number")
        return int(value)
    return int(value)


def _lenient_bool(value: Any, _: Any = None) -> bool:
    """Booleans arrive as JSON booleans or quoted (seed 001: ``"IsActive": "true"``)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", ""):
        return value.strip().lower() in ("true", "1")
    if value is None:
        return False
    raise ValueError(f"{value!r} is not a boolean")


def _lenient_str(value: Any, _: Any = None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"{value!r} is not a string")


def _structure_id(value: Any, _: Any = None) -> MjId:
    """Ids arrive as numbers or strings (reference §1, §3)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"{value!r} is not an id")
    return MjId(str(value))


def _unstructure_id(value: str) -> int | str:
    """Numeric ids go out as numbers (reference §1: ListID is an integer); others, e.g. list addresses, as strings."""
    return int(value) if value.isascii() and value.isdigit() and str(int(value)) == value else value


# -- the converter -----------------------------------------------------------------------


def _make_converter() -> Converter:
    converter = Converter()
    converter.register_structure_hook(int, _lenient_int)
    converter.register_structure_hook(bool, _lenient_bool)
    converter.register_structure_hook(str, _lenient_str)
    converter.register_structure_hook(MjId, _structure_id)
    converter.register_unstructure_hook(MjId, _unstructure_id)
    converter.register_structure_hook_func(lambda t: t == (datetime | None), lambda value, _: parse_timestamp(value))
    converter.register_unstructure_hook_func(lambda t: t == (datetime | None), format_timestamp)
    converter.register_structure_hook_func(
        lambda t: t == (MjId | None), lambda value, _: None if value in (None, "") else _structure_id(value)
    )
    converter.register_unstructure_hook_func(
        lambda t: t == (MjId | None), lambda value: None if value is None else _unstructure_id(value)
    )
    # Any by predicate: typing.Any is a class only from Python 3.11.
    converter.register_structure_hook_func(lambda kind: kind is Any, lambda value, _: value)
    for cls in (
        wire.MjListAction,
        wire.MjContact,
        wire.MjJobCreated,
        wire.MjJob,
        wire.MjImportOptions,
        wire.MjCsvData,
        wire.MjCsvImport,
        wire.MjContactMetadata,
        wire.MjListMembership,
        wire.MjListRecipient,
        wire.MjContactsList,
        wire.MjStoredContact,
        wire.MjDataItem,
        wire.MjContactData,
        wire.MjError,
        wire.Envelope,
    ):
        _register(converter, cls)
    return converter


def _register(converter: Converter, cls: type[Any]) -> None:
    attrs.resolve_types(cls)
    renames: Any = {a.name: override(rename=_json_name(a.name)) for a in attrs.fields(cls)}
    omit = cls in _OMIT_DEFAULTS
    converter.register_unstructure_hook(
        cls, make_dict_unstructure_fn(cls, converter, _cattrs_omit_if_default=omit, **renames)
    )
    strict = make_dict_structure_fn(cls, converter, **renames)
    names = {_json_name(a.name).lower(): _json_name(a.name) for a in attrs.fields(cls)}
    names.update({alias: _json_name(attr) for alias, attr in _ALIASES.items() if attr in attrs.fields_dict(cls)})
    canonical = frozenset(_json_name(a.name) for a in attrs.fields(cls))

    def structure_any_case(value: Any, _: Any) -> Any:
        """Keys matched case-insensitively (seed 000 writes ``"action"`` as well as ``"Action"``)."""
        if isinstance(value, dict) and value.keys() <= canonical:
            return strict(value, cls)  # every key spelled as expected: the usual case, read as it is
        if not isinstance(value, Mapping):
            raise ValueError(f"expected an object for {cls.__name__}, got {type(value).__name__}")
        fixed: dict[str, Any] = {}
        for key, item in value.items():
            name = names.get(str(key).lower())
            if name is not None and name not in fixed:
                fixed[name] = item
        return strict(fixed, cls)

    converter.register_structure_hook(cls, structure_any_case)


CONVERTER = _make_converter()


def structure(value: Any, cls: type[T]) -> T:
    """A wire record from decoded JSON."""
    return CONVERTER.structure(value, cls)


def unstructure(record: Any) -> Any:
    """Decoded JSON for a wire record (a contact's unset attributes are left out)."""
    return CONVERTER.unstructure(record)


# -- properties ------------------------------------------------------------------------------


def infer_datatype(value: PropertyValue) -> str | None:
    """The Mailjet datatype a property would need to hold ``value`` (None for None)."""
    kind = field_type_of(value)
    return None if kind is None else _DATATYPE_OF[kind]


def _utc(name: str, value: datetime | date) -> datetime:
    """A date as its midnight UTC; a datetime as its instant (see :func:`~contactsync.timestamps.property_instant`)."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time(0), tzinfo=timezone.utc)
    return property_instant(value, name, "Mailjet")


def _wrong(name: str, value: PropertyValue, datatype: str) -> UnrepresentableValue:
    return UnrepresentableValue(
        f"the Mailjet property is {datatype}; a {type(value).__name__} does not fit it", field=name
    )


def _encode_str(name: str, value: PropertyValue) -> Any:
    if not isinstance(value, str):
        raise _wrong(name, value, "str")
    return value


def _encode_bool(name: str, value: PropertyValue) -> Any:
    if not isinstance(value, bool):
        raise _wrong(name, value, "bool")
    return value  # reference §5: the bool wire form is UNCONFIRMED; JSON booleans, as the docs mostly show.


def _encode_int(name: str, value: PropertyValue) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _wrong(name, value, "int")
    if not _INT64[0] <= value <= _INT64[1]:
        raise UnrepresentableValue(f"{value} is outside the 64-bit range of a Mailjet int", field=name)
    return value


def _encode_float(name: str, value: PropertyValue) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _wrong(name, value, "float")
    if float(value) != value:
        raise UnrepresentableValue(f"{value} has no exact float value", field=name)
    return float(value)


def _encode_datetime(name: str, value: PropertyValue) -> Any:
    if not isinstance(value, datetime | date):
        raise _wrong(name, value, "datetime")
    # reference §5 (DOC-NL): datetime accepts RFC3339; we send UTC with a "Z".
    return format_timestamp(_utc(name, value))


_ENCODERS = {
    "str": _encode_str,
    "bool": _encode_bool,
    "int": _encode_int,
    "float": _encode_float,
    "datetime": _encode_datetime,
}


def encode_property(name: str, value: PropertyValue, datatype: str) -> Any:
    """The JSON value of one property for a property of ``datatype``; raise if it does not fit."""
    if value is None:
        return None
    encoder = _ENCODERS.get(datatype)
    if encoder is None:
        raise UnrepresentableValue(f"unknown Mailjet datatype {datatype!r}", field=name)
    return encoder(name, value)


def decode_property(value: Any, datatype: str) -> PropertyValue:
    """A property value as Mailjet returns it (often a string), typed by its datatype."""
    if value is None or (value == "" and datatype != "str"):
        return None
    decoder = _DECODERS.get(datatype)
    if decoder is not None:
        return decoder(value)
    return value if isinstance(value, str | int | float | bool) else json.dumps(value)


def _decode_str(value: Any) -> PropertyValue:
    return value if type(value) is str else _lenient_str(value)


def _decode_datetime(value: Any) -> PropertyValue:
    moment = parse_timestamp(value)
    return None if moment is None else as_date_if_midnight(moment)  # a date is held as its midnight UTC


_DECODERS: Mapping[str, Callable[[Any], PropertyValue]] = {
    "str": _decode_str,
    "int": _lenient_int,
    "float": float,
    "bool": _lenient_bool,
    "datetime": _decode_datetime,
}


def csv_cell(name: str, value: PropertyValue, datatype: str) -> str:
    """One CSV cell for the csvimport route; RouteCannotCarry for what an empty-is-unchanged cell cannot say."""
    if value is None:  # reference §4: an empty cell leaves the stored value as it was
        raise RouteCannotCarry("the Mailjet CSV route cannot clear a property", field=name)
    if value == "":
        raise RouteCannotCarry("the Mailjet CSV route cannot tell an empty text from no value", field=name)
    encoded = encode_property(name, value, datatype)
    if datatype == "bool":
        return "true" if encoded else "false"
    if datatype == "datetime":
        return str(encoded).removesuffix("Z")  # UTC, read with CSV_DATETIME_FORMAT and TimezoneOffset 0
    if datatype == "float":
        return repr(encoded)
    return str(encoded)


# -- contacts, lists, fields ---------------------------------------------------------------------


_SKIP = object()


def _check_name(contact: Contact) -> None:
    if contact.name == "":
        raise UnrepresentableValue("Mailjet does not tell an empty name from no name", field="name")


def _wire_value(name: str, value: PropertyValue, datatype: str | None) -> Any:
    """:func:`encode_property`, or ``_SKIP`` for clearing a property the account lacks (setting one raises)."""
    if datatype is None:
        if value is None:
            return _SKIP  # clearing a property the account does not have changes nothing
        raise UnrepresentableValue("the Mailjet account has no such contact property", field=name)
    return encode_property(name, value, datatype)


def contact_to_wire(contact: Contact, datatypes: Mapping[str, str]) -> wire.MjContact:
    """A managemanycontacts contact; ``datatypes`` maps each property name to its Mailjet datatype."""
    _check_name(contact)
    properties = {}
    for name, value in contact.properties.items():
        encoded = _wire_value(name, value, datatypes.get(name))
        if encoded is not _SKIP:
            properties[name] = encoded
    return wire.MjContact(email=contact.email, name=contact.name, properties=properties)


def contact_json(contact: Contact, datatypes: Mapping[str, str]) -> bytes:
    """The compact UTF-8 JSON of :func:`contact_to_wire`'s record, for any contact (the routes' general path)."""
    record = unstructure(contact_to_wire(contact, datatypes))
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode()


_JSON_AS_IS: Mapping[str, type] = {"str": str, "int": int, "float": float, "bool": bool}
"""Per datatype, the value type orjson writes as that property wants it."""


def json_conversion(datatype: str | None, kind: type) -> Conversion | None:
    """How a value of exact type ``kind`` goes into a property of ``datatype`` on the JSON hot path, if it can."""
    if kind is type(None):
        return AS_IS if datatype is not None else None  # null clears; a missing property goes the general way
    if datatype == "datetime":
        return WHEN_AS_UTC.get(kind)
    return AS_IS if _JSON_AS_IS.get(datatype or "") is kind else None


def json_record(contact: Contact, properties: dict[str, Any]) -> dict[str, Any] | None:
    """The managemanycontacts record of a contact whose properties are already wire values (None: general path)."""
    if contact.name == "":
        return None
    record: dict[str, Any] = {"Email": contact.email}
    if contact.name is not None:
        record["Name"] = contact.name
    if properties:
        record["Properties"] = properties
    return record


def contact_from_wire(record: wire.MjContact, datatypes: Mapping[str, str]) -> Contact:
    """The domain contact a managemanycontacts contact stands for."""
    properties = {
        name: decode_property(value, datatypes.get(name, "str")) if value is not None else None
        for name, value in record.properties.items()
    }
    return Contact(record.email, name=record.name or None, properties=properties)


# -- the hot path of a list read: the three records of each member, read directly when shaped as usual


def recipient_record(raw: Any) -> wire.MjListRecipient:
    """A ``/listrecipient`` row; one of the usual shape (ids as numbers, real booleans) skips the converter."""
    try:
        if type(raw["IsUnsubscribed"]) is bool and type(raw["IsActive"]) is bool and type(raw["ContactID"]) is int:
            return wire.MjListRecipient(
                id=MjId(str(raw["ID"])),
                contact_id=MjId(str(raw["ContactID"])),
                list_id=MjId(str(raw["ListID"])),
                is_active=raw["IsActive"],
                is_unsubscribed=raw["IsUnsubscribed"],
                unsubscribed_at=parse_timestamp(raw.get("UnsubscribedAt")),
                subscribed_at=parse_timestamp(raw.get("SubscribedAt")),
                list_name=str(raw.get("ListName") or ""),
            )
    except (KeyError, TypeError, ValueError):
        pass
    return structure(raw, wire.MjListRecipient)


def stored_record(raw: Any) -> wire.MjStoredContact:
    """A ``/contact`` record; the usual shape skips the converter (only the id, address and name are read)."""
    try:
        if type(raw["ID"]) is int and type(raw["Email"]) is str and type(raw.get("Name", "")) is str:
            return wire.MjStoredContact(id=MjId(str(raw["ID"])), email=raw["Email"], name=raw.get("Name", ""))
    except (KeyError, TypeError):
        pass
    return structure(raw, wire.MjStoredContact)


def data_record(raw: Any) -> wire.MjContactData:
    """A ``/contactdata`` record; the usual shape (``Name``/``Value`` pairs) skips the converter."""
    try:
        items = [wire.MjDataItem(item["Name"], item["Value"]) for item in raw["Data"]]
        return wire.MjContactData(contact_id=MjId(str(raw["ContactID"])), data=items, id=MjId(str(raw["ID"])))
    except (KeyError, TypeError):
        return structure(raw, wire.MjContactData)


def stored_contact(
    stored: wire.MjStoredContact, data: wire.MjContactData | None, datatypes: Mapping[str, str]
) -> Contact:
    """The contact a ``/contact`` record and its ``/contactdata`` record stand for, values typed by ``datatypes``.

    What :meth:`~contactsync.providers.mailjet.provider.MailjetProvider.get_contact` and
    ``members`` both read; a property with no value is left out.
    """
    properties = {}
    for item in data.data if data else ():
        value = decode_property(item.value, datatypes.get(item.name, "str"))
        if value is not None:
            properties[item.name] = value
    return Contact(stored.email, name=stored.name or None, properties=properties)


def is_anonymised(email: str) -> bool:
    """Whether a ``/contact`` address is a GDPR-deleted contact's, kept until purged (reference §9b, §11)."""
    return email.lower().endswith("@domain.invalid")


def _aware(value: datetime | None) -> datetime | None:
    """A timestamp as an aware UTC datetime; a zone-less one is read as UTC (reference §2 examples)."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def member_from_wire(recipient: wire.MjListRecipient, contact: Contact) -> ListMember:
    """A list member: subscribed means the membership is active and not unsubscribed (reference §9c)."""
    subscribed = recipient.is_active and not recipient.is_unsubscribed
    return ListMember(
        contact=contact,
        subscribed=subscribed,
        subscribed_at=_aware(recipient.subscribed_at),
        unsubscribed_at=None if subscribed else _aware(recipient.unsubscribed_at),
    )


def recipient_event(
    recipient: wire.MjListRecipient, since: datetime, raw: Mapping[str, Any], email_of: Callable[[str], str | None]
) -> ContactEvent | None:
    """The event a ``/listrecipient`` row shows at or after ``since``, if any (reference §10: no time filter).

    An unsubscribed row whose ``UnsubscribedAt`` is that late is UNSUBSCRIBED; a subscribed
    one whose ``SubscribedAt`` is (a new or renewed subscription) is SUBSCRIBED. ``email_of``
    finds the contact's address (the row has none), asked only for a row that makes an event;
    None from it (a GDPR-deleted contact) makes none.
    """
    if recipient.is_unsubscribed:
        kind, at = EventType.UNSUBSCRIBED, _aware(recipient.unsubscribed_at)
    else:
        kind, at = EventType.SUBSCRIBED, _aware(recipient.subscribed_at)
    if at is None or at < since:
        return None
    email = email_of(str(recipient.contact_id))
    if email is None:
        return None
    return ContactEvent(
        provider="mailjet", type=kind, email=email, at=at, list_id=str(recipient.list_id), raw=dict(raw)
    )


def list_from_wire(record: wire.MjContactsList) -> ContactList:
    """A contactslist record as a domain list."""
    return ContactList(id=str(record.id), name=record.name)


def subscription_to_wire(subscription: ListSubscription) -> wire.MjListAction:
    """A ``ContactsLists`` item; the action values are Mailjet's own."""
    return wire.MjListAction(list_id=MjId(subscription.list_id), action=subscription.action.value)


def membership_from_wire(record: wire.MjListMembership) -> Membership:
    """A getcontactslists record: subscribed means active and not unsubscribed."""
    return Membership(
        list_id=str(record.list_id),
        subscribed=record.is_active and not record.is_unsub,
        subscribed_at=record.subscribed_at,
    )


def field_from_wire(record: wire.MjContactMetadata) -> FieldDefinition:
    """A property definition as a field; an unknown datatype reads as text."""
    return FieldDefinition(record.name, DATATYPES.get(record.datatype, FieldType.TEXT))


def field_to_wire(definition: FieldDefinition) -> wire.MjContactMetadata:
    """A static property definition for a field (dates become datetime properties)."""
    return wire.MjContactMetadata(name=definition.name, datatype=_DATATYPE_OF[definition.type], namespace="static")


# -- jobs and errors --------------------------------------------------------------------------------


def status_of(raw: str, errors: int) -> ImportStatus:
    """The domain status of a raw Mailjet job status; "Completed" with errors is COMPLETED_WITH_ERRORS."""
    status = _STATUSES.get(raw.strip(), ImportStatus.UNKNOWN)
    if status is ImportStatus.COMPLETED and errors > 0:
        return ImportStatus.COMPLETED_WITH_ERRORS
    return status


_MJ_CODE = re.compile(r"^(MJ\d+)\b")


def error_text(record: wire.MjError) -> tuple[str, str | None]:
    """(message, code) from an error body; object-valued fields are kept as compact JSON (reference §3)."""
    parts = [_as_text(record.error_message), _as_text(record.error_info)]
    message = " | ".join(p for p in parts if p) or "error"
    match = _MJ_CODE.match(_as_text(record.error_message))
    return message, match.group(1) if match else None


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), sort_keys=True)
