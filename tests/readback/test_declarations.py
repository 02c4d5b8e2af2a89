"""The built-ins declare their read-back: the suite skips by declaration, so a lost declaration would hide a test."""

from __future__ import annotations

from contactsync import EventType, Provider

EVENTS = {
    "mailjet": {EventType.SUBSCRIBED, EventType.UNSUBSCRIBED},
    "sendgrid": {EventType.UNSUBSCRIBED, EventType.BOUNCED, EventType.COMPLAINED, EventType.BLOCKED},
    "dotmailer": {EventType.UNSUBSCRIBED, EventType.BOUNCED, EventType.COMPLAINED, EventType.BLOCKED},
}


def test_every_builtin_reads_members(client: Provider) -> None:
    assert client.capabilities.reads_members


def test_every_builtin_deletes_contacts_and_lists(client: Provider) -> None:
    assert client.capabilities.deletes == {"contacts", "lists"}


def test_every_builtin_declares_the_events_it_finds_by_time(client: Provider) -> None:
    assert client.capabilities.event_types == EVENTS[client.name]


def test_every_builtin_but_sendgrid_without_groups_finds_a_lists_events(client: Provider) -> None:
    assert client.capabilities.events_by_list is (client.name != "sendgrid")
