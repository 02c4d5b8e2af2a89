"""dotmailer (dotdigital) v2 wire records: attrs classes named after the API's JSON objects."""

from __future__ import annotations

import re
from typing import Any

import attrs

__all__ = [
    "DATA_FIELD_TYPES",
    "IMPORT_STATUSES",
    "AccountInfo",
    "AccountProperty",
    "AddressBook",
    "ApiContact",
    "ApiError",
    "ContactImport",
    "ContactSuppression",
    "DataField",
    "DataFieldValue",
    "ImportFault",
    "ImportReport",
    "ResubscribeResult",
    "Resubscription",
]

# reference/dotmailer.md §2 (S1 ApiContactImportStatuses): the eight raw import statuses.
IMPORT_STATUSES = (
    "Finished",
    "NotFinished",
    "RejectedByWatchdog",
    "InvalidFileFormat",
    "Unknown",
    "Failed",
    "ExceedsAllowedContactLimit",
    "NotAvailableInThisVersion",
)
# reference/dotmailer.md §6 (S1 ApiDataField.type).
DATA_FIELD_TYPES = ("String", "Numeric", "Date", "Boolean")

_ERROR_CODE = re.compile(r"ERROR_[A-Z0-9_]+")


@attrs.frozen
class ContactImport:
    """``ApiContactImport``: the answer to an upload and to a status GET."""

    id: str
    status: str = ""
    """One of :data:`IMPORT_STATUSES`, or anything the server invents later (kept as given)."""


@attrs.frozen
class ImportReport:
    """``ApiContactImportReport``: per-outcome counts of one finished import (no total is given)."""

    new_contacts: int = 0
    updated_contacts: int = 0
    globally_suppressed: int = 0
    invalid_entries: int = 0
    duplicate_emails: int = 0
    blocked: int = 0
    unsubscribed: int = 0
    hard_bounced: int = 0
    soft_bounced: int = 0
    isp_complaints: int = 0
    mail_blocked: int = 0
    domain_suppressed: int = 0
    pending_double_optin: int = 0
    failures: int = 0
    suppressed_contacts: int = 0

    @property
    def faults(self) -> int:
        """Rows that were not imported: the sum of the outcome counts other than new and updated.

        ``suppressedContacts`` is newer and its relation to the other counts is not documented
        (reference/dotmailer.md §3); it is read as an aggregate, used only when the others are all zero.
        """
        specific = (
            self.globally_suppressed
            + self.invalid_entries
            + self.duplicate_emails
            + self.blocked
            + self.unsubscribed
            + self.hard_bounced
            + self.soft_bounced
            + self.isp_complaints
            + self.mail_blocked
            + self.domain_suppressed
            + self.pending_double_optin
            + self.failures
        )
        return specific or self.suppressed_contacts


@attrs.frozen
class ImportFault:
    """One row of the report-faults CSV: the ``Reason`` and the row's uploaded columns, in order."""

    reason: str
    cells: tuple[tuple[str, str], ...] = ()

    @property
    def email(self) -> str | None:
        """The row's ``Email`` cell (column name matched case-insensitively)."""
        return next((value for name, value in self.cells if name.strip().lower() == "email"), None)


@attrs.frozen
class DataFieldValue:
    """One ``{key, value}`` pair of a contact's ``dataFields`` (the value is untyped JSON)."""

    key: str
    value: Any = None


@attrs.frozen
class ApiContact:
    """``ApiContact``: one contact as the v2 API reads and writes it."""

    email: str
    id: int | None = None
    opt_in_type: str | None = None
    email_type: str | None = None
    data_fields: tuple[DataFieldValue, ...] | None = None
    status: str | None = None


@attrs.frozen
class AddressBook:
    """An address book (list)."""

    id: int
    name: str
    visibility: str | None = None
    contacts: int | None = None


@attrs.frozen
class DataField:
    """``ApiDataField``: a custom contact field definition."""

    name: str
    type: str
    visibility: str | None = None
    default_value: Any = None


@attrs.frozen
class ApiError:
    """A v2 error body ``{"message": "... ERROR_CODE"}``."""

    message: str = ""

    @property
    def code(self) -> str | None:
        """The last ``ERROR_*`` token of the message, if any (401 messages carry none)."""
        found = _ERROR_CODE.findall(self.message)
        return found[-1] if found else None


@attrs.frozen
class ContactSuppression:
    """``ApiContactSuppression``: the answer to an unsubscribe."""

    suppressed_contact: ApiContact | None = None
    date_removed: str | None = None
    reason: str | None = None


@attrs.frozen
class Resubscription:
    """``ApiContactResubscription``: the body of a resubscribe call."""

    unsubscribed_contact: ApiContact
    preferred_locale: str | None = None
    return_url_to_use_if_challenged: str | None = None


@attrs.frozen
class ResubscribeResult:
    """``ApiResubscribeResult``: ``ContactAdded``, ``ContactChallenged`` or ``ContactCannotBeUnsuppressed``."""

    status: str
    contact: ApiContact | None = None


@attrs.frozen
class AccountProperty:
    """One ``{name, type, value}`` of ``GET /v2/account-info``."""

    name: str
    type: str | None = None
    value: Any = None


@attrs.frozen
class AccountInfo:
    """``GET /v2/account-info``: the account's id and properties (``ApiEndpoint`` among them)."""

    id: int | None = None
    properties: tuple[AccountProperty, ...] = ()

    def property(self, name: str) -> Any:
        """The value of the property called ``name`` (case-insensitive), or None."""
        return next((p.value for p in self.properties if p.name.lower() == name.lower()), None)
