"""What the built-in emulators hold after ``delete_contacts``: the address gone from the stored state too (the
suite, :mod:`contactsync.testing.readback`, proves the deletes through the public API)."""

from __future__ import annotations

from contactsync import Provider
from contactsync.sandbox import Sandbox
from tests.readback.conftest import filled_list, people


def _stored(sandbox: Sandbox, provider: str) -> set[str]:
    """The addresses the emulator holds (Mailjet's anonymised ones left out)."""
    return {c.email for c in sandbox.contacts(provider)}


def test_deleted_contacts_leave_the_emulators_state(client: Provider, sandbox: Sandbox) -> None:
    contacts = people(3)
    filled_list(client, contacts)
    client.delete_contacts([contacts[0].email])
    assert _stored(sandbox, client.name) == {contacts[1].email, contacts[2].email}


def test_a_suppressed_contact_deleted_leaves_the_emulators_state(client: Provider, sandbox: Sandbox) -> None:
    contacts = people(2)
    filled_list(client, contacts)
    sandbox.simulate(client.name, contacts[0].email, "unsubscribe")  # account-wide: suppressed where there is one
    client.delete_contacts([contacts[0].email])
    assert _stored(sandbox, client.name) == {contacts[1].email}
