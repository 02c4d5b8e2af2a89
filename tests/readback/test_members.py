"""``members(list_id)`` on every built-in provider: what was imported reads back, with its standing on the list."""

from __future__ import annotations

import uuid

import pytest

from contactsync import ListSubscription, NotFound, Provider, SubscriptionAction
from tests.readback.conftest import filled_list, folded, people


def test_members_read_back_every_imported_contact(client: Provider) -> None:
    contacts = people(30)
    list_id = filled_list(client, contacts)
    members = list(client.members(list_id))
    assert sorted(m.contact.email for m in members) == sorted(c.email for c in contacts)
    by_email = {m.contact.email: m for m in members}
    for contact in contacts:
        back = by_email[contact.email].contact
        assert back.name == contact.name
        assert folded(back.properties) == folded(contact.properties)


def test_members_agree_with_get_contact(client: Provider) -> None:
    list_id = filled_list(client, people(5))
    for member in client.members(list_id):
        assert member.contact == client.get_contact(member.contact.email)


def test_imported_members_are_subscribed(client: Provider) -> None:
    list_id = filled_list(client, people(5))
    assert [m.subscribed for m in client.members(list_id)] == [True] * 5


def test_members_stream_across_pages(client: Provider) -> None:
    contacts = people(2_100)  # more than two pages of 1,000 (Mailjet's and dotmailer's largest)
    list_id = filled_list(client, contacts)
    emails = [m.contact.email for m in client.members(list_id)]
    assert len(emails) == len(set(emails)) == len(contacts)


def test_members_of_an_empty_list_are_none(client: Provider) -> None:
    assert list(client.members(client.create_list("Empty"))) == []


def test_members_of_another_list_are_left_out(client: Provider) -> None:
    first = filled_list(client, people(3), "First")
    filled_list(client, people(2, start=3), "Second")
    assert {m.contact.email for m in client.members(first)} == {c.email for c in people(3)}


def test_members_of_an_unknown_list_raise_not_found(client: Provider) -> None:
    unknown = str(uuid.uuid4()) if client.name == "sendgrid" else "987654"  # an id of the provider's own form
    with pytest.raises(NotFound):
        client.members(unknown)


def test_an_unsubscribed_member_reads_back_unsubscribed(client: Provider) -> None:
    contacts = people(4)
    list_id = filled_list(client, contacts)
    client.manage_subscriptions(contacts[1].email, [ListSubscription(list_id, SubscriptionAction.UNSUBSCRIBE)])
    members = {m.contact.email: m for m in client.members(list_id)}
    assert {email for email, m in members.items() if not m.subscribed} == {contacts[1].email}
    gone = members[contacts[1].email]
    assert folded(gone.contact.properties) == folded(contacts[1].properties)
    if "unsubscribed_at" in client.capabilities.member_dates:
        assert gone.unsubscribed_at is not None and gone.unsubscribed_at.utcoffset() is not None
    assert all(m.unsubscribed_at is None for m in members.values() if m.subscribed)


def test_capabilities_declare_members(client: Provider) -> None:
    assert client.capabilities.reads_members
