"""SendGrid's Event Webhook: the signed-request check and the mapping of its events onto the model.

Wire facts from reference/sendgrid.md §13: a JSON array of event objects, signed with ECDSA
P-256 over SHA-256 of the timestamp header followed by the raw body.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
from cryptography import exceptions as crypto_exceptions
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from contactsync.errors import ConfigurationError, InvalidSignature
from contactsync.events.wire import event_records, header, integer, recipient, summary, text, unix_time
from contactsync.model import ContactEvent, EventType

__all__ = [
    "BOUNCE_SEVERITY",
    "DEFAULT_TOLERANCE",
    "EVENT_TYPES",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Settings",
    "load_key",
    "parse",
    "read",
    "verify",
]

PROVIDER = "sendgrid"
# reference/sendgrid.md §13d: the two headers of the Signed Event Webhook.
SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"

DEFAULT_TOLERANCE = timedelta(minutes=5)
"""How far the signed timestamp may be from our clock, either way, before a request counts as replayed.

reference/sendgrid.md §13d: no source gives a replay window; five minutes is the window other
timestamped webhook checks use, and it keeps an old signed ``group_resubscribe`` from being replayed
after the recipient unsubscribed again."""

EVENT_TYPES: Mapping[str, EventType] = {
    # reference/sendgrid.md §13c: the event names, lower-cased (one docs example says "Processed").
    "unsubscribe": EventType.UNSUBSCRIBED,
    "group_unsubscribe": EventType.UNSUBSCRIBED,
    "group_resubscribe": EventType.SUBSCRIBED,
    "bounce": EventType.BOUNCED,
    "spamreport": EventType.COMPLAINED,
    "dropped": EventType.BLOCKED,
}
"""SendGrid event name -> EventType; every other event (``delivered``, ``open``...) is UNKNOWN."""

BOUNCE_SEVERITY: Mapping[str, str] = {
    # reference/sendgrid.md §13c: a bounce's type is "bounce" (hard) or "blocked" (a temporary block).
    "bounce": "hard bounce",
    "blocked": "blocked",
}
"""A bounce's ``type`` -> the start of its reason. A ``blocked`` one reads as BLOCKED, not BOUNCED: it is the
fact SendGrid's blocks list holds (§12d), which ``events_since`` reports as BLOCKED, so both paths agree."""

_GROUP_EVENTS = frozenset({"group_unsubscribe", "group_resubscribe"})
_DECIMAL = re.compile(r"[0-9]{1,20}")


def load_key(key: object) -> ec.EllipticCurvePublicKey | None:
    """The verification key from what SendGrid's settings show (base64 DER, no PEM armour), PEM text,
    DER bytes or a key object; None stays None (requests are then not verified).

    Raises ConfigurationError for anything that is not a P-256 public key.
    """
    loaded = key if key is None or isinstance(key, ec.EllipticCurvePublicKey) else _decode_key(key)
    if loaded is not None and not isinstance(loaded.curve, ec.SECP256R1):
        raise ConfigurationError(f"the SendGrid verification key is on {loaded.curve.name}, not P-256")
    return loaded


def _decode_key(key: object) -> ec.EllipticCurvePublicKey:
    try:
        if isinstance(key, str) and key.lstrip().startswith("-----BEGIN"):
            loaded = serialization.load_pem_public_key(key.encode("ascii"))
        elif isinstance(key, str):
            # reference/sendgrid.md §13d: public_key is base64 DER SubjectPublicKeyInfo.
            loaded = serialization.load_der_public_key(base64.b64decode("".join(key.split()), validate=True))
        elif isinstance(key, bytes):
            loaded = serialization.load_der_public_key(key)
        else:
            raise ConfigurationError(f"the SendGrid verification key must be text or bytes, not {type(key).__name__}")
    except (ValueError, TypeError, UnicodeError, crypto_exceptions.UnsupportedAlgorithm):
        raise ConfigurationError(
            "the SendGrid verification key is not a public key: give the public_key text of the webhook's "
            "signed settings (base64 DER) or a PEM public key"
        ) from None
    if not isinstance(loaded, ec.EllipticCurvePublicKey):
        raise ConfigurationError("the SendGrid verification key is not an elliptic-curve (ECDSA) key")
    return loaded


def _tolerance(value: object) -> timedelta | None:
    if value is None or isinstance(value, timedelta):
        tolerance = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        tolerance = timedelta(seconds=value)
    else:
        raise ConfigurationError(f"tolerance must be a timedelta, seconds or None, not {type(value).__name__}")
    if tolerance is not None and tolerance < timedelta(0):
        raise ConfigurationError("tolerance must not be negative")
    return tolerance


def _groups(value: Mapping[str, int]) -> Mapping[int, str]:
    """``{list_id: asm_group_id}`` (the provider's own ``unsubscribe_groups`` option) inverted."""
    lists: dict[int, str] = {}
    for list_id, group in dict(value).items():
        number = integer(group)
        if number is None:
            raise ConfigurationError(f"unsubscribe_groups[{list_id!r}] must be an unsubscribe group id (a number)")
        lists[number] = str(list_id)
    return lists


