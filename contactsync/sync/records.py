"""What a sync takes and reports: modes, plans, runs, counts, outcomes and the changelog's vocabulary."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from datetime import datetime
from hashlib import blake2b
from typing import Generic, TypeVar

import attrs

from contactsync.errors import InvalidInput
from contactsync.model import Contact, ContactEvent, ImportJob, RowError, SubscriptionAction

__all__ = [
    "Operation",
    "Outcome",
    "Partition",
    "Planned",
    "ProgressCallback",
    "Result",
    "RunRecord",
    "SyncCounts",
    "SyncMode",
    "SyncPlan",
    "SyncProgress",
    "SyncRun",
    "SyncStatus",
]

T = TypeVar("T")


class SyncMode(str, enum.Enum):
    """What a run does with the contacts that left the source."""

    UPSERT = "upsert"
    """Add and update; contacts gone from the source stay on the list."""
    MIRROR = "mirror"
    """Add and update, and take off the list the contacts gone from the source (``removal=``)."""


class SyncStatus(str, enum.Enum):
    """Where a run ended."""

    RUNNING = "running"
    """Under way, or killed: the next run of the sync settles it first."""
    COMPLETED = "completed"
    """Every change was confirmed by the provider and every source row was valid."""
    COMPLETED_WITH_ERRORS = "completed_with_errors"
    """It ran to its end; some rows are row errors (retried by the next run when the provider refused them)."""
    FAILED = "failed"
    """It stopped on an error; what the provider confirmed is recorded, the rest is retried by the next run."""
    REFUSED = "refused"
    """A MIRROR guard refused it before anything was sent."""
    INTERRUPTED = "interrupted"
    """It was killed; a later run finished what it had sent (``notes`` names that run)."""


class Operation(str, enum.Enum):
    """What a run did, or meant to do, with one row (the changelog's ``operation``)."""

    CREATE = "create"
    """A contact the state did not know: sent."""
    UPDATE = "update"
    """A contact whose fingerprint changed: sent."""
    RETRY = "retry"
    """A contact the provider refused, or did not confirm, last time: sent again."""
    REMOVE = "remove"
    """MIRROR: a contact gone from the source, taken off the list."""
    UNSUBSCRIBE = "unsubscribe"
    """MIRROR with ``removal=UNSUBSCRIBE``: a contact gone from the source, unsubscribed from the list."""
    SKIP = "skip"
    """A source row that was not a valid contact (or repeated an earlier one): nothing sent."""


class Result(str, enum.Enum):
    """How one row of the changelog ended."""

    PENDING = "pending"
    """Not settled yet (the run is under way)."""
    ACCEPTED = "accepted"
    """The provider confirmed it; the state records it."""
    REJECTED = "rejected"
    """A row error: refused by the provider or before sending, or not confirmed by a finished job."""
    ABANDONED = "abandoned"
    """Never sent: its run stopped first; the next run plans the row again from the source."""


@attrs.frozen
class Planned(Generic[T]):
    """One category of a plan: how many rows, and the first few of them."""

    count: int
    sample: tuple[T, ...] = ()

    def __len__(self) -> int:
        return self.count


@attrs.frozen
class SyncPlan:
    """What a run would do, found without sending anything.

    ``create``, ``update`` and ``retry`` sample the contacts to send; ``unchanged`` and
    ``remove`` the emails; ``rejected`` the row errors of the source.
    """

    create: Planned[Contact]
    update: Planned[Contact]
    unchanged: Planned[str]
    retry: Planned[Contact]
    remove: Planned[str]
    rejected: Planned[RowError]
    mode: SyncMode = SyncMode.UPSERT
    notes: tuple[str, ...] = ()

    @property
    def sends(self) -> int:
        """How many contacts the run would send."""
        return self.create.count + self.update.count + self.retry.count


@attrs.frozen
class SyncCounts:
    """A run's figures: what it planned (the first six) and how that ended.

    Every source row is ``unchanged``, sent (``create + update + retry``) or ``rejected``;
    a sent row ends ``accepted`` or ``failed``; a removal ends ``removed`` or not.
    """

    create: int = 0
    update: int = 0
    unchanged: int = 0
    retry: int = 0
    remove: int = 0
    rejected: int = 0
    accepted: int = 0
    failed: int = 0
    removed: int = 0

    @property
    def sent(self) -> int:
        """Contacts sent to the provider."""
        return self.create + self.update + self.retry

    @property
    def errored(self) -> int:
        """Row errors: source rows rejected, sends not confirmed, removals not applied."""
        return self.rejected + self.failed + max(self.remove - self.removed, 0)


@attrs.frozen
class SyncRun:
    """The result of :meth:`Sync.run <contactsync.sync.Sync.run>`.

    ``job`` is the import that sent the changes and ``removals`` the one that took
    contacts off the list (``None`` when there was nothing to send, or when the
    removals went one contact at a time). ``errors`` holds every row error, with the
    source's row numbers; ``events`` the unsubscribes, bounces and complaints the
    provider reported since the previous run.
    """

    id: int
    status: SyncStatus
    counts: SyncCounts
    job: ImportJob | None = None
    errors: tuple[RowError, ...] = ()
    events: tuple[ContactEvent, ...] = ()
    removals: ImportJob | None = None
    mode: SyncMode = SyncMode.UPSERT
    started_at: datetime | None = None
    finished_at: datetime | None = None
    notes: tuple[str, ...] = ()


@attrs.frozen
class RunRecord:
    """One run in a sync's history (:meth:`Sync.runs <contactsync.sync.Sync.runs>`)."""

    id: int
    name: str
    partition: str
    status: SyncStatus
    mode: SyncMode
    counts: SyncCounts
    started_at: datetime
    finished_at: datetime | None
    job_id: str | None
    message: str | None
    notes: tuple[str, ...] = ()


@attrs.frozen
class Outcome:
    """One row of a run's changelog (:meth:`Sync.outcomes <contactsync.sync.Sync.outcomes>`).

    ``row`` is the source row (None for a removal, which has no source row).
    """

    run_id: int
    row: int | None
    email: str | None
    operation: Operation
    result: Result
    error: str | None = None
    field: str | None = None
    provider_code: str | None = None


@attrs.frozen
class SyncProgress:
    """What a run is doing, for progress bars: ``phase`` is reading, sending, waiting or removing.

    ``rows`` counts the rows of the phase so far; ``fraction`` is how far it is when
    known (for a file, the bytes read); ``job`` is the import being sent or waited for.
    """

    phase: str
    rows: int
    fraction: float | None = None
    job: ImportJob | None = None


ProgressCallback = Callable[[SyncProgress], None]


@attrs.frozen
class Partition:
    """One of ``count`` partitions of a sync, by a hash of the email: a contact belongs to exactly one.

    Partitions of one sync keep their own state and lock, and run apart;
    MIRROR removals of a partition concern its own contacts only.
    """

    index: int
    count: int

    def __attrs_post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise InvalidInput(f"a partition is (index, count) with 0 <= index < count, got {self!r}")

    @staticmethod
    def of(email: str, count: int) -> int:
        """The partition (0 to ``count - 1``) that an email, normalised, belongs to."""
        return int.from_bytes(blake2b(email.encode(), digest_size=8).digest(), "little") % count

    def holds(self, email: str) -> bool:
        """Whether the normalised ``email`` belongs to this partition."""
        return self.of(email, self.count) == self.index

    @property
    def label(self) -> str:
        """How the state names the partition: ``index/count``."""
        return f"{self.index}/{self.count}"

    @classmethod
    def all(cls, count: int) -> Iterator[Partition]:
        """Every partition of a sync split ``count`` ways."""
        return (cls(index, count) for index in range(count))


REMOVAL_OPERATIONS = {
    SubscriptionAction.REMOVE: Operation.REMOVE,
    SubscriptionAction.UNSUBSCRIBE: Operation.UNSUBSCRIBE,
}
"""The changelog operation of each way of taking a contact off a list."""
