"""SendGrid v3 Marketing Contacts wire records: attrs classes named and shaped as on the wire.

Field names follow reference/sendgrid.md; the converter in :mod:`.translate` handles the
few renames (``_metadata``, ``self``) and the lenient parsing.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import attrs

__all__ = [
    "ContactDetails",
    "ContactRequest",
    "CreateField",
    "CreateGroup",
    "CreateList",
    "ErrorBody",
    "ErrorDetail",
    "ExportCreated",
    "ExportRequest",
    "ExportStatus",
    "FieldDefinitions",
    "FieldRecord",
    "GlobalUnsubscribe",
    "GroupSuppression",
    "ImportRequest",
    "ImportResponse",
    "ImportResults",
    "JobRecord",
    "JobType",
    "ListPage",
    "ListRecord",
    "PageMetadata",
    "RecipientEmails",
    "SearchEmails",
    "SearchHit",
    "SearchResponse",
    "SuppressionEntry",
    "UnsubscribeGroup",
    "UploadHeader",
    "UpsertRequest",
    "UpsertResponse",
    "WireFieldType",
    "RESERVED_TEXT_FIELDS",
]


class WireFieldType(str, enum.Enum):
    """The three field types SendGrid stores (reference/sendgrid.md §4)."""

    TEXT = "Text"
    NUMBER = "Number"
    DATE = "Date"


class JobType(str, enum.Enum):
    """Known ``job_type`` values; the spec says ``upsert``/``delete``, the wire says ``upsert_contacts`` (§2)."""

    UPSERT = "upsert"
    DELETE = "delete"
    UPSERT_CONTACTS = "upsert_contacts"


RESERVED_TEXT_FIELDS: tuple[str, ...] = (
    "address_line_1",
    "address_line_2",
    "city",
    "state_province_region",
    "postal_code",
    "country",
    "phone_number",
    "whatsapp",
    "line",
    "facebook",
    "unique_name",
    "phone_number_id",
    "external_id",
    "anonymous_id",
)
"""Writable reserved string fields besides email and the name (reference/sendgrid.md §3, §4)."""


@attrs.frozen
class UploadHeader:
    """One header the presigned upload must carry."""

    header: str
    value: str


@attrs.frozen
class ImportRequest:
    """Body of ``PUT /v3/marketing/contacts/imports``: CSV columns mapped to field ids (None skips one)."""

    field_mappings: list[str | None]
    file_type: str = "csv"
    list_ids: list[str] | None = None


@attrs.frozen
class ImportResponse:
    """The 200 answer to an import: the job and where to PUT the file."""

    job_id: str
    upload_uri: str
    upload_headers: list[UploadHeader] = attrs.field(factory=list)


@attrs.frozen
class ImportResults:
    """A job's counts; every key is absent on the wire while zero (reference/sendgrid.md §2)."""

    requested_count: int = 0
    created_count: int = 0
    updated_count: int = 0
    deleted_count: int = 0
    errored_count: int = 0
    errors_url: str | None = None


@attrs.frozen
class JobRecord:
    """``GET /v3/marketing/contacts/imports/{id}``: status is a plain string, job_type is loose."""

    id: str
    status: str
    job_type: JobType | str | None = None
    results: ImportResults = ImportResults()
    started_at: datetime | None = None
    finished_at: datetime | None = None


@attrs.frozen
class ContactRequest:
    """One contact in an upsert; absent keys leave the stored value as it is (reference/sendgrid.md §3)."""

    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    address_line_1: str | None = None
    address_line_2: str | None = None
    city: str | None = None
    state_province_region: str | None = None
    postal_code: str | None = None
    country: str | None = None
    phone_number: str | None = None
    whatsapp: str | None = None
    line: str | None = None
    facebook: str | None = None
    unique_name: str | None = None
    phone_number_id: str | None = None
    external_id: str | None = None
    anonymous_id: str | None = None
    alternate_emails: list[str] | None = None
    custom_fields: dict[str, Any] | None = None
    """Keyed by custom field id, never by name."""


@attrs.frozen
class UpsertRequest:
    """Body of ``PUT /v3/marketing/contacts``: up to 30,000 contacts, optionally added to lists."""

    contacts: list[ContactRequest]
    list_ids: list[str] | None = None


@attrs.frozen
class UpsertResponse:
    """The 202 answer of an upsert (and of a list removal): the job id."""

    job_id: str


