"""Local records of an import: the journal (SQLite) that lets an interrupted import resume, and the spool.

The journal holds, for each batch, its number, the input rows and emails it carried
(enough to rebuild its :class:`~contactsync.batching.RowIndex`), and the provider job
that took it; plus the rows rejected before sending. A batch is written before it is
sent and completed once its outcome is known, so a resumed import knows which batches
were finished, and which may or may not have reached the provider.

The spool keeps the encoded bytes of submitted batches in a temporary file until their
jobs end, so a batch whose job failed can be sent again without holding it in memory.
"""

from __future__ import annotations

import json
import os
import pickle
import sqlite3
import tempfile
import threading
from array import array
from collections.abc import Iterator, Sequence
from typing import IO

import attrs

from contactsync.batching import Batch, RowIndex
from contactsync.errors import ConfigurationError
from contactsync.model import ImportJob, ImportStatus, ListSubscription, RowError

__all__ = ["FORMAT_VERSION", "BatchSpool", "Journal", "RecordedBatch"]

FORMAT_VERSION = 1
"""Stored as SQLite's ``user_version``; a journal of another version is refused, not misread."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS import_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS batch (
    number INTEGER PRIMARY KEY,
    first_row INTEGER NOT NULL,
    last_row INTEGER NOT NULL,
    rows BLOB NOT NULL,
    emails TEXT NOT NULL,
    part_id TEXT,
    status TEXT,
    provider_status TEXT,
    requested INTEGER,
    error TEXT
);
CREATE TABLE IF NOT EXISTS local_error (
    row INTEGER PRIMARY KEY, email TEXT, field TEXT, message TEXT NOT NULL, code TEXT
);
"""


@attrs.frozen
class RecordedBatch:
    """One batch as the journal holds it; ``part`` is None while its outcome is unknown."""

    number: int
    first_row: int
    last_row: int
    rows: RowIndex
    part: ImportJob | None


