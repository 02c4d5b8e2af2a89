"""Mailjet's wire records (Email API v3), as attrs classes; their JSON names live in translate.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NewType

import attrs

__all__ = [
    "Envelope",
    "MjContact",
    "MjContactData",
    "MjContactMetadata",
    "MjContactsList",
    "MjCsvData",
    "MjCsvImport",
    "MjDataItem",
    "MjError",
    "MjImportOptions",
    "MjJob",
    "MjJobCreated",
    "MjListAction",
    "MjListMembership",
    "MjListRecipient",
    "MjStoredContact",
    "MjId",
]

MjId = NewType("MjId", str)
"""An id Mailjet sends as a number or a string (reference/mailjet.md §1: ListID is an integer, docs quote it)."""


@attrs.frozen
class MjListAction:
    """One list and the action on it (``ContactsLists`` items; reference §1)."""

    list_id: MjId
    action: str


@attrs.frozen
class MjContact:
    """One contact in a managemanycontacts body (reference §1a)."""

    email: str
    name: str | None = None
    is_excluded_from_campaigns: bool | None = None
    properties: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class MjJobCreated:
    """``Data[0]`` of the 201 answer to a managemanycontacts POST (seed 000)."""

    job_id: MjId


@attrs.frozen
class MjJob:
    """A managemanycontacts job status (reference §2); every field may be missing or loosely typed."""

    status: str = ""
    job_start: datetime | None = None
    job_end: datetime | None = None
    count: int = 0
    error: str = ""
    error_file: str = ""
    contacts_lists: list[MjListAction] = attrs.field(factory=list)


@attrs.frozen
class MjImportOptions:
    """The csvimport ``ImportOptions`` object, sent JSON-encoded inside a string (reference §4)."""

    date_time_format: str
    timezone_offset: int = 0
    field_names: list[str] = attrs.field(factory=list)


@attrs.frozen
class MjCsvData:
    """The answer to a CSVData upload: the DataID (seed 000: ``{"ID": 57}``)."""

    id: MjId


@attrs.frozen
class MjCsvImport:
    """A csvimport job (reference §4; seed 000 shows counts as strings and empty timestamps)."""

    id: MjId = MjId("")
    contacts_list_id: MjId = MjId("")
    data_id: MjId = MjId("")
    method: str = ""
    import_options: str = ""
    err_treshold: int = 0
    alive_at: datetime | None = None
    count: int = 0
    current: int = 0
    errcount: int = 0
    job_start: datetime | None = None
    job_end: datetime | None = None
    request_at: datetime | None = None
    status: str = ""


@attrs.frozen
class MjContactMetadata:
    """A contact property definition (``/contactmetadata``; reference §5)."""

    name: str
    datatype: str = "str"
    namespace: str = "static"
    id: MjId | None = None


@attrs.frozen
class MjListMembership:
    """One ``getcontactslists`` record (reference §3; seed 001 quotes every value)."""

    list_id: MjId
    is_active: bool = False
    is_unsub: bool = False
    subscribed_at: datetime | None = None


@attrs.frozen
class MjListRecipient:
    """One ``/listrecipient`` row: a contact on a list (reference §6)."""

    id: MjId
    contact_id: MjId
    list_id: MjId
    is_active: bool = True
    is_unsubscribed: bool = False
    unsubscribed_at: datetime | None = None
    subscribed_at: datetime | None = None
    list_name: str = ""


@attrs.frozen
class MjContactsList:
    """A ``/contactslist`` record (reference §6)."""

    id: MjId
    name: str
    address: str = ""
    created_at: datetime | None = None
    is_deleted: bool = False
    subscriber_count: int = 0


@attrs.frozen
class MjStoredContact:
    """A ``/contact`` record (reference §6)."""

    id: MjId
    email: str
    name: str = ""
    is_excluded_from_campaigns: bool = False
    created_at: datetime | None = None
    last_update_at: datetime | None = None


@attrs.frozen
class MjDataItem:
    """One property value in ``/contactdata`` (reference §5: ``{"Name", "Value"}``)."""

    name: str
    value: Any = None


@attrs.frozen
class MjContactData:
    """A ``/contactdata`` record: the property values of one contact."""

    contact_id: MjId
    data: list[MjDataItem] = attrs.field(factory=list)
    id: MjId | None = None


@attrs.frozen
class MjError:
    """A v3 REST error body (reference §7); ``ErrorInfo`` and ``ErrorMessage`` may be strings or objects."""

    error_message: Any = ""
    error_info: Any = ""
    status_code: int = 0
    error_identifier: str = ""


@attrs.frozen
class Envelope:
    """Every v3 REST success body: ``{"Count", "Data", "Total"}`` (reference §7)."""

    count: int = 0
    data: list[Any] = attrs.field(factory=list)
    total: int = 0
