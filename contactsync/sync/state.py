"""The state of syncs, behind one interface: what each provider confirmed, the runs, their changelog, the events.

:class:`StateStore` writes the SQL once; :class:`~contactsync.sync.sqlite.SQLiteState`
and :class:`~contactsync.sync.postgres.PostgresState` supply the connection, the
column types, the placeholders and the lock. :func:`open_state` picks one from a
path or a ``postgresql://`` URL. The tables are documented in ``docs/syncing.rst``
(the changelog's schema); every sync (a name and a partition) has its own rows.

Nothing here commits on its own: the engine commits what a step wrote once the step
is done, so a run killed at any point leaves the state as it was after the last
finished step.
"""

from __future__ import annotations

import abc
import contextlib
import itertools
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timezone
from hashlib import blake2b
from typing import Any, ClassVar

import attrs

from contactsync.model import ContactEvent, EventType, RowError
from contactsync.sync.keys import KeySet
from contactsync.sync.records import Operation, Outcome, Result, RunRecord, SyncCounts, SyncMode, SyncStatus

__all__ = [
    "SCHEMA_VERSION",
    "STAGES",
    "ContactState",
    "RunRow",
    "StagedRow",
    "StateStore",
    "SyncRow",
    "open_state",
]

SCHEMA_VERSION = 1
"""Kept in ``contactsync_meta``; a state of another version is refused, not misread."""

STAGES = ("send", "remove", "source")
"""The changelog's stages: rows sent to the provider, rows taken off the list, source rows rejected before either."""

_CHUNK = 500
"""Values per ``IN`` list."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS contactsync_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sync (
    id {id},
    name TEXT NOT NULL,
    partition_key TEXT NOT NULL,
    provider TEXT NOT NULL,
    list_id TEXT NOT NULL,
    created_at {time} NOT NULL,
    version BIGINT NOT NULL DEFAULT 0,
    events_from {time},
    UNIQUE (name, partition_key)
);
CREATE TABLE IF NOT EXISTS sync_contact (
    sync_id BIGINT NOT NULL,
    email TEXT NOT NULL,
    fingerprint {blob},
    source_key BIGINT,
    retry SMALLINT NOT NULL DEFAULT 0,
    subscribed SMALLINT,
    error TEXT,
    run_id BIGINT,
    PRIMARY KEY (sync_id, email)
);
CREATE INDEX IF NOT EXISTS sync_contact_by_key ON sync_contact (sync_id, source_key);
CREATE TABLE IF NOT EXISTS sync_run (
    id {id},
    sync_id BIGINT NOT NULL,
    status TEXT NOT NULL,
    phase TEXT NOT NULL,
    mode TEXT NOT NULL,
    action TEXT NOT NULL,
    removal TEXT NOT NULL,
    started_at {time} NOT NULL,
    finished_at {time},
    counts TEXT NOT NULL,
    job_id TEXT,
    removal_job_id TEXT,
    message TEXT,
    notes TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sync_run_by_sync ON sync_run (sync_id, id);
CREATE TABLE IF NOT EXISTS sync_outcome (
    run_id BIGINT NOT NULL,
    stage TEXT NOT NULL,
    seq BIGINT NOT NULL,
    source_row BIGINT,
    email TEXT,
    operation TEXT NOT NULL,
    result TEXT NOT NULL,
    error TEXT,
    field TEXT,
    provider_code TEXT,
    fingerprint {blob},
    source_key BIGINT,
    payload {blob},
    PRIMARY KEY (run_id, stage, seq)
);
CREATE INDEX IF NOT EXISTS sync_outcome_by_email ON sync_outcome (run_id, stage, email);
CREATE TABLE IF NOT EXISTS sync_event (
    sync_id BIGINT NOT NULL,
    event_key TEXT NOT NULL,
    run_id BIGINT,
    provider TEXT NOT NULL,
    type TEXT NOT NULL,
    email TEXT,
    occurred_at {time},
    list_id TEXT,
    reason TEXT,
    raw TEXT NOT NULL,
    recorded_at {time} NOT NULL,
    PRIMARY KEY (sync_id, event_key)
);
CREATE TABLE IF NOT EXISTS sync_keys (
    sync_id BIGINT NOT NULL,
    chunk BIGINT NOT NULL,
    version BIGINT NOT NULL,
    slot_count BIGINT NOT NULL,
    key_count BIGINT NOT NULL,
    slots {blob} NOT NULL,
    empties {blob} NOT NULL,
    PRIMARY KEY (sync_id, chunk)
);
"""


