"""The diff: a source compared with the state, row by row, into what to send and what to take off the list.

A row takes the fast path when its key (its raw cells' key for a file, its fingerprint's
for a contact) is a confirmed row's key: it is unchanged, and only a bit is set. Other
rows take the slow path in chunks: parsed, fingerprinted, looked up by email, and staged
in the changelog as a create, an update, a retry or a row error. What was never met
(no bit, no email) is what MIRROR removes.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from hashlib import blake2b
from typing import Any, TypeVar

from contactsync.model import Contact, RowError, SubscriptionAction
from contactsync.sources.rows import Item, RawRows
from contactsync.sync.fingerprint import canonical, context_salt, key_of
from contactsync.sync.keys import EMPTY, KeySet
from contactsync.sync.records import (
    REMOVAL_OPERATIONS,
    Operation,
    Partition,
    Planned,
    ProgressCallback,
    Result,
    SyncProgress,
)
from contactsync.sync.seen import SeenEmails
from contactsync.sync.state import ContactState, StagedRow, StateStore

__all__ = ["BATCH", "CHUNK", "Differ", "batched", "numbered"]

T = TypeVar("T")

CHUNK = 2000
"""Slow-path rows handled together (one lookup, one write)."""
_REPORT_EVERY = 16_384
"""Rows between reports of reading progress."""
BATCH = 256
"""Source rows compared per call (the hot loop runs over a list; a fan-out hands each batch to every destination)."""

_Miss = tuple[int, Any, int | None, bytes | None, bytes | None]
"""A slow-path row: (row, cells or item, key or None, fingerprint or None, canonical bytes or None)."""
_Found = tuple[int, Contact, int | None, bytes | None, bytes | None]
"""A slow-path row that is a contact of this sync."""


class Differ:
    """One run's (or one plan's) diff of a source against one sync's state.

    With ``dry`` it stages nothing and changes nothing: it counts and keeps samples
    (``sample`` of each kind). Otherwise it stages the changelog rows of the run
    ``run_id``, records the new source keys of rows found unchanged by fingerprint, and
    commits after each chunk.
    """

    def __init__(
        self,
        store: StateStore,
        sync_id: int,
        run_id: int,
        keys: KeySet,
        *,
        action: SubscriptionAction,
        partition: Partition | None,
        dry: bool,
        sample: int = 0,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self.store = store
        self.sync_id = sync_id
        self.run_id = run_id
        self.keys = keys
        self.action = action
        self.partition = partition
        self.dry = dry
        self.sample = sample
        self.on_progress = on_progress
        self.seen = SeenEmails()
        self.counts = dict.fromkeys(("create", "update", "unchanged", "retry", "remove", "rejected"), 0)
        self.samples: dict[str, list[Any]] = {kind: [] for kind in self.counts}
        self.contacts = 0
        """Valid contacts met (unchanged or to send): zero means the source was empty."""
        self.rows = 0
        self._seq = dict.fromkeys(("send", "remove", "source"), 0)
        self._misses: list[_Miss] = []
        self._parse: Callable[[list[str], int], Item] | None = None
        self._hasher = blake2b(digest_size=8)
        self._progress: Callable[[], float | None] = lambda: None

    # -- reading ------------------------------------------------------------------------------

    def consume(self, source: Iterable[Item] | RawRows) -> None:
        """Compare a whole source (a file's raw rows take the fast path unparsed)."""
        if isinstance(source, RawRows):
            self.start_raw(source)
            for first, rows in numbered(source.raw_batches(BATCH)):
                self.raw_batch(first, rows)
        else:
            self.start_items(source)
            for first, items in batched(source):
                self.item_batch(first, items)
        self.flush()

    def start_raw(self, source: RawRows) -> None:
        """Prepare for :meth:`raw_batch` with the rows of ``source``."""
        self._parse = source.item
        self._hasher = blake2b(digest_size=8, salt=context_salt(source.layout, self.action.value))
        self._watch(source)

    def start_items(self, source: object) -> None:
        """Prepare for :meth:`item_batch`."""
        self._parse = None
        self._watch(source)

    def _watch(self, source: object) -> None:
        if isinstance(getattr(source, "progress", None), tuple):
            self._progress = lambda: _fraction(getattr(source, "progress", (0, 0)))

    def raw_batch(self, first: int, batch: Sequence[list[str]]) -> None:
        """Compare raw rows ``first``, ``first + 1``... (cells from the source's ``raw_batches()``)."""
        # fingerprint.row_key and KeySet.find and mark, inlined (and a copy of the salted hasher, cheaper than a
        # new one): this loop is the whole cost of an unchanged re-sync
        table, mask, seen = self.keys.table, self.keys.mask, self.keys.seen
        join, hasher, from_bytes = "\x00".join, self._hasher.copy, int.from_bytes
        misses = self._misses
        unchanged = 0
        for row, cells in enumerate(batch, start=first):
            hashing = hasher()
            hashing.update(join(cells).encode())
            key = from_bytes(hashing.digest(), "little", signed=True) >> 1
            slot = key & mask
            if table[slot] == key:  # most keys sit in their first slot
                if not seen[slot]:
                    seen[slot] = 1
                    unchanged += 1
                    continue
            else:
                found = table[slot]
                while found != key and found != EMPTY:  # noqa: PLR1714 - two compares beat building a tuple
                    slot = (slot + 1) & mask
                    found = table[slot]
                if found == key and not seen[slot]:
                    seen[slot] = 1
                    unchanged += 1
                    continue
            misses.append((row, cells, key, None, None))  # new, changed, or met twice
        self._done(first, len(batch), unchanged, batch)

    def item_batch(self, first: int, batch: Sequence[Any]) -> None:
        """Compare source items (contacts, row errors) numbered ``first``, ``first + 1``..."""
        action, keys, misses = self.action, self.keys, self._misses
        from_bytes = int.from_bytes
        unchanged = 0
        for row, item in enumerate(batch, start=first):
            if isinstance(item, Contact):
                payload = canonical(item, action)
                digest = blake2b(payload, digest_size=16).digest()
                key = from_bytes(digest[:8], "little", signed=True) >> 1  # fingerprint.key_of, inlined
                at = keys.find(key)
                if at >= 0 and not keys.mark(at):
                    unchanged += 1
                    self._keep("unchanged", item.email)
                    continue
                misses.append((row, item, key, digest, payload))  # new, changed, or met twice
            else:
                misses.append((row, item, None, None, None))
        self._done(first, len(batch), unchanged, ())

    def _done(self, first: int, size: int, unchanged: int, raw: Sequence[list[str]]) -> None:
        """Account for a batch: its unchanged rows, a sample of them (raw rows parsed), the slow path, progress."""
        self.counts["unchanged"] += unchanged
        self.contacts += unchanged
        self.rows = first + size - 1
        if raw and len(self.samples["unchanged"]) < self.sample and self._parse is not None:
            missed = {row for row, *_ in self._misses}
            for row, cells in enumerate(raw, start=first):
                if row not in missed and len(self.samples["unchanged"]) < self.sample:
                    item = self._parse(cells, row)
                    if isinstance(item, Contact):
                        self.samples["unchanged"].append(item.email)
        if len(self._misses) >= CHUNK:
            self.flush()
        if self.on_progress is not None and (self.rows // _REPORT_EVERY) != ((first - 1) // _REPORT_EVERY):
            self.on_progress(SyncProgress("reading", self.rows, self._progress()))

    # -- the slow path ---------------------------------------------------------------------------

    def flush(self) -> None:
        """Settle the slow-path rows read so far."""
        misses, self._misses[:] = list(self._misses), []
        if not misses:
            return
        staged: list[StagedRow] = []
        contacts = self._contacts(misses, staged)
        repeats = self.seen.add([(contact.email, row) for row, contact, *_ in contacts])
        known = self.store.lookup(self.sync_id, list(dict.fromkeys(contact.email for _, contact, *_ in contacts)))
        rekeyed: list[tuple[int, str]] = []
        for row, contact, given_key, given_digest, given_payload in contacts:
            state = known.get(contact.email)
            if row in repeats or self._met_before(state):
                staged.append(self._rejected(_repeat(contact.email, row, repeats.get(row))))
                continue
            payload = given_payload or canonical(contact, self.action)
            digest = given_digest or blake2b(payload, digest_size=16).digest()
            key = key_of(digest) if given_key is None else given_key
            self.contacts += 1
            if state is not None and state.fingerprint == digest:
                self.counts["unchanged"] += 1
                self._keep("unchanged", contact.email)
                if state.source_key != key:
                    rekeyed.append((key, contact.email))
                continue
            operation = _operation(state)
            self.counts[operation.value] += 1
            self._keep(operation.value, contact)
            self._seq["send"] += 1
            seq = self._seq["send"]
            staged.append(StagedRow("send", seq, row, contact.email, operation, Result.PENDING, digest, key, payload))
        if not self.dry:
            self.store.stage(self.run_id, staged)
            self.store.set_source_keys(self.sync_id, rekeyed)
            self.store.commit()

    def _contacts(self, misses: list[_Miss], staged: list[StagedRow]) -> list[_Found]:
        """The slow-path rows that are contacts of this sync; the others are staged as row errors."""
        contacts: list[_Found] = []
        for row, value, key, digest, payload in misses:
            item = self._parse(value, row) if self._parse is not None and isinstance(value, list) else value
            if isinstance(item, RowError):
                staged.append(self._rejected(item if item.row is not None else _at_row(item, row)))
            elif not isinstance(item, Contact):
                message = f"expected a Contact or a RowError, got {type(item).__name__}"
                staged.append(self._rejected(RowError(None, row, None, message)))
            elif self.partition is not None and not self.partition.holds(item.email):
                message = (
                    f"belongs to partition {Partition.of(item.email, self.partition.count)} of "
                    f"{self.partition.count}, not {self.partition.index}"
                )
                staged.append(self._rejected(RowError(item.email, row, "email", message)))
            else:
                contacts.append((row, item, key, digest, payload))
        return contacts

    def _met_before(self, state: ContactState | None) -> bool:
        """Whether the confirmed row of this email was met already (on the fast path); marks it met."""
        if state is None or state.source_key is None:
            return False
        at = self.keys.find(state.source_key)
        return at >= 0 and self.keys.mark(at)

    def _rejected(self, error: RowError) -> StagedRow:
        self.counts["rejected"] += 1
        self._keep("rejected", error)
        self._seq["source"] += 1
        return StagedRow(
            "source",
            self._seq["source"],
            error.row,
            error.email,
            Operation.SKIP,
            Result.REJECTED,
            error=error.message,
            field=error.field,
            provider_code=error.provider_code,
        )

    def _keep(self, kind: str, value: Any) -> None:
        if len(self.samples[kind]) < self.sample:
            self.samples[kind].append(value)

    # -- what left the source ------------------------------------------------------------------------

    def removals(self, removal: SubscriptionAction) -> int:
        """Stage (or, dry, count) the confirmed contacts the source no longer has; return how many."""
        operation = REMOVAL_OPERATIONS[removal]
        found = 0
        batch: list[int] = []
        for key in self.keys.unseen():
            batch.append(key)
            if len(batch) >= CHUNK:
                found += self._stage_removals(self.store.emails_with_keys(self.sync_id, batch), operation)
                batch = []
        found += self._stage_removals(self.store.emails_with_keys(self.sync_id, batch), operation)
        unkeyed: list[str] = []
        for email in self.store.unkeyed(self.sync_id, confirmed=True):
            unkeyed.append(email)
            if len(unkeyed) >= CHUNK:
                found += self._stage_removals(self.seen.missing(unkeyed), operation)
                unkeyed = []
        found += self._stage_removals(self.seen.missing(unkeyed), operation)
        if not self.dry:
            self.store.commit()
        return found

    def _stage_removals(self, emails: Sequence[str], operation: Operation) -> int:
        staged = []
        for email in emails:
            self._keep("remove", email)
            self._seq["remove"] += 1
            staged.append(StagedRow("remove", self._seq["remove"], None, email, operation))
        self.counts["remove"] += len(staged)
        if not self.dry:
            self.store.stage(self.run_id, staged)
        return len(staged)

    def forget_unmet_retries(self) -> None:
        """Drop the records of contacts never confirmed that left the source: they are not retried any more."""
        unmet: list[str] = []
        for email in self.store.unkeyed(self.sync_id, confirmed=False):
            unmet.append(email)
        gone = self.seen.missing(unmet)
        self.store.forget(self.sync_id, gone)

    def planned(self, kind: str) -> Planned[Any]:
        """One kind's count and sample, for a plan."""
        return Planned(self.counts[kind], tuple(self.samples[kind]))

    def close(self) -> None:
        """Let go of the key table and the emails met."""
        self.keys = _NO_KEYS
        self.seen.close()


_NO_KEYS = KeySet.build(())


def batched(items: Iterable[T]) -> Iterator[tuple[int, list[T]]]:
    """(first row, rows) of consecutive batches of :data:`BATCH` items, rows numbered from 1."""
    iterator = iter(items)
    return numbered(iter(lambda: list(itertools.islice(iterator, BATCH)), []))


def numbered(batches: Iterable[list[T]]) -> Iterator[tuple[int, list[T]]]:
    """(first row, rows) of each batch, rows numbered from 1 across them."""
    first = 1
    for batch in batches:
        yield first, batch
        first += len(batch)


def _fraction(progress: tuple[int, int]) -> float | None:
    done, total = progress
    return done / total if total else None


def _at_row(error: RowError, row: int) -> RowError:
    return RowError(error.email, row, error.field, error.message, error.provider_code)


def _operation(state: ContactState | None) -> Operation:
    """What sending a changed contact is: new to the state, a retry of a refused row, or an update."""
    if state is None:
        return Operation.CREATE
    if state.fingerprint is None or state.retry:
        return Operation.RETRY
    return Operation.UPDATE


def _repeat(email: str, row: int, first: int | None) -> RowError:
    earlier = f"row {first}" if first is not None else "an earlier row"
    return RowError(email, row, "email", f"repeats the email of {earlier}: only the first is synced")
