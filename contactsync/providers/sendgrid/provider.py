"""SendGrid (v3 Marketing Campaigns) joined to the transport: routes, job status, lists, fields, subscriptions."""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from typing_extensions import Unpack

from contactsync import jsonplan
from contactsync.batching import Batch, BatchLimits
from contactsync.csvio import csv_row
from contactsync.errors import (
    ConfigurationError,
    InvalidInput,
    ProviderError,
    RouteCannotCarry,
    UnrepresentableValue,
    UnsupportedAction,
)
from contactsync.http import BearerAuth, path_segment
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
    SubscriptionAction,
)
from contactsync.provider import Capabilities, ImportRoute, Provider, ProviderOptions, ReportedError, merge_extra
from contactsync.providers.sendgrid import suppressions
from contactsync.providers.sendgrid.errorsfile import parse_errors_file
from contactsync.providers.sendgrid.exports import export_rows, run_export
from contactsync.providers.sendgrid.membership import SEARCH_LIMIT, Memberships, chunks
from contactsync.providers.sendgrid.translate import (
    MAX_TEXT_BYTES,
    Booleans,
    ExportColumns,
    FieldBook,
    Formatter,
    cell_formatter,
    contact_from_wire,
    contact_json,
    converter,
    custom_value,
    field_type_from_wire,
    field_type_to_wire,
    infer_field_type,
    is_reserved_name,
    job_from_wire,
    json_conversion,
    json_record,
    member_from_wire,
    property_name_problem,
    split_name,
    suppression_event,
    wire_fields,
)
from contactsync.providers.sendgrid.wire import (
    CreateField,
    CreateGroup,
    CreateList,
    ErrorBody,
    FieldDefinitions,
    FieldRecord,
    ImportRequest,
    ImportResponse,
    JobRecord,
    ListPage,
    ListRecord,
    UnsubscribeGroup,
    UpsertResponse,
    WireFieldType,
)
from contactsync.settings import check_credentials, flag, whole_number

__all__ = ["CsvRoute", "JsonRoute", "SendGridProvider", "UnsubscribeGroup"]

log = logging.getLogger("contactsync.providers.sendgrid")

JSON_LIMITS = BatchLimits(max_items=30_000, max_bytes=6_000_000, separator=1)
"""reference/sendgrid.md §3: 30,000 contacts or 6 MB per upsert (6 MB read as 10^6 bytes, the safer reading)."""
CSV_LIMITS = BatchLimits(max_items=25_000, max_bytes=8_000_000, overhead=100_000)
"""reference/sendgrid.md §1 allows one million contacts or 5 GB per import; we send files of at most 25,000
contacts and 8 MB of CSV, so that an import holds the same memory from 100,000 contacts up and SendGrid starts
on the first file sooner (the overhead leaves room for the header)."""

_MAX_PLANS = 1024
"""Distinct sets of property names a route keeps a plan for (inputs have a handful)."""

_BASE_ACTIONS = frozenset({SubscriptionAction.ADD_FORCE, SubscriptionAction.ADD_NO_FORCE, SubscriptionAction.REMOVE})
_NOTES = {
    SubscriptionAction.UNSUBSCRIBE.value: (
        "SendGrid has no per-list unsubscribe: use REMOVE to take the contact off the list, or connect with "
        "unsubscribe_groups={list_id: asm_group_id} (a group suppression per list) or global_unsubscribe=True "
        "(a global suppression)."
    ),
    SubscriptionAction.ADD_FORCE.value: (
        "Deletes the contact's global suppression and the list's mapped group suppression, then adds it to the list."
    ),
    SubscriptionAction.ADD_NO_FORCE.value: "Adds to the list through the upsert's list_ids; suppressions stay.",
    SubscriptionAction.REMOVE.value: "Deletes the list membership by contact id; the contact stays.",
    "booleans": 'No boolean type: refused unless connected with booleans="text" or booleans="number".',
    "events": "Unsubscribes, bounces, spam reports and blocks by time (the suppression lists); a resubscribe "
    "deletes a suppression and leaves no record. Group unsubscribes are a list's only for lists mapped "
    "in unsubscribe_groups.",
}


