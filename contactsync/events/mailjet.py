"""Mailjet's Event API: the callback URL's Basic credentials checked, and its events mapped onto the model.

Wire facts from reference/mailjet.md §12: one bare event object (Version 1) or an array of
them (Version 2, grouped); no signature, only the credentials the callback URL carries.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from typing import Any

import attrs

from contactsync.errors import ConfigurationError, InvalidSignature
from contactsync.events.wire import event_records, flag, header, integer, recipient, summary, text, unix_time
from contactsync.model import ContactEvent, EventType

__all__ = ["EVENT_TYPES", "Settings", "check_credentials", "parse", "read"]

PROVIDER = "mailjet"

EVENT_TYPES: Mapping[str, EventType] = {
    # reference/mailjet.md §12c: the contact-state events; sent, open and click are UNKNOWN.
    "unsub": EventType.UNSUBSCRIBED,
    "bounce": EventType.BOUNCED,
    "spam": EventType.COMPLAINED,
    "blocked": EventType.BLOCKED,
}
"""Mailjet event name -> EventType; every other event is UNKNOWN."""


def _both_or_neither(instance: Settings, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    if (instance.username is None) != (instance.password is None):
        raise ConfigurationError("Mailjet webhooks take a username and a password, or neither (no check)")
    if value == "":
        raise ConfigurationError(f"the Mailjet webhook {attribute.name} is empty")


@attrs.frozen
class Settings:
    """The Basic credentials of the callback URL registered with Mailjet (``https://user:pass@host/...``).

    Both None accepts requests without credentials (reference/mailjet.md §12b: Mailjet signs nothing,
    so that leaves the endpoint open to anyone who finds it). The password never shows in a repr.
    """

    username: str | None = attrs.field(validator=_both_or_neither)
    password: str | None = attrs.field(validator=_both_or_neither, repr=False)


def check_credentials(headers: Mapping[str, str], username: str, password: str) -> None:
    """Check the request's ``Authorization: Basic`` header in constant time; InvalidSignature when it fails.

    reference/mailjet.md §12b: the credentials come from the callback URL (sent as Basic, UNCONFIRMED).
    """
    value = header(headers, "Authorization")
    if value is None:
        raise InvalidSignature(
            "the request carries no credentials: register the callback URL as https://USER:PASSWORD@..."
        )
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "basic":
        raise InvalidSignature("the request's Authorization header is not Basic credentials")
    try:
        given_user, _, given_password = base64.b64decode(token.strip(), validate=True).partition(b":")
    except binascii.Error:
        raise InvalidSignature("the request's Basic credentials are not base64") from None
    user_ok = hmac.compare_digest(given_user, username.encode("utf-8"))
    password_ok = hmac.compare_digest(given_password, password.encode("utf-8"))
    if not (user_ok and password_ok):
        raise InvalidSignature("the request's credentials do not match the webhook's")


def read(body: bytes | str) -> list[ContactEvent]:
    """The events of a Mailjet callback body (an object or an array); InvalidInput when it is neither."""
    return [_event(record) for record in event_records(PROVIDER, body)]


def parse(headers: Mapping[str, str], body: bytes | str, settings: Settings) -> list[ContactEvent]:
    """Check the credentials (when set) and read one Mailjet callback request."""
    if settings.username is not None and settings.password is not None:
        check_credentials(headers, settings.username, settings.password)
    return read(body)


def _event(record: Mapping[str, Any]) -> ContactEvent:
    name = (text(record.get("event")) or "").strip().lower()
    list_number = integer(record.get("mj_list_id"))
    return ContactEvent(
        provider=PROVIDER,
        type=EVENT_TYPES.get(name, EventType.UNKNOWN),
        email=recipient(record.get("email")),
        at=unix_time(record.get("time")),  # reference/mailjet.md §12c: Unix seconds
        # reference/mailjet.md §12c: mj_list_id 0 or missing means the list is not known.
        list_id=str(list_number) if name == "unsub" and list_number else None,
        reason=_reason(name, record),
        raw=record,
    )


def _reason(name: str, record: Mapping[str, Any]) -> str | None:
    # reference/mailjet.md §12c: error_related_to names the category of error ("recipient: user unknown").
    cause = summary(text(record.get("error_related_to")), text(record.get("error")))
    if name == "bounce":
        hard = flag(record.get("hard_bounce"))
        return summary("bounce" if hard is None else ("hard bounce" if hard else "soft bounce"), cause)
    if name == "blocked":
        return cause
    if name == "spam":
        return text(record.get("source"))
    if name in EVENT_TYPES:
        return None
    return name or None
