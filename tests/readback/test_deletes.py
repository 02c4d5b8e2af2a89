"""``delete_contacts`` and ``delete_list`` on every built-in provider."""

from __future__ import annotations

from typing import Any

import pytest

from contactsync import NotFound, Provider
from contactsync.sandbox import Sandbox
from tests.readback.conftest import filled_list, people


def _stored(sandbox: Sandbox, provider: str) -> set[str]:
    """The addresses the emulator holds (each spells the key its own way)."""
    return {str(c.get("email") or c.get("Email")).lower() for c in sandbox.contacts(provider)}


def test_deleted_contacts_are_gone(client: Provider, sandbox: Sandbox) -> None:
    contacts = people(4)
    list_id = filled_list(client, contacts)
    client.delete_contacts([contacts[0].email, contacts[2].email.upper()])
    assert client.get_contact(contacts[0].email) is None
    assert client.get_contact(contacts[2].email) is None
    assert {m.contact.email for m in client.members(list_id)} == {contacts[1].email, contacts[3].email}
    assert contacts[0].email not in _stored(sandbox, client.name)


def test_deleting_unknown_contacts_changes_nothing(client: Provider, sandbox: Sandbox) -> None:
    list_id = filled_list(client, people(2))
    client.delete_contacts(["nobody@example.com"])
    assert len(list(client.members(list_id))) == 2


def test_a_suppressed_contact_can_be_deleted(client: Provider, sandbox: Sandbox) -> None:
    contacts = people(2)
    filled_list(client, contacts)
    sandbox.simulate(client.name, contacts[0].email, "unsubscribe")  # account-wide: suppressed where there is one
    client.delete_contacts([contacts[0].email])
    assert _stored(sandbox, client.name) == {contacts[1].email}


def test_a_deleted_list_is_gone_and_its_contacts_stay(client: Provider) -> None:
    contacts = people(2)
    list_id = filled_list(client, contacts)
    client.delete_list(list_id)
    assert list_id not in {item.id for item in client.lists()}
    with pytest.raises(NotFound):
        client.members(list_id)
    assert client.get_contact(contacts[0].email) is not None


def test_deleting_an_unknown_list_raises_not_found(client: Provider) -> None:
    unknown: Any = "00000000-0000-4000-8000-000000000000" if client.name == "sendgrid" else "987654"
    with pytest.raises(NotFound):
        client.delete_list(unknown)


def test_capabilities_declare_deletes(client: Provider) -> None:
    assert client.capabilities.deletes == {"contacts", "lists"}
