"""contactsync's conformance suite for Brevo: the portable contract, through the Brevo emulator over real HTTP."""

from __future__ import annotations

from typing import Any, ClassVar

from contactsync.testing import ProviderSuite
from contactsync_brevo.emulator import BrevoEmulator


class TestBrevo(ProviderSuite):
    provider = "brevo"
    emulator = BrevoEmulator


class TestBrevoWithGlobalUnsubscribe(ProviderSuite):
    """Brevo connected to unsubscribe by the email blacklist: UNSUBSCRIBE is declared, and tested."""

    provider = "brevo"
    emulator = BrevoEmulator
    settings: ClassVar[dict[str, Any]] = {"global_unsubscribe": True}
