"""SendGrid's mapping: a cattrs converter for its field names, and pure functions to and from the model.

The contact mapping needs the account's field definitions (:class:`FieldBook`): SendGrid
writes custom fields keyed by id and reads them back keyed by name (reference/sendgrid.md §3).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timezone
from typing import Any, Literal

import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from contactsync.errors import InvalidInput, UnrepresentableValue
from contactsync.jsonplan import AS_IS, WHEN_AS_UTC, Conversion
from contactsync.model import (
    Contact,
    ContactEvent,
    EventType,
    FieldType,
    ImportJob,
    ImportStatus,
    ListMember,
    PropertyValue,
    field_type_of,
)
from contactsync.providers.sendgrid.wire import (
    RESERVED_TEXT_FIELDS,
    ContactDetails,
    ContactRequest,
    ErrorBody,
    ErrorDetail,
    ExportRequest,
    FieldDefinitions,
    FieldRecord,
    ImportRequest,
    ImportResults,
    JobRecord,
    JobType,
    ListPage,
    PageMetadata,
    WireFieldType,
)
from contactsync.timestamps import as_date_if_midnight, property_instant, to_utc, usual_utc_text

__all__ = [
    "MAX_TEXT_BYTES",
    "Booleans",
    "FieldBook",
    "converter",
    "contact_from_wire",
    "contact_json",
    "contact_to_wire",
    "cell_formatter",
    "custom_value",
    "ExportColumns",
    "details_from_export",
    "member_from_wire",
    "suppression_event",
    "split_name",
    "field_type_from_wire",
    "field_type_to_wire",
    "format_date",
    "infer_field_type",
    "json_conversion",
    "json_record",
    "job_from_wire",
    "parse_timestamp",
    "property_name_problem",
    "status_of",
    "wire_fields",
]

Booleans = Literal["text", "number"] | None
"""How booleans are stored, since SendGrid has no boolean type: refused (None), "true"/"false", or 1/0."""

PROVIDER = "sendgrid"
MAX_TEXT_BYTES = 32_766
"""The longest custom Text value, in UTF-8 bytes (reference/sendgrid.md §4, DOCS custom-fields.md)."""
MAX_EXACT_INT = 2**53
"""Number fields are JSON numbers; larger integers would not come back exactly."""

RESERVED_LIMITS: Mapping[str, int] = {
    "first_name": 50,
    "last_name": 50,
    "address_line_1": 100,
    "address_line_2": 100,
    "city": 60,
    "state_province_region": 50,
    "country": 50,
    "external_id": 254,
    "anonymous_id": 254,
}
"""maxLength of reserved fields (reference/sendgrid.md §3, ContactRequest)."""

READ_ONLY_FIELDS = frozenset(
    {
        "email_domains",
        "last_clicked",
        "last_opened",
        "last_emailed",
        "singlesend_id",
        "automation_id",
        "created_at",
        "updated_at",
        "contact_id",
    }
)
"""Reserved fields SendGrid computes itself (reference/sendgrid.md §4, read_only)."""

_NAME_FIELDS = ("first_name", "last_name")
_IDENTITY_FIELDS = ("email", "alternate_emails")
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")
"""reference/sendgrid.md §4: custom field names are letters, digits and _, starting with a letter or _."""
_RESERVED_TEXT = frozenset(RESERVED_TEXT_FIELDS)
_REQUEST_ORDER = ("email", *_NAME_FIELDS, *RESERVED_TEXT_FIELDS)
"""The reserved fields in ContactRequest's order, which the wire follows."""


# -- timestamps --------------------------------------------------------------------------

_FRACTION = re.compile(r"\.\d+")


def parse_timestamp(raw: str) -> datetime:
    """Read ``YYYY-MM-DDTHH:MM:SSZ`` leniently (fractions, offsets, a bare date); naive means UTC."""
    if len(raw) == 20 and raw[19] == "Z":  # the usual form: one C call
        try:
            return datetime.fromisoformat(raw[:19] + "+00:00")
        except ValueError:
            pass
    text = raw.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = datetime.fromisoformat(_FRACTION.sub("", text, count=1))
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed


