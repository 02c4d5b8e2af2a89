"""Fingerprints: what a sync sends for a contact, canonicalised, hashed, and read back.

:func:`canonical` writes a contact's email, name, properties (sorted by name, each
value tagged with its type) and subscription action as compact JSON: two contacts
with equal data give equal bytes, whatever the order of their properties or the zone
of their instants, and any change to what would be sent changes the bytes. The bytes
are also what an interrupted run keeps to send again (:func:`restore` reads them).

:func:`fingerprint` is the 16-byte BLAKE2b digest of those bytes. :func:`row_key`
keys a source's raw row (a file's cells) under a context that says how cells become
contacts, so a row met unchanged is known without parsing it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timezone
from hashlib import blake2b
from typing import Any

import orjson

from contactsync.model import Contact, PropertyValue, SubscriptionAction

__all__ = ["FORMAT_VERSION", "canonical", "context_salt", "fingerprint", "key_of", "restore", "row_key"]

FORMAT_VERSION = 1
"""Part of every fingerprint and row key: raise it and every contact is compared afresh (and re-sent if changed)."""

_SEPARATOR = "\x00"
"""Joins a raw row's cells for :func:`row_key`: the readers refuse NUL, so the join is unambiguous."""


def _tagged(value: PropertyValue) -> list[Any]:
    """One property value as [tag, text]: the type is kept, so 1, 1.0, True and "1" all differ."""
    if value is None:
        return ["z", None]
    if isinstance(value, bool):
        return ["b", value]
    if isinstance(value, int):
        return ["i", str(value)]
    if isinstance(value, float):
        return ["f", repr(value + 0.0)]  # -0.0 + 0.0 is 0.0: equal floats, equal text
    if isinstance(value, str):
        return ["s", value]
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            return ["n", value.isoformat()]
        try:
            return ["t", value.astimezone(timezone.utc).isoformat()]
        except OverflowError:  # outside years 1-9999 in UTC: keep its own zone
            return ["t", value.isoformat()]
    return ["d", value.isoformat()]


def _untagged(tag: str, text: Any) -> PropertyValue:
    if tag == "z":
        return None
    if tag == "b":
        return bool(text)
    if tag == "i":
        return int(text)
    if tag == "f":
        return float(text)
    if tag == "s":
        return str(text)
    if tag in ("t", "n"):
        return datetime.fromisoformat(text)
    if tag == "d":
        return date.fromisoformat(text)
    raise ValueError(f"unknown value tag {tag!r} in a canonical contact")


def canonical(contact: Contact, action: SubscriptionAction) -> bytes:
    """The contact and its subscription action as canonical bytes (see the module docstring)."""
    properties = sorted(contact.properties.items())
    record = [FORMAT_VERSION, contact.email, contact.name, action.value, [[k, *_tagged(v)] for k, v in properties]]
    return orjson.dumps(record)  # Contact refuses lone surrogates: every name and value encodes


def restore(data: bytes) -> tuple[Contact, SubscriptionAction]:
    """The contact and action that :func:`canonical` wrote as ``data``."""
    record = orjson.loads(data)
    _, email, name, action, properties = record
    values = {name_: _untagged(tag, text) for name_, tag, text in properties}
    return Contact(email, name, values), SubscriptionAction(action)


def fingerprint(contact: Contact, action: SubscriptionAction) -> bytes:
    """The 16-byte BLAKE2b digest of :func:`canonical`."""
    return blake2b(canonical(contact, action), digest_size=16).digest()


def key_of(digest: bytes) -> int:
    """A 63-bit key (signed, in a BIGINT) from the first 8 bytes of a digest: what the state's ``source_key`` holds.

    63 bits, not 64, so the key set's empty-slot mark is never a key.
    """
    return int.from_bytes(digest[:8], "little", signed=True) >> 1


def context_salt(*parts: str) -> bytes:
    """A 16-byte salt for :func:`row_key` naming how raw rows become contacts (a reader's layout, the action...)."""
    text = _SEPARATOR.join((str(FORMAT_VERSION), *parts))
    return blake2b(text.encode(), digest_size=16).digest()


def row_key(cells: Sequence[str], salt: bytes) -> int:
    """The key of one raw row under a context salt: equal cells under an equal context, equal keys."""
    return key_of(blake2b(_SEPARATOR.join(cells).encode(), digest_size=8, salt=salt).digest())
