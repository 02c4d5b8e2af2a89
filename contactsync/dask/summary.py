"""The partial results of a partitioned sync combined into one summary."""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from contactsync.dask.partition import PartitionRun
from contactsync.model import RowError
from contactsync.sync import SyncCounts, SyncStatus

__all__ = ["PartitionedRun"]

_WORST_FIRST = (SyncStatus.FAILED, SyncStatus.REFUSED, SyncStatus.RUNNING, SyncStatus.COMPLETED_WITH_ERRORS)


@attrs.frozen
class PartitionedRun:
    """One run of every partition of a sync: the counts summed, every row error, and each partition's run.

    ``status`` is the worst of the partitions' (failed, refused, with errors, completed);
    ``errors`` are sorted by the source's row numbers, the removals' (no row) last.
    """

    name: str
    status: SyncStatus
    counts: SyncCounts
    errors: tuple[RowError, ...]
    partitions: tuple[PartitionRun, ...]

    @classmethod
    def combine(cls, name: str, runs: Iterable[PartitionRun]) -> PartitionedRun:
        """The summary of the partitions' runs."""
        parts = tuple(sorted(runs, key=lambda run: run.partition.index))
        totals = {field.name: 0 for field in attrs.fields(SyncCounts)}
        for part in parts:
            for key, value in attrs.asdict(part.counts).items():
                totals[key] += value
        statuses = {part.status for part in parts}
        status = next((s for s in _WORST_FIRST if s in statuses), SyncStatus.COMPLETED)
        errors = sorted(
            (error for part in parts for error in part.errors),
            key=lambda error: (error.row is None, error.row or 0),
        )
        return cls(name, status, SyncCounts(**totals), tuple(errors), parts)

    @property
    def failed(self) -> tuple[PartitionRun, ...]:
        """The partitions that did not run to their end (each ``message`` says why): run the sync again."""
        return tuple(part for part in self.partitions if part.message is not None)
