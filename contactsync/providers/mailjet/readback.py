"""Reading a Mailjet list back: its members from three paged resources joined by contact id.

reference/mailjet.md §9: a ``/listrecipient`` row holds a contact's standing on the list but
no email, ``/contact`` the email and name, ``/contactdata`` the properties. The three are
paged side by side (a page ahead, in a worker thread) and joined as their records meet.
They list a list's contacts in the same order in practice (by id), so the join holds about
a page of each; records that arrive out of step wait in it until their partners come.
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

__all__ = ["PAGE", "join_members", "lockstep", "pages", "read_events", "read_members"]

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


def lockstep(*streams: Iterator[Any]) -> Iterator[tuple[Any, ...]]:
    """The next item of every stream at once, None for a stream that has ended, until all have."""
    alive: list[Iterator[Any] | None] = list(streams)
    while True:
        row = tuple(None if stream is None else next(stream, None) for stream in alive)
        alive = [None if item is None else stream for stream, item in zip(alive, row, strict=True)]
        if all(item is None for item in row):
            return
        yield row


def join_members(
    pages: Iterator[tuple[Sequence[Any] | None, ...]],
    fetch_one: Callable[[str], tuple[wire.MjStoredContact, wire.MjContactData | None] | None],
) -> Iterator[Joined]:
    """(membership, contact, data) for each membership, joining pages of the three resources by contact id.

    ``pages`` gives the next page of memberships, contacts and data at once, None for a
    resource whose pages have ended. A membership whose contact never came (it joined the
    list while the pages were read) is fetched on its own by ``fetch_one``; contacts and
    data whose membership never came (they left the list meanwhile) are dropped.
    """
    waiting: dict[str, wire.MjListRecipient] = {}
    known: dict[str, wire.MjStoredContact] = {}
    values: dict[str, wire.MjContactData] = {}
    for recipients, contacts, data in pages:
        waiting.update((str(r.contact_id), r) for r in recipients or ())
        known.update((str(c.id), c) for c in contacts or ())
        values.update((str(d.id or d.contact_id), d) for d in data or ())
        data_done = data is None
        for contact_id in [c for c in waiting if c in known and (c in values or data_done)]:
            yield waiting.pop(contact_id), known.pop(contact_id), values.pop(contact_id, None)
        if recipients is None:  # no more memberships: the rest left the list while we read
            for contact_id in [c for c in known if c not in waiting]:
                del known[contact_id]
            for contact_id in [c for c in values if c not in waiting]:
                del values[contact_id]
    for contact_id, recipient in list(waiting.items()):
        found = known.pop(contact_id, None)
        if found is not None:  # its data never came: it has none
            yield recipient, found, values.pop(contact_id, None)
            continue
        fetched = fetch_one(contact_id)
        if fetched is not None:
            yield recipient, fetched[0], fetched[1]


def read_members(transport: Transport, list_id: str, datatypes: Mapping[str, str]) -> Iterator[ListMember]:
    """The members of ``list_id``, GDPR-deleted contacts left out (reference §9b: no filter hides them).

    One worker thread reads the three resources' pages a step ahead (the sandbox, like a
    server under a rate limit, answers one request at a time), typed on the way.
    """
    query = {"ContactsList": list_id}

    def typed(path: str, read: Callable[[Any], Any]) -> Iterator[Sequence[Any]]:
        return ([read(item) for item in page] for page in pages(transport, path, query))

    def fetch_one(contact_id: str) -> tuple[wire.MjStoredContact, wire.MjContactData | None] | None:
        try:
            answer = transport.json("GET", f"/v3/REST/contact/{quote(contact_id, safe='')}")
            stored = translate.stored_record(translate.structure(answer, wire.Envelope).data[0])
            answer = transport.json("GET", f"/v3/REST/contactdata/{quote(contact_id, safe='')}")
        except NotFound:
            return None
        return stored, translate.data_record(translate.structure(answer, wire.Envelope).data[0])

    streams = lockstep(
        read_ahead(typed("/v3/REST/listrecipient", translate.recipient_record)),
        read_ahead(typed("/v3/REST/contact", translate.stored_record)),
        read_ahead(typed("/v3/REST/contactdata", translate.data_record)),
    )
    for recipient, stored, data in join_members(streams, fetch_one):
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