def _capabilities(unsubscribe: bool, groups: bool = False) -> Capabilities:
    """The capabilities of a client configured with (or without) unsubscribe groups or global unsubscribes.

    No boolean type either way: a ``booleans`` policy is a mapping the user configured, and the
    values read back as the text or number they were stored as.
    """
    actions = _BASE_ACTIONS | {SubscriptionAction.UNSUBSCRIBE} if unsubscribe else _BASE_ACTIONS
    return Capabilities(
        actions=frozenset(actions),
        field_types=frozenset(
            {FieldType.TEXT, FieldType.INTEGER, FieldType.NUMBER, FieldType.DATE, FieldType.DATETIME}
        ),
        routes={"json": JSON_LIMITS, "csv": CSV_LIMITS},
        file_route_from=JSON_LIMITS.max_items + 1,
        dates_at_midnight=True,
        max_text=MAX_TEXT_BYTES // 4,  # reference §4: 32,766 bytes; four bytes a character at worst
        notes=_NOTES,
        reads_members=True,
        member_dates=frozenset({"unsubscribed_at"}),
        event_types=frozenset({EventType.UNSUBSCRIBED, EventType.BOUNCED, EventType.COMPLAINED, EventType.BLOCKED}),
        events_by_list=groups,
        deletes=frozenset({"contacts", "lists"}),
    )


class _SendGridRoute(ImportRoute):
    """What both routes share: the field book, creating missing custom fields, and subscription calls."""

    def __init__(
        self,
        provider: SendGridProvider,
        subscriptions: tuple[ListSubscription, ...],
        extra: Mapping[str, Any] | None,
        limits: BatchLimits,
    ) -> None:
        super().__init__(limits)
        self.provider = provider
        self.subscriptions = subscriptions
        self.extra = extra
        self.book = provider.field_book()
        self.memberships = provider.memberships()
        self.list_ids = Memberships.list_ids(subscriptions) or None

    def create_fields(self, contact: Contact) -> bool:
        """Create any custom field the contact brings that the account lacks (typed from its value); True if any.

        Another import may create the same field at the same moment: the stored one is then used.
        """
        created = False
        for name, value in contact.properties.items():
            if self.book.custom_exact(name) is not None or is_reserved_name(name) or self.book.custom(name) is not None:
                continue
            kind = infer_field_type(name, value, self.provider.booleans)
            if kind is None:
                continue
            self.provider.check_property_name(name)
            custom_value(FieldRecord("", name, kind), name, value, self.provider.booleans)  # refused: no field made
            self.book.add(self.provider.custom_field(name, kind))
            created = True
        return created

    def part(self, job_id: str, batch: Batch) -> ImportJob:
        """A freshly submitted job, before its first status fetch."""
        return ImportJob(self.provider.name, job_id, ImportStatus.PENDING, "pending", requested=len(batch))


