"""Brevo v3 wire records: attrs classes shaped as Brevo's JSON (reference/brevo.md).

Attribute names are snake_case here; :mod:`.translate`'s converter renames them to
Brevo's camelCase (``listIds``, ``emailBlacklisted``...), except in the process
record, whose JSON names are snake_case already (reference/brevo.md §3).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

__all__ = [
    "CAMEL_CASE",
    "AttributeList",
    "AttributeRecord",
    "ContactPage",
    "ContactRecord",
    "CreateAttribute",
    "CreateContact",
    "CreateFolder",
    "CreateList",
    "Created",
    "ErrorBody",
    "FolderPage",
    "FolderRecord",
    "ImportContact",
    "ImportInfo",
    "ImportRequest",
    "ListChange",
    "ListChangeResponse",
    "ListChangeResult",
    "ListPage",
    "ListRecord",
    "Process",
    "ProcessCreated",
    "ProcessInfo",
    "UpdateContact",
]


@attrs.frozen
class ErrorBody:
    """Every error: ``{"code", "message"}`` (reference/brevo.md §8); both are required, read leniently."""

    code: str | None = None
    message: str | None = None


@attrs.frozen
class ImportContact:
    """One ``jsonBody`` item: the address and its attributes, keyed by attribute name (reference/brevo.md §2)."""

    email: str
    attributes: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class ImportRequest:
    """``POST /v3/contacts/import`` without its contacts, which the route appends as ``jsonBody`` or ``fileBody``.

    Every flag is sent, so nothing rests on Brevo's defaults (reference/brevo.md §2, §11).
    """

    list_ids: list[int]
    update_existing_contacts: bool
    empty_contacts_attributes: bool
    email_blacklist: bool
    disable_notification: bool


@attrs.frozen
class ProcessCreated:
    """The 202 answer of an import: ``{"processId": 78}``."""

    process_id: int


@attrs.frozen
class ImportInfo:
    """``info.import`` of a process: counts, and ``duplicate_email_id``, the URL of a CSV of duplicate emails."""

    invalid_emails: int = 0
    duplicate_contact_id: int = 0
    duplicate_ext_id: int = 0
    duplicate_email_id: str | None = None
    duplicate_phone_id: int = 0
    duplicate_whatsapp_id: int = 0
    duplicate_landline_number_id: int = 0


@attrs.frozen
class ProcessInfo:
    """``info`` of a process; ``import_`` is spelled ``import`` on the wire."""

    import_: ImportInfo | None = None


@attrs.frozen
class Process:
    """``GET /v3/processes/{id}``; everything but id, name and status is optional (reference/brevo.md §3)."""

    id: int
    name: str
    status: str
    info: ProcessInfo | None = None
    export_url: str | None = None
    error: str | None = None
    created_at: datetime | None = None
    completed_at: datetime | None = None


@attrs.frozen
class ContactRecord:
    """A stored contact (``GET /v3/contacts/{identifier}``, list items); ``email`` is absent on SMS-only ones."""

    id: int
    email: str | None = None
    email_blacklisted: bool = False
    sms_blacklisted: bool = False
    created_at: datetime | None = None
    modified_at: datetime | None = None
    list_ids: list[int] = attrs.field(factory=list)
    list_unsubscribed: list[int] | None = None
    """Present only when the account unsubscribes per list (reference/brevo.md §7)."""
    attributes: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class ContactPage:
    """``{"contacts": [...], "count": N}`` of the contact listings."""

    contacts: list[ContactRecord] = attrs.field(factory=list)
    count: int = 0


@attrs.frozen
class CreateContact:
    """``POST /v3/contacts``; with ``update_enabled`` an existing contact is updated (204) instead of refused."""

    email: str
    update_enabled: bool
    attributes: dict[str, Any] | None = None
    email_blacklisted: bool | None = None
    list_ids: list[int] | None = None


@attrs.frozen
class UpdateContact:
    """``PUT /v3/contacts/{identifier}``."""

    attributes: dict[str, Any] | None = None
    email_blacklisted: bool | None = None
    list_ids: list[int] | None = None
    unlink_list_ids: list[int] | None = None


@attrs.frozen
class ListRecord:
    """One list of ``GET /v3/contacts/lists``."""

    id: int
    name: str
    folder_id: int | None = None
    total_subscribers: int = 0
    total_blacklisted: int = 0
    unique_subscribers: int | None = None


@attrs.frozen
class ListPage:
    """``{"count", "lists": [...]}``."""

    lists: list[ListRecord] = attrs.field(factory=list)
    count: int = 0


@attrs.frozen
class CreateList:
    """``POST /v3/contacts/lists``: both fields are required (reference/brevo.md §5)."""

    name: str
    folder_id: int


@attrs.frozen
class Created:
    """The 201 answer of the create calls: ``{"id": 5}``."""

    id: int


@attrs.frozen
class FolderRecord:
    """One folder of ``GET /v3/contacts/folders``."""

    id: int
    name: str


@attrs.frozen
class FolderPage:
    """``{"count", "folders": [...]}``."""

    folders: list[FolderRecord] = attrs.field(factory=list)
    count: int = 0


@attrs.frozen
class CreateFolder:
    """``POST /v3/contacts/folders``."""

    name: str


@attrs.frozen
class ListChange:
    """Body of ``/contacts/lists/{id}/contacts/add`` and ``/remove``: 1 to 150 addresses."""

    emails: list[str]


@attrs.frozen
class ListChangeResult:
    """Which entries were processed; ``failure`` may hold ids or emails (reference/brevo.md §5)."""

    success: list[str | int] = attrs.field(factory=list)
    failure: list[str | int] = attrs.field(factory=list)


@attrs.frozen
class ListChangeResponse:
    """The 201 answer of a list add or remove, sent even when every entry failed."""

    contacts: ListChangeResult = ListChangeResult()


@attrs.frozen
class AttributeRecord:
    """One attribute of ``GET /v3/contacts/attributes``; calculated and global ones have no type."""

    name: str
    category: str
    type: str | None = None


@attrs.frozen
class AttributeList:
    """``{"attributes": [...]}``."""

    attributes: list[AttributeRecord] = attrs.field(factory=list)


@attrs.frozen
class CreateAttribute:
    """Body of ``POST /v3/contacts/attributes/normal/{name}``."""

    type: str


CAMEL_CASE: tuple[type, ...] = (
    ImportRequest,
    ProcessCreated,
    ContactRecord,
    CreateContact,
    UpdateContact,
    ListRecord,
    CreateList,
)
"""The records whose JSON names are the camelCase forms of their attribute names."""
