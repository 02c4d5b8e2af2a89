"""Compact JSON written piece by piece, for the translators' hot paths.

Byte for byte what ``json.dumps(value, separators=(",", ":"), ensure_ascii=False)``
writes for the same scalars, without building a dictionary to hand to it: a
translator that encodes a million contacts writes each one's object directly.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

__all__ = ["key", "scalar", "string"]

string: Callable[[str], str] = json.encoder.encode_basestring
"""A JSON string literal, non-ASCII kept (``ensure_ascii=False``)."""


@functools.lru_cache(maxsize=10_000)
def key(name: str) -> str:
    """``"name":``, remembered for the names met (the last 10,000)."""
    return string(name) + ":"


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
