"""The installed distribution: found through its entry points like any plugin, beside the built-ins."""

from __future__ import annotations

from importlib.metadata import entry_points

import contactsync
from contactsync import registry
from contactsync_brevo.emulator import BrevoEmulator
from contactsync_brevo.provider import BrevoProvider


def test_the_provider_is_listed_and_loaded_through_its_entry_point() -> None:
    assert "brevo" in contactsync.providers()
    assert "brevo" not in registry.BUILTINS
    assert registry.load("brevo") is BrevoProvider
    assert "brevo" not in registry.problems()


def test_the_emulator_is_declared_in_the_emulators_group() -> None:
    (point,) = [p for p in entry_points(group="contactsync.emulators") if p.name == "brevo"]
    assert point.load() is BrevoEmulator
    assert BrevoEmulator.name == BrevoProvider.name == "brevo"
