"""Streaming batches by count and by encoded bytes, and the row index that maps reports back to rows."""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterable, Iterator
from hashlib import blake2b as _blake2b

import attrs

__all__ = ["Batch", "BatchLimits", "RowIndex", "batches"]


@attrs.frozen
class BatchLimits:
    """How much one provider request may carry.

    ``max_bytes`` bounds the encoded items plus ``overhead`` (the body's fixed part)
    and one ``separator`` byte count between consecutive items.
    """

    max_items: int
    max_bytes: int
    overhead: int = 0
    separator: int = 0

    def __attrs_post_init__(self) -> None:
        if self.max_items < 1 or self.max_bytes <= self.overhead:
            raise ValueError(f"batch limits leave no room for an item: {self!r}")


@attrs.define
class Batch:
    """Encoded items bound for one request, with the input rows and emails they came from."""

    number: int
    items: list[bytes] = attrs.field(factory=list)
    rows: list[int] = attrs.field(factory=list)
    emails: list[str] = attrs.field(factory=list)
    size: int = 0

    def __len__(self) -> int:
        return len(self.items)

    def index(self) -> RowIndex:
        """The row index of this batch, for mapping provider reports back to input rows."""
        return RowIndex(self.rows, self.emails)


def batches(
    encoded: Iterable[tuple[int, str, bytes]], limits: BatchLimits, *, first_number: int = 1
) -> Iterator[Batch]:
    """Group ``(row, email, item bytes)`` into batches within ``limits``, lazily.

    Only one batch is held at a time. An item too large for any batch on its own
    raises ``ValueError`` naming its row, so the caller can report it.
    """
    max_items, separator = limits.max_items, limits.separator
    room = limits.max_bytes - limits.overhead
    number = first_number
    items: list[bytes] = []
    rows: list[int] = []
    emails: list[str] = []
    size = 0
    for row, email, item in encoded:
        length = len(item)
        if length > room:
            raise ValueError(
                f"row {row}: the contact is {length} bytes encoded, over the {limits.max_bytes}-byte request limit"
            )
        if items:
            grown = size + separator + length
            if len(items) >= max_items or grown > room:
                yield Batch(number, items, rows, emails, size)
                number += 1
                items, rows, emails = [], [], []
                grown = length
        else:
            grown = length
        items.append(item)
        rows.append(row)
        emails.append(email)
        size = grown
    if items:
        yield Batch(number, items, rows, emails, size)


def _email_keys(emails: list[str]) -> array[int]:
    """A 64-bit key per email (BLAKE2b, so the same in every process); hashed together, it is cheap."""
    keys = array("q")
    keys.frombytes(b"".join([_blake2b(email.encode(), digest_size=8).digest() for email in emails]))
    return keys


class RowIndex:
    """Which input rows one provider job carried: by position, and by email.

    Compact (about 20 bytes a contact) so a million-row import can keep it for
    every part while waiting for the provider's error report.
    """

    __slots__ = ("_keys", "_rows", "_rows_by_key")

    def __init__(self, rows: list[int], emails: list[str]) -> None:
        self._rows = array("q", rows)
        keys = _email_keys(emails)
        if len(keys) != len(self._rows):
            raise ValueError(f"{len(self._rows)} rows but {len(keys)} emails")
        # A stable sort on rows in input order: an email that came twice keeps its first row first.
        order = sorted(range(len(keys)), key=keys.__getitem__)
        self._keys = array("q", [keys[i] for i in order])
        self._rows_by_key = array("q", [self._rows[i] for i in order])

    def __len__(self) -> int:
        return len(self._rows)

    def row_at(self, position: int) -> int | None:
        """The input row of the item at 0-based ``position`` in the batch."""
        return self._rows[position] if 0 <= position < len(self._rows) else None

    def row_of(self, email: str) -> int | None:
        """The input row that carried ``email`` (its first, if it came twice)."""
        key = _email_keys([email])[0]
        at = bisect.bisect_left(self._keys, key)
        return self._rows_by_key[at] if at < len(self._keys) and self._keys[at] == key else None

    def __repr__(self) -> str:
        return f"RowIndex({len(self)} rows)"
