"""The dotmailer (dotdigital) v2 client: file imports, address books, data fields, regions."""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import logging
import os
import secrets
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote, urlsplit

import attrs
from typing_extensions import Unpack
from urllib3.fields import RequestField

from contactsync.batching import Batch, BatchLimits
from contactsync.csvio import csv_row
from contactsync.errors import ConfigurationError, InvalidInput, NotFound, ProviderError, UnrepresentableValue
from contactsync.http import BasicAuth, Transport, path_segment
from contactsync.model import (
    Contact,
    ContactEvent,
    ContactList,
    EventType,
    FieldDefinition,
    FieldType,
    ImportJob,
    ImportStatus,
    ListMember,
    ListSubscription,
    Membership,
    PropertyValue,
    SubscriptionAction,
)
from contactsync.paging import offset_pages, read_ahead
from contactsync.provider import Capabilities, ImportRoute, Provider, ProviderOptions, ReportedError
from contactsync.providers.dotmailer import wire
from contactsync.providers.dotmailer.translate import (
    EMAIL_COLUMN,
    MAX_TEXT,
    NAME_FIELD,
    Formatter,
    cell_formatter,
    contact_record,
    field_type_from_wire,
    field_type_to_wire,
    import_cells,
    infer_field_type,
    member_from_wire,
    parse_faults,
    parse_removed,
    reason_code,
    stored_contact,
    structure,
    suppression_event,
    unstructure,
    wire_field_name,
)
from contactsync.settings import check_credentials, text, whole_number

__all__ = ["DISCOVERY_URL", "MAX_FILE_BYTES", "REGIONS", "DotmailerProvider"]

log = logging.getLogger("contactsync.providers.dotmailer")

T = TypeVar("T")

REGIONS = {
    # reference/dotmailer.md §7 (S4 api-end-points)
    "r1": "https://r1-api.dotdigital.com",
    "r2": "https://r2-api.dotdigital.com",
    "r3": "https://r3-api.dotdigital.com",
}
DISCOVERY_URL = "https://r1-api.dotdigital.com/v2/account-info"
"""Answers from any region with the account's own ``ApiEndpoint`` (reference/dotmailer.md §7)."""
MAX_FILE_BYTES = 10_000_000
"""One import file: 10 MB per the seed page; read as 10**7 bytes, the smaller meaning (reference §1)."""
FILE_CONTACTS = 25_000
"""Contacts per file, our choice: an import then holds the same memory from 100,000 contacts up
(three files of 25,000 at most), and the provider starts on the first file sooner."""
PAGE = 1000  # reference: select takes 1 to 1000
EVERYTHING = "1970-01-01T00:00:00+00:00"
"""The ``{date}`` of a since-read meant to read everything."""
_FILL = 0.9  # batches fill 90% of a file, leaving room for the header and late columns

# reference/dotmailer.md §6: merge options, S1 enum names; S2 documents the numbers 0/1/2.
MERGE_OPTIONS = ("Overwrite", "OnlyOverwriteIfNotEmpty", "OnlyOverwriteIfContactDataNotPopulated")
DEFAULT_MERGE = "OnlyOverwriteIfNotEmpty"

_STATUSES = {
    "NotFinished": ImportStatus.RUNNING,
    "Failed": ImportStatus.FAILED,
    "InvalidFileFormat": ImportStatus.FAILED,
    "NotAvailableInThisVersion": ImportStatus.FAILED,
    "RejectedByWatchdog": ImportStatus.REJECTED,
    "ExceedsAllowedContactLimit": ImportStatus.REJECTED,
    "Unknown": ImportStatus.UNKNOWN,
}
_SUPPRESSED = ("ERROR_CONTACT_SUPPRESSED", "ERROR_CONTACT_SUPPRESSEDFORADDRESSBOOK")