def format_timestamp(value: datetime, field: str = "timestamp") -> str:
    """The wire form: UTC, whole seconds, ``Z`` (reference/sendgrid.md §2)."""
    utc = to_utc(value, field) if value.tzinfo is not None else value.astimezone(timezone.utc)
    return f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}Z"


def format_date(value: date, field: str) -> str:
    """A Date field value: a datetime as itself, a date as midnight UTC."""
    if isinstance(value, datetime):
        return format_timestamp(value, field)
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}T00:00:00Z"


def _read_date(raw: Any) -> date:
    return as_date_if_midnight(parse_timestamp(str(raw)))  # a date is held as its midnight UTC


# -- the converter -------------------------------------------------------------------------


def _lenient_int(value: Any, _: type) -> int:
    # reference/sendgrid.md §2: counts are "number" in the spec; accept 3, 3.0 and "3".
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a count")
    return int(float(value)) if isinstance(value, str | float) else int(value)


def _job_type(value: Any, _: type) -> JobType | str | None:
    # reference/sendgrid.md §2: job_type values beyond the spec's are seen; keep unknown ones raw.
    if value is None:
        return None
    try:
        return JobType(value)
    except ValueError:
        return str(value)


def _field_type(value: Any, _: type) -> WireFieldType:
    for member in WireFieldType:
        if str(value).lower() == member.value.lower():
            return member
    raise ValueError(f"unknown SendGrid field type {value!r}")


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter()
    conv.register_structure_hook(datetime, lambda v, _: parse_timestamp(v) if isinstance(v, str) else v)
    conv.register_unstructure_hook(datetime, format_timestamp)
    conv.register_structure_hook(int, _lenient_int)
    conv.register_structure_hook(bool, lambda v, _: v if isinstance(v, bool) else str(v).lower() == "true")
    conv.register_structure_hook(JobType | str | None, _job_type)
    conv.register_structure_hook(WireFieldType, _field_type)
    conv.register_unstructure_hook(WireFieldType, lambda v: v.value)
    conv.register_unstructure_hook(JobType | str | None, lambda v: v.value if isinstance(v, JobType) else v)

    for cls in (ContactRequest, ImportResults, JobRecord, ErrorBody, ErrorDetail):
        conv.register_unstructure_hook(cls, make_dict_unstructure_fn(cls, conv, _cattrs_omit_if_default=True))
    for request in (ImportRequest, ExportRequest):
        conv.register_unstructure_hook(
            request,
            make_dict_unstructure_fn(
                request, conv, _cattrs_omit_if_default=True, file_type=override(omit_if_default=False)
            ),
        )

    conv.register_structure_hook(
        PageMetadata, make_dict_structure_fn(PageMetadata, conv, self_url=override(rename="self"))
    )
    conv.register_unstructure_hook(
        PageMetadata,
        make_dict_unstructure_fn(PageMetadata, conv, _cattrs_omit_if_default=True, self_url=override(rename="self")),
    )
    conv.register_structure_hook(
        ListPage, make_dict_structure_fn(ListPage, conv, metadata=override(rename="_metadata"))
    )
    conv.register_unstructure_hook(
        ListPage, make_dict_unstructure_fn(ListPage, conv, metadata=override(rename="_metadata"))
    )

    details = make_dict_structure_fn(ContactDetails, conv)
    # reference/sendgrid.md §3 (REC-G): segment_ids comes back null although the spec requires an array.
    conv.register_structure_hook(ContactDetails, lambda v, t: details({k: x for k, x in v.items() if x is not None}, t))
    errors = make_dict_structure_fn(ErrorBody, conv)
    # reference/sendgrid.md §2: the spec types one 400 body as {"errors": object}; accept both.
    conv.register_structure_hook(
        ErrorBody, lambda v, t: errors({**v, "errors": [v["errors"]]} if isinstance(v.get("errors"), dict) else v, t)
    )
    return conv


converter = _make_converter()
"""Structures and unstructures every record of :mod:`.wire` in SendGrid's exact shape."""


# -- jobs -----------------------------------------------------------------------------------

_TERMINAL = {
    "completed": ImportStatus.COMPLETED,
    "errored": ImportStatus.COMPLETED_WITH_ERRORS,
    "failed": ImportStatus.FAILED,
}


