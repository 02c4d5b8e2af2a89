"""Saving the sandbox's accounts to an SQLite file and loading them back, so contacts outlive a run.

One row per emulator: its name and :meth:`~contactsync.sandbox.Emulator.dump`
text. Saving replaces every row in one transaction, so a file is never half-written.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable

from contactsync.errors import ConfigurationError
from contactsync.sandbox.emulator import Emulator

__all__ = ["FORMAT_VERSION", "load_state", "save_state"]

FORMAT_VERSION = 1
"""Stored as SQLite's ``user_version``; a file of another version is refused, not misread."""

_SCHEMA = "CREATE TABLE IF NOT EXISTS emulator_state (name TEXT PRIMARY KEY, state TEXT NOT NULL)"


def _open(path: str | os.PathLike[str]) -> sqlite3.Connection:
    try:
        connection = sqlite3.connect(os.fspath(path))
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise ConfigurationError(f"{os.fspath(path)} is not a sandbox state file: {exc}") from None
    if tables and ("emulator_state" not in tables or version != FORMAT_VERSION):
        connection.close()
        raise ConfigurationError(
            f"{os.fspath(path)} is not a sandbox state file of version {FORMAT_VERSION} (found version {version})"
        )
    return connection


def load_state(path: str | os.PathLike[str], emulators: Iterable[Emulator]) -> list[str]:
    """Give each emulator the state saved for it in ``path``; return the names loaded.

    A missing file loads nothing; emulators the file does not mention keep a fresh account.
    """
    if not os.path.exists(path):
        return []
    connection = _open(path)
    try:
        saved = dict(connection.execute("SELECT name, state FROM emulator_state").fetchall())
    except sqlite3.OperationalError:  # an empty database: nothing saved yet
        saved = {}
    finally:
        connection.close()
    loaded = []
    for emulator in emulators:
        if emulator.name in saved:
            emulator.load(saved[emulator.name])
            loaded.append(emulator.name)
    return loaded


def save_state(path: str | os.PathLike[str], emulators: Iterable[Emulator]) -> None:
    """Write every emulator's state to ``path`` (created if missing), replacing what was saved for it."""
    rows = [(emulator.name, emulator.dump()) for emulator in emulators]
    connection = _open(path)
    try:
        with connection:
            connection.execute(_SCHEMA)
            connection.execute(f"PRAGMA user_version = {FORMAT_VERSION}")
            connection.executemany("INSERT OR REPLACE INTO emulator_state (name, state) VALUES (?, ?)", rows)
    finally:
        connection.close()
