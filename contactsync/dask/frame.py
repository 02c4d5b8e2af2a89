"""A DataFrame synced as K partitions, each a Dask task, under one cap on the account's requests.

The frame is split by :func:`~contactsync.dask.partition_of` (a stable hash of the
normalised email) into ``partitions`` pieces with Dask's own shuffle; each piece runs
:func:`~contactsync.dask.sync_partition` as a task keyed ``contactsync-sync-<name>-part-<i>-<run>``.
Dask is imported when a sync starts, so this module imports without it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from contactsync.csvio import EMAIL_COLUMNS
from contactsync.dask.cap import Cap
from contactsync.dask.partition import LOCK_WAIT, Account, PartitionRun, describe_state, partition_of, sync_partition
from contactsync.dask.summary import PartitionedRun
from contactsync.errors import ConfigurationError, InvalidInput
from contactsync.model import FieldType
from contactsync.sync import SyncMode

__all__ = ["sync_dataframe"]

ROW = "__contactsync_row__"
"""The column that carries each row's number in the whole frame (1 first) through the shuffle."""
PART = "__contactsync_partition__"
"""The column the frame is shuffled on: each row's partition."""
CHUNK = 10_000
"""Rows of a piece turned into records at a time, so a large piece is never a list of dicts whole."""


def _dask() -> tuple[Any, Any, Any]:
    """``dask``, ``dask.dataframe`` and ``distributed``, or the extra to install."""
    try:
        import dask
        import dask.dataframe
        import distributed
    except ImportError as exc:
        raise ConfigurationError(
            f"partitioned syncs on Dask need dask[dataframe,distributed] ({exc.name} is missing): "
            "pip install 'contactsync[dask]'"
        ) from None
    return dask, dask.dataframe, distributed


@attrs.frozen(repr=False)
class _Job:
    """What every partition's task needs besides its rows; its repr (shown by Dask) hides every secret."""

    account: Account
    list_id: str
    name: str
    state: str
    count: int
    cap: tuple[str, int] | None
    fields: Mapping[str, str] | None
    field_types: Mapping[str, FieldType] | None
    journal_dir: str | None
    lock_wait: float
    options: Mapping[str, Any]

    def __repr__(self) -> str:
        cap = f", cap {self.cap[1]}" if self.cap else ""
        return (
            f"<sync {self.name!r}: {self.account!r} list {self.list_id}, {self.count} partitions{cap}, "
            f"state {describe_state(self.state)}>"
        )

    def run(self, piece: Any, index: int) -> PartitionRun:
        """Sync one partition from its piece of the frame (a pandas DataFrame)."""
        piece = piece.sort_values(ROW, kind="stable")
        gate = Cap.named(*self.cap) if self.cap is not None else None
        return sync_partition(
            _records(piece.drop(columns=[ROW])),
            index,
            self.count,
            provider=self.account,
            list_id=self.list_id,
            name=self.name,
            state=self.state,
            numbers=piece[ROW].tolist(),
            fields=self.fields,
            field_types=self.field_types,
            gate=gate,
            journal_dir=self.journal_dir,
            lock_wait=self.lock_wait,
            **self.options,
        )


def _run_task(job: _Job, piece: Any, index: int) -> PartitionRun:
    return job.run(piece, index)


def _records(frame: Any) -> Iterator[dict[str, Any]]:
    for start in range(0, len(frame), CHUNK):
        yield from frame.iloc[start : start + CHUNK].to_dict("records")


def _email_column(columns: list[str], fields: Mapping[str, str] | None) -> str:
    """The frame's email column: the one ``fields`` maps to ``email``, or the one named like an email."""
    if fields is not None:
        found = [key for key, field in fields.items() if field == "email"]
    else:
        found = [c for c in columns if "".join(ch for ch in str(c).lower() if ch.isalnum()) in EMAIL_COLUMNS]
    if len(found) != 1 or found[0] not in columns:
        what = "no" if not found else ("more than one" if len(found) > 1 else f"no {found[0]!r}")
        raise InvalidInput(
            f"the frame has {what} email column (columns: {', '.join(map(str, columns))}); "
            "name it email, or pass fields={column: 'email', ...}",
            field="email",
        )
    return found[0]


