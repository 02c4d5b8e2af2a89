"""What contactsync gives tests: the conformance suite every provider runs, and fixtures for applications.

The suite (:class:`~contactsync.testing.suite.ProviderSuite`) proves the portable contract of
DESIGN.md for one provider, through its emulator in a :class:`~contactsync.sandbox.Sandbox`,
over real HTTP. A provider's tests subclass it, naming the provider and its emulator::

    from contactsync.testing import ProviderSuite
    from my_plugin.emulator import BrevoEmulator

    class TestBrevo(ProviderSuite):
        provider = "brevo"
        emulator = BrevoEmulator

What the provider cannot do skips by its declared :class:`~contactsync.provider.Capabilities`.
The suite needs pytest and hypothesis (the ``test`` extra); it is imported on first use, so
that the pytest plugin (:mod:`contactsync.testing.plugin`) loads without them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contactsync.testing.suite import ProviderSuite, held_contacts, held_values, same_value

__all__ = ["ProviderSuite", "held_contacts", "held_values", "same_value"]


def __getattr__(name: str) -> Any:
    """The suite's names, imported when first asked for."""
    if name in __all__:
        return getattr(importlib.import_module("contactsync.testing.suite"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
