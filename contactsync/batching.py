"""Streaming batches by count and by encoded bytes, and the row index that maps reports back to rows."""

from __future__ import annotations

import bisect
import itertools
import mmap
import tempfile
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from hashlib import blake2b as _blake2b

import attrs

__all__ = ["Batch", "BatchLimits", "Batcher", "FirstRows", "RowIndex", "batches"]


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


class Batcher:
    """Fills batches within ``limits`` one item at a time, for a caller that feeds several (one per route).

    ``numbers`` hands out batch numbers as batches are completed, so batches that share it are
    numbered in the order they are handed back, whichever batcher made them.
    """

    def __init__(self, limits: BatchLimits, numbers: Iterator[int]) -> None:
        self.limits = limits
        self._numbers = numbers
        self._room = limits.max_bytes - limits.overhead
        self._items: list[bytes] = []
        self._rows: list[int] = []
        self._emails: list[str] = []
        self._size = 0

    def add(self, row: int, email: str, item: bytes) -> Batch | None:
        """Add one item; return the batch it did not fit in (now complete), if any.

        An item too large for any batch on its own raises ``ValueError`` naming its row.
        """
        length = len(item)
        items = self._items
        if items:
            grown = self._size + self.limits.separator + length
            if len(items) < self.limits.max_items and grown <= self._room:
                items.append(item)
                self._rows.append(row)
                self._emails.append(email)
                self._size = grown
                return None
        if length > self._room:
            raise ValueError(
                f"row {row}: the contact is {length} bytes encoded, over the {self.limits.max_bytes}-byte request limit"
            )
        done = self.flush()
        self._items.append(item)
        self._rows.append(row)
        self._emails.append(email)
        self._size = length
        return done

    def flush(self) -> Batch | None:
        """The batch being filled, if it holds anything; the batcher starts a new one."""
        if not self._items:
            return None
        batch = Batch(next(self._numbers), self._items, self._rows, self._emails, self._size)
        self._items, self._rows, self._emails, self._size = [], [], [], 0
        return batch


def batches(
    encoded: Iterable[tuple[int, str, bytes]], limits: BatchLimits, *, first_number: int = 1
) -> Iterator[Batch]:
    """Group ``(row, email, item bytes)`` into batches within ``limits``, lazily.

    Only one batch is held at a time. An item too large for any batch on its own
    raises ``ValueError`` naming its row, so the caller can report it.
    """
    batcher = Batcher(limits, itertools.count(first_number))
    for row, email, item in encoded:
        done = batcher.add(row, email, item)
        if done is not None:
            yield done
    last = batcher.flush()
    if last is not None:
        yield last


class FirstRows:
    """The first input row of every email of one import, in about 20 bytes an address.

    A compact hash table in the manner of CPython's dict, with no Python object per
    address: a power-of-two index of 32-bit slots (kept at most two thirds full)
    pointing into two arrays filled in order, the emails' 64-bit hashes and their
    first rows. A million addresses take about 21 MB, where a dict of them takes
    about 100. Hashes are Python's own (``hash(str)``), so they hold within one
    process: a resumed import rebuilds the table from the rows it skips. Two
    addresses sharing a 64-bit hash (about one chance in 10^7 in a million) would
    be taken for one.
    """

    __slots__ = ("_index", "_keys", "_limit", "_mask", "_rows")

    def __init__(self) -> None:
        self._index = array("I", bytes(4 * 1024))
        self._mask = len(self._index) - 1
        self._limit = 2 * len(self._index) // 3
        self._keys = array("q")
        self._rows = array("I")

    def __len__(self) -> int:
        return len(self._keys)

    def claim(self, email: str, row: int) -> int | None:
        """Record ``row`` as the first of ``email`` and return None, or return the first row it came in."""
        key = hash(email)
        index, mask = self._index, self._mask
        slot = key & mask
        at = index[slot]
        while at:
            if self._keys[at - 1] == key:
                return self._rows[at - 1]
            slot = (slot + 1) & mask
            at = index[slot]
        keys = self._keys
        keys.append(key)
        self._rows.append(row)
        count = len(keys)
        index[slot] = count
        if count > self._limit:
            self._grow()
        return None

    def _grow(self) -> None:
        """Double the index and place every address again (the arrays of hashes and rows stay)."""
        index = array("I", bytes(8 * len(self._index)))
        mask = len(index) - 1
        for at, key in enumerate(self._keys, start=1):
            slot = key & mask
            while index[slot]:
                slot = (slot + 1) & mask
            index[slot] = at
        self._index, self._mask, self._limit = index, mask, 2 * len(index) // 3

    def __repr__(self) -> str:
        return f"FirstRows({len(self)} emails)"


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

    def row_of(self, email: str, occurrence: int = 0) -> int | None:
        """The input row that carried ``email``: its ``occurrence``-th (from 0) when it came several times, or
        its last when it came fewer times than that; None when it did not come."""
        key = _email_keys((email,))[0]
        size, view = self._size, self._view
        at = bisect.bisect_left(view, key, size, 2 * size)
        if at >= 2 * size or view[at] != key:
            return None
        last = bisect.bisect_right(view, key, at, 2 * size) - 1
        return view[min(at + max(occurrence, 0), last) + size]

    def __repr__(self) -> str:
        return f"RowIndex({len(self)} rows)"
