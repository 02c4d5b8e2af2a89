"""Brevo (formerly Sendinblue) for contactsync: a provider plugin written against contactsync's public API.

``contactsync.connect("brevo", api_key=...)`` finds :class:`~contactsync_brevo.provider.BrevoProvider`
through the ``contactsync.providers`` entry point; :class:`~contactsync_brevo.emulator.BrevoEmulator`
is its sandbox emulator (entry point group ``contactsync.emulators``).
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
