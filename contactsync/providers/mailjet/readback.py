"""Reading a Mailjet list back: its members from three paged resources joined by contact id.

reference/mailjet.md §9: a ``/listrecipient`` row holds a contact's standing on the list but
no email, ``/contact`` the email and name, ``/contactdata`` the properties. The three are
paged side by side (each a page ahead, in a worker thread) and joined as their records
meet. They list a list's contacts in the same order in practice (by id), so the join holds
about a page of each; records that arrive out of step wait in it until their partners come.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

from contactsync.errors import InvalidInput, NotFound
from contactsync.http import Transport
from contactsync.model import ContactEvent, ListMember
from contactsync.paging import offset_pages, read_ahead
from contactsync.providers.mailjet import translate, wire

__all__ = ["PAGE", "join_members", "pages", "read_events", "read_members"]

log = logging.getLogger("contactsync.providers.mailjet")

PAGE = 1000
"""reference §9a: ``Limit`` is at most 1000 (sent explicitly: ``Limit=0`` ignored the offset, node #68)."""

Joined = tuple[wire.MjListRecipient, wire.MjStoredContact, wire.MjContactData | None]


def pages(transport: Transport, path: str, params: Mapping[str, Any] | None = None) -> Iterator[Sequence[Any]]:
    """The pages of a v3 REST ``GET``: ``Limit=1000`` and growing offsets until a short page (reference §9a)."""

    def fetch(offset: int) -> Sequence[Any]:
        query = {**(params or {}), "Limit": PAGE, "Offset": offset}
        return translate.structure(transport.json("GET", path, params=query), wire.Envelope).data

    return offset_pages(fetch, PAGE, provider="mailjet")


def join_members(
    recipients: Iterator[Sequence[wire.MjListRecipient]],
    contacts: Iterator[Sequence[wire.MjStoredContact]],
    data: Iterator[Sequence[wire.MjContactData]],
    fetch_one: Callable[[str], tuple[wire.MjStoredContact, wire.MjContactData | None] | None],
) -> Iterator[Joined]:
    """(membership, contact, data) for each membership, joining three page streams by contact id.

    A membership whose contact never came (it joined the list while the pages were read)
    is fetched on its own by ``fetch_one``; contacts and data whose membership never came
    (they left the list meanwhile) are dropped.
    """
    waiting: dict[str, wire.MjListRecipient] = {}
    known: dict[str, wire.MjStoredContact] = {}
    values: dict[str, wire.MjContactData] = {}
    streams: list[Iterator[Sequence[Any]] | None] = [recipients, contacts, data]
    while any(streams):
        pulled = []
        for at, stream in enumerate(streams):
            page = next(stream, None) if stream is not None else None
            if page is None:
                streams[at] = None
            pulled.append(page or ())
        waiting.update((str(r.contact_id), r) for r in pulled[0])
        known.update((str(c.id), c) for c in pulled[1])
        values.update((str(d.id or d.contact_id), d) for d in pulled[2])
        data_done = streams[2] is None
        for contact_id in [c for c in waiting if c in known and (c in values or data_done)]:
            yield waiting.pop(contact_id), known.pop(contact_id), values.pop(contact_id, None)
        if streams[0] is None:  # no more memberships: the rest left the list while we read
            for contact_id in [c for c in known if c not in waiting]:
                del known[contact_id]
            for contact_id in [c for c in values if c not in waiting]:
                del values[contact_id]
    for contact_id, recipient in waiting.items():
        found = fetch_one(contact_id)
        if found is not None:
            yield recipient, found[0], found[1]


def read_members(
    transport: Transport, list_id: str, datatypes: Mapping[str, str], *, ahead: bool = True
) -> Iterator[ListMember]:
    """The members of ``list_id``, GDPR-deleted contacts left out (reference §9b: no filter hides them)."""
    query = {"ContactsList": list_id}

    def stream(path: str, cls: type[Any]) -> Iterator[Sequence[Any]]:
        typed = ([translate.structure(item, cls) for item in page] for page in pages(transport, path, query))
        return read_ahead(typed) if ahead else typed

    def fetch_one(contact_id: str) -> tuple[wire.MjStoredContact, wire.MjContactData | None] | None:
        try:
            answer = transport.json("GET", f"/v3/REST/contact/{quote(contact_id, safe='')}")
            stored = translate.structure(translate.structure(answer, wire.Envelope).data[0], wire.MjStoredContact)
            answer = transport.json("GET", f"/v3/REST/contactdata/{quote(contact_id, safe='')}")
        except NotFound:
            return None
        return stored, translate.structure(translate.structure(answer, wire.Envelope).data[0], wire.MjContactData)

    joined = join_members(
        stream("/v3/REST/listrecipient", wire.MjListRecipient),
        stream("/v3/REST/contact", wire.MjStoredContact),
        stream("/v3/REST/contactdata", wire.MjContactData),
        fetch_one,
    )
    for recipient, stored, data in joined:
        if translate.is_anonymised(stored.email):
            continue
        try:
            contact = translate.stored_contact(stored, data, datatypes)
        except InvalidInput as exc:
            log.warning("mailjet: contact %s of list %s cannot be read back, skipped: %s", stored.id, list_id, exc)
            continue
        yield translate.member_from_wire(recipient, contact)


_EMAILS_KEPT = 10_000
"""Contact addresses an event read remembers (a contact unsubscribed from several lists is looked up once)."""


def read_events(
    transport: Transport, since: datetime, list_id: str | None, live_lists: set[str]
) -> Iterator[ContactEvent]:
    """Unsubscribes and (re)subscriptions at or after ``since``, from a scan of the memberships (reference §10).

    Mailjet has no time filter, so every membership of ``list_id`` (of every live list
    without it) is read; a row that makes an event costs one more ``GET /contact/{id}``.
    """
    emails: dict[str, str | None] = {}

    def email_of(contact_id: str) -> str | None:
        if contact_id not in emails:
            if len(emails) >= _EMAILS_KEPT:
                emails.clear()
            try:
                answer = transport.json("GET", f"/v3/REST/contact/{quote(contact_id, safe='')}")
                stored = translate.structure(translate.structure(answer, wire.Envelope).data[0], wire.MjStoredContact)
                emails[contact_id] = None if translate.is_anonymised(stored.email) else stored.email.lower()
            except NotFound:
                emails[contact_id] = None
        return emails[contact_id]

    query = {"ContactsList": list_id} if list_id is not None else {}
    for page in read_ahead(pages(transport, "/v3/REST/listrecipient", query)):
        for item in page:
            recipient = translate.structure(item, wire.MjListRecipient)
            if str(recipient.list_id) in live_lists:
                event = translate.recipient_event(recipient, since, item, email_of)
                if event is not None:
                    yield event
