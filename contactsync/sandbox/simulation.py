"""What a recipient can do in the sandbox: the event names of ``Sandbox.simulate`` and what it returns.

``Sandbox.simulate(provider, email, event, list_id=None)`` makes a recipient act as the
provider would record it: the emulator's state changes (so ``members`` and
``events_since`` report it), the emulator returns what it recorded, in the provider's
own shape, and POSTs those records as the provider's webhook to the URLs registered with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from contactsync.sandbox.webhooks import Delivery

__all__ = ["EVENT_ALIASES", "SIMULATED_EVENTS", "SimulatedEvent", "event_name"]

SIMULATED_EVENTS = ("unsubscribe", "resubscribe", "bounce", "spam", "block")
"""The events a recipient can cause: unsubscribe (from ``list_id``, or from everything), resubscribe,
a hard bounce, a spam complaint, a block."""

EVENT_ALIASES: Mapping[str, str] = {
    "complaint": "spam",
    "spamreport": "spam",
    "blocked": "block",
    "unsub": "unsubscribe",
}
"""Other names accepted for the events of :data:`SIMULATED_EVENTS`."""


def event_name(event: str) -> str:
    """The event of :data:`SIMULATED_EVENTS` that ``event`` names; ValueError naming them when none."""
    name = EVENT_ALIASES.get(event.strip().lower(), event.strip().lower())
    if name not in SIMULATED_EVENTS:
        known = ", ".join(SIMULATED_EVENTS + tuple(EVENT_ALIASES))
        raise ValueError(f"the sandbox cannot simulate {event!r}; it knows: {known}")
    return name


@attrs.frozen
class SimulatedEvent:
    """What one simulated recipient action changed.

    ``records`` are the provider's own records of it: Mailjet's and SendGrid's webhook
    event objects (none where the provider sends no event, e.g. a Mailjet resubscribe),
    dotmailer's suppression records (it has no email webhooks). ``deliveries`` are the webhook
    POSTs made with them to the URLs registered with the emulator, every attempt in order
    (none when no URL is registered for these events).
    """

    provider: str
    event: str
    email: str
    list_id: str | None
    at: datetime
    records: tuple[Mapping[str, Any], ...] = ()
    deliveries: tuple[Delivery, ...] = ()