def status_of(record: JobRecord) -> ImportStatus:
    """DESIGN.md status table: ``pending`` is RUNNING once anything was processed, else PENDING."""
    raw = record.status.lower()
    if raw == "pending":
        r = record.results
        counted = r.created_count or r.updated_count or r.deleted_count or r.errored_count
        return ImportStatus.RUNNING if counted else ImportStatus.PENDING
    return _TERMINAL.get(raw, ImportStatus.UNKNOWN)


def job_from_wire(record: JobRecord) -> ImportJob:
    """One provider job as a part; the errors file URL rides in ``extra``."""
    r = record.results
    extra: dict[str, Any] = {"job_type": record.job_type}
    if r.errors_url:
        extra["errors_url"] = r.errors_url
    return ImportJob(
        provider=PROVIDER,
        id=record.id,
        status=status_of(record),
        provider_status=record.status,
        requested=r.requested_count,
        created=r.created_count,
        updated=r.updated_count,
        errored=r.errored_count,
        started_at=record.started_at,
        finished_at=record.finished_at,
        extra=extra,
    )


# -- fields ---------------------------------------------------------------------------------

_FROM_WIRE = {
    WireFieldType.TEXT: FieldType.TEXT,
    WireFieldType.NUMBER: FieldType.NUMBER,
    WireFieldType.DATE: FieldType.DATE,
}


def field_type_from_wire(kind: WireFieldType) -> FieldType:
    """Our type for a SendGrid field type."""
    return _FROM_WIRE[kind]


def field_type_to_wire(kind: FieldType, booleans: Booleans, name: str) -> WireFieldType:
    """The SendGrid type that holds ``kind``; booleans need an explicit policy."""
    if kind is FieldType.TEXT:
        return WireFieldType.TEXT
    if kind in (FieldType.NUMBER, FieldType.INTEGER):
        return WireFieldType.NUMBER
    if kind in (FieldType.DATE, FieldType.DATETIME):
        return WireFieldType.DATE
    if booleans is None:
        raise UnrepresentableValue(
            'SendGrid has no boolean field type; connect with booleans="text" or booleans="number"', field=name
        )
    return WireFieldType.TEXT if booleans == "text" else WireFieldType.NUMBER


def infer_field_type(name: str, value: PropertyValue, booleans: Booleans) -> WireFieldType | None:
    """The field type a new custom field gets from its first value (None for None: nothing to create)."""
    kind = field_type_of(value)
    return None if kind is None else field_type_to_wire(kind, booleans, name)


class FieldBook:
    """The account's field definitions: custom fields by name (case-insensitive) and by id."""

    def __init__(self, custom: Iterable[FieldRecord] = (), reserved: Iterable[FieldRecord] = ()) -> None:
        self.by_name: dict[str, FieldRecord] = {}
        self.by_id: dict[str, FieldRecord] = {}
        self.reserved: dict[str, FieldRecord] = {r.name: r for r in reserved}
        self._exact: dict[str, FieldRecord] = {}
        for record in custom:
            self.add(record)

    @classmethod
    def from_wire(cls, definitions: FieldDefinitions) -> FieldBook:
        """A book from ``GET /v3/marketing/field_definitions``."""
        return cls(definitions.custom_fields, definitions.reserved_fields)

    def add(self, record: FieldRecord) -> None:
        """Know one more custom field."""
        self.by_name[record.name.lower()] = record
        self.by_id[record.id] = record

    def custom(self, name: str) -> FieldRecord | None:
        """The custom field called ``name``, if any."""
        return self.by_name.get(name.lower())

    def custom_exact(self, name: str) -> FieldRecord | None:
        """The custom field spelled exactly ``name``: one lookup, for the per-contact path."""
        record = self._exact.get(name)
        if record is None and not is_reserved_name(name):
            record = self.custom(name)
            if record is None or record.name != name:
                return None
            self._exact[name] = record
        return record


def is_reserved_name(name: str) -> bool:
    """True for names SendGrid keeps for its own fields, in any case (never a custom field; reference §4)."""
    lower = name.lower()
    return lower in _RESERVED_TEXT or lower in _NAME_FIELDS or lower in READ_ONLY_FIELDS or lower in _IDENTITY_FIELDS


