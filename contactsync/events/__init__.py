"""Provider webhooks, verified and normalised: :func:`parse` for one request, :class:`WebhookApp` to serve them.

The parsers are pure functions beside the translators (no HTTP); ``WebhookApp`` needs werkzeug
(the ``webhooks`` extra) and is imported on first use, so ``parse`` works without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contactsync.errors import InvalidSignature
from contactsync.events.formats import FORMATS, POLL_ONLY, WebhookFormat, configure, parse, webhook_format

if TYPE_CHECKING:
    from contactsync.events.app import WebhookApp

__all__ = [
    "FORMATS",
    "POLL_ONLY",
    "InvalidSignature",
    "WebhookApp",
    "WebhookFormat",
    "configure",
    "parse",
    "webhook_format",
]


def __getattr__(name: str) -> Any:
    if name == "WebhookApp":
        try:
            from contactsync.events.app import WebhookApp
        except ImportError as exc:
            from contactsync.errors import ConfigurationError

            raise ConfigurationError("WebhookApp needs werkzeug: pip install 'contactsync[webhooks]'") from exc
        return WebhookApp
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