class _FileRoute(ImportRoute):
    """One file upload per batch; columns are ``Email`` plus every data field seen so far."""

    extension: ClassVar[str]
    resubmit_safe = True  # upserts by email into one address book: a second import changes nothing
    content_type: ClassVar[str]

    def __init__(
        self,
        client: DotmailerProvider,
        limits: BatchLimits,
        subscription: ListSubscription | None,
        merge: str,
        known: dict[str, FieldDefinition],
    ) -> None:
        super().__init__(limits)
        self.client = client
        self.subscription = subscription
        action = None if subscription is None else subscription.action
        # The address-book import adds (reference §5 mapping); other actions import into the account,
        # and every action but ADD_NO_FORCE is finished by a follow-up on the rows (see follow_up).
        adds = action in (SubscriptionAction.ADD_NO_FORCE, SubscriptionAction.ADD_FORCE)
        self.book = subscription.list_id if subscription is not None and adds else None
        self.follows_up = action is not None and action is not SubscriptionAction.ADD_NO_FORCE
        self.merge = merge
        self.known = known
        self.columns = [EMAIL_COLUMN]
        self._positions: dict[str, int] = {}
        self._pending: dict[str, FieldType] = {}
        self._active: list[str] = []
        self._lock = threading.Lock()  # submit runs in worker threads while encode goes on
        self._plans: dict[tuple[str, ...], list[tuple[int, Formatter]]] = {}
        """Per set of property names: each one's column and cell formatter (the hot path)."""

    @property
    def path(self) -> str:
        """The upload path: the plain endpoints overwrite, the others carry the merge option."""
        base = (
            "/v2/contacts/import"
            if self.book is None
            else f"/v2/address-books/{path_segment(self.book)}/contacts/import"
        )
        return base if self.merge == "Overwrite" else f"{base}/with-merge-option/{self.merge}"

    def encode(self, contact: Contact) -> bytes:
        names = tuple(contact.properties)
        plan = self._plans.get(names)
        line = self._fast(contact, plan) if plan is not None else None
        if line is None:
            line = self._general(contact)
            self._learn(names)
        return csv_row(line).encode("utf-8")

    def _general(self, contact: Contact) -> list[str]:
        """The cells of any contact, checked against the data fields; new columns are added as they come."""
        line = [contact.email] + [""] * (len(self.columns) - 1)
        for column, field, cell, value in import_cells(contact, blank_clears=self.merge == "Overwrite"):
            if not self._accept(column, field, value):
                continue
            at = self._positions.get(column)
            if at is None:
                at = self._positions[column] = len(self.columns)
                self.columns.append(column)
                line.append("")
            line[at] = cell
        return line

    def _learn(self, names: tuple[str, ...]) -> None:
        """Remember where the properties of a contact just encoded go, once each has a column of a known field."""
        if names in self._plans:
            return
        plan = []
        for name in names:
            column = wire_field_name(name)
            at = self._positions.get(column)
            field = self.known.get(column)
            formatter = cell_formatter(field.type) if field is not None else None
            if at is None or formatter is None:
                return  # a field still to be created, or one without a fast path: ask again next time
            plan.append((at, formatter))
        if len(self._plans) >= _MAX_PLANS:
            self._plans.clear()
        self._plans[names] = plan

    def _fast(self, contact: Contact, plan: list[tuple[int, Formatter]]) -> list[str] | None:
        """The cells of a contact whose properties have a plan, or None for the general path."""
        line = [""] * len(self.columns)
        line[0] = contact.email
        if contact.name is not None:
            at = self._positions.get(NAME_FIELD)
            field = self.known.get(NAME_FIELD)
            formatter = cell_formatter(field.type) if field is not None else None
            cell = formatter(contact.name) if formatter is not None else None
            if at is None or cell is None:
                return None
            line[at] = cell
        for (at, formatter), value in zip(plan, contact.properties.values(), strict=False):
            cell = formatter(value)
            if cell is None:
                return None
            line[at] = cell
        return line

    def _accept(self, column: str, field: str, value: PropertyValue) -> bool:
        """Check the value against its data field; note fields to create (data fields must exist first)."""
        if field != "name":
            self.client.spell(column, field)
        wanted = infer_field_type(value)
        with self._lock:
            stored = self.known[column].type if column in self.known else self._pending.get(column)
            if stored is None:
                if wanted is None:
                    return False  # clearing a field the account does not have changes nothing
                self._pending[column] = wanted
                return True
        if wanted is not None and not self.client.same_field_type(stored, wanted):
            # A text field would take the value as text, and read it back a string: refused instead.
            raise UnrepresentableValue(
                f"the dotmailer data field {column} is {stored.value}, not {wanted.value}", field=field
            )
        return True

    def payload(self, batch: Batch) -> bytes:
        """The file uploaded for ``batch``."""
        return b"".join(self._file(batch)[1])

    def _file(self, batch: Batch) -> tuple[list[str], list[bytes]]:
        """The columns of the file for ``batch`` and the file itself, in pieces (joined once, into the upload).

        Each row was encoded against the columns known at the time, a prefix of the final
        list; rows encoded before a column appeared are padded with empty cells.
        """
        columns = list(self.columns)
        rows: list[bytes] = batch.items
        if _cells(batch.items[0]) != len(columns):  # rows only gain cells: when the first is full, all are
            widths = [_cells(item) for item in batch.items]
            columns = columns[: max(widths)]
            rows = [
                item if cells == len(columns) else item[:-2] + b"," * (len(columns) - cells) + b"\r\n"
                for item, cells in zip(batch.items, widths, strict=True)
            ]
        header = io.StringIO()
        csv.writer(header).writerow(columns)
        return columns, self.render([header.getvalue().encode("utf-8"), *rows])

    def submit(self, batch: Batch) -> ImportJob:
        columns, payload = self._file(batch)
        with self._lock:
            for column in columns:
                kind = self._pending.pop(column, None)
                if kind is not None:
                    self.known[column] = self.client.create_data_field(column, kind)
        size = sum(map(len, payload))
        if size > self.client.max_file_bytes:
            raise InvalidInput(
                f"batch {batch.number} makes a {size}-byte file, over the "
                f"{self.client.max_file_bytes}-byte dotmailer limit (many columns appeared late in the input)"
            )
        record = self._upload(payload)
        return ImportJob(
            provider=self.client.name,
            id=record.id,
            status=_STATUSES.get(record.status, ImportStatus.UNKNOWN),
            provider_status=record.status,
            requested=len(batch),
            started_at=datetime.now(timezone.utc),
        )

    def follow_up(self, part: ImportJob, batch: Batch) -> ImportJob:
        """What the import alone does not do for this action, done per contact once the import finished.

        ADD_FORCE: resubscribe, with no challenge, the rows the import reported ``Unsubscribed``
        (their data fields taken from the faults report), adding them to the book. REMOVE and
        UNSUBSCRIBE: the import updated the contacts in the account; each imported row is then
        taken off the book, or unsubscribed from it. A row the follow-up could not finish is
        reported with dotmailer's reason.
        """
        if self.subscription is None:
            return part
        if self.subscription.action is SubscriptionAction.ADD_FORCE:
            return self.client.resubscribe_unsubscribed(part, self.subscription.list_id)
        return self.client.apply_to_imported(part, batch.emails, self.subscription)

    def render(self, csv_pieces: list[bytes]) -> list[bytes]:
        """The file to upload, in pieces, from the CSV text of the batch (its header row, then its rows)."""
        return csv_pieces

    def _upload(self, pieces: list[bytes]) -> wire.ContactImport:
        """POST the file as the one part of a multipart form, the body joined in one go from its pieces."""
        boundary = secrets.token_hex(16)
        part = RequestField("file", b"", filename=f"contacts{self.extension}")
        part.make_multipart(content_type=self.content_type)
        opening = f"--{boundary}\r\n{part.render_headers()}".encode()
        body = b"".join([opening, *pieces, f"\r\n--{boundary}--\r\n".encode()])
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        deadline = time.monotonic() + 3600
        while True:
            try:
                answer = self.client.api().json("POST", self.path, data=body, headers=headers, safe=False)
                record = structure(answer, wire.ContactImport)
            except ProviderError as exc:
                # reference/dotmailer.md §1: at most 25 active imports; wait for one of ours to finish.
                if exc.code != "ERROR_IMPORT_TOOMANYACTIVEIMPORTS" or not self._active or time.monotonic() > deadline:
                    raise
                self._wait_for_slot()
                continue
            with self._lock:
                self._active.append(record.id)
            return record

    def _wait_for_slot(self) -> None:
        """Poll this import's unfinished uploads until one of them ends."""
        while True:
            with self._lock:
                active = list(self._active)
            done = {job for job in active if self.client.raw_status(job).status != "NotFinished"}
            if done:
                with self._lock:
                    self._active = [job for job in self._active if job not in done]
                return
            time.sleep(self.client.poll_interval)

    def describe(self, batch: Batch) -> Mapping[str, Any]:
        return {"route": self.name, "contacts": len(batch), "method": "POST", "path": self.path, "bytes": batch.size}


