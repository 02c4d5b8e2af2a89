"""The sandbox's pushing half: webhook bodies in the providers' shapes, SendGrid's signature, and the POST.

Written from reference/sendgrid.md §13 and reference/mailjet.md §12, never from our parsers
(nothing here imports ``contactsync.events`` or ``contactsync.providers``), so the two check
each other. An emulator builds the events of a recipient's action, then pushes them to the
URL registered with it.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, TypeGuard
from urllib.parse import urlsplit

import attrs
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from contactsync.http import without_credentials

__all__ = [
    "MAILJET_EVENT_FIELDS",
    "SENDGRID_EVENT_FIELDS",
    "SENDGRID_SIGNATURE_HEADER",
    "SENDGRID_TIMESTAMP_HEADER",
    "Delivery",
    "Push",
    "Redelivery",
    "SigningKey",
    "mailjet_body",
    "mailjet_event",
    "postable",
    "push",
    "push_mailjet",
    "push_sendgrid",
    "sendgrid_body",
    "sendgrid_event",
]

log = logging.getLogger("contactsync.sandbox")

# reference/sendgrid.md §13d: the Signed Event Webhook's headers.
SENDGRID_SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
SENDGRID_TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"

PUSH_TIMEOUT = 10.0
"""Seconds the sandbox waits for a webhook receiver to answer (the providers' own timeouts are UNCONFIRMED)."""

SENDGRID_EVENT_FIELDS: Mapping[str, Mapping[str, Any]] = {
    # reference/sendgrid.md §13c: the fields each event carries besides email, timestamp, event, sg_event_id.
    "bounce": {
        "type": "bounce",
        "bounce_classification": "Invalid Address",
        "reason": "550 5.1.1 The email account that you tried to reach does not exist",
        "status": "5.1.1",
    },
    "dropped": {"reason": "Bounced Address", "status": "5.0.0"},
    "spamreport": {},
    "unsubscribe": {},
    "group_unsubscribe": {"asm_group_id": 1},
    "group_resubscribe": {"asm_group_id": 1},
    "processed": {},
    "delivered": {"response": "250 OK"},
    "deferred": {"response": "400 try again later", "attempt": "1"},
    "open": {"useragent": "Mozilla/5.0", "ip": "127.0.0.1"},
    "click": {"useragent": "Mozilla/5.0", "ip": "127.0.0.1", "url": "https://example.com/"},
}
"""The default fields of each SendGrid event, which the caller's own fields override."""

MAILJET_EVENT_FIELDS: Mapping[str, Mapping[str, Any]] = {
    # reference/mailjet.md §12c: the additional fields per event.
    "sent": {"mj_message_id": "", "smtp_reply": "250 OK"},
    "open": {"ip": "127.0.0.1", "geo": "FR", "agent": "Mozilla/5.0"},
    "click": {"url": "https://example.com/", "ip": "127.0.0.1", "geo": "FR", "agent": "Mozilla/5.0"},
    "bounce": {
        "blocked": False,
        "hard_bounce": True,
        "error_related_to": "recipient",
        "error": "user unknown",
        "comment": "550 5.1.1 user unknown",
    },
    "blocked": {"error_related_to": "recipient", "error": "user unknown"},
    "spam": {"source": "JMRPP"},
    "unsub": {"mj_list_id": 0, "ip": "127.0.0.1", "geo": "FR", "agent": "Mozilla/5.0"},
}
"""The default additional fields of each Mailjet event, which the caller's own fields override."""


def _unix_seconds(at: datetime | None) -> int:
    return int((at or datetime.now(timezone.utc)).timestamp())


def sendgrid_event(event: str, email: str, *, at: datetime | None = None, **fields: Any) -> dict[str, Any]:
    """One SendGrid Event Webhook object for ``email`` (reference/sendgrid.md §13c).

    ``fields`` override the defaults of :data:`SENDGRID_EVENT_FIELDS` (e.g. ``asm_group_id=7``).
    """
    record: dict[str, Any] = {
        "email": email,
        "timestamp": _unix_seconds(at),
        "event": event,
        # reference/sendgrid.md §13b: a base64url string of up to 100 characters, the dedupe key.
        "sg_event_id": base64.urlsafe_b64encode(secrets.token_bytes(36)).decode("ascii").rstrip("="),
        "sg_message_id": f"{secrets.token_urlsafe(16)}.sandbox-0",
        "smtp-id": f"<{secrets.token_urlsafe(16)}@sandbox.sendgrid.net>",
    }
    record.update(SENDGRID_EVENT_FIELDS.get(event, {}))
    record.update(fields)
    return record


def sendgrid_body(events: Sequence[Mapping[str, Any]]) -> bytes:
    """A SendGrid webhook body: a JSON array, compact, ending in CR LF as the published vector's does
    (reference/sendgrid.md §13d), so a receiver that re-serialises instead of using the raw bytes fails."""
    return json.dumps(list(events), separators=(",", ":")).encode("utf-8") + b"\r\n"


def mailjet_event(
    event: str, email: str, *, at: datetime | None = None, list_id: int | None = None, **fields: Any
) -> dict[str, Any]:
    """One Mailjet Event API object for ``email`` (reference/mailjet.md §12c); ``list_id`` sets ``mj_list_id``.

    ``fields`` override the defaults of :data:`MAILJET_EVENT_FIELDS`.
    """
    record: dict[str, Any] = {
        "event": event,
        "time": _unix_seconds(at),
        # reference/mailjet.md §12c: MessageID values exceed 2**53.
        "MessageID": 2**54 + secrets.randbelow(2**56),
        "Message_GUID": str(uuid.uuid4()),
        "email": email,
        "mj_campaign_id": 0,
        "mj_contact_id": 0,
        "customcampaign": "",
        "CustomID": "",
        "Payload": "",
    }
    record.update(MAILJET_EVENT_FIELDS.get(event, {}))
    if list_id is not None:
        record["mj_list_id"] = int(list_id)
    record.update(fields)
    return record


def mailjet_body(events: Sequence[Mapping[str, Any]], *, version: int = 2) -> bytes:
    """A Mailjet callback body: Version 2 groups events in an array; Version 1 sends one bare object
    (reference/mailjet.md §12b), so it takes exactly one event."""
    if version == 1:
        if len(events) != 1:
            raise ValueError("a Version 1 Mailjet callback carries exactly one event")
        return json.dumps(events[0]).encode("utf-8")
    if version != 2:
        raise ValueError(f"Mailjet callbacks are Version 1 or 2, not {version}")
    return json.dumps(list(events)).encode("utf-8")


class SigningKey:
    """The sandbox's own ECDSA P-256 key pair, signing webhook bodies as SendGrid's signed webhook does."""

    def __init__(self, private_key: ec.EllipticCurvePrivateKey | None = None) -> None:
        self._private = private_key or ec.generate_private_key(ec.SECP256R1())
        spki = self._private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public_key = base64.b64encode(spki).decode("ascii")
        """The public key as SendGrid's signed-webhook settings return it: base64 DER, no PEM armour (§13d)."""

    @classmethod
    def load(cls, text: str) -> SigningKey:
        """The key pair saved by :meth:`export`, so an emulator's public key survives a saved state."""
        private = serialization.load_der_private_key(base64.b64decode(text), password=None)
        if not isinstance(private, ec.EllipticCurvePrivateKey):
            raise ValueError("not an elliptic-curve private key")
        return cls(private)

    def export(self) -> str:
        """The private key as base64 PKCS #8 DER text, for a JSON state (never shown in a repr)."""
        der = self._private.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return base64.b64encode(der).decode("ascii")

    def __repr__(self) -> str:
        return f"SigningKey(public_key={self.public_key[-12:]!r}...)"

    def sign(self, timestamp: str, body: bytes) -> str:
        """Base64 DER ECDSA signature over SHA-256 of ``timestamp`` then ``body`` (reference/sendgrid.md §13d)."""
        der = self._private.sign(timestamp.encode("ascii") + body, ec.ECDSA(hashes.SHA256()))
        return base64.b64encode(der).decode("ascii")

    def headers(self, body: bytes, at: datetime | None = None) -> dict[str, str]:
        """The two signature headers for ``body``, signed at ``at`` (now by default)."""
        timestamp = str(_unix_seconds(at))
        return {SENDGRID_SIGNATURE_HEADER: self.sign(timestamp, body), SENDGRID_TIMESTAMP_HEADER: timestamp}


@attrs.frozen
class Delivery:
    """What came of one webhook POST: the URL (credentials removed), the status, or the error when none came."""

    url: str
    status: int | None
    error: str | None = None
    accepted: bool = False
    """Whether the provider would count it delivered (Mailjet: 200 only; SendGrid: any 2xx)."""
    attempt: int = 1
    """Which try this was: 1, then 2... for the sends :class:`Redelivery` makes after a refusal."""


Push = Callable[[], tuple[Delivery, ...]]
"""One webhook POST an emulator plans for a recipient's action, with its retries: called, it sends and returns
every attempt's :class:`Delivery`."""


@attrs.frozen
class Redelivery:
    """How the sandbox sends again a webhook its receiver did not accept: ``attempts`` tries in all, the first
    retry ``pause`` seconds after the refusal, each later pause ``backoff`` times the one before.

    The providers keep retrying for 24 hours (reference/sendgrid.md §13b: at increasing intervals;
    reference/mailjet.md §12b: every 30 s), which no test can wait for: the sandbox keeps their
    shape (Mailjet a fixed pause, SendGrid a growing one) and bounds the count.
    """

    attempts: int = attrs.field(default=3, validator=attrs.validators.ge(1))
    pause: float = attrs.field(default=0.05, validator=attrs.validators.ge(0))
    backoff: float = attrs.field(default=1.0, validator=attrs.validators.ge(1))

    def deliver(self, send: Callable[[], Delivery]) -> tuple[Delivery, ...]:
        """Call ``send`` until its Delivery is accepted or the attempts run out; every attempt's Delivery, in order."""
        made: list[Delivery] = []
        pause = self.pause
        for attempt in range(1, self.attempts + 1):
            if attempt > 1:
                time.sleep(pause)
                pause *= self.backoff
            delivery = attrs.evolve(send(), attempt=attempt)
            made.append(delivery)
            if delivery.accepted:
                break
        return tuple(made)


def postable(url: object) -> TypeGuard[str]:
    """Whether ``url`` is one a webhook can be registered at: an http or https URL with a host."""
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- read for its ValueError on a port that is not a number
    except ValueError:  # that, or a bad IPv6 literal
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def push(
    url: str, body: bytes, headers: Mapping[str, str] | None = None, *, accept: range = range(200, 300)
) -> Delivery:
    """POST a webhook ``body`` to ``url`` over real HTTP; Basic credentials in the URL (``user:pass@``) are
    sent as an ``Authorization`` header. Never raises for the receiver's failure: the Delivery says it."""
    shown = without_credentials(url)
    try:
        response = requests.post(
            url, data=body, headers={"Content-Type": "application/json", **(headers or {})}, timeout=PUSH_TIMEOUT
        )
    except requests.RequestException as exc:
        log.info("webhook POST to %s failed: %s", shown, type(exc).__name__)
        return Delivery(shown, None, type(exc).__name__)
    log.info("webhook POST to %s -> %s", shown, response.status_code)
    return Delivery(shown, response.status_code, accepted=response.status_code in accept)


def push_sendgrid(url: str, events: Sequence[Mapping[str, Any]], key: SigningKey | None) -> Delivery:
    """POST SendGrid events to ``url``, signed with ``key`` (None when signing is disabled)."""
    body = sendgrid_body(events)
    return push(url, body, key.headers(body) if key is not None else None)


def push_mailjet(url: str, events: Sequence[Mapping[str, Any]], *, version: int = 2) -> Delivery:
    """POST Mailjet events to the callback ``url`` (reference/mailjet.md §12b: only a 200 acknowledges)."""
    return push(url, mailjet_body(events, version=version), accept=range(200, 201))
