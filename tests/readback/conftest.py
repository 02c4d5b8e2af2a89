"""Fixtures for the read-back tests of the built-ins together (each runs once per built-in provider): migration
across pairs, what the emulators store, the declarations. The provider-neutral read-back tests are the
conformance suite's (:mod:`contactsync.testing.readback`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from typing import Any

import pytest

from contactsync import Contact, ListSubscription, Provider
from contactsync.sandbox import Sandbox

PROVIDERS = ("mailjet", "sendgrid", "dotmailer")
SETTINGS: Mapping[str, Mapping[str, Any]] = {"sendgrid": {"global_unsubscribe": True}}
"""SendGrid stores an unsubscribe only as a suppression the client is told to make (reference/sendgrid.md §5)."""
JOINED = datetime(2026, 3, 14, 15, 9, 26, tzinfo=timezone.utc)


@pytest.fixture(params=PROVIDERS)
def provider(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def client(sandbox: Sandbox, provider: str) -> Iterator[Provider]:
    with sandbox.connect(provider, **SETTINGS.get(provider, {})) as connected:
        yield connected


def people(count: int, start: int = 0) -> list[Contact]:
    """Contacts with a name and one property of each type every built-in provider holds."""
    return [
        Contact(
            f"member{n}@example.com",
            name=f"Member {n}",
            properties={"nickname": f"nick {n}", "score": n, "joined": JOINED},
        )
        for n in range(start, start + count)
    ]


def filled_list(client: Provider, contacts: list[Contact], name: str = "Members") -> str:
    """A new list holding ``contacts``, imported and waited for."""
    list_id = client.create_list(name)
    job = client.wait(client.import_contacts(contacts, [ListSubscription(list_id)]))
    assert job.status.is_success and job.errored == 0, job
    return list_id


def folded(properties: Mapping[str, Any]) -> dict[str, Any]:
    """Property names compared case-insensitively: dotmailer reads them back upper-cased until the portable
    contract keeps names as given; the values must be equal either way."""
    return {name.lower(): value for name, value in properties.items()}
