"""What contactsync gives tests: the conformance suite every provider runs, and fixtures for applications.

The suite (:class:`ProviderSuite`) proves the portable contract of DESIGN.md for one
provider, through its emulator in a :class:`~contactsync.sandbox.Sandbox`, over real HTTP.
A provider's tests subclass it, naming the provider and its emulator::

    from contactsync.testing import ProviderSuite
    from my_plugin.emulator import BrevoEmulator

    class TestBrevo(ProviderSuite):
        provider = "brevo"
        emulator = BrevoEmulator

What the provider cannot do skips by its declared :class:`~contactsync.provider.Capabilities`.
It needs pytest and hypothesis (the ``test`` extra).
"""

from contactsync.testing.suite import ProviderSuite, held_contacts, held_values, same_value

__all__ = ["ProviderSuite", "held_contacts", "held_values", "same_value"]