@attrs.frozen
class SyncRow:
    """One sync as the state records it."""

    id: int
    name: str
    partition: str
    provider: str
    list_id: str
    created_at: datetime
    events_from: datetime | None


@attrs.frozen
class RunRow:
    """What settling an unfinished run needs to know of it."""

    id: int
    status: SyncStatus
    phase: str
    mode: SyncMode
    action: str
    removal: str
    counts: SyncCounts
    notes: tuple[str, ...]


@attrs.frozen
class ContactState:
    """One contact's record: the fingerprint the provider confirmed (None if never), its source key, retry flag."""

    fingerprint: bytes | None
    source_key: int | None
    retry: bool


@attrs.frozen
class StagedRow:
    """One row of the changelog as the diff stages it."""

    stage: str
    seq: int
    row: int | None
    email: str | None
    operation: Operation
    result: Result = Result.PENDING
    fingerprint: bytes | None = None
    source_key: int | None = None
    payload: bytes | None = None
    error: str | None = None
    field: str | None = None
    provider_code: str | None = None


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _counts(text: str) -> SyncCounts:
    return SyncCounts(**json.loads(text))


def event_key(event: ContactEvent) -> str:
    """What makes two reports of an event the same event (polled twice, or polled and pushed).

    Not the reason: a webhook and a suppression list word the same fact differently.
    """
    at = event.at.astimezone(timezone.utc).isoformat() if event.at is not None else ""
    parts = (event.provider, event.type.value, event.email or "", at, event.list_id or "")
    return blake2b("\x00".join(parts).encode(), digest_size=16).hexdigest()


