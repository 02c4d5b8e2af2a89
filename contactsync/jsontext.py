"""Compact JSON written piece by piece, for the translators' hot paths.

Byte for byte what ``json.dumps(value, separators=(",", ":"), ensure_ascii=False)``
writes for the same scalars, without building a dictionary to hand to it: a
translator that encodes a million contacts writes each one's object directly.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = ["key", "scalar", "string"]

string: Callable[[str], str] = json.encoder.encode_basestring
"""A JSON string literal, non-ASCII kept (``ensure_ascii=False``)."""

_KEYS: dict[str, str] = {}
_MAX_KEYS = 10_000


def key(name: str) -> str:
    """``"name":``, remembered for the names met (at most 10,000)."""
    text = _KEYS.get(name)
    if text is None:
        if len(_KEYS) >= _MAX_KEYS:
            _KEYS.clear()
        text = _KEYS[name] = string(name) + ":"
    return text


def scalar(value: Any) -> str:
    """A JSON scalar (str, None, bool, int, finite float) as ``json.dumps`` writes it."""
    if isinstance(value, str):
        return string(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return float.__repr__(value)
    raise TypeError(f"{type(value).__name__} is not a JSON scalar")
