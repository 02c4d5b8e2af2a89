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

import contextlib
import errno
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

_START_OVER = "delete it to start the import over"
_WRITE_FAILURES = frozenset({3, 8, 10, 13, 14})
"""SQLite's primary result codes for a file that cannot be written: PERM, READONLY, IOERR, FULL, CANTOPEN."""
_WRITE_HINTS = ("disk is full", "disk i/o error", "readonly database", "unable to open")
"""The same, in the messages (Python 3.10 has no ``sqlite_errorcode``)."""

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
    """One import's journal in an SQLite file: created when the first batch is sent, continued when it
    already holds an import.

    Writes are committed one by one (WAL, ``synchronous=NORMAL``): a killed process loses
    nothing that was written. Safe to use from several threads. A journal that cannot be
    read back (damaged, or not a journal) raises :class:`~contactsync.errors.ConfigurationError`
    saying so; one that cannot be written (a full disk, no permission) raises :class:`OSError`.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._unwritten: dict[str, str] = {}
        """What :meth:`begin` and :meth:`set_route` recorded before the file exists, written with the first batch."""
        self._errors_written = 0
        if os.path.exists(self.path):
            self._open()

    def __repr__(self) -> str:
        return f"Journal({self.path!r})"

    def _open(self) -> sqlite3.Connection:
        """The connection, the file (and its tables) made first when it does not exist yet."""
        if self._db is not None:
            return self._db
        with self._guard():
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            try:
                version = db.execute("PRAGMA user_version").fetchone()[0]
                tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            except sqlite3.DatabaseError as exc:
                db.close()
                raise ConfigurationError(f"{self.path} is not an import journal ({exc}); {_START_OVER}") from None
            if tables and ("batch" not in tables or version != FORMAT_VERSION):
                db.close()
                raise ConfigurationError(
                    f"{self.path} is not an import journal of version {FORMAT_VERSION}; {_START_OVER}"
                )
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            with _transaction(db):  # all or nothing, so an interruption cannot leave a half-made journal
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {FORMAT_VERSION}")
                db.executemany(
                    "INSERT OR IGNORE INTO import_meta (key, value) VALUES (?, ?)", list(self._unwritten.items())
                )
            self._unwritten.clear()
        self._db = db
        return db

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        """Turn what SQLite (or a damaged record) raises into a typed error about this journal."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            code = getattr(exc, "sqlite_errorcode", None)
            primary = None if code is None else code & 0xFF
            text = str(exc).lower()
            if primary in _WRITE_FAILURES or any(hint in text for hint in _WRITE_HINTS):
                number = errno.ENOSPC if primary == 13 or "full" in text else errno.EIO
                raise OSError(
                    number, f"cannot write the import journal ({exc}; is the disk full?)", self.path
                ) from None
            raise self._damaged(exc) from None
        except (sqlite3.DatabaseError, ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
            raise self._damaged(exc) from None

    def _damaged(self, exc: BaseException) -> ConfigurationError:
        return ConfigurationError(
            f"the import journal {self.path} is damaged ({type(exc).__name__}: {exc}); {_START_OVER}"
        )

    def close(self) -> None:
        """Close the file; the journal stays on disk."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # -- the import it records -----------------------------------------------------------

    def begin(self, provider: str, subscriptions: Sequence[ListSubscription]) -> str | None:
        """Record a new import, or check that this one is the import recorded; return the recorded route."""
        wanted = {
            "provider": provider,
            "subscriptions": json.dumps([[s.list_id, s.action.value] for s in subscriptions]),
        }
        with self._lock, self._guard():
            recorded = dict(self._db.execute("SELECT key, value FROM import_meta").fetchall()) if self._db else {}
            if not recorded:
                if self._db is None:
                    self._unwritten.update(wanted)
                else:
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
        with self._lock, self._guard():
            if self._db is None:
                self._unwritten.setdefault("route", route)
            else:
                self._db.execute("INSERT OR IGNORE INTO import_meta (key, value) VALUES ('route', ?)", (route,))

    def finish_submitting(self) -> None:
        """Note that every batch of the input was submitted (nothing to note when no batch was)."""
        with self._lock, self._guard():
            if self._db is not None:
                self._db.execute("INSERT OR REPLACE INTO import_meta (key, value) VALUES ('submitted', '1')")

    def submitted(self) -> bool:
        """True once the whole input was submitted."""
        with self._lock, self._guard():
            if self._db is None:
                return False
            return self._db.execute("SELECT 1 FROM import_meta WHERE key = 'submitted'").fetchone() is not None

    # -- batches ----------------------------------------------------------------------------

    def sending(self, batch: Batch, local_errors: Sequence[RowError]) -> None:
        """Record a batch about to be sent, and the rows rejected so far that are not recorded yet.

        The first batch creates the file.
        """
        rows = array("q", batch.rows).tobytes()
        with self._lock:
            db = self._open()
            with self._guard(), _transaction(db):
                db.execute(
                    "INSERT OR REPLACE INTO batch (number, first_row, last_row, rows, emails) VALUES (?, ?, ?, ?, ?)",
                    (batch.number, batch.rows[0], batch.rows[-1], rows, "\n".join(batch.emails)),
                )
                self._write_errors(db, local_errors)

    def settled(self, number: int, part: ImportJob) -> None:
        """Record the provider job (or the failed part) that took batch ``number``."""
        with self._lock:
            db = self._open()
            with self._guard():
                db.execute(
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
        with self._lock, self._guard():
            if self._db is not None:
                self._db.executemany("DELETE FROM batch WHERE number = ?", [(n,) for n in numbers])

    def record_errors(self, local_errors: Sequence[RowError]) -> None:
        """Record the rows rejected before sending that are not recorded yet (once the file exists)."""
        with self._lock, self._guard():
            if self._db is None:
                return
            with _transaction(self._db):
                self._write_errors(self._db, local_errors)

    def _write_errors(self, db: sqlite3.Connection, local_errors: Sequence[RowError]) -> None:
        fresh = local_errors[self._errors_written :]
        db.executemany(
            "INSERT OR REPLACE INTO local_error (row, email, field, message, code) VALUES (?, ?, ?, ?, ?)",
            [(e.row, e.email, e.field, e.message, e.provider_code) for e in fresh],
        )
        self._errors_written = len(local_errors)

    # -- reading it back --------------------------------------------------------------------

    def batches(self, provider: str) -> list[RecordedBatch]:
        """Every recorded batch in order, with its part (and row index) when its outcome is known."""
        with self._lock, self._guard():
            if self._db is None:
                return []
            found = self._db.execute(
                "SELECT number, first_row, last_row, rows, emails, part_id, status, provider_status, requested, error "
                "FROM batch ORDER BY number"
            ).fetchall()
            recorded = []
            for number, first, last, rows, emails, part_id, status, raw, requested, error in found:
                index = RowIndex(list(_rows(rows)), _emails(emails, rows))
                part = None
                if part_id is not None:
                    extra = {"error": error} if error else {}
                    part = ImportJob(
                        provider, part_id, ImportStatus(status), raw, requested=requested, extra=extra, rows=index
                    )
                recorded.append(RecordedBatch(int(number), int(first), int(last), index, part))
        return recorded

    def outcomes(self) -> list[tuple[int, str, str]]:
        """(number, part id, status) of every batch whose outcome is recorded, in order."""
        with self._lock, self._guard():
            if self._db is None:
                return []
            query = "SELECT number, part_id, status FROM batch WHERE part_id IS NOT NULL ORDER BY number"
            return [(int(n), str(part), str(status)) for n, part, status in self._db.execute(query)]

    def batch(self, number: int) -> Batch:
        """Batch ``number`` as recorded: its rows and emails (not its encoded items, which are not kept)."""
        with self._lock, self._guard():
            assert self._db is not None
            rows, emails = self._db.execute("SELECT rows, emails FROM batch WHERE number = ?", (number,)).fetchone()
            return Batch(number, rows=list(_rows(rows)), emails=_emails(emails, rows))

    def rows(self, up_to: int) -> Iterator[tuple[int, str]]:
        """(row, email) of every recorded batch's contacts up to row ``up_to``, in row order."""
        with self._lock, self._guard():
            if self._db is None:
                return
            query = "SELECT number FROM batch WHERE first_row <= ? ORDER BY number"
            numbers = [n for (n,) in self._db.execute(query, (up_to,))]
        for number in numbers:
            batch = self.batch(number)
            for row, email in zip(batch.rows, batch.emails, strict=True):
                if row <= up_to:
                    yield row, email

    def restore_errors(self, up_to: int | None) -> list[RowError]:
        """The recorded rows rejected before sending, up to row ``up_to`` (all when None).

        Later ones are dropped: a resumed import reads those rows again and finds them again.
        """
        query = "SELECT row, email, field, message, code FROM local_error"
        limit = up_to if up_to is not None else 2**62
        with self._lock, self._guard():
            if self._db is None:
                return []
            found = self._db.execute(query + " WHERE row <= ? ORDER BY row", (limit,)).fetchall()
            self._db.execute("DELETE FROM local_error WHERE row > ?", (limit,))
            self._errors_written = len(found)
            return [RowError(email, int(row), field, str(message), code) for row, email, field, message, code in found]


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    """One transaction: committed, or rolled back (as far as the file still allows) when a write fails."""
    db.execute("BEGIN")
    try:
        yield
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _rows(blob: bytes) -> array[int]:
    rows = array("q")
    rows.frombytes(blob)  # a blob that is not whole 8-byte rows raises ValueError: a damaged journal
    return rows


def _emails(text: str, blob: bytes) -> list[str]:
    """A batch's emails, one per recorded row (a count that differs is a damaged journal)."""
    emails = text.split("\n")
    if len(emails) * 8 != len(blob):
        raise ValueError(f"{len(emails)} emails recorded for {len(blob) // 8} rows")
    return emails


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