@attrs.frozen
class ContactDetails:
    """A stored contact as read back: reserved strings are "" when unset, custom fields keyed by name."""

    id: str
    email: str | None = None
    first_name: str = ""
    last_name: str = ""
    address_line_1: str = ""
    address_line_2: str = ""
    city: str = ""
    state_province_region: str = ""
    postal_code: str = ""
    country: str = ""
    phone_number: str = ""
    whatsapp: str = ""
    line: str = ""
    facebook: str = ""
    unique_name: str = ""
    phone_number_id: str = ""
    external_id: str = ""
    anonymous_id: str = ""
    alternate_emails: list[str] = attrs.field(factory=list)
    list_ids: list[str] = attrs.field(factory=list)
    segment_ids: list[str] = attrs.field(factory=list)
    custom_fields: dict[str, Any] = attrs.field(factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None


@attrs.frozen
class SearchEmails:
    """Body of ``POST /v3/marketing/contacts/search/emails`` (at most 100 addresses)."""

    emails: list[str]


@attrs.frozen
class SearchHit:
    """One address in a search answer: the contact, or an error such as "contact not found"."""

    contact: ContactDetails | None = None
    error: str | None = None


@attrs.frozen
class SearchResponse:
    """``{"result": {email: {"contact": ...} | {"error": ...}}}``."""

    result: dict[str, SearchHit]


@attrs.frozen
class FieldRecord:
    """One field definition; ids are opaque (``_rf2_T`` reserved, ``e1_T`` custom)."""

    id: str
    name: str
    field_type: WireFieldType
    read_only: bool = False


@attrs.frozen
class FieldDefinitions:
    """``GET /v3/marketing/field_definitions``."""

    custom_fields: list[FieldRecord] = attrs.field(factory=list)
    reserved_fields: list[FieldRecord] = attrs.field(factory=list)


@attrs.frozen
class CreateField:
    """Body of ``POST /v3/marketing/field_definitions``."""

    name: str
    field_type: WireFieldType


@attrs.frozen
class PageMetadata:
    """``_metadata`` of a paginated answer; ``next`` is a full URL while more pages remain."""

    self_url: str | None = None
    prev: str | None = None
    next: str | None = None
    count: int | None = None


@attrs.frozen
class ListRecord:
    """One list."""

    id: str
    name: str
    contact_count: int = 0


@attrs.frozen
class ListPage:
    """``GET /v3/marketing/lists``: one page of lists."""

    result: list[ListRecord] = attrs.field(factory=list)
    metadata: PageMetadata = PageMetadata()


@attrs.frozen
class CreateList:
    """Body of ``POST /v3/marketing/lists``."""

    name: str


@attrs.frozen
class RecipientEmails:
    """Body (and 201 answer) of the suppression endpoints."""

    recipient_emails: list[str]


@attrs.frozen
class ErrorDetail:
    """One entry of ``{"errors": [...]}``."""

    message: str
    field: str | None = None
    error_id: str | None = None
    parameter: str | None = None


@attrs.frozen
class ErrorBody:
    """SendGrid's error body; ``errors`` may be a lone object (a spec quirk, §2)."""

    errors: list[ErrorDetail] = attrs.field(factory=list)


@attrs.frozen
class ExportRequest:
    """Body of ``POST /v3/marketing/contacts/exports`` (reference/sendgrid.md §9); every field optional."""

    list_ids: list[str] | None = None
    file_type: str = "csv"
    max_file_size: int | None = None


@attrs.frozen
class ExportCreated:
    """The 202 answer to an export request (``id`` is not marked required in the spec, §9)."""

    id: str


@attrs.frozen
class ExportStatus:
    """``GET /v3/marketing/contacts/exports/{id}``: ``pending``, ``ready`` (with ``urls``) or a failure (§9)."""

    id: str
    status: str
    urls: list[str] = attrs.field(factory=list)
    message: str | None = None
    contact_count: int | None = None
    expires_at: datetime | None = None


@attrs.frozen
class UnsubscribeGroup:
    """An unsubscribe (ASM) group: what ``unsubscribe_groups={list_id: id}`` maps a list to (§12a).

    ``unsubscribes`` counts the addresses suppressed in it.
    """

    id: int
    name: str
    description: str = ""
    is_default: bool = False
    unsubscribes: int = 0


@attrs.frozen
class CreateGroup:
    """Body of ``POST /v3/asm/groups``: name (at most 30 characters) and description (at most 100)."""

    name: str
    description: str
    is_default: bool = False


@attrs.frozen
class GlobalUnsubscribe:
    """One entry of ``GET /v3/suppression/unsubscribes`` (§12d): ``created`` in Unix seconds."""

    created: int
    email: str


@attrs.frozen
class GroupSuppression:
    """One entry of ``GET /v3/asm/suppressions`` (§12b): an address suppressed in a group, since ``created_at``."""

    email: str
    group_id: int
    created_at: int
    group_name: str = ""


@attrs.frozen
class SuppressionEntry:
    """One entry of the bounces, spam reports or blocks lists (§12d); ``reason``/``status``/``ip`` where given."""

    created: int
    email: str
    reason: str = ""
    status: str = ""
    ip: str = ""
