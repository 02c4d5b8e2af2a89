"""The conformance suite for the toy provider: a plugin's tests, registering the provider and naming its emulator."""

from __future__ import annotations

from contactsync.registry import register
from contactsync.testing import ProviderSuite
from tests.toy import ToyEmulator, ToyProvider

register("toy", ToyProvider, replace=True)


class TestToy(ProviderSuite):
    provider = "toy"
    emulator = ToyEmulator