class CsvRoute(_FileRoute):
    """The CSV upload (reference/dotmailer.md §1)."""

    name = "csv"
    extension = ".csv"
    content_type = "text/csv"


class XlsxRoute(_FileRoute):
    """The Excel upload, written with openpyxl (the ``excel`` extra); cells hold the CSV's text."""

    name = "xlsx"
    extension = ".xlsx"
    content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    def encode(self, contact: Contact) -> bytes:
        """The CSV route's row, once every text is one an Excel cell can hold (no control characters)."""
        illegal = _openpyxl().cell.cell.ILLEGAL_CHARACTERS_RE.search
        for field, value in (("name", contact.name), *contact.properties.items()):
            if illegal(field) or (isinstance(value, str) and illegal(value)):
                raise UnrepresentableValue(
                    "an Excel cell cannot hold control characters other than tab and line breaks; use route='csv'",
                    field=field,
                )
        return super().encode(contact)

    def render(self, csv_pieces: list[bytes]) -> list[bytes]:
        book = _openpyxl().Workbook(write_only=True)
        sheet = book.create_sheet("contacts")
        for row in csv.reader(io.StringIO(b"".join(csv_pieces).decode("utf-8"), newline="")):
            sheet.append(row)
        out = io.BytesIO()
        book.save(out)
        return [out.getvalue()]


@functools.cache
def _openpyxl() -> Any:
    """openpyxl, which the xlsx route needs (the ``excel`` extra), imported once."""
    try:
        import openpyxl.cell.cell  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - depends on the installation
        raise ConfigurationError("the xlsx route needs openpyxl: pip install 'contactsync[excel]'") from None
    return openpyxl


def _cells(row: bytes) -> int:
    """How many cells one encoded CSV row holds (a quote means parsing it; commas alone can be counted)."""
    if b'"' in row:
        return len(next(csv.reader(io.StringIO(row.decode("utf-8"), newline=""))))
    return row.count(b",") + 1


_MAX_PLANS = 1024
"""Distinct sets of property names a route keeps a plan for (inputs have a handful)."""

_ROUTE_LIMITS = BatchLimits(max_items=FILE_CONTACTS, max_bytes=int(MAX_FILE_BYTES * _FILL))


