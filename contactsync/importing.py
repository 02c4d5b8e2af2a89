"""The import pipeline: input rows to provider jobs, with batches in flight, recovery, the journal and row errors.

:class:`ImportPipeline` is what :meth:`Provider.import_contacts <contactsync.provider.Provider.import_contacts>`,
``plan_import``, ``wait`` and ``import_errors`` run. It knows a provider only through
its public hooks (``capabilities``, ``choose_route``, ``import_route``, ``part_errors``)
and its routes' ``encode`` and ``submit``, so the sync engine can drive it too.
"""

from __future__ import annotations

import collections
import itertools
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import attrs

from contactsync.batching import Batch, RowIndex, batches
from contactsync.errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidInput,
    NetworkError,
    ProviderError,
    RateLimited,
    ServerError,
    UnsupportedAction,
)
from contactsync.journal import BatchSpool, Journal
from contactsync.model import Contact, ImportJob, ImportStatus, ListSubscription, RowError

if TYPE_CHECKING:
    from contactsync.provider import ImportRoute, Provider, ReportedError

__all__ = ["FAILED_OUTRIGHT", "ImportPipeline", "InputItem", "ProgressCallback"]

ProgressCallback = Callable[[ImportJob], None]
InputItem = Contact | RowError
"""What an import takes: contacts, and rows a reader already rejected."""

FAILED_OUTRIGHT = frozenset({ImportStatus.FAILED, ImportStatus.REJECTED, ImportStatus.CANCELLED})
"""Terminal statuses of a job that applied none of its rows."""
_Sent = tuple[ImportJob, tuple[int, int] | None]
"""A submitted batch: its part, and its spool reference when it may be sent again."""
_TRANSIENT = (NetworkError, ServerError, RateLimited)
"""Failures after which a request may or may not have been applied, or was refused for now: worth one more try."""
_UNCERTAIN = (NetworkError, ServerError)
"""Failures after which a request may have been applied all the same (no answer, or a server error)."""


def _peek(items: Iterator[Any], count: int) -> tuple[list[Any], bool]:
    head = list(itertools.islice(items, count))
    return head, len(head) == count


class _Recovery:
    """What :meth:`ImportPipeline.recover` needs to send a failed job's batch again: route, spool, journal."""

    def __init__(self, route: ImportRoute, spool: BatchSpool, journal: Journal | None) -> None:
        self.route = route
        self.spool = spool
        self.journal = journal
        self.batches: dict[str, tuple[int, tuple[int, int]]] = {}
        """Part id -> (batch number, spool reference), for the parts whose job may still fail."""

    def close(self) -> None:
        self.spool.close()
        if self.journal is not None:
            self.journal.close()


def _skip_done(
    numbered: Iterator[tuple[int, InputItem]], journal: Journal, done_to: int
) -> Iterator[tuple[int, InputItem]]:
    """The input after row ``done_to``, checking on the way that the rows the journal recorded are the same."""
    recorded = journal.rows(done_to)
    expected = next(recorded, None)
    for row, item in numbered:
        if row > done_to:
            yield row, item
            break
        if expected is not None and expected[0] == row:
            if isinstance(item, Contact) and item.email != expected[1]:
                raise InvalidInput(
                    f"the input is {item.email} here, the journal {journal.path} recorded {expected[1]}: "
                    "resume with the input of the interrupted import",
                    row=row,
                )
            expected = next(recorded, None)
    yield from numbered


