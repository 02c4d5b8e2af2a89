"""The confirmed rows' keys in compact form: an open-addressing table of 64-bit slots and a byte per slot for "seen".

A re-sync looks up every source row's key. Held as a Python set, a million keys take
about 60 MB; here they take one 8-byte slot each in a table at most 70% full (so
between 11 and 23 bytes a key with the seen byte), and a lookup is one or two slot
reads. MIRROR reads the seen bytes to find the contacts that left the source.

Keys are 63-bit (see :func:`~contactsync.sync.fingerprint.key_of`), so :data:`EMPTY`,
the mark of an empty slot, is never a key.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterable, Iterator

__all__ = ["EMPTY", "KeySet"]

EMPTY = -(2**63)
"""An empty slot (no 63-bit key is this)."""
_MAX_LOAD = 0.7


def _little_endian(data: array[int]) -> array[int]:
    if sys.byteorder == "big":
        data.byteswap()
    return data


class KeySet:
    """A set of 63-bit keys with a "seen" mark per key, for the sync's hot loop.

    ``table``, ``mask`` and ``seen`` are public so the loop can inline :meth:`find` and
    :meth:`mark`: key ``k`` is at the first slot from ``k & mask`` on (wrapping) that holds
    ``k``, and absent if an :data:`EMPTY` slot comes first. ``seen`` is 1 for empty slots
    and for keys marked seen, 0 for keys not met yet.
    """

    __slots__ = ("count", "empties", "mask", "seen", "table")

    def __init__(self, table: array[int] | memoryview, empties: bytes, count: int) -> None:
        self.table = table
        self.mask = len(table) - 1
        self.empties = empties
        """``seen`` as a fresh load has it: 1 for the empty slots."""
        self.seen = bytearray(empties)
        self.count = count

    @classmethod
    def build(cls, keys: Iterable[int], count: int | None = None) -> KeySet:
        """From keys (each once). Given their ``count``, the keys stream in without being held first."""
        given: Iterable[int] = keys
        if count is None:
            held = array("q", keys)
            given, count = held, len(held)
        expected = count
        size = 8
        while size * _MAX_LOAD < expected:
            size *= 2
        table = array("q", [EMPTY]) * size
        mask = size - 1
        count = 0
        for key in given:
            slot = key & mask
            while table[slot] != EMPTY:
                slot = (slot + 1) & mask
            table[slot] = key
            count += 1
            if count > size * _MAX_LOAD:
                raise ValueError(f"more keys than the {expected} announced")
        del given
        empties = bytearray(b"\x01") * size
        for slot, key in enumerate(table):
            if key != EMPTY:
                empties[slot] = 0
        return cls(table, bytes(empties), count)

    @classmethod
    def from_chunks(cls, size: int, count: int, chunks: Iterable[tuple[bytes, bytes]]) -> KeySet:
        """What :meth:`chunks` gave, in order, for a table of ``size`` slots holding ``count`` keys.

        The slots fill one buffer chunk by chunk, read in place on a little-endian machine,
        so a load holds no second copy of the table. Raises ValueError if the chunks do not fill it.
        """
        slots, empties = bytearray(size * 8), bytearray(size)
        at = 0
        for slot_bytes, empty_bytes in chunks:
            width = len(empty_bytes)
            if len(slot_bytes) != width * 8 or at + width > size:
                raise ValueError("the key snapshot's chunks do not fit its table")
            slots[at * 8 : (at + width) * 8] = slot_bytes
            empties[at : at + width] = empty_bytes
            at += width
        if at != size or size & (size - 1):
            raise ValueError("the key snapshot's chunks do not fill its table")
        if sys.byteorder == "little":
            return cls(memoryview(slots).cast("q"), bytes(empties), count)
        table = array("q")
        table.frombytes(slots)
        return cls(_little_endian(table), bytes(empties), count)

    def chunks(self, width: int = 1 << 17) -> Iterator[tuple[bytes | memoryview, bytes]]:
        """(slots little-endian, :attr:`empties`) of consecutive runs of ``width`` slots, for the state's snapshot."""
        for start in range(0, len(self.table), width):
            part = self.table[start : start + width]
            if sys.byteorder == "little":
                slots: bytes | memoryview = memoryview(part).cast("B")
            else:
                slots = _little_endian(array("q", part)).tobytes()
            yield slots, self.empties[start : start + width]

    @property
    def size(self) -> int:
        """The number of slots."""
        return len(self.table)

    def __len__(self) -> int:
        return self.count

    def find(self, key: int) -> int:
        """The slot of ``key``, or -1."""
        table, mask = self.table, self.mask
        slot = key & mask
        found = table[slot]
        while found not in (key, EMPTY):
            slot = (slot + 1) & mask
            found = table[slot]
        return slot if found == key != EMPTY else -1

    def mark(self, slot: int) -> bool:
        """Mark the key in ``slot`` seen; return whether it was already."""
        already = bool(self.seen[slot])
        self.seen[slot] = 1
        return already

    def unseen(self) -> Iterator[int]:
        """The keys not marked seen."""
        seen, table = self.seen, self.table
        slot = seen.find(0)
        while slot >= 0:
            yield table[slot]
            slot = seen.find(0, slot + 1)

    @property
    def nbytes(self) -> int:
        """Memory held, in bytes: the slots, the seen bytes and the empties."""
        return len(self.table) * 10