class DotmailerProvider(Provider):
    """dotmailer / dotdigital Engagement Cloud, API v2, HTTP Basic auth with an API user."""

    name = "dotmailer"
    default_base_url = REGIONS["r1"]
    capabilities = Capabilities(
        actions=frozenset(SubscriptionAction),
        field_types=frozenset(
            {
                FieldType.TEXT,
                FieldType.INTEGER,
                FieldType.NUMBER,
                FieldType.BOOLEAN,
                FieldType.DATE,
                FieldType.DATETIME,
            }
        ),
        routes={"csv": _ROUTE_LIMITS, "xlsx": _ROUTE_LIMITS},
        file_route_from=None,
        lists_per_import=1,
        dates_at_midnight=True,
        max_text=MAX_TEXT,
        notes={
            "addnoforce": "One contact: add to the address book, a suppressed contact stays suppressed; "
            "bulk: the address-book import.",
            "addforce": "One contact: add, and resubscribe with no challenge if dotmailer reports it suppressed. "
            "Bulk: the address-book import, then the client resubscribes (no challenge) each row the import "
            "reported Unsubscribed, with its data fields.",
            "remove": "One contact: delete from the address book by contact id. "
            "Bulk: an import into the account, then each imported row is taken off the address book.",
            "unsub": "One contact: the address-book unsubscribe. "
            "Bulk: an import into the account, then each imported row is unsubscribed from the address book.",
            "date": "Stored in Date data fields at 00:00:00 UTC and read back as dates.",
            "names": "Data field names are upper-case at dotmailer; a client reads them back as the application "
            "spelled them to it (in ensure_fields or an import).",
            "events": "Book unsubscribes (unsubscribed-since) and account suppressions with their reason "
            "(suppressed-since); v2 records no resubscribe time.",
        },
        reads_members=True,
        member_dates=frozenset({"unsubscribed_at"}),
        event_types=frozenset({EventType.UNSUBSCRIBED, EventType.BOUNCED, EventType.COMPLAINED, EventType.BLOCKED}),
        events_by_list=True,
        deletes=frozenset({"contacts", "lists"}),
    )

    def __init__(
        self,
        username: str | None = None,
        password: str | None = None,
        *,
        region: str | None = None,
        base_url: str | None = None,
        discovery_url: str = DISCOVERY_URL,
        max_file_bytes: int = MAX_FILE_BYTES,
        **options: Unpack[ProviderOptions],
    ) -> None:
        username = username or os.environ.get("DOTMAILER_USERNAME")
        password = password or os.environ.get("DOTMAILER_PASSWORD")
        if not username or not password:
            raise ConfigurationError(
                "dotmailer needs an API user: username= and password= (or DOTMAILER_USERNAME / DOTMAILER_PASSWORD)"
            )
        check_credentials(self.name, username=username, password=password)
        if region is not None and base_url is not None:
            raise ConfigurationError("dotmailer: pass region= or base_url=, not both")
        if region is not None:
            if not isinstance(region, str) or region not in REGIONS:
                raise ConfigurationError(f"dotmailer: region must be one of {sorted(REGIONS)}, got {region!r}")
            base_url = REGIONS[region]
        self._discovery: str | None = None
        if base_url is None:
            suffix = "/v2/account-info"
            if not text(self.name, "discovery_url", discovery_url).rstrip("/").endswith(suffix):
                raise ConfigurationError(f"dotmailer: discovery_url must end with {suffix}, got {discovery_url!r}")
            base_url = discovery_url.rstrip("/")[: -len(suffix)]
            self._discovery = discovery_url
        self.max_file_bytes = whole_number(self.name, "max_file_bytes", max_file_bytes, 1024, MAX_FILE_BYTES)
        self._spellings: dict[str, str] = {}
        """Upper-case data field name -> the property name as the application spelled it to this client."""
        super().__init__(base_url=base_url, auth=BasicAuth(username, password), secrets=[username, password], **options)

    # -- the endpoint --------------------------------------------------------------------

    def api(self) -> Transport:
        """The transport for the account's endpoint, discovered on first use when no region was given."""
        if self._discovery is not None:
            self._discover(self._discovery)
        return self.transport

    def _discover(self, url: str) -> None:
        """Read ``ApiEndpoint`` from account-info and move the transport there (reference/dotmailer.md §7).

        The credentials go along, so only an endpoint dotdigital serves is taken: https on a
        dotdigital (or legacy dotmailer) host on the default port, or a URL under the base URL
        already in use (the sandbox's own, when discovery ran against a loopback sandbox).
        """
        info = structure(self.transport.json("GET", url), wire.AccountInfo)
        endpoint = info.property("ApiEndpoint")
        if not isinstance(endpoint, str) or not endpoint.strip():
            raise ProviderError("account-info has no ApiEndpoint property", provider=self.name)
        if not self._trusted_endpoint(endpoint.strip()):
            raise ProviderError(
                "account-info names an endpoint outside dotdigital's https hosts; no credentials are sent there",
                provider=self.name,
            )
        old = self.transport
        self.transport = old.with_base_url(endpoint.strip().rstrip("/"))
        old.close()
        self._discovery = None

    def _trusted_endpoint(self, endpoint: str) -> bool:
        if self.transport.is_api_url(endpoint.rstrip("/") + "/"):
            return True
        try:
            parts = urlsplit(endpoint)
            port = parts.port
        except ValueError:
            return False
        host = parts.hostname or ""
        # reference/dotmailer.md §7: *-api.dotdigital.com, and the legacy *-api.dotmailer.com hosts (S5, S6, S9)
        dotdigital = host.endswith((".dotdigital.com", ".dotmailer.com"))
        return parts.scheme == "https" and dotdigital and port in (None, 443) and parts.username is None

    @staticmethod
    def parse_error(response: Any) -> tuple[str, str | None]:
        """v2 ``{"message": "... ERROR_CODE"}``, v3 ``{"errorCode": ...}``; 404 bodies may not be JSON."""
        body = response.json()
        if not isinstance(body, dict):
            raise ValueError("not an error object")
        if "errorCode" in body:
            return str(body.get("description") or body["errorCode"]), str(body["errorCode"])
        try:
            error = structure(body, wire.ApiError)
        except Exception as exc:
            raise ValueError("not a v2 error body") from exc
        return error.message or (response.reason or f"HTTP {response.status_code}"), error.code

    # -- imports -----------------------------------------------------------------------

    def import_route(
        self, subscriptions: tuple[ListSubscription, ...], route: str, extra: Mapping[str, Any] | None
    ) -> ImportRoute:
        subscription = subscriptions[0] if subscriptions else None
        if subscription is not None:
            self._book_id(subscription.list_id)
        merge = self._merge_option(extra)
        known = {f.name.upper(): f for f in self.fields()}
        limits = BatchLimits(max_items=FILE_CONTACTS, max_bytes=int(self.max_file_bytes * _FILL))
        route_class = XlsxRoute if route == "xlsx" else CsvRoute
        return route_class(self, limits, subscription, merge, known)

    @staticmethod
    def _merge_option(extra: Mapping[str, Any] | None) -> str:
        options = dict(extra or {})
        value = options.pop("mergeOption", DEFAULT_MERGE)
        if options:
            raise InvalidInput(f"dotmailer imports take only 'mergeOption' in extra, not {sorted(options)}")
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(MERGE_OPTIONS):
            return MERGE_OPTIONS[value]
        if value not in MERGE_OPTIONS:
            raise InvalidInput(f"mergeOption must be one of {MERGE_OPTIONS} or 0-2, got {value!r}", field="mergeOption")
        return str(value)

    def raw_status(self, job_id: str) -> wire.ContactImport:
        """``GET /v2/contacts/import/{id}``, as the server wrote it."""
        return structure(self.api().json("GET", f"/v2/contacts/import/{path_segment(job_id)}"), wire.ContactImport)

    def fetch_status(self, job_id: str) -> ImportJob:
        """The import's status; ``Unknown`` is how dotmailer answers an id it does not know (NotFound).

        reference/dotmailer.md §2: "Unknown: ... may mean an invalid import ID"; whether REST
        answers that or ``ERROR_IMPORT_NOT_FOUND`` is UNCONFIRMED, so both raise NotFound.
        """
        try:
            record = self.raw_status(job_id)
        except ProviderError as exc:
            if exc.code != "ERROR_IMPORT_NOT_FOUND":
                raise
            raise NotFound(exc.message, provider=self.name, status=exc.status, code=exc.code) from None
        raw = record.status
        if raw == "Unknown":
            raise NotFound(f"dotmailer knows no import {job_id!r} (status Unknown)", provider=self.name)
        if raw != "Finished":
            return ImportJob(self.name, job_id, _STATUSES.get(raw, ImportStatus.UNKNOWN), raw)
        try:
            report = self.report(job_id)
        except ProviderError as exc:
            if exc.code != "ERROR_IMPORT_REPORT_NOT_FOUND":
                raise
            return ImportJob(self.name, job_id, ImportStatus.RUNNING, raw)  # finished, report not written yet
        errored = report.faults
        return ImportJob(
            self.name,
            job_id,
            ImportStatus.COMPLETED_WITH_ERRORS if errored else ImportStatus.COMPLETED,
            raw,
            created=report.new_contacts,
            updated=report.updated_contacts,
            errored=errored,
            finished_at=datetime.now(timezone.utc),
            extra={"report": unstructure(report)},
        )

    def report(self, job_id: str) -> wire.ImportReport:
        """``GET /v2/contacts/import/{id}/report``: the counts of a finished import."""
        path = f"/v2/contacts/import/{path_segment(job_id)}/report"
        return structure(self.api().json("GET", path), wire.ImportReport)

    def faults(self, job_id: str) -> list[wire.ImportFault]:
        """The rows of ``GET /v2/contacts/import/{id}/report-faults``."""
        response = self.api().request("GET", f"/v2/contacts/import/{path_segment(job_id)}/report-faults")
        if response.content.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
            message, code = self.parse_error(response)  # reference/dotmailer.md §3: JSON here is an error
            raise ProviderError(message, provider=self.name, status=response.status_code, code=code)
        return parse_faults(response.content)

    def part_errors(self, part: ImportJob) -> Iterator[ReportedError]:
        """The rows of report-faults (but those a follow-up resubscribed), and the rows a follow-up could not finish."""
        if part.id and part.errored:  # with nothing reported, there is no faults report to read
            resubscribed = set(part.extra.get("resubscribed") or ())
            for fault in self.faults(part.id):
                email = fault.email
                if email is not None and email.strip().lower() in resubscribed:
                    continue
                code = reason_code(fault.reason)
                yield ReportedError(
                    email,
                    f"dotmailer did not import the row: {fault.reason}",
                    field="email" if code == "InvalidEmail" else None,
                    code=code,
                )
        for email, message in dict(part.extra.get("unfinished") or {}).items():
            yield ReportedError(email, message, code="FollowUp")

    # -- the follow-ups of bulk actions (see _FileRoute.follow_up) -----------------------------

    def resubscribe_unsubscribed(self, part: ImportJob, list_id: str) -> ImportJob:
        """ADD_FORCE's follow-up: resubscribe and add, with their data, the rows the import reported Unsubscribed."""
        if not part.errored:
            return part
        done = []
        for fault in self.faults(part.id):
            email = fault.email
            if email is None or reason_code(fault.reason) != "Unsubscribed":
                continue
            pairs = [wire.DataFieldValue(name.upper(), value) for name, value in fault.cells if name != EMAIL_COLUMN]
            try:
                self._add(email.strip().lower(), self._book_id(list_id), force=True, data=tuple(pairs))
            except ProviderError:
                continue  # it stays reported with the import's reason (dotmailer cannot resubscribe it)
            done.append(email.strip().lower())
        if not done:
            return part
        errored = part.errored - len(done)
        extra: dict[str, Any] = {**part.extra, "resubscribed": tuple(done)}
        return attrs.evolve(
            part,
            status=part.status if errored else ImportStatus.COMPLETED,
            updated=None if part.updated is None else part.updated + len(done),
            accepted=part.accepted + len(done),
            errored=errored,
            extra=extra,
        )

    def apply_to_imported(self, part: ImportJob, emails: list[str], subscription: ListSubscription) -> ImportJob:
        """REMOVE and UNSUBSCRIBE follow-ups: each row the import took is taken off, or unsubscribed from, the book."""
        failed = {f.email.strip().lower() for f in self.faults(part.id) if f.email} if part.errored else set()
        unfinished: dict[str, str] = {}
        for email in emails:
            if email in failed:
                continue
            try:
                self.apply_subscriptions(email, (subscription,))
            except ProviderError as exc:
                unfinished[email] = (
                    f"imported, but dotmailer did not apply {subscription.action.value!r}: {exc.message}"
                )
        if not unfinished:
            return part
        extra: dict[str, Any] = {**part.extra, "unfinished": unfinished}
        return attrs.evolve(
            part,
            created=None,
            updated=None,
            accepted=part.accepted - len(unfinished),
            errored=part.errored + len(unfinished),
            status=ImportStatus.COMPLETED_WITH_ERRORS,
            extra=extra,
        )

    # -- lists, fields, contacts -----------------------------------------------------------

    def _raw_pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[Sequence[Any]]:
        """The pages of a list GET: ``select=1000``, ``skip`` growing until a short page (reference §9)."""

        def fetch(skip: int) -> list[Any]:
            return self.api().json("GET", path, params={**(params or {}), "select": PAGE, "skip": skip}) or []

        return offset_pages(fetch, PAGE, provider=self.name)

    def _pages(self, path: str, cls: type[T]) -> Iterator[T]:
        for page in self._raw_pages(path):
            yield from (structure(item, cls) for item in page)

    def iter_lists(self) -> Iterator[ContactList]:
        for book in self._pages("/v2/address-books", wire.AddressBook):
            yield ContactList(str(book.id), book.name)

    def check_list(self, list_id: str) -> None:
        """``GET /v2/address-books/{id}``: 404 ``ERROR_ADDRESSBOOK_NOT_FOUND`` raises NotFound."""
        self.api().json("GET", f"/v2/address-books/{self._book_id(list_id)}")

    def create_list(self, name: str) -> str:
        if not name or len(name) > 128:
            raise InvalidInput("dotmailer address book names are 1 to 128 characters", field="name")
        body = unstructure(wire.AddressBook(id=0, name=name, visibility="Private"))
        del body["id"]
        return str(structure(self.api().json("POST", "/v2/address-books", json=body), wire.AddressBook).id)

    def fields(self) -> list[FieldDefinition]:
        """The data fields, built-in ones (FIRSTNAME, ...) included, named as the application spells them."""
        found = self.api().json("GET", "/v2/data-fields") or []
        return [
            FieldDefinition(self._spellings.get(f.name.upper(), f.name), field_type_from_wire(f.type))
            for f in (structure(i, wire.DataField) for i in found)
        ]

    def check_property_name(self, name: str) -> None:
        """Data field names are 1 to 20 of ``[a-zA-Z0-9_-]``; FULLNAME and EMAIL are the name and the address."""
        wire_field_name(name)

    def spell(self, column: str, name: str) -> None:
        """Remember how the application spells the data field ``column`` (the first spelling this client meets).

        dotmailer stores names upper-case and ignores case, so another spelling of a field this
        client knows would read back spelled the first way: it raises UnrepresentableValue.
        """
        known = self._spellings.setdefault(column, name)
        if known != name and known.upper() != known:
            raise UnrepresentableValue(
                f"dotmailer field names ignore case; this client spells it {known!r}", field=name
            )
        if known != name:
            self._spellings[column] = name  # the stored upper-case name was all it knew: the application's wins

    def define_field(self, definition: FieldDefinition) -> FieldDefinition:
        column = wire_field_name(definition.name)
        self.spell(column, definition.name)
        return self.create_data_field(column, definition.type)

    def create_data_field(self, name: str, kind: FieldType) -> FieldDefinition:
        """``POST /v2/data-fields``; a field that already exists is read back instead."""
        body = unstructure(wire.DataField(name=name, type=field_type_to_wire(kind), visibility="Private"))
        try:
            created = structure(self.api().json("POST", "/v2/data-fields", json=body), wire.DataField)
        except ProviderError as exc:
            if exc.code != "ERROR_NON_UNIQUE_DATAFIELD":
                raise
            return next(f for f in self.fields() if f.name.upper() == name.upper())
        return FieldDefinition(
            self._spellings.get(created.name.upper(), created.name), field_type_from_wire(created.type)
        )

    def same_field_type(self, stored: FieldType, wanted: FieldType) -> bool:
        """dotmailer's Numeric holds integers too, and its Date holds dates and date-times."""
        widen = {FieldType.NUMBER: FieldType.INTEGER, FieldType.DATETIME: FieldType.DATE}
        return stored is wanted or widen.get(stored) is wanted

    def _contact(self, email: str) -> wire.ApiContact | None:
        try:
            body = self.api().json("GET", f"/v2/contacts/{quote(email, safe='@')}")
        except NotFound:
            return None
        return structure(body, wire.ApiContact)

    def get_contact(self, email: str) -> Contact | None:
        record = self._contact(Contact(email).email)
        if record is None:
            return None
        return stored_contact(record, {f.name.upper(): f for f in self.fields()})

    def get_subscriptions(self, email: str) -> list[Membership]:
        """The contact's address books; subscribed follows the contact's account-level status.

        v2 has no per-contact read of list-level unsubscribes: a book the contact
        unsubscribed from is not listed (docs/providers/dotmailer.rst).
        """
        record = self._contact(Contact(email).email)
        if record is None or record.id is None:
            return []
        subscribed = record.status in (None, "Subscribed")
        books = self._pages(f"/v2/contacts/{path_segment(record.id)}/address-books", wire.AddressBook)
        return [Membership(str(book.id), subscribed) for book in books]

    def apply_subscriptions(self, email: str, subscriptions: tuple[ListSubscription, ...]) -> None:
        for sub in subscriptions:
            book = path_segment(self._book_id(sub.list_id))
            if sub.action in (SubscriptionAction.ADD_NO_FORCE, SubscriptionAction.ADD_FORCE):
                self._add(email, book, force=sub.action is SubscriptionAction.ADD_FORCE)
            elif sub.action is SubscriptionAction.REMOVE:
                record = self._contact(email)
                if record is not None and record.id is not None:
                    with contextlib.suppress(NotFound):  # not in the book: nothing to remove
                        self.api().request("DELETE", f"/v2/address-books/{book}/contacts/{path_segment(record.id)}")
            else:
                body = {"email": email}
                self.api().json("POST", f"/v2/address-books/{book}/contacts/unsubscribe", json=body, safe=True)

    def _add(self, email: str, book: str, *, force: bool, data: tuple[wire.DataFieldValue, ...] = ()) -> None:
        """Add to a book (``book``: its id as a path segment; with ``data``); a suppressed contact is left
        (addnoforce) or resubscribed with no challenge (addforce)."""
        body = unstructure(wire.ApiContact(email=email, data_fields=data or None))
        for _ in range(3):
            try:
                self.api().json("POST", f"/v2/address-books/{book}/contacts", json=body, safe=True)
                return
            except ProviderError as exc:
                if exc.code not in _SUPPRESSED:
                    raise
                if not force:
                    return  # addnoforce: a suppressed contact stays as it is
                path = (
                    f"/v2/address-books/{book}/contacts/resubscribe-with-no-challenge"
                    if exc.code == "ERROR_CONTACT_SUPPRESSEDFORADDRESSBOOK"
                    else "/v2/contacts/resubscribe-with-no-challenge"
                )
                request = unstructure(wire.Resubscription(wire.ApiContact(email=email)))
                result = structure(self.api().json("POST", path, json=request), wire.ResubscribeResult)
                if result.status != "ContactAdded":
                    message = f"dotmailer did not resubscribe {email}: {result.status}"
                    raise ProviderError(message, provider=self.name, code=result.status) from None
        raise ProviderError(f"dotmailer still reports {email} suppressed after resubscribing", provider=self.name)

    def _book_id(self, list_id: str) -> str:
        """An address book id: a number; any other id names no book (NotFound)."""
        if not (list_id.isascii() and list_id.isdigit()):
            raise NotFound(f"dotmailer has no address book {list_id!r}: its ids are numbers", provider=self.name)
        return list_id

    # -- read-back and deletes ----------------------------------------------------------------

    def _book(self, list_id: str) -> str:
        """The address book id, checked to exist (NotFound otherwise)."""
        book = self._book_id(str(list_id))
        self.api().json("GET", f"/v2/address-books/{path_segment(book)}")
        return book

    def _since(self, path: str, since: str) -> Iterator[tuple[wire.ContactSuppression, Any]]:
        """The ``ApiContactSuppression`` records of an ``.../unsubscribed-since`` or ``suppressed-since`` read."""
        for page in self._raw_pages(f"{path}/{quote(since, safe=':+')}"):
            for raw in page:
                yield structure(raw, wire.ContactSuppression), raw

    def members(self, list_id: str) -> Iterator[ListMember]:
        """The book's members with full data, in the order dotdigital lists them, then those who unsubscribed
        from it (which the book no longer lists) with their ``dateRemoved``.

        ``subscribed`` is False for a contact that unsubscribed from the book or whose account status is not
        ``Subscribed``. The book's unsubscribes are held in memory while its members stream by.
        """
        return self._members(self._book(list_id))

    def _members(self, book: str) -> Iterator[ListMember]:
        fields = {f.name.upper(): f for f in self.fields()}
        gone: dict[str, tuple[datetime | None, wire.ContactSuppression]] = {}
        for record, _ in self._since(f"/v2/address-books/{book}/contacts/unsubscribed-since", EVERYTHING):
            if record.suppressed_contact is not None:
                gone[record.suppressed_contact.email.lower()] = (parse_removed(record.date_removed), record)
        path = f"/v2/address-books/{book}/contacts"
        for page in read_ahead(self._raw_pages(path, {"withFullData": "true"})):
            for raw in page:
                stored = contact_record(raw)
                left = gone.pop(stored.email.lower(), None)
                member = self._member(stored, fields, left[0] if left else None)
                if member is not None:
                    yield member
        for when, found in read_ahead(self._unsubscribed_data(gone.values())):
            member = self._member(found, fields, when)
            if member is not None:
                yield attrs.evolve(member, subscribed=False)

    def _unsubscribed_data(
        self, gone: Iterable[tuple[datetime | None, wire.ContactSuppression]]
    ) -> Iterator[tuple[datetime | None, wire.ApiContact]]:
        """Each book unsubscribe's contact with its data, read by id (the suppression record has none)."""
        for when, record in gone:
            found = record.suppressed_contact
            if found is None:
                continue
            if found.id:
                # reference §4: a suppressed contact cannot be read; one unsubscribed from a book can.
                with contextlib.suppress(NotFound):
                    found = structure(self.api().json("GET", f"/v2/contacts/{path_segment(found.id)}"), wire.ApiContact)
            yield when, found

    def _member(
        self, record: wire.ApiContact, fields: Mapping[str, FieldDefinition], unsubscribed_at: datetime | None
    ) -> ListMember | None:
        try:
            return member_from_wire(record, stored_contact(record, fields), unsubscribed_at)
        except InvalidInput as exc:
            log.warning("dotmailer: contact %s cannot be read back, skipped: %s", record.id, exc)
            return None

    def fetch_events(self, since: datetime, list_id: str | None) -> Iterator[ContactEvent]:
        """Each book's unsubscribes (of ``list_id``, or of every book in list order), then the account's
        suppressions (every reason), each read oldest first in the sandbox (the server's order is unstated)."""
        books = [self._book(list_id)] if list_id is not None else [item.id for item in self.iter_lists()]
        return self._events(since, books)

    def _events(self, since: datetime, books: list[str]) -> Iterator[ContactEvent]:
        date = since.strftime("%Y-%m-%dT%H:%M:%S+00:00")  # reference §9: S5's form, UTC
        reads = [(f"/v2/address-books/{b}/contacts/unsubscribed-since", b) for b in books]
        for path, book in [*reads, ("/v2/contacts/suppressed-since", None)]:
            for record, raw in self._since(path, date):
                event = suppression_event(record, raw, book)
                if event.at is None or event.at >= since:
                    yield event

    def erase_contacts(self, emails: Sequence[str]) -> None:
        """``DELETE /v2/contacts/{id}`` (204) by contact id: looked up by email, or for a suppressed contact
        (which cannot be read, reference §4) in the account's suppressions; unknown addresses are skipped."""
        ids: list[int] = []
        missing = set()
        for email in emails:
            record = self._contact(email)
            if record is not None and record.id:
                ids.append(record.id)
            else:
                missing.add(email)
        if missing:
            for found, _ in self._since("/v2/contacts/suppressed-since", EVERYTHING):
                contact = found.suppressed_contact
                if contact is not None and contact.id and contact.email.lower() in missing:
                    ids.append(contact.id)
                    missing.discard(contact.email.lower())
        for contact_id in ids:
            with contextlib.suppress(NotFound):  # deleted meanwhile
                self.api().request("DELETE", f"/v2/contacts/{path_segment(contact_id)}")

    def delete_list(self, list_id: str) -> None:
        """``DELETE /v2/address-books/{id}``: any 2xx (the sources say 200 or 204, §11); the contacts stay."""
        self.api().request("DELETE", f"/v2/address-books/{path_segment(self._book_id(str(list_id)))}")