class ImportPipeline:
    """One provider's imports: route choice, encoding, batches in flight, journal, recovery, error accounting.

    A provider holds one; the parts of imports it made that may be sent again when
    their job fails as a whole are remembered here until they end.
    """

    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        self._recoveries: dict[str, _Recovery] = {}

    @property
    def name(self) -> str:
        return self.provider.name

    # -- submitting --------------------------------------------------------------------

    def select_route(
        self, numbered: Iterator[tuple[int, InputItem]], subscriptions: tuple[ListSubscription, ...], route: str | None
    ) -> tuple[str, Iterator[tuple[int, InputItem]]]:
        """The route (reading ahead as far as ``file_route_from`` if none is forced) and the input, intact."""
        capabilities = self.provider.capabilities
        if route is None:
            threshold = capabilities.file_route_from
            head: list[tuple[int, InputItem]] = []
            large = False
            if threshold is not None:
                head, large = _peek(numbered, threshold)
            route = self.provider.choose_route([item for _, item in head], large, subscriptions)
            numbered = itertools.chain(head, numbered)
        if route not in capabilities.routes:
            raise UnsupportedAction(f"{self.name} has no import route {route!r}; it has {sorted(capabilities.routes)}")
        return route, numbered

    def run(
        self,
        contacts: Iterable[InputItem],
        subs: tuple[ListSubscription, ...],
        *,
        route: str | None,
        extra: Mapping[str, Any] | None,
        on_batch: ProgressCallback | None,
        journal: str | os.PathLike[str] | None,
    ) -> ImportJob:
        """Stream ``contacts`` to the provider in batches; return the aggregated job (see ``import_contacts``)."""
        record = Journal(journal) if journal is not None else None
        try:
            return self._run(contacts, subs, route=route, extra=extra, on_batch=on_batch, record=record)
        except BaseException:
            if record is not None:
                record.close()
            raise

    def _run(
        self,
        contacts: Iterable[InputItem],
        subs: tuple[ListSubscription, ...],
        *,
        route: str | None,
        extra: Mapping[str, Any] | None,
        on_batch: ProgressCallback | None,
        record: Journal | None,
    ) -> ImportJob:
        numbered: Iterator[tuple[int, InputItem]] = enumerate(contacts, start=1)
        if record is not None:
            recorded = record.begin(self.name, subs)
            if recorded is not None and route not in (None, recorded):
                raise ConfigurationError(f"the journal {record.path} records an import by route {recorded!r}")
            route = recorded or route
        route, numbered = self.select_route(numbered, subs, route)
        chosen = self.provider.import_route(subs, route, extra)
        parts: list[ImportJob] = []
        local_errors: list[RowError] = []
        first_number = 1
        if record is not None:
            record.set_route(route)
            parts, local_errors, done_to, first_number = self._resume(record, chosen)
            numbered = iter(()) if done_to is None else _skip_done(numbered, record, done_to)
        recovery = _Recovery(chosen, BatchSpool(), record)
        in_flight: collections.deque[tuple[int, Future[_Sent]]] = collections.deque()

        def settle_oldest() -> None:
            number, future = in_flight.popleft()
            part, spooled = future.result()
            parts.append(part)
            if record is not None:
                record.settled(number, part)
            if spooled is not None:
                recovery.batches[part.id] = (number, spooled)
                self._recoveries[part.id] = recovery
            if on_batch is not None:
                on_batch(ImportJob.combine(self.name, parts, tuple(local_errors)))

        try:
            with ThreadPoolExecutor(
                max_workers=self.provider.concurrency, thread_name_prefix=f"contactsync-{self.name}"
            ) as pool:
                try:
                    for batch in batches(
                        self.encode(numbered, chosen, local_errors), chosen.limits, first_number=first_number
                    ):
                        if record is not None:
                            record.sending(batch, local_errors)
                        in_flight.append((batch.number, pool.submit(self._send, chosen, batch, recovery.spool)))
                        del batch  # the worker alone holds it, so it goes once sent, indexed and spooled
                        if len(in_flight) >= self.provider.concurrency:
                            settle_oldest()
                finally:  # batches already sent are settled (and journaled) even when the input breaks off
                    while in_flight:
                        settle_oldest()
        except BaseException:
            for part_id in recovery.batches:
                self._recoveries.pop(part_id, None)
            recovery.close()
            raise
        if record is not None:
            record.record_errors(local_errors)
            record.finish_submitting()
        if not recovery.batches:
            recovery.close()
        return ImportJob.combine(self.name, parts, tuple(local_errors))

    def _resume(self, journal: Journal, route: ImportRoute) -> tuple[list[ImportJob], list[RowError], int | None, int]:
        """What a journal says is done: (parts, rows rejected locally, last input row done or None for all, next batch).

        A batch recorded as being sent, with no outcome, is sent again when the route is
        safe to repeat; otherwise its rows are reported, since it may or may not have
        been applied. Batches settle in order, so the unsettled ones are the last.
        """
        recorded = journal.batches(self.name)
        parts = [batch.part for batch in recorded if batch.part is not None]
        unsettled = [batch for batch in recorded if batch.part is None]
        done = [batch for batch in recorded if batch.part is not None]
        if unsettled and route.resubmit_safe:
            journal.forget([batch.number for batch in unsettled])
        else:
            for batch in unsettled:
                message = (
                    f"the import stopped while batch {batch.number} was being sent to {self.name}; "
                    "it may or may not have been applied"
                )
                part = ImportJob(
                    self.name, f"unsent:{batch.number}", ImportStatus.FAILED, "Interrupted", extra={"error": message}
                )
                part = attrs.evolve(part, rows=batch.rows, requested=len(batch.rows))
                journal.settled(batch.number, part)
                parts.append(part)
            done = recorded
        done_to = None if journal.submitted() else (done[-1].last_row if done else 0)
        next_number = done[-1].number + 1 if done else 1
        return parts, journal.restore_errors(done_to), done_to, next_number

    def _send(self, route: ImportRoute, batch: Batch, spool: BatchSpool) -> _Sent:
        """Submit one batch, in a worker: its part (see :meth:`_submit_again`) and its spool reference, if kept.

        The part carries the batch's row index, and a batch that may have to be sent again
        is spooled to disk; the batch itself is then let go, so the memory an import holds
        is bounded by the batches in flight. Authentication errors stop the import: every
        batch would fail alike.
        """
        try:
            part = route.submit(batch)
        except AuthenticationError:
            raise
        except ProviderError as exc:
            part = self._submit_again(route, batch, exc)
        part = attrs.evolve(part, rows=batch.index(), requested=part.requested or len(batch))
        keep = route.resubmit_safe and not part.id.startswith("unsent:")
        return part, spool.put(batch) if keep else None

    def _submit_again(self, route: ImportRoute, batch: Batch, failure: ProviderError | str) -> ImportJob:
        """A batch whose request or job failed: sent once more when that is harmless, else a failed part.

        Harmless means the route declares resubmission idempotent in result and the failure
        was transient (no answer, 5xx, rate limit) or a job that failed as a whole: if the
        first attempt was applied after all, the second changes nothing. The failed part
        ("unsent:N") makes :meth:`row_errors` report every row of the batch; when an attempt
        failed without a clear refusal, the part says so (``extra["uncertain"]``), since the
        provider may have applied the batch all the same.
        """
        error = str(failure)
        uncertain = isinstance(failure, _UNCERTAIN)
        if route.resubmit_safe and isinstance(failure, (str, *_TRANSIENT)):
            try:
                part = route.submit(batch)
            except AuthenticationError:
                raise
            except ProviderError as exc:
                error = f"{exc} (sent again after: {failure})"
                uncertain = uncertain or isinstance(exc, _UNCERTAIN)
            else:
                return attrs.evolve(part, extra={**part.extra, "resubmitted": error})
        extra: dict[str, Any] = {"error": error}
        if uncertain:
            extra = {"error": f"{error}; the batch may have been applied all the same", "uncertain": True}
        return ImportJob(self.name, f"unsent:{batch.number}", ImportStatus.FAILED, "NotSubmitted", extra=extra)

    def recover(self, job: ImportJob) -> ImportJob:
        """Send again, once, the batch of each part whose job failed as a whole (no row reported)."""
        parts = list(job.parts or (job,))
        changed = False
        for at, part in enumerate(parts):
            recovery = self._recoveries.get(part.id) if part.status.is_terminal else None
            if recovery is None:
                continue
            del self._recoveries[part.id]
            number, ref = recovery.batches.pop(part.id)
            if part.status is ImportStatus.FAILED and not part.errored:
                reason = f"the {self.name} job {part.id} ended {part.provider_status}"
                fresh = self._submit_again(recovery.route, recovery.spool.get(ref), reason)
                parts[at] = attrs.evolve(fresh, rows=part.rows, requested=part.requested)
                changed = True
                if recovery.journal is not None:
                    recovery.journal.settled(number, parts[at])
            if not recovery.batches:
                recovery.close()
        if not changed:
            return job
        return ImportJob.combine(self.name, parts, job.local_errors) if job.parts else parts[0]

    def plan(
        self,
        contacts: Iterable[InputItem],
        subs: tuple[ListSubscription, ...],
        *,
        route: str | None,
        extra: Mapping[str, Any] | None,
    ) -> tuple[str, list[Mapping[str, Any]], list[RowError]]:
        """A dry run: the route, a description of every batch, and the rows that would be rejected."""
        name, numbered = self.select_route(enumerate(contacts, start=1), subs, route)
        chosen = self.provider.import_route(subs, name, extra)
        local_errors: list[RowError] = []
        described = [chosen.describe(b) for b in batches(self.encode(numbered, chosen, local_errors), chosen.limits)]
        return name, described, local_errors

    def encode(
        self, items: Iterator[tuple[int, InputItem]], route: ImportRoute, local_errors: list[RowError]
    ) -> Iterator[tuple[int, str, bytes]]:
        """``(row, email, bytes)`` of each contact the route can carry; the others become ``local_errors``."""
        encode, room = route.encode, route.limits.max_bytes - route.limits.overhead
        for row, item in items:
            if isinstance(item, RowError):
                local_errors.append(item if item.row is not None else attrs.evolve(item, row=row))
                continue
            try:
                encoded = encode(item)
            except InvalidInput as exc:
                local_errors.append(RowError(item.email, row, exc.field, exc.message))
                continue
            if len(encoded) > room:
                message = f"{len(encoded)} bytes encoded, over the {route.limits.max_bytes}-byte request limit"
                local_errors.append(RowError(item.email, row, None, message))
                continue
            yield row, item.email, encoded

    # -- accounting ----------------------------------------------------------------------

    def row_errors(self, job: ImportJob) -> Iterator[RowError]:
        """Every row that did not make it: rejected locally, reported by the provider, or in a failed job.

        A part that failed outright (failed, rejected, cancelled) reports each of its rows,
        since the provider applied none of them: with the provider's own reason where its
        report has one, else the job's status. Unfinished parts report nothing yet.
        """
        yield from job.local_errors
        for part in job.provider_jobs:
            if not part.status.is_terminal:
                continue
            traced = [trace(part.rows, reported) for reported in self._reported(part)]
            yield from traced
            if part.status in FAILED_OUTRIGHT and part.rows is not None:
                message = part.extra.get("error") or f"the {self.name} job {part.id} ended {part.provider_status}"
                covered = {error.row for error in traced}
                for position in range(len(part.rows)):
                    row = part.rows.row_at(position)
                    if row not in covered:
                        yield RowError(None, row, None, message, part.provider_status)

    def _reported(self, part: ImportJob) -> list[ReportedError]:
        """A part's error report; an unsent or failed part may have none to fetch."""
        if part.id.startswith("unsent:"):
            return []
        if part.status in FAILED_OUTRIGHT:
            try:
                return list(self.provider.part_errors(part))
            except ProviderError:
                return []
        return list(self.provider.part_errors(part))


def trace(rows: RowIndex | None, reported: ReportedError) -> RowError:
    """A provider's report traced back to its input row, by position when given, else by email."""
    row = None
    if rows is not None:
        if reported.position is not None:
            row = rows.row_at(reported.position)
        elif reported.email is not None:
            row = rows.row_of(reported.email.strip().lower())
    return RowError(reported.email, row, reported.field, reported.message, reported.code)
