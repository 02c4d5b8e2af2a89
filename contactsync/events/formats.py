"""The providers whose webhooks we read, their settings, and :func:`~contactsync.events.parse` dispatching by name."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from contactsync.errors import ConfigurationError, UnsupportedAction
from contactsync.events import mailjet, sendgrid
from contactsync.model import ContactEvent, EventType

__all__ = ["FORMATS", "POLL_ONLY", "WebhookFormat", "configure", "parse", "webhook_format"]


@attrs.frozen
class WebhookFormat:
    """One provider's webhook: its settings class, its parser and the events it pushes (raw name -> type)."""

    provider: str
    settings: type[Any]
    parse: Callable[[Mapping[str, str], bytes | str, Any], list[ContactEvent]]
    event_types: Mapping[str, EventType]


FORMATS: Mapping[str, WebhookFormat] = {
    "mailjet": WebhookFormat("mailjet", mailjet.Settings, mailjet.parse, mailjet.EVENT_TYPES),
    "sendgrid": WebhookFormat("sendgrid", sendgrid.Settings, sendgrid.parse, sendgrid.EVENT_TYPES),
}
"""The providers whose webhooks are read, by name."""

POLL_ONLY: Mapping[str, str] = {
    # reference/dotmailer.md §12: v2 has no push mechanism for contact changes.
    "dotmailer": "dotmailer pushes no webhooks for contact changes: poll with client.events_since(when)",
}
"""Providers that push no contact events, with what to do instead."""


def webhook_format(provider: str) -> WebhookFormat:
    """The webhook format of ``provider``; UnsupportedAction for a provider that only polling reads,
    ConfigurationError for one we have no parser for."""
    if provider in FORMATS:
        return FORMATS[provider]
    if provider in POLL_ONLY:
        raise UnsupportedAction(POLL_ONLY[provider])
    raise ConfigurationError(f"no webhook parser for {provider!r}; there are parsers for {', '.join(sorted(FORMATS))}")


def configure(provider: str, values: Mapping[str, Any]) -> Any:
    """``provider``'s settings object from keyword values, every required one given explicitly.

    The verification settings have no default on purpose: skipping the check takes an explicit None.
    """
    fmt = webhook_format(provider)
    fields = attrs.fields_dict(fmt.settings)
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigurationError(
            f"{provider} webhooks have no setting {', '.join(unknown)}; their settings are {', '.join(fields)}"
        )
    missing = [name for name, field in fields.items() if field.default is attrs.NOTHING and name not in values]
    if missing:
        raise ConfigurationError(
            f"{provider} webhooks need {', '.join(missing)} (give None explicitly to accept unverified requests)"
        )
    return fmt.settings(**values)


def parse(provider: str, headers: Mapping[str, str], body: bytes | str, **verification: Any) -> list[ContactEvent]:
    """The normalised events of one webhook request from ``provider``, verified first.

    ``headers`` are the request's (any case), ``body`` its raw bytes. ``verification`` holds the
    provider's settings: SendGrid ``verification_key`` (and ``tolerance``, ``unsubscribe_groups``),
    Mailjet ``username`` and ``password``. Raises InvalidSignature when the request does not verify,
    InvalidInput when its body is malformed.
    """
    fmt = webhook_format(provider)
    return fmt.parse(headers, body, configure(provider, verification))
