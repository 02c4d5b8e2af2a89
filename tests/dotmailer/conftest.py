"""Fixtures for the dotmailer tests: a sandbox serving only the dotmailer emulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from contactsync.providers.dotmailer.provider import DotmailerProvider
from contactsync.sandbox import Sandbox
from contactsync.sandbox.dotmailer import DotmailerEmulator


@pytest.fixture
def dm_sandbox() -> Iterator[Sandbox]:
    """A running sandbox with the dotmailer emulator alone."""
    with Sandbox(["dotmailer"]) as running:
        yield running


@pytest.fixture
def emulator(dm_sandbox: Sandbox) -> DotmailerEmulator:
    """The emulator behind ``dm_sandbox``, for test controls and assertions."""
    found = dm_sandbox.emulators["dotmailer"]
    assert isinstance(found, DotmailerEmulator)
    return found


@pytest.fixture
def client(dm_sandbox: Sandbox) -> Iterator[DotmailerProvider]:
    """Our client pointed at the sandbox."""
    provider = dm_sandbox.connect("dotmailer")
    assert isinstance(provider, DotmailerProvider)
    with provider:
        yield provider