@attrs.frozen
class Settings:
    """How SendGrid webhook requests are checked and read.

    ``verification_key`` is the signed webhook's public key (None: accept unsigned requests, for a
    webhook protected otherwise). ``tolerance`` bounds the signed timestamp's distance from now
    (None: no bound). ``unsubscribe_groups`` (``{list_id: asm_group_id}``, as given to
    ``connect("sendgrid", unsubscribe_groups=...)``) names the list of a group (un)subscribe event.
    """

    verification_key: ec.EllipticCurvePublicKey | None = attrs.field(converter=load_key)
    tolerance: timedelta | None = attrs.field(default=DEFAULT_TOLERANCE, converter=_tolerance)
    unsubscribe_groups: Mapping[int, str] = attrs.field(factory=dict, converter=_groups)


def verify(
    headers: Mapping[str, str],
    body: bytes | str,
    key: ec.EllipticCurvePublicKey,
    tolerance: timedelta | None = DEFAULT_TOLERANCE,
) -> None:
    """Check the Signed Event Webhook headers against ``key``; raises InvalidSignature when they fail.

    ``body`` must be the request's raw bytes: re-serialised JSON does not verify (reference/sendgrid.md §13d).
    """
    signature = (header(headers, SIGNATURE_HEADER) or "").strip()
    timestamp = header(headers, TIMESTAMP_HEADER) or ""
    if not signature or not timestamp:
        raise InvalidSignature(
            f"the request is not signed: it lacks the {SIGNATURE_HEADER} or {TIMESTAMP_HEADER} header"
        )
    if _DECIMAL.fullmatch(timestamp) is None:
        raise InvalidSignature(f"the {TIMESTAMP_HEADER} header is not a Unix time in seconds")
    try:
        der = base64.b64decode(signature, validate=True)
    except binascii.Error:
        raise InvalidSignature(f"the {SIGNATURE_HEADER} header is not base64") from None
    raw = body if isinstance(body, bytes) else body.encode("utf-8")
    try:
        key.verify(der, timestamp.encode("ascii") + raw, ec.ECDSA(hashes.SHA256()))
    except (crypto_exceptions.InvalidSignature, ValueError):
        raise InvalidSignature(
            "the signature does not verify: the body or timestamp differs from what SendGrid signed, "
            "or the key is not this webhook's"
        ) from None
    if tolerance is not None:
        age = datetime.now(timezone.utc).timestamp() - int(timestamp)
        if abs(age) > tolerance.total_seconds():
            raise InvalidSignature(
                f"the signed timestamp is {abs(age):.0f} s {'old' if age > 0 else 'ahead'}, beyond the tolerance "
                f"of {tolerance.total_seconds():.0f} s (a replayed request, or a clock out of step)"
            )


def read(body: bytes | str, unsubscribe_groups: Mapping[int, str] | None = None) -> list[ContactEvent]:
    """The events of a SendGrid webhook body, unverified; InvalidInput when it is not a JSON array of objects."""
    lists = unsubscribe_groups or {}
    return [_event(record, lists) for record in event_records(PROVIDER, body)]


def parse(headers: Mapping[str, str], body: bytes | str, settings: Settings) -> list[ContactEvent]:
    """Verify (when a key is set) and read one SendGrid webhook request."""
    if settings.verification_key is not None:
        verify(headers, body, settings.verification_key, settings.tolerance)
    return read(body, settings.unsubscribe_groups)


def _event(record: Mapping[str, Any], lists: Mapping[int, str]) -> ContactEvent:
    name = (text(record.get("event")) or "").strip().lower()
    group = integer(record.get("asm_group_id")) if name in _GROUP_EVENTS else None
    return ContactEvent(
        provider=PROVIDER,
        type=EventType.BLOCKED
        if name == "bounce" and _bounce_type(record) == "blocked"
        else EVENT_TYPES.get(name, EventType.UNKNOWN),
        email=recipient(record.get("email")),
        at=unix_time(record.get("timestamp")),  # reference/sendgrid.md §13c: seconds, ms or numeric text
        list_id=lists.get(group) if group is not None else None,
        reason=_reason(name, record, group),
        raw=record,
    )


def _bounce_type(record: Mapping[str, Any]) -> str:
    return (text(record.get("type")) or "").strip().lower()


def _reason(name: str, record: Mapping[str, Any], group: int | None) -> str | None:
    if name == "bounce":
        severity = BOUNCE_SEVERITY.get(_bounce_type(record), "bounce")
        return summary(severity, text(record.get("bounce_classification")), text(record.get("reason")))
    if name == "dropped":
        return text(record.get("reason"))
    if group is not None:
        return f"unsubscribe group {group}"
    if name == "unsubscribe":
        return "global unsubscribe"
    if name in EVENT_TYPES:
        return None
    return name or None