class JsonRoute(_SendGridRoute):
    """``PUT /v3/marketing/contacts``: up to 30,000 contacts as JSON; 202 with a job id."""

    name = "json"
    resubmit_safe = True  # an upsert by email with list ids: a second job changes nothing

    def __init__(
        self, provider: SendGridProvider, subscriptions: tuple[ListSubscription, ...], extra: Mapping[str, Any] | None
    ) -> None:
        limits = provider.capabilities.routes[self.name]  # JSON_LIMITS unless an instance narrows them
        super().__init__(provider, subscriptions, extra, limits)
        meta = merge_extra({"list_ids": self.list_ids} if self.list_ids else {}, extra)
        head = json.dumps(meta, separators=(",", ":"))[:-1]
        self._head = (head + ("," if meta else "") + '"contacts":[').encode()
        self.limits = BatchLimits(limits.max_items, limits.max_bytes, len(self._head) + 2, 1)
        self._json = jsonplan.JsonPlans(self._step, json_record)

    def encode(self, contact: Contact) -> bytes:
        encoded = self._json.encode(contact)
        if encoded is not None:
            return encoded
        if self.create_fields(contact):
            self._json.forget()
        return contact_json(contact, self.book, self.provider.booleans)

    def _step(self, name: str, kind: type) -> tuple[str, jsonplan.Conversion] | None:
        record = self.book.custom_exact(name)
        conversion = None if record is None else json_conversion(record, kind, self.provider.booleans)
        return None if record is None or conversion is None else (record.id, conversion)

    def payload(self, batch: Batch) -> bytes:
        """The request body for ``batch``."""
        return self._head + b",".join(batch.items) + b"]}"

    def submit(self, batch: Batch) -> ImportJob:
        self.memberships.before_upsert(batch.emails, self.subscriptions)
        body = self.payload(batch)
        data = self.provider.transport.json(
            "PUT", "/v3/marketing/contacts", data=body, headers={"Content-Type": "application/json"}
        )
        job_id = converter.structure(data, UpsertResponse).job_id
        self.memberships.after_upsert(batch.emails, self.subscriptions)
        return self.part(job_id, batch)