def _keyed(piece: Any, email: str, count: int, offsets: list[int], partition_info: Any = None) -> Any:
    """A piece of the frame with each row's number in the whole frame and its partition."""
    number = partition_info["number"] if partition_info else 0
    piece = piece.copy()
    piece[ROW] = range(offsets[number] + 1, offsets[number] + 1 + len(piece))
    piece[PART] = [partition_of(value, count) for value in piece[email]]
    return piece


def sync_dataframe(
    frame: Any,
    *,
    provider: str,
    list_id: str,
    name: str,
    state: str,
    settings: Mapping[str, Any] | None = None,
    partitions: int = 8,
    max_concurrency: int | None = None,
    mode: SyncMode | str = SyncMode.UPSERT,
    account: str | None = None,
    fields: Mapping[str, str] | None = None,
    field_types: Mapping[str, FieldType] | None = None,
    client: Any = None,
    retries: int = 2,
    journal_dir: str | os.PathLike[str] | None = None,
    lock_wait: float = LOCK_WAIT,
    **options: Any,
) -> PartitionedRun:
    """Sync a Dask (or pandas) DataFrame to one list as ``partitions`` partitions, each a task of the cluster.

    Each partition is a :class:`~contactsync.sync.Sync` with its own records and lock in
    the shared PostgreSQL ``state``; ``max_concurrency`` caps the requests the account
    gets at once from every worker together (a ``distributed.Semaphore`` named after
    the provider and ``account``, by default a digest of the settings). ``retries`` is
    how often Dask reruns a partition whose task failed (its worker died). ``client`` is
    the Dask client (default: the current one). ``options`` are :meth:`Sync.run
    <contactsync.sync.Sync.run>`'s. Rows are numbered from 1 in the frame's order.
    """
    _, dd, distributed = _dask()
    if isinstance(partitions, bool) or not isinstance(partitions, int) or partitions < 1:
        raise InvalidInput(f"partitions is a whole number from 1, got {partitions!r}", field="partitions")
    if max_concurrency is not None and (
        isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int) or max_concurrency < 1
    ):
        raise InvalidInput(
            f"max_concurrency is a whole number from 1, got {max_concurrency!r}", field="max_concurrency"
        )
    if client is None:
        try:
            client = distributed.get_client()
        except ValueError:
            raise ConfigurationError("no Dask client: start one (distributed.Client(...)) or pass client=") from None
    if not isinstance(frame, dd.DataFrame):
        frame = dd.from_pandas(frame, npartitions=max(1, min(partitions, len(frame) // CHUNK or 1)))
    email = _email_column(list(frame.columns), fields)
    named = Account(provider, settings or {}, label=account or "")
    cap = (named.cap_name, max_concurrency) if max_concurrency is not None else None
    if cap is not None:
        Cap.named(*cap, client=client)  # registered before the tasks start, so every worker finds it
    job = _Job(
        named,
        str(list_id),
        name,
        state,
        partitions,
        cap,
        fields,
        field_types,
        None if journal_dir is None else os.fspath(journal_dir),
        lock_wait,
        {"mode": mode, **options},
    )
    lengths = frame.map_partitions(len).compute()
    offsets = [0]
    for length in lengths:
        offsets.append(offsets[-1] + int(length))
    meta = frame._meta.assign(**{ROW: 0, PART: 0})
    keyed = frame.map_partitions(_keyed, email, partitions, offsets, meta=meta)
    pieces = keyed.set_index(PART, divisions=[*range(partitions), partitions - 1]).to_delayed()
    held = client.compute(pieces)
    run = uuid.uuid4().hex[:8]  # a key of its own per call: Dask would answer a key it still holds from memory
    tasks = [
        client.submit(_run_task, job, piece, index, key=f"contactsync-sync-{name}-part-{index}-{run}", retries=retries)
        for index, piece in enumerate(held)
    ]
    try:
        runs: list[PartitionRun] = client.gather(tasks)
    finally:
        client.cancel([*tasks, *held])
    return PartitionedRun.combine(name, runs)
