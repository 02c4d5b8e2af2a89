"""Streaming batches by count and by encoded bytes, and the row index that maps reports back to rows."""

from __future__ import annotations

import bisect
import mmap
import tempfile
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
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


def _email_keys(emails: Iterable[str]) -> array[int]:
    """A 64-bit key per email (BLAKE2b, so the same in every process); hashed together, it is cheap."""
    keys = array("q")
    keys.frombytes(b"".join([_blake2b(email.encode(), digest_size=8).digest() for email in emails]))
    return keys


def _mapped(data: Iterable[array[int] | bytes]) -> memoryview:
    """``data`` written to an unnamed temporary file and mapped read-only, as 64-bit integers.

    The file has no name (or loses it at once) and its descriptor is closed here: the
    mapping alone keeps it, and the file is gone when the last view of it is released.
    """
    with tempfile.TemporaryFile(prefix="contactsync-rows-") as file:
        for chunk in data:
            file.write(chunk)
        file.flush()
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    return memoryview(mapped).cast("q")


class RowIndex:
    """Which input rows one provider job carried: by position, and by email.

    Its three arrays (rows by position, sorted email keys, rows by key; 24 bytes a
    contact) live in a memory-mapped temporary file, read on demand when an error
    report is traced back to rows. A part keeps O(1) memory until then, so what an
    import holds does not grow with the number of contacts. The file goes when the
    index is garbage-collected.
    """

    __slots__ = ("_size", "_view")

    def __init__(self, rows: Sequence[int], emails: Sequence[str]) -> None:
        by_position = array("q", rows)
        keys = _email_keys(emails)
        if len(keys) != len(by_position):
            raise ValueError(f"{len(by_position)} rows but {len(keys)} emails")
        # A stable sort on rows in input order: an email that came twice keeps its first row first.
        order = sorted(range(len(keys)), key=keys.__getitem__)
        sorted_keys = array("q", map(keys.__getitem__, order))
        rows_by_key = array("q", map(by_position.__getitem__, order))
        self._load(len(by_position), (by_position, sorted_keys, rows_by_key))

    def _load(self, size: int, data: Iterable[array[int] | bytes]) -> None:
        self._size = size
        self._view = _mapped(data) if size else memoryview(b"").cast("q")

    @classmethod
    def _restore(cls, blob: bytes) -> RowIndex:
        """The index pickled by :meth:`__reduce__` (its three arrays, back to back)."""
        index = cls.__new__(cls)
        index._load(len(blob) // 24, (blob,))
        return index

    def __reduce__(self) -> tuple[Callable[[bytes], RowIndex], tuple[bytes]]:
        return RowIndex._restore, (self._view.tobytes(),)

    def __len__(self) -> int:
        return self._size

    def row_at(self, position: int) -> int | None:
        """The input row of the item at 0-based ``position`` in the batch."""
        return self._view[position] if 0 <= position < self._size else None

    def row_of(self, email: str) -> int | None:
        """The input row that carried ``email`` (its first, if it came twice)."""
        key = _email_keys((email,))[0]
        size, view = self._size, self._view
        at = bisect.bisect_left(view, key, size, 2 * size)
        return view[at + size] if at < 2 * size and view[at] == key else None

    def __repr__(self) -> str:
        return f"RowIndex({len(self)} rows)"
