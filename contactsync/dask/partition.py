"""One partition of a partitioned sync, as any engine runs it: Dask, Spark's ``foreachPartition``, a loop.

Nothing here imports Dask. :func:`sync_partition` is one :class:`~contactsync.sync.Sync`
of one partition (its own records and lock in the shared state) fed the partition's
records; :class:`Account` carries a provider's settings to a worker without showing them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping, Sequence
from hashlib import blake2b
from typing import Any

import attrs

from contactsync.emails import normalize_email
from contactsync.errors import ContactSyncError, InvalidEmail, SyncLocked, SyncRefused
from contactsync.http import Gate
from contactsync.model import ContactEvent, FieldType, RowError
from contactsync.registry import connect
from contactsync.sources import read_records
from contactsync.sync import Partition, SyncCounts, SyncMode, SyncRun, SyncStatus
from contactsync.sync.engine import Sync
from contactsync.sync.postgres import redact_url

__all__ = ["Account", "PartitionRun", "partition_of", "sync_partition"]

LOCK_WAIT = 60.0
"""How long :func:`sync_partition` waits for a partition's lock held by another run (a task Dask runs twice,
or the lingering connection of a killed worker) before it reports the partition locked."""


def _copied(settings: Mapping[str, Any]) -> dict[str, Any]:
    return dict(settings)


@attrs.frozen(repr=False)
class Account:
    """A provider account as workers receive it: the settings of :func:`contactsync.connect`, never shown.

    ``label`` names the account in the cap and the logs; by default it is a digest of the
    provider, base URL and settings (the same account, the same label, on every worker).
    """

    provider: str
    settings: Mapping[str, Any] = attrs.field(factory=dict, converter=_copied, eq=False, hash=False)
    label: str = attrs.field(default="")

    def __attrs_post_init__(self) -> None:
        if not self.label:
            text = "\x00".join(f"{key}={value}" for key, value in sorted(self.settings.items()))
            digest = blake2b(f"{self.provider}\x00{text}".encode(), digest_size=6).hexdigest()
            object.__setattr__(self, "label", digest)

    def __repr__(self) -> str:
        return f"Account({self.provider!r}, label={self.label!r})"

    @property
    def cap_name(self) -> str:
        """The name of the account's cap across workers: ``contactsync-<provider>-<label>``."""
        return f"contactsync-{self.provider}-{self.label}"

    def connect(self) -> Any:
        """A client of this account (:func:`contactsync.connect`)."""
        return connect(self.provider, **self.settings)


@attrs.frozen
class PartitionRun:
    """How one partition's run ended: its run's figures, or ``message`` saying why it did not run.

    ``errors`` carry the source's row numbers (those given to :func:`sync_partition`).
    """

    partition: Partition
    status: SyncStatus
    counts: SyncCounts = attrs.field(factory=SyncCounts)
    run_id: int | None = None
    errors: tuple[RowError, ...] = ()
    events: tuple[ContactEvent, ...] = ()
    job_id: str | None = None
    notes: tuple[str, ...] = ()
    message: str | None = None


def partition_of(email: object, count: int) -> int:
    """The partition (0 to ``count - 1``) of a source value in the email column.

    A valid address is hashed in its normalised form (:meth:`Partition.of
    <contactsync.sync.Partition.of>`), so one contact lands in one partition however it
    is written; an invalid one by its trimmed, lower-cased text (its partition reports it
    as a row error); a value that is not text goes to partition 0.
    """
    if not isinstance(email, str):
        return 0
    try:
        key = normalize_email(email)
    except InvalidEmail:
        key = email.strip().lower()
    return Partition.of(key, count)


def sync_partition(
    rows: Iterable[Any],
    partition: int,
    of: int,
    *,
    provider: str | Account,
    list_id: str,
    name: str,
    state: str,
    settings: Mapping[str, Any] | None = None,
    mode: SyncMode | str = SyncMode.UPSERT,
    numbers: Sequence[int] | None = None,
    fields: Mapping[str, str] | None = None,
    field_types: Mapping[str, FieldType] | None = None,
    gate: Gate | None = None,
    journal_dir: str | os.PathLike[str] | None = None,
    lock_wait: float = LOCK_WAIT,
    **options: Any,
) -> PartitionRun:
    """Run partition ``partition`` of ``of`` of the sync ``name``: one :class:`~contactsync.sync.Sync`
    with its own records and lock in the shared ``state``, fed ``rows``.

    ``rows`` are records as :func:`~contactsync.sources.read_records` reads them (dicts,
    or objects with ``fields``), all of this partition (:func:`partition_of`). ``numbers``
    gives each row's number in the whole source, for the row errors; by default rows are
    numbered from 1. ``gate`` is entered around each request (:attr:`Transport.gate
    <contactsync.http.Transport.gate>`): a cap the account's other clients share.
    ``options`` are :meth:`Sync.run <contactsync.sync.Sync.run>`'s.

    A run that cannot start or stops on a :class:`~contactsync.errors.ContactSyncError`
    (a MIRROR refusal, a provider failure) is returned with its ``message``; what it had
    confirmed is recorded, and the next run of the partition retries the rest.
    """
    account = provider if isinstance(provider, Account) else Account(provider, settings or {})
    part = Partition(partition, of)
    with account.connect() as client:
        if gate is not None:
            client.transport.gate = gate
        try:
            sync = Sync(client, list_id, name=name, state=state, partition=part, journal_dir=journal_dir)
            with _Locked(sync, lock_wait) as locked:
                run = locked.run(read_records(rows, fields=fields, field_types=field_types), mode=mode, **options)
        except ContactSyncError as exc:
            return PartitionRun(part, _status_of(exc), message=f"{type(exc).__name__}: {exc}")
    return _finished(part, run, numbers)


class _Locked:
    """A sync whose :meth:`~contactsync.sync.Sync.run` waits up to ``lock_wait`` seconds for the partition's lock."""

    def __init__(self, sync: Sync, lock_wait: float) -> None:
        self.sync = sync
        self.lock_wait = lock_wait

    def __enter__(self) -> _Locked:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sync.close()

    def run(self, contacts: Iterable[Any], **options: Any) -> SyncRun:
        deadline = time.monotonic() + self.lock_wait
        contacts = iter(contacts)
        while True:
            try:
                return self.sync.run(contacts, **options)
            except SyncLocked:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.5)  # the lock is taken before the source is read: nothing of it was consumed


def _status_of(error: ContactSyncError) -> SyncStatus:
    return SyncStatus.REFUSED if isinstance(error, SyncRefused) else SyncStatus.FAILED


def _finished(partition: Partition, run: SyncRun, numbers: Sequence[int] | None) -> PartitionRun:
    """A run's figures, small enough to travel back to the caller, its row errors numbered as the source is."""
    errors = run.errors
    if numbers is not None:
        errors = tuple(_renumbered(error, numbers) for error in errors)
    return PartitionRun(
        partition,
        run.status,
        run.counts,
        run_id=run.id,
        errors=errors,
        events=run.events,
        job_id=run.job.id if run.job is not None else None,
        notes=run.notes,
    )


def _renumbered(error: RowError, numbers: Sequence[int]) -> RowError:
    if error.row is None or not 1 <= error.row <= len(numbers):
        return error
    return attrs.evolve(error, row=int(numbers[error.row - 1]))


def describe_state(state: str) -> str:
    """The state's location fit for a repr: a URL's password hidden."""
    return redact_url(state) if "://" in state else state
