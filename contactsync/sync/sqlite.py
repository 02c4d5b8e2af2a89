"""The embedded sync state: one SQLite file, and a lock file per sync beside it.

The state file is opened in WAL mode (readers never wait for the writer; several syncs
may share a file). A run's lock is an exclusive SQLite transaction on a small lock file
of its own in the sidecar directory ``<state>.d/``, taken without waiting: a second run
of the same sync is refused at once, and a killed run's lock goes with its process.
The import journals of the runs go to the same directory.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from contactsync.errors import ConfigurationError, SyncLocked
from contactsync.sync.state import StateStore

__all__ = ["SQLiteState"]


class SQLiteState(StateStore):
    """A sync state in the SQLite file ``path`` (created, with its tables, on first use)."""

    types: ClassVar[dict[str, str]] = {"id": "INTEGER PRIMARY KEY", "time": "TEXT", "blob": "BLOB"}

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__()
        self.path = os.fspath(path)
        self.url = self.path
        try:
            # Writes begin a transaction (BEGIN IMMEDIATE, so two writers queue rather than deadlock); reads do not.
            self._db = sqlite3.connect(self.path, isolation_level="IMMEDIATE", timeout=30, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            for statement in self.schema():
                self._db.execute(statement)
            self.check_version()
            self.commit()
        except sqlite3.DatabaseError as exc:
            raise ConfigurationError(f"{self.path} is not a sync state file: {exc}") from None

    def __repr__(self) -> str:
        return f"SQLiteState({self.path!r})"

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._db.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._db.executemany(sql, rows)

    def stream(self, sql: str, params: Sequence[Any] = (), *, fetch: int = 5000) -> Iterator[tuple[Any, ...]]:
        cursor = self._db.execute(sql, params)
        try:
            while chunk := cursor.fetchmany(fetch):
                yield from chunk
        finally:
            with contextlib.suppress(sqlite3.ProgrammingError):  # a stream left unfinished after close()
                cursor.close()

    def commit(self) -> None:
        self._db.commit()

    def rollback(self) -> None:
        self._db.rollback()

    def close(self) -> None:
        self._db.close()

    def to_db_time(self, value: datetime) -> Any:
        return value.isoformat()

    def from_db_time(self, value: Any) -> datetime:
        return datetime.fromisoformat(value)

    @property
    def sidecar(self) -> Path:
        """The directory beside the state file for lock files and journals: ``<state>.d``."""
        return Path(f"{self.path}.d")

    def default_journal_dir(self) -> str:
        return str(self.sidecar)

    @contextlib.contextmanager
    def lock(self, sync_id: int, label: str = "") -> Iterator[None]:
        self.sidecar.mkdir(parents=True, exist_ok=True)
        path = self.sidecar / f"sync-{sync_id}.lock"
        holder = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")
        except sqlite3.OperationalError:
            holder.close()
            raise SyncLocked(
                f"another run of the sync {label or sync_id} is in progress (it holds {path}); "
                "this run changed nothing: try again once it has finished"
            ) from None
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
