"""Brevo (v3 API) joined to the transport: the import route, processes, lists, attributes, subscriptions, read-back."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import quote

from typing_extensions import Unpack

from contactsync import (
    ConfigurationError,
    Contact,
    ContactList,
    FieldDefinition,
    FieldType,
    ImportJob,
    ImportStatus,
    InvalidInput,
    ListMember,
    ListSubscription,
    Membership,
    NotFound,
    SubscriptionAction,
    UnrepresentableValue,
    UnsupportedAction,
)
from contactsync.batching import Batch, BatchLimits
from contactsync.http import HeaderAuth
from contactsync.provider import Capabilities, ImportRoute, Provider, ProviderOptions, ReportedError, merge_extra
from contactsync_brevo.translate import (
    IDENTIFIERS,
    NAME_ATTRIBUTES,
    AttributeBook,
    attribute_name,
    contact_from_wire,
    contact_to_wire,
    converter,
    field_type_from_wire,
    field_type_to_wire,
    job_from_wire,
    lists_to_add,
    memberships_from_wire,
    subscribed_to,
)
from contactsync_brevo.wire import (
    AttributeList,
    AttributeRecord,
    ContactPage,
    ContactRecord,
    CreateAttribute,
    CreateContact,
    Created,
    CreateFolder,
    CreateList,
    ErrorBody,
    FolderPage,
    ImportRequest,
    ListChange,
    ListChangeResponse,
    ListPage,
    Process,
    ProcessCreated,
    UpdateContact,
)

__all__ = ["BrevoProvider", "JsonRoute"]

JSON_LIMITS = BatchLimits(max_items=50_000, max_bytes=8_000_000, separator=1)
"""reference/brevo.md §2: ``jsonBody`` is capped at 10 MB and Brevo advises staying near 8 MB; no row limit is
documented (UNCONFIRMED), so a request carries at most 50,000 contacts, our choice."""
LIST_CHANGE = 150  # reference/brevo.md §5: 1 to 150 entries per list add or remove
CONTACT_PAGE = 1000  # reference/brevo.md §4: GET /v3/contacts limit <= 1000
MEMBER_PAGE = 500  # reference/brevo.md §5: GET /v3/contacts/lists/{id}/contacts limit <= 500
LIST_PAGE = 50  # reference/brevo.md §5: GET /v3/contacts/lists limit <= 50
DEFAULT_POLL_INTERVAL = 5.0
"""The first pause between status polls: ``/v3/processes`` falls in the 100-requests-an-hour bucket (§3, §9)."""
DEFAULT_FOLDER = "contactsync"
"""The folder created for new lists when the account has none and ``folder_id`` is not given (§5)."""
HOLDING_LIST = "contactsync imports"
"""The list an import with no list of its own adds its contacts to, when ``import_list`` is not given:
Brevo imports only into lists (§2). Found by name, or created when first needed."""
LARGEST_ID = 2**31 - 1
"""A list id as long as any, to size a request body before its list is known."""

_ADDS = frozenset({SubscriptionAction.ADD_FORCE, SubscriptionAction.ADD_NO_FORCE})
_NOTES = {
    SubscriptionAction.ADD_NO_FORCE.value: (
        "Adds to the list (the import's listIds); a blacklisted contact stays blacklisted."
    ),
    SubscriptionAction.ADD_FORCE.value: (
        "Adds to the list and lifts the contact's email blacklist, which is global: the contact is then "
        "subscribed to every list it is on."
    ),
    SubscriptionAction.REMOVE.value: (
        "Takes the contact off the list (contacts/remove, 150 at a time); it stays in the account."
    ),
    SubscriptionAction.UNSUBSCRIBE.value: (
        "Brevo has no API for a per-list unsubscribe: use REMOVE to take the contact off the list, or connect "
        "with global_unsubscribe=True to blacklist the contact (a global opt-out) and keep it on the list."
    ),
    "imports": (
        "Brevo imports only into lists: an import with no list of its own adds its contacts to import_list, "
        "else to the list 'contactsync imports'."
    ),
    "names": (
        "Attribute names are stored in capitals and matched without regard to case; a client reads them back "
        "as the application spelled them to it, and creates on import the attributes the account lacks."
    ),
    "clearing": "An import never clears a stored attribute, so None values are refused.",
}


def _capabilities(global_unsubscribe: bool) -> Capabilities:
    actions = {SubscriptionAction.ADD_FORCE, SubscriptionAction.ADD_NO_FORCE, SubscriptionAction.REMOVE}
    if global_unsubscribe:
        actions.add(SubscriptionAction.UNSUBSCRIBE)
    return Capabilities(
        actions=frozenset(actions),
        field_types=frozenset({FieldType.TEXT, FieldType.NUMBER, FieldType.BOOLEAN, FieldType.DATE}),
        routes={"json": JSON_LIMITS},
        notes=_NOTES,
        reads_members=True,  # reference/brevo.md §5: GET /v3/contacts/lists/{id}/contacts
        deletes=frozenset({"contacts", "lists"}),  # §4 DELETE /v3/contacts/{identifier}, §5 DELETE a list
    )


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _FollowUps:
    """What an import does besides the import call: lift blacklists (ADD_FORCE), leave lists (REMOVE).

    Brevo's import only adds to lists and may blacklist everyone it carries (reference/brevo.md §2),
    so these are separate calls, made for each batch once its import is accepted. Batches are sent
    from several threads, hence the lock around the blacklist lookup.
    """

    def __init__(self, provider: BrevoProvider, subscriptions: tuple[ListSubscription, ...]) -> None:
        self.provider = provider
        self.force = any(s.action is SubscriptionAction.ADD_FORCE for s in subscriptions)
        self.removed = list(
            dict.fromkeys(int(s.list_id) for s in subscriptions if s.action is SubscriptionAction.REMOVE)
        )
        self._lock = threading.Lock()
        self._blacklist: set[str] | None = None
        self._one_by_one = False

    def after_import(self, emails: Sequence[str]) -> None:
        """Apply the follow-ups to the contacts of one accepted batch."""
        if self.force:
            for email in self.blacklisted(emails):
                self.provider.update_contact(email, UpdateContact(email_blacklisted=False))
        for list_id in self.removed:
            for chunk in _chunks(emails, LIST_CHANGE):
                self.provider.change_list(list_id, "remove", chunk)

    def blacklisted(self, emails: Sequence[str]) -> list[str]:
        """The blacklisted contacts among ``emails``: from one scan of the account, or one by one when that is less."""
        with self._lock:
            if self._blacklist is None and not self._one_by_one:
                page = self.provider.contact_page(0)
                if page.count <= CONTACT_PAGE or page.count // CONTACT_PAGE < len(emails):
                    self._blacklist = {
                        r.email for r in self.provider.all_contacts(page) if r.email_blacklisted and r.email
                    }
                else:
                    self._one_by_one = True
            known = self._blacklist
        if known is not None:
            return [email for email in emails if email in known]
        found = []
        for email in emails:
            record = self.provider.contact_record(email)
            if record is not None and record.email_blacklisted:
                found.append(email)
        return found


class JsonRoute(ImportRoute):
    """``POST /v3/contacts/import`` with ``jsonBody``: one background process per batch (reference/brevo.md §2)."""

    name = "json"
    resubmit_safe = True  # an upsert by email into the same lists, with idempotent follow-ups

    def __init__(
        self,
        provider: BrevoProvider,
        subscriptions: tuple[ListSubscription, ...],
        extra: Mapping[str, Any] | None,
    ) -> None:
        limits = provider.capabilities.routes[self.name]
        super().__init__(limits)
        self.provider = provider
        self.book = provider.attribute_book()
        self.follow_ups = _FollowUps(provider, subscriptions)
        self.list_ids = provider.import_lists(subscriptions)
        self._extra = extra
        self._unsubscribe = any(s.action is SubscriptionAction.UNSUBSCRIBE for s in subscriptions)
        self._head = self._make_head(self.list_ids) if self.list_ids else None
        self._creating = threading.Lock()
        overhead = len(self._make_head(self.list_ids or [LARGEST_ID])) + 2
        self.limits = BatchLimits(limits.max_items, limits.max_bytes, overhead, 1)

    def _make_head(self, list_ids: list[int]) -> bytes:
        """The request body up to its contacts, for these lists."""
        request = ImportRequest(
            list_ids=list_ids,
            update_existing_contacts=True,
            empty_contacts_attributes=False,  # reference/brevo.md §11: empty values never erase stored ones
            email_blacklist=self._unsubscribe,
            disable_notification=True,  # our choice: no email to the account's owner for every batch
        )
        head = merge_extra(converter.unstructure(request), self._extra)
        head.pop("jsonBody", None)
        return (json.dumps(head, separators=(",", ":"))[:-1] + ',"jsonBody":[').encode()

    def head(self) -> bytes:
        """The body up to the contacts; an import into no list of its own goes to the holding list, found now."""
        if self._head is None:
            self._head = self._make_head([self.provider.holding_list()])
        return self._head

    def encode(self, contact: Contact) -> bytes:
        record = converter.unstructure(contact_to_wire(contact, self.book, self.provider.spell))
        return json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode()

    def payload(self, batch: Batch) -> bytes:
        """The request body carrying the contacts of ``batch``."""
        return self.head() + b",".join(batch.items) + b"]}"

    def submit(self, batch: Batch) -> ImportJob:
        with self._creating:  # no batch goes before the attributes its contacts need exist
            self.provider.create_attributes(self.book)
        answer = self.provider.transport.json(
            "POST",
            "/v3/contacts/import",
            data=self.payload(batch),
            headers={"Content-Type": "application/json"},
            safe=True,  # resubmit_safe: the same import twice leaves Brevo as one does
        )
        process_id = str(converter.structure(answer, ProcessCreated).process_id)
        self.provider.sent[process_id] = len(batch)
        self.follow_ups.after_import(batch.emails)
        return ImportJob(self.provider.name, process_id, ImportStatus.PENDING, "queued", requested=len(batch))

    def describe(self, batch: Batch) -> Mapping[str, Any]:
        head = self._head or self._make_head(self.list_ids or [LARGEST_ID])
        return {
            "route": self.name,
            "method": "POST",
            "path": "/v3/contacts/import",
            "listIds": self.list_ids or f"the list {HOLDING_LIST!r}",
            "contacts": len(batch),
            "bytes": len(head + b",".join(batch.items) + b"]}"),
        }


class BrevoProvider(Provider):
    """Brevo (formerly Sendinblue) v3 contacts, lists, attributes and blacklist.

    ``folder_id`` is the folder new lists go to (default: the account's first folder,
    or a new ``contactsync`` one). ``import_list`` is a list every import without a list
    of its own adds its contacts to, since Brevo imports only into lists.
    ``global_unsubscribe=True`` makes UNSUBSCRIBE blacklist the contact (Brevo's opt-out is global).
    """

    name = "brevo"
    default_base_url = "https://api.brevo.com"
    reset_headers: ClassVar[tuple[str, ...] | None] = ("x-sib-ratelimit-reset",)  # reference/brevo.md §9
    capabilities = _capabilities(global_unsubscribe=False)

    def __init__(
        self,
        api_key: str | None = None,
        *,
        folder_id: int | str | None = None,
        import_list: int | str | None = None,
        global_unsubscribe: bool = False,
        base_url: str | None = None,
        **options: Unpack[ProviderOptions],
    ) -> None:
        unknown = sorted(set(options) - set(ProviderOptions.__annotations__))
        if unknown:
            raise ConfigurationError(f"brevo has no setting {', '.join(map(repr, unknown))}")
        key = api_key or os.environ.get("BREVO_API_KEY")
        if not key:
            raise ConfigurationError("brevo needs an API key: pass api_key= or set BREVO_API_KEY")
        for setting, value in (("folder_id", folder_id), ("import_list", import_list)):
            if value is not None and not str(value).isdigit():
                raise ConfigurationError(f"brevo: {setting} must be a numeric id, not {value!r}")
        options.setdefault("poll_interval", DEFAULT_POLL_INTERVAL)
        super().__init__(
            base_url=base_url or self.default_base_url, auth=HeaderAuth("api-key", key), secrets=[key], **options
        )
        self.folder_id = None if folder_id is None else int(folder_id)
        self.import_list = None if import_list is None else int(import_list)
        self.global_unsubscribe = global_unsubscribe
        self.capabilities = _capabilities(global_unsubscribe)
        self._folder_lock = threading.Lock()
        self._holding_lock = threading.Lock()
        self._spelling_lock = threading.Lock()
        self._spellings: dict[str, str] = {}
        """Attribute name (in capitals) -> the property name as the application spelled it to this client."""
        self.sent: dict[str, int] = {}
        """Process id -> contacts its request carried: Brevo counts only the invalid ones (reference/brevo.md §3)."""

    # -- hooks ------------------------------------------------------------------------------

    @staticmethod
    def parse_error(response: Any) -> tuple[str, str | None]:
        """``{"code", "message"}`` (reference/brevo.md §8); codes are matched loosely, so both are kept as sent."""
        data = response.json()
        if not isinstance(data, dict):
            raise ValueError("not an error body")
        body = converter.structure(data, ErrorBody)
        if not (body.message or body.code):
            raise ValueError("no code and no message")
        return body.message or str(body.code), body.code

    def check_actions(self, subscriptions: Sequence[ListSubscription], *, bulk: bool = True) -> None:
        """Also refuse what Brevo's model cannot say: a global opt-out next to an add."""
        super().check_actions(subscriptions, bulk=bulk)
        actions = {s.action for s in subscriptions}
        if SubscriptionAction.UNSUBSCRIBE in actions and actions & _ADDS:
            raise UnsupportedAction(
                "brevo's unsubscribe is a global blacklist, so it cannot go with an add in one call: "
                "unsubscribe in a call of its own"
            )

    def import_route(
        self, subscriptions: tuple[ListSubscription, ...], route: str, extra: Mapping[str, Any] | None
    ) -> ImportRoute:
        return JsonRoute(self, subscriptions, extra)

    def import_lists(self, subscriptions: Sequence[ListSubscription]) -> list[int]:
        """The ``listIds`` of an import: every list but the REMOVE ones, or ``import_list``."""
        lists = lists_to_add(subscriptions)
        if not lists and self.import_list is not None:
            lists = [self.import_list]
        return lists

    def holding_list(self) -> int:
        """``import_list``, else the list named :data:`HOLDING_LIST`, found or created (once per client)."""
        with self._holding_lock:
            if self.import_list is None:
                found = next((int(item.id) for item in self.iter_lists() if item.name == HOLDING_LIST), None)
                self.import_list = int(self.create_list(HOLDING_LIST)) if found is None else found
            return self.import_list

    def fetch_status(self, job_id: str) -> ImportJob:
        """The process's status; its accepted count when this client sent it (it knows how many contacts went)."""
        data = self.transport.json("GET", f"/v3/processes/{quote(job_id, safe='')}")
        return job_from_wire(converter.structure(data, Process), self.sent.get(job_id))

    def part_errors(self, part: ImportJob) -> Iterator[ReportedError]:
        """The invalid emails Brevo counted, which it does not name (reference/brevo.md §3).

        When every contact sent was counted invalid each is reported by its row; otherwise the
        count is reported as that many errors without a row.
        """
        invalid = int(part.extra.get("invalid_emails") or 0)
        if not invalid:
            return
        if invalid == part.requested:
            for position in range(part.requested):
                yield ReportedError(None, "Brevo refused the email address", "email", "invalid_email", position)
            return
        message = f"one of the {invalid} addresses Brevo counted invalid in job {part.id}, without naming them"
        for _ in range(invalid):
            yield ReportedError(None, message, "email", "invalid_email")

    # -- lists --------------------------------------------------------------------------------

    def _list_id(self, list_id: str | int) -> int:
        text = str(list_id)
        if not text.isdigit():
            raise NotFound(f"brevo has no list {text!r}: list ids are numbers", provider=self.name)
        return int(text)

    def list_record(self, list_id: str | int) -> dict[str, Any]:
        """``GET /v3/contacts/lists/{id}``: the list's details; NotFound when there is no such list."""
        data: dict[str, Any] = self.transport.json("GET", f"/v3/contacts/lists/{self._list_id(list_id)}")
        return data

    def check_list(self, list_id: str) -> None:
        """``GET /v3/contacts/lists/{id}``: 404 when there is no such list (reference/brevo.md §5)."""
        self.list_record(list_id)

    def iter_lists(self) -> Iterator[ContactList]:
        offset = 0
        while True:
            params = {"limit": LIST_PAGE, "offset": offset, "sort": "asc"}
            page = converter.structure(self.transport.json("GET", "/v3/contacts/lists", params=params) or {}, ListPage)
            yield from (ContactList(str(r.id), r.name) for r in page.lists)
            offset += len(page.lists)
            if len(page.lists) < LIST_PAGE or offset >= page.count:
                return

    def folder(self) -> int:
        """The folder new lists go to: ``folder_id``, else the account's first, else a new one (found once)."""
        with self._folder_lock:
            if self.folder_id is None:
                data = self.transport.json("GET", "/v3/contacts/folders", params={"limit": 1, "offset": 0}) or {}
                folders = converter.structure(data, FolderPage).folders
                if folders:
                    self.folder_id = folders[0].id
                else:
                    body = converter.unstructure(CreateFolder(DEFAULT_FOLDER))
                    self.folder_id = converter.structure(
                        self.transport.json("POST", "/v3/contacts/folders", json=body), Created
                    ).id
            return self.folder_id

    def create_list(self, name: str) -> str:
        if not name or not name.strip():
            raise InvalidInput("a Brevo list needs a name", field="name")
        body = converter.unstructure(CreateList(name, self.folder()))
        return str(converter.structure(self.transport.json("POST", "/v3/contacts/lists", json=body), Created).id)

    def delete_list(self, list_id: str) -> None:
        self.transport.request("DELETE", f"/v3/contacts/lists/{self._list_id(list_id)}")

    def change_list(self, list_id: int, change: str, emails: Sequence[str]) -> list[str | int]:
        """``POST /v3/contacts/lists/{id}/contacts/add|remove`` for up to 150 addresses; the failed entries.

        Brevo answers 201 even when every entry failed (reference/brevo.md §5); an entry
        fails when the contact is already in (or out of) the list, or does not exist.
        """
        body = converter.unstructure(ListChange(list(emails)))
        path = f"/v3/contacts/lists/{list_id}/contacts/{change}"
        answer = self.transport.json("POST", path, json=body, safe=True)  # adding or removing twice is harmless
        return converter.structure(answer or {}, ListChangeResponse).contacts.failure

    # -- attributes -----------------------------------------------------------------------------

    def attribute_book(self) -> AttributeBook:
        """The account's attributes, fetched now."""
        data = self.transport.json("GET", "/v3/contacts/attributes") or {}
        return AttributeBook(converter.structure(data, AttributeList).attributes)

    def fields(self) -> list[FieldDefinition]:
        """The normal attributes of the types this library writes (text, float, boolean, date), named as the
        application spells them to this client."""
        found = []
        for record in self.attribute_book().by_name.values():
            kind = field_type_from_wire(record.type) if record.category == "normal" else None
            if kind is not None:
                found.append(FieldDefinition(self._spellings.get(record.name.upper(), record.name), kind))
        return found

    def check_property_name(self, name: str) -> None:
        """ASCII letters, digits and ``_``, starting with a letter: the reference states no rule (§6)."""
        if name.upper() not in NAME_ATTRIBUTES + IDENTIFIERS:
            attribute_name(name)

    def spell(self, name: str) -> str:
        """The attribute of property ``name``, remembering how the application spells it (the first spelling met).

        Brevo stores names in capitals and matches them without regard to case, so another
        spelling of an attribute this client knows would read back spelled the first way: it
        raises UnrepresentableValue (a spelling in capitals gives way to the application's).
        """
        attribute = attribute_name(name)
        with self._spelling_lock:
            known = self._spellings.setdefault(attribute, name)
            if known != name:
                if known != attribute:
                    raise UnrepresentableValue(
                        f"Brevo attribute names ignore case; this client spells it {known!r}", field=name
                    )
                self._spellings[attribute] = name
        return attribute

    def define_field(self, definition: FieldDefinition) -> FieldDefinition:
        """Create a normal attribute named in capitals; the name and identifier attributes exist already."""
        name = definition.name
        if name.upper() in NAME_ATTRIBUTES + IDENTIFIERS:
            if definition.type is not FieldType.TEXT:
                raise UnrepresentableValue(f"brevo's {name.upper()} is text, not {definition.type.value}", field=name)
            return FieldDefinition(name.upper(), FieldType.TEXT)
        attribute = self.spell(name)
        kind = field_type_to_wire(definition.type, name)
        body = converter.unstructure(CreateAttribute(kind))
        # an existing name is refused (reference/brevo.md §6: with an UNCONFIRMED code): the core then reads it back
        self.transport.request("POST", f"/v3/contacts/attributes/normal/{quote(attribute, safe='')}", json=body)
        return FieldDefinition(name, field_type_from_wire(kind) or definition.type)

    def create_attributes(self, book: AttributeBook) -> None:
        """Create the attributes an import noted in ``book`` as missing (race-safe, as ``ensure_fields``)."""
        for attribute, (name, kind) in book.take_new().items():
            self.ensure_fields([FieldDefinition(name, field_type_from_wire(kind) or FieldType.TEXT)])
            book.add(AttributeRecord(attribute, "normal", kind))

    def same_field_type(self, stored: FieldType, wanted: FieldType) -> bool:
        """Brevo's float attributes hold integers too."""
        return stored is wanted or (stored is FieldType.NUMBER and wanted is FieldType.INTEGER)

    # -- contacts -------------------------------------------------------------------------------

    @staticmethod
    def _contact_path(email: str) -> str:
        return f"/v3/contacts/{quote(email, safe='')}"  # reference/brevo.md §4: emails are percent-encoded

    def contact_record(self, email: str) -> ContactRecord | None:
        """``GET /v3/contacts/{email}``, or None when the account has no such contact."""
        try:
            data = self.transport.json("GET", self._contact_path(email), params={"identifierType": "email_id"})
        except NotFound:
            return None
        return converter.structure(data, ContactRecord)

    def update_contact(self, email: str, update: UpdateContact) -> None:
        """``PUT /v3/contacts/{email}``."""
        body = converter.unstructure(update)
        self.transport.request("PUT", self._contact_path(email), params={"identifierType": "email_id"}, json=body)

    def contact_page(self, offset: int) -> ContactPage:
        """One page of ``GET /v3/contacts``, oldest first, so that paging holds while contacts are added."""
        params = {"limit": CONTACT_PAGE, "offset": offset, "sort": "asc"}
        return converter.structure(self.transport.json("GET", "/v3/contacts", params=params) or {}, ContactPage)

    def all_contacts(self, first: ContactPage) -> Iterator[ContactRecord]:
        """Every contact of the account, from its first page on."""
        page, offset = first, 0
        while True:
            yield from page.contacts
            offset += len(page.contacts)
            if len(page.contacts) < CONTACT_PAGE or offset >= page.count:
                return
            page = self.contact_page(offset)

    def get_contact(self, email: str) -> Contact | None:
        record = self.contact_record(Contact(email).email)
        return None if record is None else contact_from_wire(record, self.attribute_book(), self._spellings)

    def get_subscriptions(self, email: str) -> list[Membership]:
        """The contact's lists; ``subscribed`` is false when it is blacklisted or unsubscribed from the list."""
        record = self.contact_record(Contact(email).email)
        return [] if record is None else memberships_from_wire(record)

    def apply_subscriptions(self, email: str, subscriptions: tuple[ListSubscription, ...]) -> None:
        """Adds (creating the contact if need be) through ``POST /v3/contacts``, removals through ``unlinkListIds``."""
        record = self.contact_record(email)
        actions = {s.action for s in subscriptions}
        added = lists_to_add(subscriptions, record.list_unsubscribed or () if record is not None else ())
        blacklist: bool | None = None
        if SubscriptionAction.UNSUBSCRIBE in actions:
            blacklist = True
        elif SubscriptionAction.ADD_FORCE in actions:
            blacklist = False
        if added or blacklist is not None or (record is None and actions & _ADDS):
            body = converter.unstructure(
                CreateContact(email, True, list_ids=added or None, email_blacklisted=blacklist)
            )
            self.transport.request("POST", "/v3/contacts", json=body, safe=True)  # updateEnabled: an upsert
        removed = [int(s.list_id) for s in subscriptions if s.action is SubscriptionAction.REMOVE]
        current = set(record.list_ids) if record is not None else set()
        unlink = [list_id for list_id in dict.fromkeys(removed) if list_id in current]
        if unlink:
            self.update_contact(email, UpdateContact(unlink_list_ids=unlink))

    # -- read-back and deletes --------------------------------------------------------------------

    def members(self, list_id: str) -> Iterator[ListMember]:
        """The list's contacts, oldest first, 500 a page; contacts without a real address are left out."""
        number = self._list_id(list_id)
        book = self.attribute_book()
        offset = 0
        while True:
            params = {"limit": MEMBER_PAGE, "offset": offset, "sort": "asc"}
            data = self.transport.json("GET", f"/v3/contacts/lists/{number}/contacts", params=params) or {}
            page = converter.structure(data, ContactPage)
            for record in page.contacts:
                contact = contact_from_wire(record, book, self._spellings)
                if contact is not None:
                    yield ListMember(contact, subscribed_to(record, number))
            offset += len(page.contacts)
            if len(page.contacts) < MEMBER_PAGE or offset >= page.count:
                return

    def erase_contacts(self, emails: Sequence[str]) -> None:
        """``DELETE /v3/contacts/{email}`` for each; an address the account does not hold is skipped."""
        for email in emails:
            try:
                self.transport.request("DELETE", self._contact_path(email), params={"identifierType": "email_id"})
            except NotFound:
                continue
