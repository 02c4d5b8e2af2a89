"""Shared pieces of the reliability tests: a sandbox per provider and a client with a quick retry policy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from contactsync import Contact, ListSubscription
from contactsync.http import default_retry
from contactsync.provider import Provider
from contactsync.sandbox import Sandbox

PROVIDERS = ["mailjet", "sendgrid", "dotmailer"]


def people(count: int, start: int = 1) -> list[Contact]:
    """``count`` distinct contacts."""
    return [Contact(f"p{n:05d}@example.com") for n in range(start, start + count)]


def emails(stored: list[Contact]) -> set[str]:
    """The addresses in a ``Sandbox.contacts`` answer."""
    return {contact.email for contact in stored}


@pytest.fixture(params=PROVIDERS)
def served(request: pytest.FixtureRequest) -> Iterator[tuple[Sandbox, Provider, ListSubscription]]:
    """A sandbox serving one provider, a client with small retry backoff, and a list to import into."""
    with Sandbox([request.param]) as sandbox:
        client: Provider = sandbox.connect(request.param, retry=default_retry(total=4, backoff_factor=0.005))
        with client:
            yield sandbox, client, ListSubscription(client.create_list("Reliability"))
