"""``events_since`` on every built-in provider, fed by the sandbox's recipients (``Sandbox.simulate``)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from contactsync import EventType, InvalidInput, NotFound, Provider
from contactsync.sandbox import Sandbox
from tests.readback.conftest import filled_list, people

KINDS = {"bounce": EventType.BOUNCED, "spam": EventType.COMPLAINED, "block": EventType.BLOCKED}


def test_a_recipients_unsubscribe_is_an_event_of_the_list(client: Provider, sandbox: Sandbox) -> None:
    contacts = people(3)
    list_id = filled_list(client, contacts)
    before = datetime.now(timezone.utc)
    sandbox.simulate(client.name, contacts[0].email, "unsubscribe", list_id)
    found = [e for e in client.events_since(before, list_id) if e.type is EventType.UNSUBSCRIBED]
    assert [e.email for e in found] == [contacts[0].email]
    assert found[0].list_id in (list_id, None)  # None: SendGrid has no list unsubscribe, the suppression is global
    assert found[0].at is not None and found[0].at >= before.replace(microsecond=0)


def test_a_recipients_unsubscribe_reads_back_in_members(client: Provider, sandbox: Sandbox) -> None:
    contacts = people(3)
    list_id = filled_list(client, contacts)
    sandbox.simulate(client.name, contacts[2].email, "unsubscribe", list_id)
    assert {m.contact.email for m in client.members(list_id) if not m.subscribed} == {contacts[2].email}


def test_a_resubscribe_reads_back_subscribed(client: Provider, sandbox: Sandbox) -> None:
    contacts = people(2)
    list_id = filled_list(client, contacts)
    sandbox.simulate(client.name, contacts[0].email, "unsubscribe", list_id)
    sandbox.simulate(client.name, contacts[0].email, "resubscribe", list_id)
    assert all(m.subscribed for m in client.members(list_id))


@pytest.mark.parametrize("event", sorted(KINDS))
def test_recipient_events_are_found_where_declared(client: Provider, sandbox: Sandbox, event: str) -> None:
    contacts = people(2)
    list_id = filled_list(client, contacts)
    before = datetime.now(timezone.utc)
    sandbox.simulate(client.name, contacts[1].email, event, None)
    found = [e for e in client.events_since(before, list_id) if e.type is KINDS[event]]
    if KINDS[event] in client.capabilities.event_types:
        assert [(e.email, e.list_id) for e in found] == [(contacts[1].email, None)]
    else:  # the declaration is true: this provider cannot find it by time (Mailjet: only by webhook)
        assert found == []


def test_events_are_normalised(client: Provider, sandbox: Sandbox) -> None:
    contacts = people(2)
    list_id = filled_list(client, contacts)
    before = datetime.now(timezone.utc) - timedelta(seconds=1)
    for action in ("unsubscribe", "bounce"):
        sandbox.simulate(client.name, contacts[0].email, action, list_id if action == "unsubscribe" else None)
    events = list(client.events_since(before))
    assert events
    for event in events:
        assert event.provider == client.name
        assert event.type in client.capabilities.event_types
        assert event.at is not None and event.at.utcoffset() == timedelta(0)
        assert event.email == (event.email or "").lower()
        assert event.raw


def test_events_since_a_later_time_are_none(client: Provider, sandbox: Sandbox) -> None:
    contacts = people(1)
    list_id = filled_list(client, contacts)
    sandbox.simulate(client.name, contacts[0].email, "unsubscribe", list_id)
    assert list(client.events_since(datetime.now(timezone.utc) + timedelta(hours=1))) == []


def test_events_since_refuse_a_naive_time(client: Provider) -> None:
    with pytest.raises(InvalidInput, match="timezone-aware"):
        client.events_since(datetime(2026, 11, 1))


def test_events_of_an_unknown_list_raise_not_found(client: Provider) -> None:
    unknown = "00000000-0000-4000-8000-000000000000" if client.name == "sendgrid" else "987654"
    with pytest.raises(NotFound):
        client.events_since(datetime.now(timezone.utc), unknown)