class CsvRoute(_SendGridRoute):
    """``PUT /v3/marketing/contacts/imports`` then a raw PUT of the gzipped CSV to the presigned ``upload_uri``.

    Columns are field ids; a column appears when a contact first brings it, so rows
    encoded earlier are padded with empty cells when their batch is sent.
    """

    name = "csv"

    def __init__(
        self, provider: SendGridProvider, subscriptions: tuple[ListSubscription, ...], extra: Mapping[str, Any] | None
    ) -> None:
        super().__init__(provider, subscriptions, extra, CSV_LIMITS)
        self.columns: dict[str, int] = {}
        """Wire key (reserved field name or custom field id) -> column number."""
        self.fields: list[tuple[str, str]] = []
        """(field id, field name) of each column, in column order."""
        self._column("email")
        self._plans: dict[tuple[str, ...], list[tuple[FieldRecord, Formatter]] | None] = {}
        """Per set of property names: each one's field and formatter, or None when one is not a plain custom field."""

    def plan(self, names: tuple[str, ...]) -> list[tuple[FieldRecord, Formatter]] | None:
        """The remembered plan for contacts with these property names; made (and remembered) on first use."""
        if names in self._plans:
            return self._plans[names]
        records = [self.book.custom_exact(name) for name in names]
        plan = None
        if all(records):
            booleans = self.provider.booleans
            plan = [(r, cell_formatter(r, booleans)) for r in records if r is not None]
        if len(self._plans) >= _MAX_PLANS:
            self._plans.clear()
        self._plans[names] = plan
        return plan

    def _column(self, key: str) -> int:
        at = self.columns.get(key)
        if at is not None:
            return at
        record = self.book.by_id.get(key) or self.book.reserved.get(key)
        if record is None:
            raise RouteCannotCarry(
                "the account lists no field id for this field: the CSV route cannot map it", field=key
            )
        self.fields.append((record.id, record.name))
        at = self.columns[key] = len(self.fields) - 1
        return at

    def encode(self, contact: Contact) -> bytes:
        names = tuple(contact.properties)
        plan = self._plans.get(names)
        row = self._fast(contact, plan) if plan is not None else None
        if row is None:
            row = self._general(contact)
            self.plan(names)
        return csv_row(row, "\n").encode()

    def _fast(self, contact: Contact, plan: list[tuple[FieldRecord, Formatter]]) -> list[str] | None:
        """The cells of a contact whose properties are all plain custom fields with columns, or None."""
        row = [""] * len(self.fields)
        row[0] = contact.email
        if contact.name is not None:
            parts = split_name(contact.name)
            first, last = self.columns.get("first_name"), self.columns.get("last_name")
            if parts is None or not parts[0] or first is None or last is None:
                return None
            row[first], row[last] = parts
        columns = self.columns
        for (record, formatter), value in zip(plan, contact.properties.values(), strict=False):
            cell = formatter(value)
            at = columns.get(record.id)
            if cell is None or at is None:
                return None
            row[at] = cell
        return row

    def _general(self, contact: Contact) -> list[str]:
        """The cells of any contact, adding columns for fields it is the first to bring."""
        self.create_fields(contact)
        reserved, custom = wire_fields(contact, self.book, self.provider.booleans)
        cells: dict[int, str] = {}
        for key, value in itertools.chain(reserved.items(), custom.items()):
            if value == "" and not (key == "last_name" and contact.name):
                # reference/sendgrid.md §1: what an empty CSV cell does is undocumented; the JSON route clears
                raise RouteCannotCarry("the SendGrid CSV route cannot clear a field", field=key)
            cells[self._column(key)] = value if type(value) is str else _cell(value)
        return [cells.get(i, "") for i in range(len(self.fields))]

    def _file(self, batch: Batch) -> tuple[list[str], bytes]:
        """The field ids of the file's columns for ``batch``, and the gzipped file.

        Rows encoded before a column appeared hold fewer cells; they are padded.
        """
        fields = list(self.fields)
        if _cells(batch.items[0]) == len(fields):  # rows only gain cells, so every row of the batch is full
            body = b"".join(batch.items)
        else:
            widths = [_cells(item) for item in batch.items]
            fields = fields[: max(widths)]
            body = b"".join(
                item if cells == len(fields) else item[:-1] + b"," * (len(fields) - cells) + b"\n"
                for item, cells in zip(batch.items, widths, strict=True)
            )
        header = io.StringIO()
        csv.writer(header, lineterminator="\n").writerow([name for _, name in fields])
        return [field_id for field_id, _ in fields], gzip.compress(
            header.getvalue().encode() + body, compresslevel=5, mtime=0
        )

    def payload(self, batch: Batch) -> bytes:
        """The gzipped CSV file for ``batch``."""
        return self._file(batch)[1]

    def submit(self, batch: Batch) -> ImportJob:
        self.memberships.before_upsert(batch.emails, self.subscriptions)
        field_ids, payload = self._file(batch)
        request = ImportRequest(field_mappings=list[str | None](field_ids), list_ids=self.list_ids)
        body = merge_extra(converter.unstructure(request), self.extra)
        data = self.provider.transport.json("PUT", "/v3/marketing/contacts/imports", json=body)
        answer = converter.structure(data, ImportResponse)
        # The presigned URL is outside the API: the transport sends it no Authorization header.
        headers = {h.header: h.value for h in answer.upload_headers}
        self.provider.transport.request("PUT", answer.upload_uri, data=payload, headers=headers)
        self.memberships.after_upsert(batch.emails, self.subscriptions)
        return self.part(answer.job_id, batch)


def _group_map(groups: object) -> dict[str, int]:
    """``unsubscribe_groups`` checked: list ids to unsubscribe group ids (whole numbers from 1; reference §12a)."""
    if groups is None:
        return {}
    if not isinstance(groups, Mapping):
        raise ConfigurationError(
            f"sendgrid: unsubscribe_groups must map list ids to group ids, not {type(groups).__name__}"
        )
    mapped = {}
    for list_id, group in groups.items():
        if not isinstance(list_id, (str, int)) or isinstance(list_id, bool):
            raise ConfigurationError(f"sendgrid: unsubscribe_groups keys are list ids, not {type(list_id).__name__}")
        mapped[str(list_id)] = whole_number("sendgrid", f"unsubscribe_groups[{str(list_id)!r}]", group, 1)
    return mapped