class StateStore(abc.ABC):
    """A sync state database. Subclasses open the connections and supply the dialect and the lock."""

    url: str
    """Where the state is: a file path, or the URL with any password removed."""
    types: ClassVar[dict[str, str]]
    """Column types for the schema: ``id``, ``time`` and ``blob``."""

    def __init__(self) -> None:
        self._sql_cache: dict[str, str] = {}

    # -- what a backend supplies ------------------------------------------------------------

    @abc.abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement (``?`` placeholders) and return the cursor."""

    @abc.abstractmethod
    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for each of ``rows``."""

    @abc.abstractmethod
    def stream(self, sql: str, params: Sequence[Any] = (), *, fetch: int = 5000) -> Iterator[tuple[Any, ...]]:
        """The rows of a query, fetched ``fetch`` at a time (writes on the connection may go on meanwhile)."""

    @abc.abstractmethod
    def commit(self) -> None:
        """Make what was written since the last commit durable."""

    @abc.abstractmethod
    def rollback(self) -> None:
        """Drop what was written since the last commit."""

    @abc.abstractmethod
    def close(self) -> None:
        """Close the connections (uncommitted writes are dropped)."""

    @abc.abstractmethod
    def lock(self, sync_id: int, label: str = "") -> contextlib.AbstractContextManager[None]:
        """Hold the sync's run lock for a ``with`` block; raise SyncLocked at once (naming ``label``) if it is held."""

    @abc.abstractmethod
    def default_journal_dir(self) -> str:
        """Where a run's import journals go unless the sync names a directory."""

    def to_db_time(self, value: datetime) -> Any:
        """A datetime as the backend stores it (default: as is)."""
        return value

    def from_db_time(self, value: Any) -> datetime:
        """A stored datetime back (default: as is)."""
        result: datetime = value
        return result

    def stream_blobs(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        """:meth:`stream` for rows of large binary values, one at a time (a backend may skip their text form)."""
        return self.stream(sql, params, fetch=1)

    def in_list(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """``column IN (...)`` for ``values`` (at most a few hundred), and its parameters."""
        return f"{column} IN ({', '.join('?' * len(values))})", list(values)

    # -- the schema -------------------------------------------------------------------------

    def schema(self) -> list[str]:
        """The schema's statements, in this backend's types."""
        text = _SCHEMA.format(**self.types)
        return [statement.strip() for statement in text.split(";") if statement.strip()]

    def check_version(self) -> None:
        """Record the schema version in a new state; refuse a state of another version."""
        from contactsync.errors import ConfigurationError

        found = self.execute("SELECT value FROM contactsync_meta WHERE key = 'schema'").fetchone()
        if found is None:
            self.execute("INSERT INTO contactsync_meta (key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        elif found[0] != str(SCHEMA_VERSION):
            raise ConfigurationError(
                f"the sync state {self.url} has schema version {found[0]}; this contactsync reads version "
                f"{SCHEMA_VERSION}"
            )

    # -- syncs --------------------------------------------------------------------------------

    def open_sync(self, name: str, partition: str, provider: str, list_id: str) -> SyncRow:
        """The sync of this name and partition, created on first use; refused if it targets another list."""
        from contactsync.errors import ConfigurationError

        query = (
            "SELECT id, name, partition_key, provider, list_id, created_at, events_from FROM sync "
            "WHERE name = ? AND partition_key = ?"
        )
        found = self.execute(query, (name, partition)).fetchone()
        if found is None:
            self.execute(
                "INSERT INTO sync (name, partition_key, provider, list_id, created_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (name, partition_key) DO NOTHING",
                (name, partition, provider, list_id, self.to_db_time(_now())),
            )
            self.commit()
            found = self.execute(query, (name, partition)).fetchone()
        row = SyncRow(
            int(found[0]),
            found[1],
            found[2],
            found[3],
            found[4],
            self.from_db_time(found[5]),
            None if found[6] is None else self.from_db_time(found[6]),
        )
        if (row.provider, row.list_id) != (provider, list_id):
            raise ConfigurationError(
                f"the sync {name!r} in {self.url} is for {row.provider} list {row.list_id}, not {provider} list "
                f"{list_id}: give this sync another name"
            )
        return row

    def sync_names(self) -> list[tuple[int, str, str]]:
        """(id, name, partition) of every sync in the state."""
        found = self.execute("SELECT id, name, partition_key FROM sync ORDER BY name, partition_key").fetchall()
        return [(int(i), n, p) for i, n, p in found]

    def changed(self, sync_id: int) -> None:
        """Note that the sync's contact records changed (the key snapshot is then stale)."""
        self.execute("UPDATE sync SET version = version + 1 WHERE id = ?", (sync_id,))

    def set_events_from(self, sync_id: int, when: datetime) -> None:
        """Where the next run starts reading the provider's events."""
        self.execute("UPDATE sync SET events_from = ? WHERE id = ?", (self.to_db_time(when), sync_id))

    # -- runs -----------------------------------------------------------------------------------

    def start_run(self, sync_id: int, mode: SyncMode, action: str, removal: str) -> tuple[int, datetime]:
        """Record a new run (running, planning); return its id and start time."""
        started = _now()
        found = self.execute(
            "INSERT INTO sync_run (sync_id, status, phase, mode, action, removal, started_at, counts, notes) "
            "VALUES (?, ?, 'planning', ?, ?, ?, ?, ?, '[]') RETURNING id",
            (sync_id, SyncStatus.RUNNING.value, mode.value, action, removal, self.to_db_time(started), "{}"),
        ).fetchone()
        return int(found[0]), started

    def set_phase(self, run_id: int, phase: str, counts: SyncCounts | None = None) -> None:
        """Move a run to its next phase (planning, sending, removing, done), with its counts so far."""
        if counts is None:
            self.execute("UPDATE sync_run SET phase = ? WHERE id = ?", (phase, run_id))
        else:
            self.execute(
                "UPDATE sync_run SET phase = ?, counts = ? WHERE id = ?",
                (phase, json.dumps(attrs.asdict(counts)), run_id),
            )

    def finish_run(
        self,
        run_id: int,
        status: SyncStatus,
        counts: SyncCounts,
        *,
        job_id: str | None,
        removal_job_id: str | None,
        message: str | None,
        notes: Sequence[str],
        phase: str = "done",
    ) -> datetime:
        """Record how a run ended; return the time."""
        finished = _now()
        self.execute(
            "UPDATE sync_run SET status = ?, phase = ?, finished_at = ?, counts = ?, job_id = ?, "
            "removal_job_id = ?, message = ?, notes = ? WHERE id = ?",
            (
                status.value,
                phase,
                self.to_db_time(finished),
                json.dumps(attrs.asdict(counts)),
                job_id,
                removal_job_id,
                message,
                json.dumps(list(notes)),
                run_id,
            ),
        )
        return finished

    def unsettled_runs(self, sync_id: int) -> list[RunRow]:
        """Runs that did not reach their end (killed, or failed midway), oldest first."""
        found = self.execute(
            "SELECT id, status, phase, mode, action, removal, counts, notes FROM sync_run "
            "WHERE sync_id = ? AND phase <> 'done' ORDER BY id",
            (sync_id,),
        ).fetchall()
        return [
            RunRow(int(i), SyncStatus(s), p, SyncMode(m), a, r, _counts(c), tuple(json.loads(n)))
            for i, s, p, m, a, r, c, n in found
        ]

    def has_completed_run(self, sync_id: int) -> bool:
        """Whether a run of the sync ran to its end (completed, with or without row errors)."""
        found = self.execute(
            "SELECT 1 FROM sync_run WHERE sync_id = ? AND status IN (?, ?) LIMIT 1",
            (sync_id, SyncStatus.COMPLETED.value, SyncStatus.COMPLETED_WITH_ERRORS.value),
        ).fetchone()
        return found is not None

    def version(self, sync_id: int) -> int:
        """How many times the sync's contact records changed (see :meth:`changed`)."""
        (version,) = self.execute("SELECT version FROM sync WHERE id = ?", (sync_id,)).fetchone()
        return int(version)

    def runs(self, sync_ids: Sequence[int], limit: int | None = None) -> list[RunRecord]:
        """The runs of these syncs, newest first."""
        if not sync_ids:
            return []
        condition, params = self.in_list("r.sync_id", list(sync_ids))
        query = (
            "SELECT r.id, s.name, s.partition_key, r.status, r.mode, r.counts, r.started_at, r.finished_at, "
            f"r.job_id, r.message, r.notes FROM sync_run r JOIN sync s ON s.id = r.sync_id WHERE {condition} "
            "ORDER BY r.id DESC"
        )
        if limit is not None:
            query += f" LIMIT {int(limit)}"
        return [
            RunRecord(
                int(i),
                name,
                part,
                SyncStatus(status),
                SyncMode(mode),
                _counts(counts),
                self.from_db_time(started),
                None if finished is None else self.from_db_time(finished),
                job,
                message,
                tuple(json.loads(notes)),
            )
            for i, name, part, status, mode, counts, started, finished, job, message, notes in self.execute(
                query, params
            ).fetchall()
        ]

    def run_sync(self, run_id: int) -> int | None:
        """The sync a run belongs to."""
        found = self.execute("SELECT sync_id FROM sync_run WHERE id = ?", (run_id,)).fetchone()
        return None if found is None else int(found[0])

    # -- contact records --------------------------------------------------------------------------

    def load_keys(self, sync_id: int) -> tuple[KeySet, bool]:
        """The confirmed rows' source keys, and whether they came from an up-to-date snapshot."""
        snapshot = self.stream_blobs(
            "SELECT k.slot_count, k.key_count, k.slots, k.empties FROM sync_keys k "
            "JOIN sync s ON s.id = k.sync_id AND s.version = k.version WHERE k.sync_id = ? ORDER BY k.chunk",
            (sync_id,),
        )
        first = next(snapshot, None)
        if first is not None:
            size, count = int(first[0]), int(first[1])
            rest = ((bytes(slots), bytes(empties)) for _, _, slots, empties in snapshot)
            try:
                return KeySet.from_chunks(
                    size, count, itertools.chain([(bytes(first[2]), bytes(first[3]))], rest)
                ), True
            except ValueError:
                pass  # a snapshot cut short: build the table again
        keyed = "FROM sync_contact WHERE sync_id = ? AND source_key IS NOT NULL"
        (count,) = self.execute(f"SELECT count(*) {keyed}", (sync_id,)).fetchone()
        rows = self.stream(f"SELECT source_key {keyed}", (sync_id,))
        return KeySet.build((key for (key,) in rows), int(count)), False

    def save_keys(self, sync_id: int) -> None:
        """Write a fresh snapshot of the source keys for the sync's current version, in chunks."""
        keys, _ = self.load_keys(sync_id)
        version = self.version(sync_id)
        self.execute("DELETE FROM sync_keys WHERE sync_id = ?", (sync_id,))
        for chunk, (slots, empties) in enumerate(keys.chunks()):
            self.execute(
                "INSERT INTO sync_keys (sync_id, chunk, version, slot_count, key_count, slots, empties) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (sync_id, chunk, version, keys.size, len(keys), slots, empties),
            )

    def lookup(self, sync_id: int, emails: Sequence[str]) -> dict[str, ContactState]:
        """The records of these emails (those the state has)."""
        found: dict[str, ContactState] = {}
        for start in range(0, len(emails), _CHUNK):
            condition, params = self.in_list("email", emails[start : start + _CHUNK])
            for email, fingerprint, key, retry in self.execute(
                f"SELECT email, fingerprint, source_key, retry FROM sync_contact WHERE sync_id = ? AND {condition}",
                [sync_id, *params],
            ).fetchall():
                found[email] = ContactState(None if fingerprint is None else bytes(fingerprint), key, bool(retry))
        return found

    def set_source_keys(self, sync_id: int, keyed: Sequence[tuple[int, str]]) -> None:
        """New source keys for rows found unchanged by fingerprint: (key, email) pairs."""
        if keyed:
            self.executemany(
                "UPDATE sync_contact SET source_key = ?, retry = 0, error = NULL WHERE sync_id = ? AND email = ?",
                [(key, sync_id, email) for key, email in keyed],
            )
            self.changed(sync_id)

    def confirmed_count(self, sync_id: int) -> int:
        """How many contacts the provider confirmed on the list."""
        (count,) = self.execute(
            "SELECT count(*) FROM sync_contact WHERE sync_id = ? AND fingerprint IS NOT NULL", (sync_id,)
        ).fetchone()
        return int(count)

    def emails_with_keys(self, sync_id: int, keys: Sequence[int]) -> list[str]:
        """The confirmed contacts with these source keys."""
        emails: list[str] = []
        for start in range(0, len(keys), _CHUNK):
            condition, params = self.in_list("source_key", keys[start : start + _CHUNK])
            emails.extend(
                email
                for (email,) in self.execute(
                    f"SELECT email FROM sync_contact WHERE sync_id = ? AND fingerprint IS NOT NULL AND {condition}",
                    [sync_id, *params],
                ).fetchall()
            )
        return emails

    def unkeyed(self, sync_id: int, confirmed: bool) -> Iterator[str]:
        """Emails of the records with no source key: confirmed ones (found by reconcile) or never confirmed ones."""
        state = "IS NOT NULL" if confirmed else "IS NULL"
        query = f"SELECT email FROM sync_contact WHERE sync_id = ? AND source_key IS NULL AND fingerprint {state}"
        return (email for (email,) in self.stream(query, (sync_id,)))

    def forget(self, sync_id: int, emails: Sequence[str]) -> None:
        """Drop these contacts' records."""
        for start in range(0, len(emails), _CHUNK):
            condition, params = self.in_list("email", emails[start : start + _CHUNK])
            self.execute(f"DELETE FROM sync_contact WHERE sync_id = ? AND {condition}", [sync_id, *params])
        if emails:
            self.changed(sync_id)

    def reconcile(self, sync_id: int, members: Iterable[tuple[str, bytes, bool]], run_id: int) -> int:
        """Make the records say what the list holds: (email, fingerprint, subscribed) of every member.

        A member's record takes the member's fingerprint (its source key stays only if the
        fingerprint did not change); a confirmed record of a contact not on the list goes.
        Returns the number of members.
        """
        # Mark and sweep: -1 marks the confirmed records not met among the members yet.
        self.execute("UPDATE sync_contact SET run_id = -1 WHERE sync_id = ? AND fingerprint IS NOT NULL", (sync_id,))
        count = 0
        chunk: list[tuple[Any, ...]] = []
        upsert = (
            "INSERT INTO sync_contact (sync_id, email, fingerprint, source_key, retry, subscribed, run_id) "
            "VALUES (?, ?, ?, NULL, 0, ?, ?) ON CONFLICT (sync_id, email) DO UPDATE SET "
            "source_key = CASE WHEN sync_contact.fingerprint = excluded.fingerprint THEN sync_contact.source_key "
            "ELSE NULL END, fingerprint = excluded.fingerprint, subscribed = excluded.subscribed, "
            "run_id = excluded.run_id"
        )
        for email, fingerprint, subscribed in members:
            chunk.append((sync_id, email, fingerprint, int(subscribed), run_id))
            count += 1
            if len(chunk) >= _CHUNK:
                self.executemany(upsert, chunk)
                chunk = []
        self.executemany(upsert, chunk)
        self.execute("DELETE FROM sync_contact WHERE sync_id = ? AND run_id = -1", (sync_id,))
        self.changed(sync_id)
        return count

    # -- the changelog -----------------------------------------------------------------------------

    def stage(self, run_id: int, rows: Sequence[StagedRow]) -> None:
        """Write changelog rows."""
        self.executemany(
            "INSERT INTO sync_outcome (run_id, stage, seq, source_row, email, operation, result, error, field, "
            "provider_code, fingerprint, source_key, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    run_id,
                    r.stage,
                    r.seq,
                    r.row,
                    r.email,
                    r.operation.value,
                    r.result.value,
                    r.error,
                    r.field,
                    r.provider_code,
                    r.fingerprint,
                    r.source_key,
                    r.payload,
                )
                for r in rows
            ],
        )

    def pending(self, run_id: int, stage: str) -> Iterator[tuple[int, str, bytes | None]]:
        """(seq, email, payload) of the rows of a stage not settled yet, in order."""
        query = (
            "SELECT seq, email, payload FROM sync_outcome WHERE run_id = ? AND stage = ? AND result = ? ORDER BY seq"
        )
        for seq, email, payload in self.stream(query, (run_id, stage, Result.PENDING.value)):
            yield int(seq), email, None if payload is None else bytes(payload)

    def staged(self, run_id: int, stage: str) -> Iterator[tuple[int, str, bytes | None]]:
        """(seq, email, payload) of every row of a stage, settled or not, in order (what its import was fed)."""
        query = "SELECT seq, email, payload FROM sync_outcome WHERE run_id = ? AND stage = ? ORDER BY seq"
        for seq, email, payload in self.stream(query, (run_id, stage)):
            yield int(seq), email, None if payload is None else bytes(payload)

    def reject(self, run_id: int, stage: str, errors: Sequence[RowError]) -> None:
        """Settle rows as row errors: by ``row`` (the stage's seq) when given, else by email."""
        by_seq = [e for e in errors if e.row is not None]
        by_email = [e for e in errors if e.row is None and e.email is not None]
        settle = "UPDATE sync_outcome SET result = ?, error = ?, field = ?, provider_code = ? WHERE run_id = ? AND "
        self.executemany(
            settle + "stage = ? AND seq = ?",
            [(Result.REJECTED.value, e.message, e.field, e.provider_code, run_id, stage, e.row) for e in by_seq],
        )
        rejected = Result.REJECTED.value
        self.executemany(
            settle + "stage = ? AND email = ? AND result = 'pending'",
            [
                (rejected, e.message, e.field, e.provider_code, run_id, stage, str(e.email).strip().lower())
                for e in by_email
            ],
        )

    def settle_range(
        self, run_id: int, stage: str, first: int, last: int, *, result: Result, error: str | None = None
    ) -> None:
        """Settle the stage's rows ``first`` to ``last`` (seq) that are still pending."""
        self.execute(
            "UPDATE sync_outcome SET result = ?, error = ? WHERE run_id = ? AND stage = ? AND seq BETWEEN ? AND ? "
            "AND result = 'pending'",
            (result.value, error, run_id, stage, first, last),
        )

    def abandon(self, run_id: int) -> None:
        """Settle every pending row of a run as never sent, and drop the payloads."""
        self.execute(
            "UPDATE sync_outcome SET result = ?, error = ? WHERE run_id = ? AND result = 'pending'",
            (Result.ABANDONED.value, "the run stopped before sending this row", run_id),
        )
        self.drop_payloads(run_id)

    def drop_payloads(self, run_id: int) -> None:
        """Forget the payloads of a settled run (only an unsettled run needs them)."""
        self.execute("UPDATE sync_outcome SET payload = NULL WHERE run_id = ? AND payload IS NOT NULL", (run_id,))

    def apply_sends(self, sync_id: int, run_id: int) -> None:
        """Record what the provider confirmed of a run's sends, and mark what it refused for a retry."""
        self.execute(
            "INSERT INTO sync_contact (sync_id, email, fingerprint, source_key, retry, error, run_id) "
            "SELECT ?, email, fingerprint, source_key, 0, NULL, run_id FROM sync_outcome "
            "WHERE run_id = ? AND stage = 'send' AND result = ? "
            "ON CONFLICT (sync_id, email) DO UPDATE SET fingerprint = excluded.fingerprint, "
            "source_key = excluded.source_key, retry = 0, error = NULL, run_id = excluded.run_id",
            (sync_id, run_id, Result.ACCEPTED.value),
        )
        self.execute(
            "INSERT INTO sync_contact (sync_id, email, fingerprint, source_key, retry, error, run_id) "
            "SELECT ?, email, NULL, NULL, 1, error, run_id FROM sync_outcome "
            "WHERE run_id = ? AND stage = 'send' AND result = ? "
            "ON CONFLICT (sync_id, email) DO UPDATE SET retry = 1, error = excluded.error, run_id = excluded.run_id",
            (sync_id, run_id, Result.REJECTED.value),
        )
        self.changed(sync_id)

    def apply_removals(self, sync_id: int, run_id: int) -> None:
        """Drop the records of the contacts a run took off the list."""
        self.execute(
            "DELETE FROM sync_contact WHERE sync_id = ? AND email IN "
            "(SELECT email FROM sync_outcome WHERE run_id = ? AND stage = 'remove' AND result = ?)",
            (sync_id, run_id, Result.ACCEPTED.value),
        )
        self.changed(sync_id)

    def tally(self, run_id: int) -> dict[tuple[str, str, str], int]:
        """How many changelog rows a run has by (stage, operation, result)."""
        found = self.execute(
            "SELECT stage, operation, result, count(*) FROM sync_outcome WHERE run_id = ? "
            "GROUP BY stage, operation, result",
            (run_id,),
        ).fetchall()
        return {(stage, op, result): int(count) for stage, op, result, count in found}

    def outcomes(self, run_id: int) -> Iterator[Outcome]:
        """The run's changelog: source rows in row order, then removals."""
        query = (
            "SELECT source_row, email, operation, result, error, field, provider_code FROM sync_outcome "
            "WHERE run_id = ? ORDER BY CASE WHEN source_row IS NULL THEN 1 ELSE 0 END, source_row, seq"
        )
        for row, email, operation, result, error, field, code in self.stream(query, (run_id,)):
            yield Outcome(run_id, row, email, Operation(operation), Result(result), error, field, code)

    def errors(self, run_id: int) -> Iterator[RowError]:
        """The run's row errors, with the source's row numbers."""
        query = (
            "SELECT source_row, email, error, field, provider_code FROM sync_outcome "
            "WHERE run_id = ? AND result = ? ORDER BY CASE WHEN source_row IS NULL THEN 1 ELSE 0 END, source_row, seq"
        )
        for row, email, error, field, code in self.stream(query, (run_id, Result.REJECTED.value)):
            yield RowError(email, row, field, error or "", code)

    # -- events ------------------------------------------------------------------------------------

    def record_events(
        self, sync_id: int, events: Iterable[ContactEvent], run_id: int | None = None
    ) -> list[ContactEvent]:
        """Record events (polled or pushed) once each; return those not recorded before.

        An unsubscribe marks the contact's record unsubscribed, a subscribe subscribed.
        """
        fresh: list[ContactEvent] = []
        recorded = _now()
        for event in events:
            inserted = self.execute(
                "INSERT INTO sync_event (sync_id, event_key, run_id, provider, type, email, occurred_at, list_id, "
                "reason, raw, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (sync_id, event_key) DO NOTHING RETURNING event_key",
                (
                    sync_id,
                    event_key(event),
                    run_id,
                    event.provider,
                    event.type.value,
                    event.email,
                    None if event.at is None else self.to_db_time(event.at),
                    event.list_id,
                    event.reason,
                    json.dumps(dict(event.raw), default=str),
                    self.to_db_time(recorded),
                ),
            ).fetchone()
            if inserted is None:
                continue
            fresh.append(event)
            standing = {EventType.UNSUBSCRIBED: 0, EventType.SUBSCRIBED: 1}.get(event.type)
            if standing is not None and event.email:
                self.execute(
                    "UPDATE sync_contact SET subscribed = ? WHERE sync_id = ? AND email = ?",
                    (standing, sync_id, event.email.strip().lower()),
                )
        return fresh

    def events(self, sync_id: int) -> Iterator[ContactEvent]:
        """Every event recorded for the sync, oldest first."""
        query = (
            "SELECT provider, type, email, occurred_at, list_id, reason, raw FROM sync_event WHERE sync_id = ? "
            "ORDER BY recorded_at, occurred_at"
        )
        for provider, kind, email, at, list_id, reason, raw in self.stream(query, (sync_id,)):
            when = None if at is None else self.from_db_time(at)
            yield ContactEvent(provider, EventType(kind), email, when, list_id, reason, json.loads(raw))


def open_state(state: str | os.PathLike[str] | StateStore) -> StateStore:
    """A state store: a ``postgresql://`` (or ``postgres://``) URL, else an SQLite file path (created on first use)."""
    if isinstance(state, StateStore):
        return state
    text = os.fspath(state)
    if text.startswith(("postgresql://", "postgres://")):
        from contactsync.sync.postgres import PostgresState

        return PostgresState(text)
    from contactsync.sync.sqlite import SQLiteState

    return SQLiteState(text)
