"""The sync engine: a source made true on one provider list, sending only what changed.

:class:`Sync` drives a :class:`~contactsync.provider.Provider` through its public API
alone (it knows no provider by name). A run, under the sync's lock:

1. settles a run that did not end (killed, or failed midway): its import is resumed
   from its journal, so nothing the provider confirmed is sent again;
2. reads the provider's events since the last run (unsubscribes, bounces...);
3. on the first run, reconciles the state with the list's members;
4. diffs the source against the state (:mod:`contactsync.sync.diff`), staging the
   changelog; MIRROR's guards may refuse here, before anything is sent;
5. sends the changes as one import with a journal, waits, and records what the
   provider confirmed; the rows it refused are retried by the next run;
6. in MIRROR, takes off the list the contacts that left the source.

Each step commits when it is done, so a run killed at any point and run again converges.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs

from contactsync.errors import (
    AuthenticationError,
    ContactSyncError,
    InvalidInput,
    NotFound,
    ProviderError,
    SyncRefused,
    UnsupportedAction,
)
from contactsync.model import (
    Contact,
    ContactEvent,
    EventType,
    ImportJob,
    ListSubscription,
    RowError,
    SubscriptionAction,
)
from contactsync.provider import Provider
from contactsync.sources.rows import Item, RawRows
from contactsync.sync.diff import BATCH, Differ, batched, numbered
from contactsync.sync.fingerprint import fingerprint, restore
from contactsync.sync.records import (
    Outcome,
    Partition,
    ProgressCallback,
    Result,
    RunRecord,
    SyncCounts,
    SyncMode,
    SyncPlan,
    SyncProgress,
    SyncRun,
    SyncStatus,
)
from contactsync.sync.state import RunRow, StateStore, open_state

__all__ = ["EVENTS_OVERLAP", "Sync", "fan_out"]

EVENTS_OVERLAP = timedelta(minutes=10)
"""Events are read from this long before the previous run read up to: a provider may record them late.
An event met twice is recorded once."""

_ADDS = (SubscriptionAction.ADD_NO_FORCE, SubscriptionAction.ADD_FORCE)
_REMOVALS = (SubscriptionAction.REMOVE, SubscriptionAction.UNSUBSCRIBE)
_ERROR_CHUNK = 1000


@attrs.frozen
class _Options:
    """One run's settings, checked."""

    mode: SyncMode
    removal: SubscriptionAction
    max_removals: float | int
    force: bool
    reconcile: bool | None
    events: bool | None
    timeout: float

    @classmethod
    def of(
        cls,
        *,
        mode: SyncMode | str,
        removal: SubscriptionAction | str,
        max_removals: float | int,
        force: bool,
        reconcile: bool | None,
        events: bool | None,
        timeout: float,
    ) -> _Options:
        try:
            chosen_mode, chosen_removal = SyncMode(mode), SubscriptionAction(removal)
        except ValueError as exc:
            raise InvalidInput(str(exc), field="mode") from None
        if chosen_removal not in _REMOVALS:
            raise InvalidInput(f"removal is remove or unsub, not {chosen_removal.value}", field="removal")
        if isinstance(max_removals, bool) or not isinstance(max_removals, (int, float)):
            raise InvalidInput("max_removals is a fraction (0.1) or a count (250)", field="max_removals")
        if isinstance(max_removals, float) and not 0.0 <= max_removals <= 1.0:
            raise InvalidInput(f"a fraction of removals is between 0 and 1, got {max_removals}", field="max_removals")
        if isinstance(max_removals, int) and max_removals < 0:
            raise InvalidInput(f"a count of removals is at least 0, got {max_removals}", field="max_removals")
        return cls(chosen_mode, chosen_removal, max_removals, force, reconcile, events, timeout)


def _journal_files(path: Path) -> tuple[Path, ...]:
    return (path, Path(f"{path}-wal"), Path(f"{path}-shm"))