class Journal:
    """One import's journal in an SQLite file: created on first use, continued when it already holds an import.

    Writes are committed one by one (WAL, ``synchronous=NORMAL``): a killed process loses
    nothing that was written. Safe to use from several threads.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            raise ConfigurationError(f"{self.path} is not an import journal: {exc}") from None
        if tables and ("batch" not in tables or version != FORMAT_VERSION):
            self._db.close()
            raise ConfigurationError(f"{self.path} is not an import journal of version {FORMAT_VERSION}")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.executescript(_SCHEMA)
        self._db.execute(f"PRAGMA user_version = {FORMAT_VERSION}")
        self._errors_written = 0

    def __repr__(self) -> str:
        return f"Journal({self.path!r})"

    def close(self) -> None:
        """Close the file; the journal stays on disk."""
        with self._lock:
            self._db.close()

    # -- the import it records -----------------------------------------------------------

    def begin(self, provider: str, subscriptions: Sequence[ListSubscription]) -> str | None:
        """Record a new import, or check that this one is the import recorded; return the recorded route."""
        wanted = {
            "provider": provider,
            "subscriptions": json.dumps([[s.list_id, s.action.value] for s in subscriptions]),
        }
        with self._lock:
            recorded = dict(self._db.execute("SELECT key, value FROM import_meta").fetchall())
            if not recorded:
                self._db.executemany("INSERT INTO import_meta (key, value) VALUES (?, ?)", list(wanted.items()))
                return None
        for key, value in wanted.items():
            if recorded.get(key) != value:
                raise ConfigurationError(
                    f"the journal {self.path} records an import with {key} {recorded.get(key)}, not {value}; "
                    "resume it with the same settings, or remove the journal to start over"
                )
        return recorded.get("route")

    def set_route(self, route: str) -> None:
        """Record the route the import takes (a resumed import keeps it)."""
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO import_meta (key, value) VALUES ('route', ?)", (route,))

    def finish_submitting(self) -> None:
        """Note that every batch of the input was submitted."""
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO import_meta (key, value) VALUES ('submitted', '1')")

    def submitted(self) -> bool:
        """True once the whole input was submitted."""
        with self._lock:
            return self._db.execute("SELECT 1 FROM import_meta WHERE key = 'submitted'").fetchone() is not None

    # -- batches ----------------------------------------------------------------------------

    def sending(self, batch: Batch, local_errors: Sequence[RowError]) -> None:
        """Record a batch about to be sent, and the rows rejected so far that are not recorded yet."""
        rows = array("q", batch.rows).tobytes()
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute(
                "INSERT OR REPLACE INTO batch (number, first_row, last_row, rows, emails) VALUES (?, ?, ?, ?, ?)",
                (batch.number, batch.rows[0], batch.rows[-1], rows, "\n".join(batch.emails)),
            )
            self._write_errors(local_errors)
            self._db.execute("COMMIT")

    def settled(self, number: int, part: ImportJob) -> None:
        """Record the provider job (or the failed part) that took batch ``number``."""
        with self._lock:
            self._db.execute(
                "UPDATE batch SET part_id = ?, status = ?, provider_status = ?, requested = ?, error = ? "
                "WHERE number = ?",
                (
                    part.id,
                    part.status.value,
                    part.provider_status,
                    part.requested,
                    part.extra.get("error"),
                    number,
                ),
            )

    def forget(self, numbers: Sequence[int]) -> None:
        """Drop batches whose outcome is unknown, before their rows are sent again."""
        with self._lock:
            self._db.executemany("DELETE FROM batch WHERE number = ?", [(n,) for n in numbers])

    def record_errors(self, local_errors: Sequence[RowError]) -> None:
        """Record the rows rejected before sending that are not recorded yet."""
        with self._lock:
            self._db.execute("BEGIN")
            self._write_errors(local_errors)
            self._db.execute("COMMIT")

    def _write_errors(self, local_errors: Sequence[RowError]) -> None:
        fresh = local_errors[self._errors_written :]
        self._db.executemany(
            "INSERT OR REPLACE INTO local_error (row, email, field, message, code) VALUES (?, ?, ?, ?, ?)",
            [(e.row, e.email, e.field, e.message, e.provider_code) for e in fresh],
        )
        self._errors_written = len(local_errors)

    # -- reading it back --------------------------------------------------------------------

    def batches(self, provider: str) -> list[RecordedBatch]:
        """Every recorded batch in order, with its part (and row index) when its outcome is known."""
        with self._lock:
            found = self._db.execute(
                "SELECT number, first_row, last_row, rows, emails, part_id, status, provider_status, requested, error "
                "FROM batch ORDER BY number"
            ).fetchall()
        recorded = []
        for number, first, last, rows, emails, part_id, status, raw, requested, error in found:
            index = RowIndex(list(_rows(rows)), emails.split("\n"))
            part = None
            if part_id is not None:
                extra = {"error": error} if error else {}
                part = ImportJob(
                    provider, part_id, ImportStatus(status), raw, requested=requested, extra=extra, rows=index
                )
            recorded.append(RecordedBatch(number, first, last, index, part))
        return recorded

    def rows(self, up_to: int) -> Iterator[tuple[int, str]]:
        """(row, email) of every recorded batch's contacts up to row ``up_to``, in row order."""
        with self._lock:
            numbers = [
                n
                for (n,) in self._db.execute("SELECT number FROM batch WHERE first_row <= ? ORDER BY number", (up_to,))
            ]
        for number in numbers:
            with self._lock:
                rows, emails = self._db.execute("SELECT rows, emails FROM batch WHERE number = ?", (number,)).fetchone()
            for row, email in zip(_rows(rows), emails.split("\n"), strict=True):
                if row <= up_to:
                    yield row, email

    def restore_errors(self, up_to: int | None) -> list[RowError]:
        """The recorded rows rejected before sending, up to row ``up_to`` (all when None).

        Later ones are dropped: a resumed import reads those rows again and finds them again.
        """
        query = "SELECT row, email, field, message, code FROM local_error"
        limit = up_to if up_to is not None else 2**62
        with self._lock:
            found = self._db.execute(query + " WHERE row <= ? ORDER BY row", (limit,)).fetchall()
            self._db.execute("DELETE FROM local_error WHERE row > ?", (limit,))
            self._errors_written = len(found)
        return [RowError(email, row, field, message, code) for row, email, field, message, code in found]


def _rows(blob: bytes) -> array[int]:
    rows = array("q")
    rows.frombytes(blob)
    return rows


class BatchSpool:
    """Submitted batches kept in an unnamed temporary file until their jobs end (memory stays flat)."""

    def __init__(self) -> None:
        self._file: IO[bytes] | None = None
        self._lock = threading.Lock()

    def put(self, batch: Batch) -> tuple[int, int]:
        """Keep a batch; return the reference :meth:`get` takes."""
        data = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            if self._file is None:
                self._file = tempfile.TemporaryFile(prefix="contactsync-spool-")  # noqa: SIM115 - closed by close()
            self._file.seek(0, os.SEEK_END)
            offset = self._file.tell()
            self._file.write(data)
            return offset, len(data)

    def get(self, ref: tuple[int, int]) -> Batch:
        """The batch kept under ``ref``."""
        offset, size = ref
        with self._lock:
            if self._file is None:
                raise KeyError(ref)
            self._file.seek(offset)
            batch: Batch = pickle.loads(self._file.read(size))  # our own temporary file
            return batch

    def close(self) -> None:
        """Delete the file."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
