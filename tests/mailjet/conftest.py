"""Fixtures for the Mailjet tests: a sandbox serving only the Mailjet emulator, and clients of it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from mailjet_rest import Client

from contactsync.providers.mailjet.provider import MailjetProvider
from contactsync.sandbox import Sandbox
from contactsync.sandbox.mailjet import MailjetEmulator


@pytest.fixture
def mj_sandbox() -> Iterator[Sandbox]:
    """A running sandbox with only the Mailjet emulator."""
    with Sandbox(["mailjet"]) as running:
        yield running


@pytest.fixture
def emulator(mj_sandbox: Sandbox) -> MailjetEmulator:
    """The sandbox's Mailjet emulator, for looking at its state."""
    found = mj_sandbox.emulators["mailjet"]
    assert isinstance(found, MailjetEmulator)
    return found


@pytest.fixture
def client(mj_sandbox: Sandbox) -> Iterator[MailjetProvider]:
    """Our client, pointed at the sandbox."""
    with mj_sandbox.connect("mailjet") as connected:
        assert isinstance(connected, MailjetProvider)
        yield connected


@pytest.fixture
def official(mj_sandbox: Sandbox, emulator: MailjetEmulator) -> Iterator[Client]:
    """Mailjet's own client (mailjet-rest), changed only in api_url and credentials."""
    with Client(
        auth=(emulator.API_KEY, emulator.SECRET_KEY), api_url=mj_sandbox.base_url("mailjet") + "/", version="v3"
    ) as mailjet:
        yield mailjet
