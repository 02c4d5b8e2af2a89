"""The conformance suite for the built-in providers: each a thin subclass naming the provider (its emulator is
the sandbox's own of that name)."""

from __future__ import annotations

from typing import Any, ClassVar

from contactsync.testing import ProviderSuite


class TestMailjet(ProviderSuite):
    provider = "mailjet"


class TestSendGrid(ProviderSuite):
    provider = "sendgrid"


class TestSendGridWithUnsubscribes(ProviderSuite):
    """SendGrid configured to unsubscribe by a global suppression: UNSUBSCRIBE is declared, and tested."""

    provider = "sendgrid"
    settings: ClassVar[dict[str, Any]] = {"global_unsubscribe": True}


class TestDotmailer(ProviderSuite):
    provider = "dotmailer"
