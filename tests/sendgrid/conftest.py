"""A sandbox serving only the SendGrid emulator, and a client connected to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from contactsync.providers.sendgrid.provider import SendGridProvider
from contactsync.sandbox import Sandbox
from contactsync.sandbox.sendgrid import SendGridEmulator


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """``Sandbox(["sendgrid"])`` on a free port, for one test."""
    with Sandbox(["sendgrid"]) as running:
        yield running


@pytest.fixture
def emulator(sandbox: Sandbox) -> SendGridEmulator:
    """The running SendGrid emulator (its state, its ``contacts()``)."""
    emu = sandbox.emulators["sendgrid"]
    assert isinstance(emu, SendGridEmulator)
    return emu


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[SendGridProvider]:
    """Our client, connected to the sandbox."""
    with sandbox.connect("sendgrid") as connected:
        assert isinstance(connected, SendGridProvider)
        yield connected