def property_name_problem(name: str) -> str | None:
    """Why SendGrid cannot hold a property of this name as given, or None.

    Reserved names are SendGrid's, in lower case only (names are unique without regard to
    case, reference §4): the address is ``Contact.email``, the name ``Contact.name``
    (first_name/last_name), and the read-only fields are SendGrid's to set.
    """
    lower = name.lower()
    if lower in _IDENTITY_FIELDS:
        return f"SendGrid keeps {lower} itself: the address is Contact.email"
    if lower in _NAME_FIELDS:
        return "SendGrid keeps the name in first_name and last_name: set Contact.name"
    if lower in READ_ONLY_FIELDS:
        return f"SendGrid computes {lower} itself; it cannot be set"
    if lower in _RESERVED_TEXT and name != lower:
        return f"{lower} is a SendGrid reserved field: spell it {lower!r}"
    if not _FIELD_NAME.fullmatch(name):
        return "SendGrid field names are letters, digits and _, not starting with a digit, at most 100 long"
    return None


# -- contacts -------------------------------------------------------------------------------


def _check_length(field: str, value: str) -> str:
    limit = RESERVED_LIMITS.get(field)
    if limit is not None and len(value) > limit:
        raise UnrepresentableValue(f"SendGrid holds at most {limit} characters here, got {len(value)}", field=field)
    return value


def _split_name(name: str) -> tuple[str, str]:
    # Our choice (docs/providers/sendgrid.rst): split at the first space; "" clears both.
    if name.endswith(" "):
        raise UnrepresentableValue("a name ending in a space cannot be split into first_name/last_name", field="name")
    first, _, last = name.partition(" ")
    return _check_length("first_name", first), _check_length("last_name", last)


_EMPTY_TEXT = "SendGrid stores an empty text as no value: pass None to clear the field"
_SHORT_TEXT = MAX_TEXT_BYTES // 4
"""A text of at most this many characters fits in MAX_TEXT_BYTES whatever its characters."""


def _reserved_value(field: str, value: PropertyValue) -> str:
    if value is None:
        return ""  # reference/sendgrid.md §3 (REC-G): a reserved field set to "" is cleared
    if value == "":
        raise UnrepresentableValue(_EMPTY_TEXT, field=field)
    if not isinstance(value, str):
        raise UnrepresentableValue(f"SendGrid's {field} is text, got {type(value).__name__}", field=field)
    return _check_length(field, value)


def custom_value(record: FieldRecord, name: str, value: PropertyValue, booleans: Booleans) -> Any:
    """The wire value of one custom field; raises UnrepresentableValue (naming ``name``) for what it cannot hold."""
    kind = record.field_type
    exact = type(value)
    # The usual exact types first, decided in one or two comparisons; anything else below.
    if exact is str and kind is WireFieldType.TEXT and value and len(value) <= _SHORT_TEXT:  # type: ignore[arg-type]
        return value
    if (exact is float or (exact is int and -MAX_EXACT_INT <= value <= MAX_EXACT_INT)) and kind is WireFieldType.NUMBER:  # type: ignore[operator]
        return value
    if kind is WireFieldType.DATE and (text := usual_utc_text(value)) is not None:
        return text + "Z"
    if isinstance(value, bool):
        if booleans == "text" and kind is WireFieldType.TEXT:
            return "true" if value else "false"
        if booleans == "number" and kind is WireFieldType.NUMBER:
            return int(value)
        raise UnrepresentableValue(
            f"SendGrid has no boolean type and this client stores booleans as {booleans or 'nothing'}; "
            f"the field is {kind.value}",
            field=name,
        )
    if value is None:
        if kind is WireFieldType.TEXT:
            return (
                ""  # reference/sendgrid.md §3: "" clears reserved fields; assumed alike for custom text (UNCONFIRMED)
            )
        raise UnrepresentableValue(f"SendGrid documents no way to clear a {kind.value} field", field=name)
    if kind is WireFieldType.TEXT and isinstance(value, str):
        if not value:
            raise UnrepresentableValue(_EMPTY_TEXT, field=name)
        if len(value.encode()) > MAX_TEXT_BYTES:
            raise UnrepresentableValue(f"SendGrid holds at most {MAX_TEXT_BYTES} bytes of text here", field=name)
        return value
    if kind is WireFieldType.NUMBER and isinstance(value, int | float):
        if isinstance(value, int) and abs(value) > MAX_EXACT_INT:
            raise UnrepresentableValue(f"{value} is too large for a SendGrid Number field to hold exactly", field=name)
        return value  # reference/sendgrid.md §3: numbers sent as strings fail the job, so send JSON numbers
    if kind is WireFieldType.DATE and isinstance(value, date):
        if isinstance(value, datetime):
            return format_timestamp(property_instant(value, name, "SendGrid"), name)
        return format_date(value, name)
    raise UnrepresentableValue(f"the SendGrid field is {kind.value}, got {type(value).__name__}", field=name)


