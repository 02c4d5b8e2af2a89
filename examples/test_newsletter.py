"""The application's tests, as docs/testing.rst shows them: its own code against the sandbox, through the fixtures
of contactsync's pytest plugin (no set-up of our own: the plugin comes with contactsync)."""

from __future__ import annotations

import pytest
from newsletter import subscribe_users

from contactsync import Contact, ImportStatus, Provider
from contactsync.sandbox import Sandbox

pytestmark = pytest.mark.contactsync_providers("mailjet", "sendgrid", "dotmailer")

USERS = [{"email": f"User{n}@Example.com", "name": f"User {n}", "plan": "free"} for n in range(50)]


def test_new_users_land_on_the_newsletter(contactsync_sandbox: Sandbox, contactsync_provider: str) -> None:
    job = subscribe_users(contactsync_provider, "Newsletter", USERS)
    assert (job.status, job.accepted, job.errored) == (ImportStatus.COMPLETED, 50, 0)
    (newsletter,) = contactsync_sandbox.connect(contactsync_provider).lists()
    stored = contactsync_sandbox.contacts(contactsync_provider, newsletter.id)
    assert len(stored) == 50
    assert Contact("user7@example.com", "User 7") in [Contact(c.email, c.name) for c in stored]
    assert {value for c in stored for value in c.properties.values()} == {"free"}


def test_a_second_sign_up_round_reuses_the_list(contactsync_client: Provider, contactsync_provider: str) -> None:
    subscribe_users(contactsync_provider, "Newsletter", USERS[:2])
    subscribe_users(contactsync_provider, "Newsletter", USERS[2:4])
    assert [item.name for item in contactsync_client.lists()] == ["Newsletter"]
    (membership,) = contactsync_client.get_subscriptions("user3@example.com")
    assert membership.subscribed
