"""The emails a run met on its slow path (rows it parsed), with the first row of each, kept off the heap.

A first run parses every row, so a set of its emails would grow with the source; this
keeps them in a private temporary SQLite database (deleted when closed), which pages to
disk, so memory stays flat.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

__all__ = ["SeenEmails"]

_CHUNK = 500


class SeenEmails:
    """Emails met so far and the first row of each."""

    def __init__(self) -> None:
        self._db = sqlite3.connect("", isolation_level=None)  # "": a private temporary database
        self._db.execute("PRAGMA journal_mode = OFF")
        self._db.execute("CREATE TABLE seen (email TEXT PRIMARY KEY, row INTEGER)")
        self.count = 0

    def add(self, met: Sequence[tuple[str, int]]) -> dict[int, int | None]:
        """Record (email, row) pairs met in this order; return {row: first row} for each one repeating an email."""
        first: dict[str, int] = {}
        repeats: dict[int, int | None] = {}
        for email, row in met:
            if email in first:
                repeats[row] = first[email]
            else:
                first[email] = row
        earlier = self._rows(list(first))
        for email, row in list(first.items()):
            if email in earlier:
                repeats[row] = earlier[email]
                del first[email]
        self._db.execute("BEGIN")
        self._db.executemany("INSERT INTO seen (email, row) VALUES (?, ?)", first.items())
        self._db.execute("COMMIT")
        self.count += len(first)
        return repeats

    def _rows(self, emails: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for start in range(0, len(emails), _CHUNK):
            chunk = emails[start : start + _CHUNK]
            query = f"SELECT email, row FROM seen WHERE email IN ({', '.join('?' * len(chunk))})"
            found.update(self._db.execute(query, chunk).fetchall())
        return found

    def missing(self, emails: Iterable[str]) -> list[str]:
        """Those of ``emails`` not met."""
        listed = list(emails)
        met = self._rows(listed)
        return [email for email in listed if email not in met]

    def close(self) -> None:
        self._db.close()