def wire_fields(contact: Contact, book: FieldBook, booleans: Booleans = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(reserved fields, custom fields by id) of one upsert record; raises UnrepresentableValue naming the field.

    The name splits at its first space into first_name/last_name; properties named as
    reserved text fields go to them; the rest go to custom fields by id, which must exist
    in ``book`` under the same spelling.
    """
    reserved: dict[str, Any] = {"email": contact.email}
    if contact.name == "":
        raise UnrepresentableValue("SendGrid stores an empty name as no name", field="name")
    if contact.name is not None:
        reserved["first_name"], reserved["last_name"] = _split_name(contact.name)
    custom: dict[str, Any] = {}
    for name, value in contact.properties.items():
        record = book.custom_exact(name)
        if record is not None:  # the common case: a custom field met before, under the same spelling
            custom[record.id] = custom_value(record, name, value, booleans)
            continue
        problem = property_name_problem(name)
        if problem is not None:
            raise UnrepresentableValue(problem, field=name)
        if name in _RESERVED_TEXT:
            reserved[name] = _reserved_value(name, value)
            continue
        record = book.custom(name)
        if record is None:
            if value is None:
                continue  # nothing is stored under a field that does not exist, so nothing to clear
            raise UnrepresentableValue("the SendGrid account has no custom field of this name", field=name)
        # Custom field names are unique without regard to case (reference §4); it reads back as stored.
        raise UnrepresentableValue(f"the SendGrid account spells this field {record.name!r}", field=name)
    if len(reserved) > 1 and not (len(reserved) == 3 and contact.name is not None):
        reserved = {field: reserved[field] for field in _REQUEST_ORDER if field in reserved}
    return reserved, custom


def contact_to_wire(contact: Contact, book: FieldBook, booleans: Booleans = None) -> ContactRequest:
    """One upsert record; raises UnrepresentableValue (naming the field) for what SendGrid cannot hold."""
    reserved, custom = wire_fields(contact, book, booleans)
    return ContactRequest(**reserved, custom_fields=custom or None)


def contact_json(contact: Contact, book: FieldBook, booleans: Booleans = None) -> bytes:
    """The compact UTF-8 JSON of :func:`contact_to_wire`'s record, for any contact (the JSON route's general path)."""
    record = converter.unstructure(contact_to_wire(contact, book, booleans))
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode()


Formatter = Callable[[Any], "str | None"]
"""The CSV cell of a value of the usual exact type, or None to take the general path (which raises for misfits)."""


def cell_formatter(record: FieldRecord, booleans: Booleans) -> Formatter:
    """What :func:`custom_value` makes of the usual values of one custom field, as a CSV cell.

    For the CSV route's hot path: a value of another type, an empty or a missing one gets None,
    and the caller encodes that contact through :func:`wire_fields`.
    """
    kind = record.field_type
    if kind is WireFieldType.TEXT:
        text_bools = booleans == "text"

        def text(value: Any) -> str | None:
            exact = type(value)
            if exact is str and value and len(value) <= _SHORT_TEXT:
                return str(value)
            if exact is bool and text_bools:
                return "true" if value else "false"
            return None

        return text
    if kind is WireFieldType.NUMBER:
        number_bools = booleans == "number"

        def number(value: Any) -> str | None:
            exact = type(value)
            if exact is int and -MAX_EXACT_INT <= value <= MAX_EXACT_INT:
                return int.__repr__(value)
            if exact is float:
                return float.__repr__(value)
            if exact is bool and number_bools:
                return "1" if value else "0"
            return None

        return number

    def when(value: Any) -> str | None:
        text = usual_utc_text(value)
        return None if text is None else text + "Z"

    return when


def json_conversion(record: FieldRecord, kind: type, booleans: Booleans) -> Conversion | None:
    """How a value of exact type ``kind`` goes into a custom field on the JSON hot path, if it can.

    What :func:`custom_value` does with the usual values; anything else goes the general way.
    """
    field_type = record.field_type
    if field_type is WireFieldType.DATE:
        return WHEN_AS_UTC.get(kind)
    if kind is bool:
        if field_type is WireFieldType.TEXT and booleans == "text":
            return _bool_text
        return int if field_type is WireFieldType.NUMBER and booleans == "number" else None
    if field_type is WireFieldType.TEXT:
        return _nonempty_text if kind is str else None
    return AS_IS if field_type is WireFieldType.NUMBER and kind in (int, float) else None


def _nonempty_text(value: str) -> str | None:
    return value if value and len(value) <= _SHORT_TEXT else None  # the general way refuses empty or long texts


def _bool_text(value: bool) -> str:
    return "true" if value else "false"


def json_record(contact: Contact, custom: dict[str, Any]) -> dict[str, Any] | None:
    """The upsert record of a contact whose properties are all custom fields, as wire values (None: general path)."""
    record: dict[str, Any] = {"email": contact.email}
    if contact.name is not None:
        parts = split_name(contact.name)
        if parts is None:
            return None
        record["first_name"], record["last_name"] = parts
    if custom:
        record["custom_fields"] = custom
    return record


def split_name(name: str) -> tuple[str, str] | None:
    """(first_name, last_name) of a name the usual way, or None where :func:`wire_fields` must decide."""
    if not name or name.endswith(" "):
        return None
    first, _, last = name.partition(" ")
    if len(first) > RESERVED_LIMITS["first_name"] or len(last) > RESERVED_LIMITS["last_name"]:
        return None
    return first, last


def _typed(record: FieldRecord | None, raw: Any) -> PropertyValue:
    if record is None or raw is None:
        return raw if isinstance(raw, str | int | float | bool) or raw is None else str(raw)
    if record.field_type is WireFieldType.NUMBER:
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return raw
        number = float(raw)
        return int(number) if number.is_integer() and "." not in str(raw) else number
    if record.field_type is WireFieldType.DATE:
        return _read_date(raw)
    return str(raw)


def contact_from_wire(details: ContactDetails, book: FieldBook) -> Contact:
    """The contact as read back: name from first/last name, set reserved fields and custom fields by name.

    Unset values ("" on the wire) and the read-only fields SendGrid computes are left out.
    """
    first, last = details.first_name, details.last_name
    name = f"{first} {last}" if last else (first or None)
    properties: dict[str, PropertyValue] = {f: v for f in RESERVED_TEXT_FIELDS if (v := getattr(details, f))}
    for field_name, raw in details.custom_fields.items():
        if raw == "" or raw is None:
            continue
        properties[field_name] = _typed(book.custom_exact(field_name) or book.custom(field_name), raw)
    return Contact(details.email or "", name=name, properties=properties)


# -- read-back: exports and suppressions ----------------------------------------------------

_EXPORT_RESERVED = frozenset({"email", "first_name", "last_name", *RESERVED_TEXT_FIELDS})
_EXPORT_SKIPPED = frozenset({"list_ids", "segment_ids", *READ_ONLY_FIELDS} - {"created_at", "updated_at"})
_INTEGER = re.compile(r"-?\d+")


def _export_number(cell: str) -> int | float | str:
    """A Number cell as the JSON number a read would give (an integer without a point or an exponent)."""
    if cell.isdigit():
        return int(cell)
    text = cell.strip()
    try:
        return int(text) if _INTEGER.fullmatch(text) else float(text)
    except ValueError:
        return cell


def _alternates(cell: str) -> list[str]:
    """``ALTERNATE_EMAILS`` in one cell: a JSON array, or addresses split at commas (the format is UNCONFIRMED, §9)."""
    text = cell.strip()
    if not text:
        return []
    if text.startswith("["):
        try:
            return [str(item) for item in json.loads(text)]
        except ValueError:
            pass
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


class ExportColumns:
    """What each column of a CSV export holds, worked out once from its header (the per-row work is then a lookup).

    reference/sendgrid.md §9: column names are the field names upper-cased, every value a
    string, empty cells blank. Names are matched case-insensitively: reserved fields by
    name, ``CONTACT_ID`` as the id, others as custom fields through ``book`` (whose spelling
    they take back), their Number cells as numbers. Columns the reference leaves open
    (``LIST_IDS``, the read-only fields) are ignored, and so are the contact's own
    ``CREATED_AT``/``UPDATED_AT``, which no contact carries.
    """

    def __init__(self, header: Sequence[str], book: FieldBook) -> None:
        self.reserved: list[tuple[int, str]] = []
        self.custom: list[tuple[int, str, bool]] = []
        """(column, field name, whether it is a Number field)."""
        self.contact_id: int | None = None
        self.alternates: int | None = None
        for at, column in enumerate(header):
            name = column.strip().lower()
            if name in _EXPORT_RESERVED:
                self.reserved.append((at, name))
            elif name == "contact_id":
                self.contact_id = at
            elif name == "alternate_emails":
                self.alternates = at
            elif name not in _EXPORT_SKIPPED and name not in ("created_at", "updated_at"):
                record = book.custom(name)
                field = column if record is None else record.name
                self.custom.append((at, field, record is not None and record.field_type is WireFieldType.NUMBER))
        self.width = len(header)

    def details(self, cells: Sequence[str]) -> ContactDetails:
        """The contact record one row stands for, so that :func:`contact_from_wire` reads it as a search result."""
        if len(cells) != self.width:
            raise InvalidInput(f"an export row has {len(cells)} cells, its header {self.width}", field="row")
        reserved: dict[str, Any] = {name: cells[at] for at, name in self.reserved if cells[at]}  # "" is the default
        custom = {
            name: (_export_number(cells[at]) if number else cells[at]) for at, name, number in self.custom if cells[at]
        }
        if self.alternates is not None and cells[self.alternates]:
            reserved["alternate_emails"] = _alternates(cells[self.alternates])
        contact_id = cells[self.contact_id] if self.contact_id is not None else ""
        return ContactDetails(id=contact_id, custom_fields=custom, **reserved)


def details_from_export(row: Mapping[str, str], book: FieldBook) -> ContactDetails:
    """The contact record of one export row given as {column: cell} (see :class:`ExportColumns`)."""
    return ExportColumns(list(row), book).details(list(row.values()))


def member_from_wire(contact: Contact, unsubscribed_at: datetime | None) -> ListMember:
    """A list member: SendGrid lists hold no standing, so subscribed means no suppression applies (§5)."""
    return ListMember(contact=contact, subscribed=unsubscribed_at is None, unsubscribed_at=unsubscribed_at)


def _instant(seconds: int) -> datetime:
    # reference/sendgrid.md §12d: created is Unix seconds; values over 10^11 are read as milliseconds (§13c).
    return datetime.fromtimestamp(seconds / 1000 if seconds > 10**11 else seconds, tz=timezone.utc)


_SUPPRESSION_TYPES = {
    "unsubscribes": EventType.UNSUBSCRIBED,
    "group": EventType.UNSUBSCRIBED,
    "bounces": EventType.BOUNCED,
    "spam_reports": EventType.COMPLAINED,
    "blocks": EventType.BLOCKED,
}
"""Each suppression list (reference §12) and the event an entry of it is; another name maps to UNKNOWN."""


def suppression_event(
    kind: str, email: str, created: int, raw: Mapping[str, Any], *, list_id: str | None = None, reason: str = ""
) -> ContactEvent:
    """An entry of a suppression list as an event: ``kind`` names the list (``group`` for a group's)."""
    return ContactEvent(
        provider=PROVIDER,
        type=_SUPPRESSION_TYPES.get(kind, EventType.UNKNOWN),
        email=email.lower(),
        at=_instant(created),
        list_id=list_id,
        reason=reason or None,
        raw=dict(raw),
    )