class Sync:
    """One source kept in step with one provider list, with its state in SQLite (a path) or PostgreSQL (a URL).

    ``name`` tells the state which sync this is (default ``"<provider>:<list>"``); two
    syncs of one state never share records. ``action`` is how contacts are added:
    ``ADD_NO_FORCE`` (the default) never resubscribes a contact who unsubscribed;
    ``ADD_FORCE`` does, and should be chosen knowingly. ``partition`` ((index, count)
    or a :class:`~contactsync.sync.Partition`) makes this sync one partition of a larger
    one: it keeps its own records and lock, and takes only its own contacts.
    ``journal_dir`` holds the import journals of unfinished runs (default: beside an
    SQLite state, or under the user's cache for PostgreSQL).
    """

    def __init__(
        self,
        client: Provider,
        list_id: str,
        *,
        name: str | None = None,
        state: str | os.PathLike[str] | StateStore = "sync.db",
        action: SubscriptionAction | str = SubscriptionAction.ADD_NO_FORCE,
        partition: Partition | tuple[int, int] | None = None,
        journal_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.client = client
        self.list_id = str(list_id)
        self.action = SubscriptionAction(action)
        if self.action not in _ADDS:
            raise InvalidInput(
                f"a sync adds contacts with addnoforce or addforce, not {self.action.value}", field="action"
            )
        client.check_actions([ListSubscription(self.list_id, self.action)])
        self.partition = Partition(*partition) if isinstance(partition, tuple) else partition
        self.name = name or f"{client.name}:{self.list_id}"
        self._owns_store = not isinstance(state, StateStore)
        self.store = open_state(state)
        try:
            self.record = self.store.open_sync(
                self.name, self.partition.label if self.partition else "", client.name, self.list_id
            )
        except BaseException:
            self.close()
            raise
        self.journal_dir = Path(journal_dir) if journal_dir is not None else Path(self.store.default_journal_dir())

    def __repr__(self) -> str:
        part = f" partition {self.partition.label}" if self.partition else ""
        return f"<Sync {self.name!r}{part}: {self.client.name} list {self.list_id}, state {self.store.url}>"

    def __enter__(self) -> Sync:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the state (a store passed in by the caller stays open)."""
        if self._owns_store:
            self.store.close()

    @property
    def label(self) -> str:
        """The sync's name, with its partition."""
        return f"{self.name} (partition {self.partition.label})" if self.partition else self.name

    # -- the public API -------------------------------------------------------------------------

    def plan(
        self,
        contacts: Iterable[Item] | RawRows,
        *,
        mode: SyncMode | str = SyncMode.UPSERT,
        removal: SubscriptionAction | str = SubscriptionAction.REMOVE,
        reconcile: bool | None = None,
        sample: int = 10,
    ) -> SyncPlan:
        """A dry run: what :meth:`run` would send and remove, with ``sample`` examples of each; nothing is sent.

        Reconciling (``reconcile``, as for :meth:`run`) reads the list; the state is left
        as it was.
        """
        options = _Options.of(
            mode=mode, removal=removal, max_removals=0.0, force=False, reconcile=reconcile, events=False, timeout=0.0
        )
        with self.store.lock(self.record.id, self.label):
            notes = [f"run {run.id} did not end; the next run finishes it first" for run in self._unsettled()]
            differ: Differ | None = None
            try:
                notes += self._reconcile(options, run_id=0)
                keys, _ = self.store.load_keys(self.record.id)
                differ = Differ(
                    self.store,
                    self.record.id,
                    0,
                    keys,
                    action=self.action,
                    partition=self.partition,
                    dry=True,
                    sample=sample,
                )
                differ.consume(contacts)
                if options.mode is SyncMode.MIRROR:
                    differ.removals(options.removal)
                return SyncPlan(
                    create=differ.planned("create"),
                    update=differ.planned("update"),
                    unchanged=differ.planned("unchanged"),
                    retry=differ.planned("retry"),
                    remove=differ.planned("remove"),
                    rejected=differ.planned("rejected"),
                    mode=options.mode,
                    notes=tuple(notes),
                )
            finally:
                if differ is not None:
                    differ.close()
                self.store.rollback()

    def run(
        self,
        contacts: Iterable[Item] | RawRows,
        *,
        mode: SyncMode | str = SyncMode.UPSERT,
        removal: SubscriptionAction | str = SubscriptionAction.REMOVE,
        max_removals: float | int = 0.1,
        force: bool = False,
        reconcile: bool | None = None,
        events: bool | None = None,
        on_progress: ProgressCallback | None = None,
        timeout: float = 3600.0,
    ) -> SyncRun:
        """Send what changed in ``contacts`` since the last run (and, in MIRROR, take off what left the source).

        ``max_removals`` (a fraction of the list's confirmed contacts, or a count) and an
        empty source make MIRROR refuse (:class:`~contactsync.errors.SyncRefused`) unless
        ``force``. ``reconcile`` reads the list's members first (default: until a run has
        completed); ``events`` reads the provider's events since the last run (default:
        when the provider can). ``True`` makes either required, ``False`` skips it.
        ``timeout`` bounds each wait for the provider's jobs.
        """
        options = _Options.of(
            mode=mode,
            removal=removal,
            max_removals=max_removals,
            force=force,
            reconcile=reconcile,
            events=events,
            timeout=timeout,
        )
        self._check(options)
        with self.store.lock(self.record.id, self.label):
            settled = self._settle(on_progress, timeout)
            run = _Run(self, options, on_progress, settled)
            differ = run.open()
            try:
                differ.consume(contacts)
            except Exception as exc:
                differ.close()
                run.fail(exc)
                raise
            return run.complete(differ)

    def runs(self, limit: int | None = None) -> list[RunRecord]:
        """The sync's runs, newest first."""
        return self.store.runs([self.record.id], limit)

    def outcomes(self, run_id: int) -> Iterator[Outcome]:
        """One run's changelog: a record per row sent, refused or removed (unchanged rows are only counted)."""
        if self.store.run_sync(run_id) != self.record.id:
            raise InvalidInput(f"the sync {self.label} has no run {run_id}", field="run_id")
        return self.store.outcomes(run_id)

    def events(self) -> Iterator[ContactEvent]:
        """Every event recorded (polled by the runs, or pushed through :meth:`record_events`), oldest first."""
        return self.store.events(self.record.id)

    def record_events(self, events: Iterable[ContactEvent]) -> list[ContactEvent]:
        """Record events a webhook pushed, as a run records those it polls; return those new to the state.

        Only this provider's events of this list (or of the whole account) about a contact of
        this partition are kept, each once: the same event polled by a later run is not
        reported again. An unsubscribe marks the contact unsubscribed in the state.
        """
        kept = [event for event in events if event.provider == self.client.name and self._concerns(event)]
        fresh = self.store.record_events(self.record.id, kept)
        self.store.commit()
        return fresh

    def _concerns(self, event: ContactEvent) -> bool:
        """An event of this sync's list, or of the whole account, about a contact of this partition."""
        if event.list_id not in (None, self.list_id):
            return False
        return self.partition is None or (event.email is not None and self.partition.holds(event.email.strip().lower()))

    # -- the pieces of a run ----------------------------------------------------------------------

    def _check(self, options: _Options) -> None:
        """Refuse, before anything is sent, a removal the provider cannot apply to one contact or in bulk."""
        if options.mode is SyncMode.MIRROR:
            self.client.check_actions([ListSubscription(self.list_id, options.removal)], bulk=False)

    def _unsettled(self) -> list[RunRow]:
        return [run for run in self.store.unsettled_runs(self.record.id) if run.status is not SyncStatus.REFUSED]

    def _reconcile(self, options: _Options, run_id: int) -> list[str]:
        """Make the state say what the list holds, when asked or on a first run; return notes."""
        wanted = options.reconcile
        if wanted is False or (wanted is None and self.store.has_completed_run(self.record.id)):
            return []
        action, partition = self.action, self.partition
        try:
            members = (
                (member.contact.email, fingerprint(member.contact, action), member.subscribed)
                for member in self.client.members(self.list_id)
                if partition is None or partition.holds(member.contact.email)
            )
            count = self.store.reconcile(self.record.id, members, run_id)
        except UnsupportedAction as exc:
            self.store.rollback()
            if wanted:
                raise
            return [f"not reconciled with the list: {exc}"]
        return [f"reconciled with the list: {count:,} members"]

    def _settle(self, on_progress: ProgressCallback | None, timeout: float) -> list[str]:
        """Finish the runs that did not end (their imports resumed from the journals); return notes."""
        notes = []
        for unsettled in self._unsettled():
            run_id = unsettled.id
            if unsettled.phase == "planning":
                self.store.abandon(run_id)
            else:
                applier = _Applier(self, run_id, on_progress, timeout)
                action = SubscriptionAction(unsettled.action)
                if unsettled.phase == "sending":
                    applier.send(action)
                    self.store.set_phase(run_id, "removing")
                    self.store.commit()
                applier.remove(SubscriptionAction(unsettled.removal))
            counts = _final_counts(unsettled.counts, self.store.tally(run_id))
            status = SyncStatus.INTERRUPTED if unsettled.status is SyncStatus.RUNNING else unsettled.status
            what = "abandoned its unsent rows" if unsettled.phase == "planning" else "finished its import"
            self.store.finish_run(
                run_id,
                status,
                counts,
                job_id=None,
                removal_job_id=None,
                message=None,
                notes=[*unsettled.notes, f"a later run {what}"],
            )
            self.store.drop_payloads(run_id)
            self.store.commit()
            notes.append(f"run {run_id} had not ended ({unsettled.status.value}): {what}")
        return notes

    def journal(self, run_id: int, stage: str) -> Path:
        """The import journal of one stage of one run."""
        return self.journal_dir / f"sync-{self.record.id}-run-{run_id}-{stage}.journal"


class _Applier:
    """Sends a run's staged changes and removals to the provider and records what it confirmed."""

    def __init__(self, sync: Sync, run_id: int, on_progress: ProgressCallback | None, timeout: float) -> None:
        self.sync = sync
        self.store = sync.store
        self.client = sync.client
        self.run_id = run_id
        self.on_progress = on_progress
        self.timeout = timeout

    def send(self, action: SubscriptionAction) -> ImportJob | None:
        """Import the staged sends (resuming the stage's journal, if any), wait, and record the outcome."""
        staged = self.store.staged(self.run_id, "send")
        job = self._import(
            (restore(payload)[0] for _, _, payload in staged if payload is not None), action, "send", "sending"
        )
        if job is not None:
            self.store.apply_sends(self.sync.record.id, self.run_id)
            self.store.commit()
            self._forget_journal("send")
        return job

    def remove(self, removal: SubscriptionAction) -> ImportJob | None:
        """Take the staged removals off the list: in one import, or one contact at a time where bulk cannot."""
        try:
            self.client.check_actions([ListSubscription(self.sync.list_id, removal)])
        except UnsupportedAction:
            self._remove_one_by_one(removal)
            return None
        staged = self.store.staged(self.run_id, "remove")
        job = self._import((Contact(email) for _, email, _ in staged), removal, "remove", "removing")
        if job is not None:
            self.store.apply_removals(self.sync.record.id, self.run_id)
            self.store.commit()
            self._forget_journal("remove")
        return job

    def _import(
        self, contacts: Iterator[Contact], action: SubscriptionAction, stage: str, phase: str
    ) -> ImportJob | None:
        first = next(contacts, None)
        if first is None:
            return None
        journal = self.sync.journal(self.run_id, stage)
        journal.parent.mkdir(parents=True, exist_ok=True)
        progress = self.on_progress

        def on_batch(job: ImportJob) -> None:
            if progress is not None:
                progress(SyncProgress(phase, job.requested, None, job))

        def on_wait(job: ImportJob) -> None:
            if progress is not None:
                done = job.accepted + job.errored
                progress(SyncProgress("waiting", done, done / job.requested if job.requested else None, job))

        subscriptions = [ListSubscription(self.sync.list_id, action)]
        job = self.client.import_contacts(_chain(first, contacts), subscriptions, journal=journal, on_batch=on_batch)
        job = self.client.wait(job, timeout=self.timeout, on_progress=on_wait)
        self._confirm(job, stage)
        return job

    def _confirm(self, job: ImportJob, stage: str) -> None:
        """Settle the stage's rows from a finished import: its row errors refused, the rest of each part accepted.

        A part whose report names a row error it cannot trace to a row (no row, no email)
        confirms none of its rows: they are retried.
        """
        store, run_id = self.store, self.run_id
        store.reject(run_id, stage, list(job.local_errors))
        for part in job.provider_jobs:
            if not part.status.is_terminal or part.rows is None or not len(part.rows):
                continue
            untraced = False
            reported: list[RowError] = []
            for error in self.client.import_errors(part):
                if error.row is None and error.email is None:
                    untraced = True
                    continue
                reported.append(error)
                if len(reported) >= _ERROR_CHUNK:
                    store.reject(run_id, stage, reported)
                    reported = []
            store.reject(run_id, stage, reported)
            first, last = part.rows.row_at(0), part.rows.row_at(len(part.rows) - 1)
            assert first is not None and last is not None
            if untraced:
                message = f"the {self.client.name} job {part.id} reported row errors it did not trace: not confirmed"
                store.settle_range(run_id, stage, first, last, result=Result.REJECTED, error=message)
            else:
                store.settle_range(run_id, stage, first, last, result=Result.ACCEPTED)

    def _remove_one_by_one(self, removal: SubscriptionAction) -> None:
        subscription = ListSubscription(self.sync.list_id, removal)
        sync_id = self.sync.record.id
        done = 0
        for seq, email, _ in list(self.store.pending(self.run_id, "remove")):
            try:
                self.client.manage_subscriptions(email, [subscription])
            except AuthenticationError:
                raise
            except NotFound:
                pass  # no such contact, or not on the list: nothing left to take off
            except ProviderError as exc:
                self.store.reject(self.run_id, "remove", [RowError(email, seq, None, str(exc), exc.code)])
                self.store.commit()
                continue
            self.store.settle_range(self.run_id, "remove", seq, seq, result=Result.ACCEPTED)
            self.store.forget(sync_id, [email])
            self.store.commit()
            done += 1
            if self.on_progress is not None:
                self.on_progress(SyncProgress("removing", done))

    def _forget_journal(self, stage: str) -> None:
        for path in _journal_files(self.sync.journal(self.run_id, stage)):
            path.unlink(missing_ok=True)


def _chain(first: Contact, rest: Iterator[Contact]) -> Iterator[Contact]:
    yield first
    yield from rest


def _final_counts(planned: SyncCounts, tally: dict[tuple[str, str, str], int]) -> SyncCounts:
    """The planned counts with how the changelog says the sends and removals ended."""

    def total(stage: str, result: Result) -> int:
        return sum(count for (s, _, r), count in tally.items() if s == stage and r == result.value)

    return attrs.evolve(
        planned,
        accepted=total("send", Result.ACCEPTED),
        failed=total("send", Result.REJECTED),
        removed=total("remove", Result.ACCEPTED),
    )


class _Run:
    """One run of one sync, step by step: :meth:`open` gives the diff to feed, :meth:`complete` does the rest."""

    def __init__(
        self, sync: Sync, options: _Options, on_progress: ProgressCallback | None, notes: Sequence[str]
    ) -> None:
        self.sync = sync
        self.store = sync.store
        self.options = options
        self.on_progress = on_progress
        self.notes = list(notes)
        self.run_id = 0
        self.started_at: datetime | None = None
        self.events: tuple[ContactEvent, ...] = ()
        self.version = 0
        self.fresh_keys = False

    def open(self) -> Differ:
        """Record the run, read the events, reconcile, and return the diff to feed with the source."""
        sync, store, options = self.sync, self.store, self.options
        self.run_id, self.started_at = store.start_run(
            sync.record.id, options.mode, sync.action.value, options.removal.value
        )
        store.commit()
        try:
            self.events = self._read_events()
            self.notes += sync._reconcile(options, self.run_id)
            store.commit()
            keys, self.fresh_keys = store.load_keys(sync.record.id)
            self.version = store.version(sync.record.id)
        except Exception as exc:
            self.fail(exc)
            raise
        return Differ(
            store,
            sync.record.id,
            self.run_id,
            keys,
            action=sync.action,
            partition=sync.partition,
            dry=False,
            on_progress=self.on_progress,
        )

    def _read_events(self) -> tuple[ContactEvent, ...]:
        wanted = self.options.events
        if wanted is False:
            return ()
        sync, store = self.sync, self.store
        since = sync.record.events_from or sync.record.created_at
        until = datetime.now(timezone.utc)
        try:
            polled = [  # not the subscribes: the sync's own imports make those
                event
                for event in sync.client.events_since(since - EVENTS_OVERLAP)
                if event.type is not EventType.SUBSCRIBED and sync._concerns(event)
            ]
        except UnsupportedAction as exc:
            if wanted:
                raise
            self.notes.append(f"events not read: {exc}")
            return ()
        fresh = store.record_events(sync.record.id, polled, self.run_id)
        store.set_events_from(sync.record.id, until)
        store.commit()
        sync.record = attrs.evolve(sync.record, events_from=until)
        return tuple(fresh)

    def complete(self, differ: Differ) -> SyncRun:
        """Guard, send, remove, and record the run's end."""
        sync, store, options = self.sync, self.store, self.options
        applier = _Applier(sync, self.run_id, self.on_progress, options.timeout)
        job = removals = None
        try:
            try:
                if options.mode is SyncMode.MIRROR:
                    differ.removals(options.removal)
                    self._guard(differ)
                differ.forget_unmet_retries()
                planned = SyncCounts(**differ.counts)
            finally:
                differ.close()
            store.set_phase(self.run_id, "sending", planned)
            store.commit()
            job = applier.send(sync.action)
            store.set_phase(self.run_id, "removing")
            store.commit()
            if options.mode is SyncMode.MIRROR:
                removals = applier.remove(options.removal)
        except SyncRefused:
            raise
        except Exception as exc:
            self.fail(exc, job=job)
            raise
        counts = _final_counts(planned, store.tally(self.run_id))
        status = SyncStatus.COMPLETED_WITH_ERRORS if counts.errored else SyncStatus.COMPLETED
        finished = store.finish_run(
            self.run_id,
            status,
            counts,
            job_id=job.id if job else None,
            removal_job_id=removals.id if removals else None,
            message=None,
            notes=self.notes,
        )
        store.drop_payloads(self.run_id)
        if not self.fresh_keys or store.version(sync.record.id) != self.version:
            store.save_keys(sync.record.id)
        store.commit()
        return SyncRun(
            self.run_id,
            status,
            counts,
            job=job,
            errors=tuple(store.errors(self.run_id)),
            events=self.events,
            removals=removals,
            mode=options.mode,
            started_at=self.started_at,
            finished_at=finished,
            notes=tuple(self.notes),
        )

    def _guard(self, differ: Differ) -> None:
        """MIRROR's guards: refuse an empty source, or more removals than allowed, unless forced."""
        options = self.options
        removing, total = differ.counts["remove"], self.store.confirmed_count(self.sync.record.id)
        if options.force:
            return
        limit = options.max_removals
        allowed = int(limit * total) if isinstance(limit, float) else limit
        where = f"{self.sync.client.name} list {self.sync.list_id}"
        message = None
        if differ.contacts == 0:
            message = (
                f"MIRROR refuses an empty source: it has no valid contact, and {removing:,} of the {total:,} "
                f"contacts on {where} would be removed"
            )
        elif removing > allowed:
            shown = f"{limit:.0%} of {total:,} = {allowed:,}" if isinstance(limit, float) else f"{limit:,}"
            message = (
                f"MIRROR would remove {removing:,} of the {total:,} contacts on {where}, more than "
                f"max_removals ({shown})"
            )
        if message is None:
            return
        message += ": nothing was sent; check the source, or pass force=True to apply it"
        self.store.rollback()
        self.store.abandon(self.run_id)
        counts = SyncCounts(**differ.counts)
        self.store.finish_run(
            self.run_id,
            SyncStatus.REFUSED,
            counts,
            job_id=None,
            removal_job_id=None,
            message=message,
            notes=self.notes,
        )
        self.store.commit()
        raise SyncRefused(message, run=self.record())

    def fail(self, error: BaseException, job: ImportJob | None = None) -> None:
        """Record the run as failed (its phase kept, so the next run settles what it sent)."""
        store = self.store
        with contextlib.suppress(Exception):
            store.rollback()
        unsettled = [run for run in store.unsettled_runs(self.sync.record.id) if run.id == self.run_id]
        planned = unsettled[0].counts if unsettled else SyncCounts()
        phase = unsettled[0].phase if unsettled else "done"
        store.finish_run(
            self.run_id,
            SyncStatus.FAILED,
            _final_counts(planned, store.tally(self.run_id)),
            job_id=job.id if job else None,
            removal_job_id=None,
            message=f"{type(error).__name__}: {error}",
            notes=self.notes,
            phase=phase,
        )
        store.commit()

    def record(self) -> RunRecord | None:
        """This run in the history."""
        return next((run for run in self.sync.runs() if run.id == self.run_id), None)


def fan_out(
    contacts: Iterable[Item] | RawRows,
    syncs: Sequence[Sync],
    *,
    on_progress: Callable[[Sync, SyncProgress], None] | None = None,
    **options: Any,
) -> list[SyncRun | ContactSyncError]:
    """One source, read once, synced to several destinations (each :class:`Sync` with its own state).

    ``options`` are :meth:`Sync.run`'s. Returns, in the order of ``syncs``, each run, or
    the error that stopped that destination (a refusal, a lock held, a provider failure);
    one destination's failure does not stop the others. A source that breaks off stops all.
    """
    settings = _Options.of(
        mode=options.pop("mode", SyncMode.UPSERT),
        removal=options.pop("removal", SubscriptionAction.REMOVE),
        max_removals=options.pop("max_removals", 0.1),
        force=options.pop("force", False),
        reconcile=options.pop("reconcile", None),
        events=options.pop("events", None),
        timeout=options.pop("timeout", 3600.0),
    )
    if options:
        raise TypeError(f"fan_out() got unexpected options: {', '.join(sorted(options))}")
    results: list[SyncRun | ContactSyncError | None] = [None] * len(syncs)
    opened: list[tuple[int, _Run, Differ]] = []
    with contextlib.ExitStack() as stack:
        for at, sync in enumerate(syncs):
            progress = None if on_progress is None else _bound(on_progress, sync)
            try:
                sync._check(settings)
                stack.enter_context(sync.store.lock(sync.record.id, sync.label))
                run = _Run(sync, settings, progress, sync._settle(progress, settings.timeout))
                opened.append((at, run, run.open()))
            except ContactSyncError as exc:
                results[at] = exc
        try:
            _feed(contacts, [differ for _, _, differ in opened])
        except Exception as exc:
            for _, run, differ in opened:
                differ.close()
                run.fail(exc)
            raise
        for at, run, differ in opened:
            try:
                results[at] = run.complete(differ)
            except ContactSyncError as exc:
                results[at] = exc
    return [result for result in results if result is not None]


def _feed(source: Iterable[Item] | RawRows, differs: Sequence[Differ]) -> None:
    """Read the source once, handing each batch to every diff."""
    if isinstance(source, RawRows):
        for differ in differs:
            differ.start_raw(source)
        for first, rows in numbered(source.raw_batches(BATCH)):
            for differ in differs:
                differ.raw_batch(first, rows)
    else:
        for differ in differs:
            differ.start_items(source)
        for first, items in batched(source):
            for differ in differs:
                differ.item_batch(first, items)
    for differ in differs:
        differ.flush()


def _bound(callback: Callable[[Sync, SyncProgress], None], sync: Sync) -> ProgressCallback:
    return lambda progress: callback(sync, progress)