def _cells(row: bytes) -> int:
    """How many cells one encoded CSV row holds (a quote means parsing it; commas alone can be counted)."""
    if b'"' in row:
        return len(next(csv.reader(io.StringIO(row.decode("utf-8"), newline=""))))
    return row.count(b",") + 1


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)
    return str(value)


class SendGridProvider(Provider):
    """SendGrid v3 Marketing Campaigns contacts, lists and suppressions.

    ``booleans`` chooses how booleans are stored (SendGrid has none): refused by
    default, ``"text"`` ("true"/"false") or ``"number"`` (1/0). UNSUBSCRIBE needs
    ``unsubscribe_groups={list_id: asm_group_id}`` or ``global_unsubscribe=True``;
    ``capabilities`` is computed for this configuration.
    """

    name = "sendgrid"
    default_base_url = "https://api.sendgrid.com"
    capabilities = _capabilities(unsubscribe=False)

    def __init__(
        self,
        api_key: str | None = None,
        *,
        booleans: Booleans = None,
        unsubscribe_groups: Mapping[str, int] | None = None,
        global_unsubscribe: bool = False,
        base_url: str | None = None,
        **options: Unpack[ProviderOptions],
    ) -> None:
        key = api_key or os.environ.get("SENDGRID_API_KEY")
        if not key:
            raise ConfigurationError("sendgrid needs an API key: pass api_key= or set SENDGRID_API_KEY")
        check_credentials(self.name, api_key=key)
        if booleans not in (None, "text", "number"):
            raise ConfigurationError(f'sendgrid: booleans must be None, "text" or "number", not {booleans!r}')
        groups = _group_map(unsubscribe_groups)
        unsubscribe_all = flag(self.name, "global_unsubscribe", global_unsubscribe)
        super().__init__(
            base_url=base_url or self.default_base_url,
            auth=BearerAuth(key),
            secrets=[key],
            **options,
        )
        self.booleans: Booleans = booleans
        self.list_groups = groups
        """The ``unsubscribe_groups`` setting: list id -> unsubscribe group id."""
        self.global_unsubscribe = unsubscribe_all
        # The actions this configuration applies exactly; an instance attribute shadowing the class default.
        self.capabilities = _capabilities(
            unsubscribe=bool(self.list_groups) or self.global_unsubscribe, groups=bool(self.list_groups)
        )

    def check_actions(self, subscriptions: Sequence[ListSubscription], *, bulk: bool = True) -> None:
        """Also refuse UNSUBSCRIBE from a list that has no group mapped when global unsubscribes are off."""
        super().check_actions(subscriptions, bulk=bulk)
        for sub in subscriptions:
            if (
                sub.action is SubscriptionAction.UNSUBSCRIBE
                and sub.list_id not in self.list_groups
                and not self.global_unsubscribe
            ):
                raise UnsupportedAction(
                    f"sendgrid cannot unsubscribe from list {sub.list_id}: unsubscribe_groups maps no group to it "
                    "and global_unsubscribe is off. Map it to an unsubscribe group, or use REMOVE."
                )

    # -- hooks ----------------------------------------------------------------------------

    @staticmethod
    def parse_error(response: Any) -> tuple[str, str | None]:
        """``{"errors": [{"field", "message", ...}]}``: messages joined, the first field as the code."""
        body = converter.structure(response.json(), ErrorBody)
        if not body.errors:
            raise ValueError("no errors in the body")
        message = "; ".join(f"{e.field}: {e.message}" if e.field else e.message for e in body.errors)
        first = body.errors[0]
        return message, first.error_id or first.field

    def import_route(
        self, subscriptions: tuple[ListSubscription, ...], route: str, extra: Mapping[str, Any] | None
    ) -> ImportRoute:
        if route == "csv":
            return CsvRoute(self, subscriptions, extra)
        return JsonRoute(self, subscriptions, extra)

    def fetch_status(self, job_id: str) -> ImportJob:
        data = self.transport.json("GET", f"/v3/marketing/contacts/imports/{path_segment(job_id)}")
        return job_from_wire(converter.structure(data, JobRecord))

    def part_errors(self, part: ImportJob) -> Iterator[ReportedError]:
        url = part.extra.get("errors_url") or self.fetch_status(part.id).extra.get("errors_url")
        if not url:
            return
        # reference/sendgrid.md §6: likely presigned; the transport adds our key only to the API's own URLs.
        response = self.transport.request("GET", self.transport.url(str(url)))
        yield from parse_errors_file(response.content.decode("utf-8-sig", errors="replace"))

    def iter_lists(self) -> Iterator[ContactList]:
        url: str | None = "/v3/marketing/lists?page_size=1000"
        while url:
            page = converter.structure(self.transport.json("GET", self.transport.url(url)), ListPage)
            yield from (ContactList(r.id, r.name) for r in page.result)
            url = page.metadata.next if page.result else None

    def check_list(self, list_id: str) -> None:
        """``GET /v3/marketing/lists/{id}``: 404 raises NotFound."""
        self.transport.json("GET", f"/v3/marketing/lists/{path_segment(list_id)}")

    def create_list(self, name: str) -> str:
        data = self.transport.json("POST", "/v3/marketing/lists", json=converter.unstructure(CreateList(name)))
        return converter.structure(data, ListRecord).id

    def field_book(self) -> FieldBook:
        """The account's field definitions, fetched now."""
        data = self.transport.json("GET", "/v3/marketing/field_definitions")
        return FieldBook.from_wire(converter.structure(data, FieldDefinitions))

    def fields(self) -> list[FieldDefinition]:
        """The custom fields and SendGrid's reserved ones (first_name, city, ...; reference §4)."""
        book = self.field_book()
        records = [*book.reserved.values(), *book.by_id.values()]
        return [FieldDefinition(r.name, field_type_from_wire(r.field_type)) for r in records]

    def check_property_name(self, name: str) -> None:
        """Reserved names only as SendGrid spells them, and never the address, name or read-only fields."""
        problem = property_name_problem(name)
        if problem is not None:
            raise UnrepresentableValue(problem, field=name)

    def create_field_record(self, request: CreateField) -> FieldRecord:
        """``POST /v3/marketing/field_definitions``; the stored record (with its id)."""
        data = self.transport.json("POST", "/v3/marketing/field_definitions", json=converter.unstructure(request))
        return converter.structure(data, FieldRecord)

    def custom_field(self, name: str, kind: WireFieldType) -> FieldRecord:
        """The custom field ``name``: created, or read back when it exists already (with a type that fits)."""
        try:
            return self.create_field_record(CreateField(name, kind))
        except ProviderError:
            stored = self.field_book().custom(name)
            if stored is None:
                raise
        if stored.field_type is not kind:
            raise UnrepresentableValue(
                f"SendGrid already has this field as {stored.field_type.value}, not {kind.value}", field=name
            )
        return stored

    def define_field(self, definition: FieldDefinition) -> FieldDefinition:
        kind = field_type_to_wire(definition.type, self.booleans, definition.name)
        record = self.create_field_record(CreateField(definition.name, kind))
        return FieldDefinition(record.name, field_type_from_wire(record.field_type))

    def same_field_type(self, stored: FieldType, wanted: FieldType) -> bool:
        """Number serves integers, Date serves datetimes, and booleans go where the policy puts them."""
        if wanted is FieldType.BOOLEAN:
            return self.booleans is not None and stored is field_type_from_wire(
                field_type_to_wire(wanted, self.booleans, "")
            )
        return stored is field_type_from_wire(field_type_to_wire(wanted, self.booleans, ""))

    def memberships(self) -> Memberships:
        """The subscription helper for this client's unsubscribe configuration."""
        return Memberships(self.transport, self.list_groups, self.global_unsubscribe)

    def get_contact(self, email: str) -> Contact | None:
        found = self.memberships().search([Contact(email).email])
        if not found:
            return None
        return contact_from_wire(next(iter(found.values())), self.field_book())

    def get_subscriptions(self, email: str) -> list[Membership]:
        address = Contact(email).email
        helper = self.memberships()
        found = helper.search([address])
        if not found:
            return []
        details = next(iter(found.values()))
        globally = helper.is_globally_suppressed(address)
        groups = helper.suppressed_groups(address) if self.list_groups and not globally else set()
        return [
            Membership(list_id, subscribed=not globally and self.list_groups.get(list_id) not in groups)
            for list_id in details.list_ids
        ]

    def apply_subscriptions(self, email: str, subscriptions: tuple[ListSubscription, ...]) -> None:
        helper = self.memberships()
        helper.before_upsert([email], subscriptions)
        list_ids = Memberships.list_ids(subscriptions)
        if list_ids:
            body = {"list_ids": list_ids, "contacts": [{"email": email}]}
            answer = converter.structure(
                self.transport.json("PUT", "/v3/marketing/contacts", json=body), UpsertResponse
            )
            job = self.wait(answer.job_id, timeout=600)
            if job.status is not ImportStatus.COMPLETED:
                raise ProviderError(
                    f"adding {email} to lists {list_ids} ended {job.provider_status}", provider=self.name
                )
        helper.after_upsert([email], subscriptions)

    # -- read-back, deletes and unsubscribe groups -------------------------------------------

    def _list_exists(self, list_id: str) -> None:
        """Raise NotFound unless ``list_id`` is a list of the account."""
        self.transport.json("GET", f"/v3/marketing/lists/{path_segment(list_id)}")

    def members(self, list_id: str) -> Iterator[ListMember]:
        """The list's members from an export (reference §9): its files in order, each in the order written.

        SendGrid lists hold no subscription state: a member is unsubscribed when a global
        suppression, or one in the group ``unsubscribe_groups`` maps the list to, names it;
        ``unsubscribed_at`` is when that suppression was made (the earlier of the two).
        ``subscribed_at`` is unknown. The suppressions are read into memory once (they are
        the account's, whatever the list's size); the export files are streamed.
        """
        self._list_exists(list_id)
        return self._members(str(list_id))

    def _unsubscribed(self, list_id: str) -> dict[str, datetime]:
        """Address -> the earliest suppression that unsubscribes it from ``list_id``."""
        found: dict[str, datetime] = {}
        events = [suppression_event("unsubscribes", e.email, e.created, raw) for e, raw in self._global_entries()]
        group = self.list_groups.get(list_id)
        if group is not None:
            events += [
                suppression_event("group", e.email, e.created_at, raw)
                for e, raw in suppressions.group_suppressions(self.transport)
                if e.group_id == group
            ]
        for event in events:
            if event.email is not None and event.at is not None:
                found[event.email] = min(found.get(event.email, event.at), event.at)
        return found

    def _global_entries(self, start: int | None = None) -> Iterator[Any]:
        return suppressions.suppression_entries(self.transport, "unsubscribes", start)

    def _members(self, list_id: str) -> Iterator[ListMember]:
        book = self.field_book()
        status = run_export(self.transport, [list_id], self.poll_interval)
        unsubscribed = self._unsubscribed(list_id)
        for url in status.urls:
            rows = export_rows(self.transport, url)
            columns = ExportColumns(next(rows, []), book)
            for row in rows:
                try:
                    contact = contact_from_wire(columns.details(row), book)
                except InvalidInput as exc:
                    log.warning("sendgrid: a member of list %s cannot be read back, skipped: %s", list_id, exc)
                    continue
                yield member_from_wire(contact, unsubscribed.get(contact.email))

    def fetch_events(self, since: datetime, list_id: str | None) -> Iterator[ContactEvent]:
        """Global unsubscribes, group unsubscribes, bounces, spam reports, then blocks, each list in SendGrid's
        order (unstated; the sandbox's is oldest first).

        A group unsubscribe carries the list ``unsubscribe_groups`` maps the group to (None for a group
        mapped to no list, reported only without ``list_id``); the others are account-wide.
        """
        if list_id is not None:
            self._list_exists(list_id)
        return self._events(int(since.timestamp()), None if list_id is None else str(list_id))

    def _events(self, start: int, list_id: str | None) -> Iterator[ContactEvent]:
        for kind in suppressions.LISTS:
            if kind == "bounces":  # group unsubscribes come after the global ones
                yield from self._group_events(start, list_id)
            for entry, raw in suppressions.suppression_entries(self.transport, kind, start):
                yield suppression_event(kind, entry.email, entry.created, raw, reason=entry.reason)

    def _group_events(self, start: int, list_id: str | None) -> Iterator[ContactEvent]:
        lists_of = {group: mapped for mapped, group in self.list_groups.items()}
        for entry, raw in suppressions.group_suppressions(self.transport):
            mapped = lists_of.get(entry.group_id)
            if entry.created_at < start or (list_id is not None and mapped != list_id):
                continue
            reason = f"unsubscribe group {entry.group_name or entry.group_id}"
            yield suppression_event("group", entry.email, entry.created_at, raw, list_id=mapped, reason=reason)

    def erase_contacts(self, emails: Sequence[str]) -> None:
        """Search the contact ids by email, delete them (an asynchronous job, waited for), then check they are gone.

        reference §11: ``DELETE /v3/marketing/contacts?ids=`` (100 ids a call, our choice); its job is
        polled at ``/contacts/imports/{id}``. Suppressions are not touched (they are kept apart, §5).
        """
        helper = self.memberships()
        found = helper.search(emails)
        jobs = []
        for chunk in chunks([c.id for c in found.values()], SEARCH_LIMIT):
            answer = self.transport.json("DELETE", "/v3/marketing/contacts", params={"ids": ",".join(chunk)})
            jobs.append(converter.structure(answer, UpsertResponse).job_id)
        for job_id in jobs:
            job = self.wait(job_id, timeout=3600)
            if not job.status.is_success:
                raise ProviderError(f"the delete job {job_id} ended {job.provider_status}", provider=self.name)
        left = helper.search(list(found))
        if left:
            raise ProviderError(
                f"SendGrid still holds {len(left)} of the deleted contacts, e.g. {next(iter(left))}", provider=self.name
            )

    def delete_list(self, list_id: str) -> None:
        """``DELETE /v3/marketing/lists/{id}``: 204, the contacts stay (reference §11)."""
        self.transport.request("DELETE", f"/v3/marketing/lists/{path_segment(list_id)}")

    def unsubscribe_groups(self) -> list[UnsubscribeGroup]:
        """The account's unsubscribe groups (``GET /v3/asm/groups``, reference §12a), to map lists to."""
        return [converter.structure(item, UnsubscribeGroup) for item in self.transport.json("GET", "/v3/asm/groups")]

    def create_unsubscribe_group(self, name: str, description: str) -> UnsubscribeGroup:
        """Create an unsubscribe group (``POST /v3/asm/groups``); names are unique, at most 30 characters,
        descriptions at most 100 (reference §12a). Connect with ``unsubscribe_groups={list_id: group.id}``."""
        if not 1 <= len(name) <= 30:
            raise InvalidInput("SendGrid group names are 1 to 30 characters", field="name")
        if len(description) > 100:
            raise InvalidInput("SendGrid group descriptions are at most 100 characters", field="description")
        if any(group.name == name for group in self.unsubscribe_groups()):
            raise InvalidInput(f"SendGrid already has an unsubscribe group called {name!r}", field="name")
        body = converter.unstructure(CreateGroup(name, description))
        return converter.structure(self.transport.json("POST", "/v3/asm/groups", json=body), UnsubscribeGroup)
