"""The import pipeline: input rows to provider jobs, with batches in flight, recovery, the journal and row errors.

:class:`ImportPipeline` is what :meth:`Provider.import_contacts <contactsync.provider.Provider.import_contacts>`,
``plan_import``, ``refresh``, ``wait`` and ``import_errors`` run. It knows a provider only
through its public hooks (``capabilities``, ``choose_route``, ``import_route``, ``part_errors``)
and its routes' ``encode``, ``submit`` and ``follow_up``, so the sync engine can drive it too.

The rules it applies for every provider alike: the first row of an address is sent and
every later row of it is a row error naming the first (decided before sending); a row the
chosen route cannot carry goes by the provider's first route; a refusal that dooms every
batch (the list is gone) stops the sending; and once a job is finished its counts add up,
``accepted + errored == requested``, every row a provider job did not confirm being a row error.
"""

from __future__ import annotations

import collections
import itertools
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import attrs

from contactsync.batching import Batch, Batcher, FirstRows, RowIndex
from contactsync.errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidInput,
    NetworkError,
    NotFound,
    ProviderError,
    RateLimited,
    RouteCannotCarry,
    ServerError,
    UnsupportedAction,
)
from contactsync.journal import BatchSpool, Journal
from contactsync.model import Contact, ImportJob, ImportStatus, ListSubscription, RowError

if TYPE_CHECKING:
    from contactsync.provider import ImportRoute, Provider, ReportedError

__all__ = ["DUPLICATE", "FAILED_OUTRIGHT", "ImportPipeline", "InputItem", "ProgressCallback", "trace", "trace_all"]

ProgressCallback = Callable[[ImportJob], None]
InputItem = Contact | RowError
"""What an import takes: contacts, and rows a reader already rejected."""

FAILED_OUTRIGHT = frozenset({ImportStatus.FAILED, ImportStatus.REJECTED, ImportStatus.CANCELLED})
"""Terminal statuses of a job that applied none of its rows."""
DUPLICATE = "Duplicate"
"""The ``provider_code`` of the row error for a later row of an address already given in the import."""
_Sent = tuple[ImportJob, tuple[int, int] | None]
"""A submitted batch: its part, and its spool reference when it may be sent again or followed up."""
_TRANSIENT = (NetworkError, ServerError, RateLimited)
"""Failures after which a request may or may not have been applied, or was refused for now: worth one more try."""
_UNCERTAIN = (NetworkError, ServerError)
"""Failures after which a request may have been applied all the same (no answer, or a server error)."""


def _peek(items: Iterator[Any], count: int) -> tuple[list[Any], bool]:
    head = list(itertools.islice(items, count))
    return head, len(head) == count


@attrs.define
class _Kept:
    """A submitted batch kept (spooled) until its job ends: to send it again, or for its route's follow-up."""

    number: int
    ref: tuple[int, int]
    route: ImportRoute
    resent: bool = False


class _Recovery:
    """What :meth:`ImportPipeline.recover` needs for one import's batches: their routes, the spool, the journal."""

    def __init__(self, spool: BatchSpool, journal: Journal | None) -> None:
        self.spool = spool
        self.journal = journal
        self.batches: dict[str, _Kept] = {}
        """Part id -> the batch kept, for the parts whose job may still fail or need a follow-up."""

    def close(self) -> None:
        self.spool.close()
        if self.journal is not None:
            self.journal.close()


class _Routes:
    """The chosen route and, built when first needed, the provider's first route for the rows it cannot carry."""

    def __init__(
        self,
        provider: Provider,
        subscriptions: tuple[ListSubscription, ...],
        extra: Mapping[str, Any] | None,
        name: str,
        chosen: ImportRoute,
    ) -> None:
        self.provider = provider
        self.subscriptions = subscriptions
        self.extra = extra
        self.chosen = chosen
        first = next(iter(provider.capabilities.routes))
        self._first_name = None if first == name else first
        self._first: ImportRoute | None = None

    def fallback(self) -> ImportRoute | None:
        """The provider's first route, when the chosen one is another."""
        if self._first_name is None:
            return None
        if self._first is None:
            self._first = self.provider.import_route(self.subscriptions, self._first_name, self.extra)
        return self._first


def _skip_done(
    numbered: Iterator[tuple[int, InputItem]], journal: Journal, done_to: int, first_rows: FirstRows
) -> Iterator[tuple[int, InputItem]]:
    """The input after row ``done_to``, checking on the way that the rows the journal recorded are the same.

    The addresses of the rows skipped are claimed in ``first_rows``, so a later row of one is still
    reported as the duplicate it is.
    """
    recorded = journal.rows(done_to)
    expected = next(recorded, None)
    for row, item in numbered:
        if row > done_to:
            yield row, item
            break
        if isinstance(item, Contact):
            first_rows.claim(item.email, row)
        if expected is not None and expected[0] == row:
            if isinstance(item, Contact) and item.email != expected[1]:
                raise InvalidInput(
                    f"the input is {item.email} here, the journal {journal.path} recorded {expected[1]}: "
                    "resume with the input of the interrupted import",
                    row=row,
                )
            expected = next(recorded, None)
    yield from numbered


def _duplicate(email: str, row: int, first: int) -> RowError:
    return RowError(
        email, row, "email", f"{email} came first in row {first}: an import sends each address once", DUPLICATE
    )


def _settled(part: _Sent) -> Future[_Sent]:
    """A batch's outcome known already (it was not sent), as the future the in-flight queue holds."""
    future: Future[_Sent] = Future()
    future.set_result(part)
    return future


class _Sending:
    """One import's batches in flight: submitted ``concurrency`` at a time, settled in order, journaled, kept.

    After a refusal that dooms every batch (``extra["dooms"]``), the later batches are not
    sent: each becomes a failed part whose rows are reported.
    """

    def __init__(
        self,
        pipeline: ImportPipeline,
        parts: list[ImportJob],
        local_errors: list[RowError],
        record: Journal | None,
        on_batch: ProgressCallback | None,
    ) -> None:
        self.pipeline = pipeline
        self.parts = parts
        self.local_errors = local_errors
        self.record = record
        self.on_batch = on_batch
        self.recovery = _Recovery(BatchSpool(), record)
        self.in_flight: collections.deque[tuple[int, ImportRoute, Future[_Sent]]] = collections.deque()
        self.doomed: str | None = None

    def send(self, pool: ThreadPoolExecutor, route: ImportRoute, batch: Batch) -> None:
        """Submit ``batch`` in a worker (or not, once the import is doomed); settle the oldest when enough are out."""
        if self.record is not None:
            self.record.sending(batch, self.local_errors)
        if self.doomed is not None:
            future = _settled((self.pipeline._not_sent(batch, self.doomed), None))
        else:
            future = pool.submit(self.pipeline._send, route, batch, self.recovery.spool)
        self.in_flight.append((batch.number, route, future))
        if len(self.in_flight) >= self.pipeline.provider.concurrency:
            self.settle_oldest()

    def settle_oldest(self) -> None:
        number, route, future = self.in_flight.popleft()
        part, spooled = future.result()
        self.parts.append(part)
        if self.record is not None:
            self.record.settled(number, part)
        if spooled is not None:
            self.recovery.batches[part.id] = _Kept(number, spooled, route)
            self.pipeline._recoveries[part.id] = self.recovery
        if part.extra.get("dooms") and self.doomed is None:
            self.doomed = str(part.extra.get("error"))
        if self.on_batch is not None:
            self.on_batch(ImportJob.combine(self.pipeline.name, self.parts, tuple(self.local_errors)))

    def keep_for_follow_up(self, route: ImportRoute, journal: Journal) -> None:
        """Keep the resumed batches the provider took, so their follow-up runs when their job ends.

        The process that sent them may have stopped before or during the follow-up (a
        follow-up is safe to run twice: it sets a state, it does not add). The journal keeps
        no encoded items, so such a batch is not sent again if its job fails as a whole.
        """
        for number, part_id, status in journal.outcomes():
            if part_id.startswith("unsent:") or ImportStatus(status) in FAILED_OUTRIGHT:
                continue
            kept = self.recovery.spool.put(journal.batch(number))  # its rows and emails: enough to follow up
            self.recovery.batches[part_id] = _Kept(number, kept, route, resent=True)  # not its items: never resent
            self.pipeline._recoveries[part_id] = self.recovery

    def settle_all(self) -> None:
        while self.in_flight:
            self.settle_oldest()

    def forget(self) -> None:
        """The import broke off: nothing of it is kept for recovery."""
        for part_id in self.recovery.batches:
            self.pipeline._recoveries.pop(part_id, None)
        self.recovery.close()

    def done(self) -> None:
        """Every batch is settled: the spool goes unless a part may still need its batch."""
        if not self.recovery.batches:
            self.recovery.close()


class ImportPipeline:
    """One provider's imports: route choice, encoding, batches in flight, journal, recovery, error accounting.

    A provider holds one; the parts of imports it made that may be sent again when
    their job fails as a whole, or that their route follows up, are remembered here until they end.
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
        routes = _Routes(self.provider, subs, extra, route, chosen)
        parts: list[ImportJob] = []
        local_errors: list[RowError] = []
        first_rows = FirstRows()
        first_number = 1
        if record is not None:
            record.set_route(route)
            parts, local_errors, done_to, first_number = self._resume(record, chosen)
            numbered = iter(()) if done_to is None else _skip_done(numbered, record, done_to, first_rows)
        sending = _Sending(self, parts, local_errors, record, on_batch)
        if record is not None and chosen.follows_up:
            sending.keep_for_follow_up(chosen, record)
        try:
            with ThreadPoolExecutor(
                max_workers=self.provider.concurrency, thread_name_prefix=f"contactsync-{self.name}"
            ) as pool:
                try:
                    for used, batch in self._fill(numbered, routes, local_errors, first_rows, first_number):
                        sending.send(pool, used, batch)
                        del batch  # the worker alone holds it, so it goes once sent, indexed and spooled
                finally:  # batches already sent are settled (and journaled) even when the input breaks off
                    sending.settle_all()
        except BaseException:
            sending.forget()
            raise
        if record is not None:
            record.record_errors(local_errors)
            record.finish_submitting()
        sending.done()
        return self.account(ImportJob.combine(self.name, parts, tuple(local_errors)))

    def _fill(
        self,
        numbered: Iterator[tuple[int, InputItem]],
        routes: _Routes,
        local_errors: list[RowError],
        first_rows: FirstRows,
        first_number: int,
    ) -> Iterator[tuple[ImportRoute, Batch]]:
        """The batches of the input, each with the route it goes by, numbered in the order they are handed out."""
        numbers = itertools.count(first_number)
        chosen = routes.chosen
        batchers = [(chosen, Batcher(chosen.limits, numbers))]
        add = batchers[0][1].add  # the chosen route's batcher takes nearly every row: looked up once
        encoded = self.encode(numbered, chosen, local_errors, first_rows=first_rows, fallback=routes.fallback)
        for used, row, email, item in encoded:
            if used is chosen:
                done = add(row, email, item)
            else:
                if len(batchers) == 1:
                    batchers.append((used, Batcher(used.limits, numbers)))
                done = batchers[1][1].add(row, email, item)
            if done is not None:
                yield used, done
        for used, batcher in batchers:
            last = batcher.flush()
            if last is not None:
                yield used, last

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
        or followed up is spooled to disk; the batch itself is then let go, so the memory an
        import holds is bounded by the batches in flight. Authentication errors stop the
        import: every batch would fail alike.
        """
        try:
            part = route.submit(batch)
        except AuthenticationError:
            raise
        except ProviderError as exc:
            part = self._submit_again(route, batch, exc)
        part = attrs.evolve(part, rows=batch.index(), requested=part.requested or len(batch))
        keep = (route.resubmit_safe or route.follows_up) and not part.id.startswith("unsent:")
        return part, spool.put(batch) if keep else None

    def _submit_again(self, route: ImportRoute, batch: Batch, failure: ProviderError | str) -> ImportJob:
        """A batch whose request or job failed: sent once more when that is harmless, else a failed part.

        Harmless means the route declares resubmission idempotent in result and the failure
        was transient (no answer, 5xx, rate limit) or a job that failed as a whole: if the
        first attempt was applied after all, the second changes nothing. The failed part
        ("unsent:N") makes :meth:`row_errors` report every row of the batch; when an attempt
        failed without a clear refusal, the part says so (``extra["uncertain"]``), since the
        provider may have applied the batch all the same. A refusal with ``NotFound`` (the
        list is gone) dooms every later batch alike (``extra["dooms"]``): the import stops sending.
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
        if isinstance(failure, NotFound):
            extra["dooms"] = True
        return ImportJob(self.name, f"unsent:{batch.number}", ImportStatus.FAILED, "NotSubmitted", extra=extra)

    def _not_sent(self, batch: Batch, reason: str) -> ImportJob:
        """The failed part of a batch left unsent because an earlier refusal dooms every batch of the import."""
        message = f"not sent: an earlier batch was refused and every batch would be ({reason})"
        part = ImportJob(self.name, f"unsent:{batch.number}", ImportStatus.FAILED, "NotSent", extra={"error": message})
        return attrs.evolve(part, rows=batch.index(), requested=len(batch))

    def recover(self, job: ImportJob) -> ImportJob:
        """Finish each part of this client's imports that just ended: its batch sent once more when its job
        failed as a whole (no row reported), or its route's follow-up run when it succeeded."""
        parts = list(job.parts or (job,))
        changed = False
        for at, part in enumerate(parts):
            recovery = self._recoveries.get(part.id) if part.status.is_terminal else None
            if recovery is None:
                continue
            del self._recoveries[part.id]
            kept = recovery.batches.pop(part.id)
            if part.status is ImportStatus.FAILED and not part.errored and not kept.resent:
                reason = f"the {self.name} job {part.id} ended {part.provider_status}"
                fresh = self._submit_again(kept.route, recovery.spool.get(kept.ref), reason)
                parts[at] = attrs.evolve(fresh, rows=part.rows, requested=part.requested)
                changed = True
                if recovery.journal is not None:
                    recovery.journal.settled(kept.number, parts[at])
                if kept.route.follows_up and not fresh.status.is_terminal:
                    recovery.batches[fresh.id] = attrs.evolve(kept, resent=True)
                    self._recoveries[fresh.id] = recovery
            elif part.status.is_success and kept.route.follows_up:
                parts[at] = attrs.evolve(kept.route.follow_up(part, recovery.spool.get(kept.ref)), rows=part.rows)
                changed = True
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
        described = [
            used.describe(batch)
            for used, batch in self._fill(
                numbered, _Routes(self.provider, subs, extra, name, chosen), local_errors, FirstRows(), 1
            )
        ]
        return name, described, local_errors

    def encode(
        self,
        items: Iterable[tuple[int, InputItem]],
        route: ImportRoute,
        local_errors: list[RowError],
        *,
        first_rows: FirstRows | None = None,
        fallback: Callable[[], ImportRoute | None] | None = None,
    ) -> Iterator[tuple[ImportRoute, int, str, bytes]]:
        """``(route, row, email, bytes)`` of each contact to send by ``route``; the others become ``local_errors``.

        With ``first_rows``, a later row of an address already given is a duplicate. A contact
        ``route`` cannot carry (:class:`~contactsync.errors.RouteCannotCarry`) goes by the
        route ``fallback`` gives, if any; one neither can carry is a row error.
        """
        encode, room = route.encode, route.limits.max_bytes - route.limits.overhead
        claim = first_rows.claim if first_rows is not None else None
        for row, item in items:
            if isinstance(item, RowError):
                local_errors.append(item if item.row is not None else attrs.evolve(item, row=row))
                continue
            if claim is not None:
                first = claim(item.email, row)
                if first is not None:
                    local_errors.append(_duplicate(item.email, row, first))
                    continue
            used = route
            try:
                encoded = encode(item)
            except RouteCannotCarry as exc:
                other = fallback() if fallback is not None else None
                if other is None:
                    local_errors.append(RowError(item.email, row, exc.field, exc.message))
                    continue
                used = other
                try:
                    encoded = other.encode(item)
                except InvalidInput as again:
                    local_errors.append(RowError(item.email, row, again.field, again.message))
                    continue
            except InvalidInput as exc:
                local_errors.append(RowError(item.email, row, exc.field, exc.message))
                continue
            limit = room if used is route else used.limits.max_bytes - used.limits.overhead
            if len(encoded) > limit:
                message = f"{len(encoded)} bytes encoded, over the {used.limits.max_bytes}-byte request limit"
                local_errors.append(RowError(item.email, row, None, message))
                continue
            yield used, row, item.email, encoded

    # -- accounting ----------------------------------------------------------------------

    def account(self, job: ImportJob) -> ImportJob:
        """The job with the counts of each finished part made to add up to the rows it was sent.

        A part that failed outright accepted none of its rows. A finished part that confirms
        fewer rows (accepted or reported) than it was sent leaves the others unconfirmed: it
        accepted none for sure, so each row it did not report becomes a row error (it may
        or may not have been applied). A finished part that accepted nothing is ``FAILED``.
        """
        parts = list(job.parts or ((job,) if job.id else ()))
        fixed = [self._account_part(part) for part in parts]
        if all(new is old for new, old in zip(fixed, parts, strict=True)):
            return job if job.parts or job.id else ImportJob.combine(self.name, [], job.local_errors)
        if job.parts:
            return ImportJob.combine(self.name, fixed, job.local_errors)
        return fixed[0]

    def _account_part(self, part: ImportJob) -> ImportJob:
        if not part.status.is_terminal or part.rows is None:
            return part
        sent = len(part.rows)
        if part.status in FAILED_OUTRIGHT:
            if (part.requested, part.created, part.updated, part.accepted, part.errored) == (sent, 0, 0, 0, sent):
                return part
            return attrs.evolve(part, requested=sent, created=0, updated=0, accepted=0, errored=sent)
        errored = min(part.errored, sent)
        accepted = min(part.accepted, sent - errored)
        unconfirmed = sent - accepted - errored
        if not unconfirmed and accepted:
            if (part.requested, part.accepted, part.errored) == (sent, accepted, errored):
                return part
            return attrs.evolve(part, requested=sent, accepted=accepted, errored=errored)
        if not unconfirmed:  # every row reported by the provider: none accepted
            return _none_accepted(part, sent)
        extra = {
            **part.extra,
            "unconfirmed": unconfirmed,
            "error": (
                f"the {self.name} job {part.id} ended {part.provider_status} confirming {accepted + errored} of the "
                f"{sent} rows sent: this row is not confirmed, and may or may not have been applied"
            ),
        }
        return _none_accepted(part, sent, extra=extra)

    def row_errors(self, job: ImportJob) -> Iterator[RowError]:
        """Every row that did not make it: rejected locally, reported by the provider, or in a failed job.

        A part that failed outright (failed, rejected, cancelled) reports each of its rows,
        since the provider applied none of them: with the provider's own reason where its
        report has one, else the job's status. So does a part that left rows unconfirmed
        (there, a count-only rejection is one of the rows reported, not more). Unfinished
        parts report nothing yet.
        """
        yield from job.local_errors
        for part in job.provider_jobs:
            if not part.status.is_terminal:
                continue
            every_row = (part.status in FAILED_OUTRIGHT or part.extra.get("unconfirmed")) and part.rows is not None
            reports = self._reported(part)
            if every_row:  # each row is reported below: a count naming none of them adds nothing
                reports = [report for report in reports if report.email is not None or report.position is not None]
            traced = list(trace_all(part.rows, reports))
            yield from traced
            if every_row and part.rows is not None:
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


def _none_accepted(part: ImportJob, sent: int, **changes: Any) -> ImportJob:
    """``part``, finished with none of its ``sent`` rows accepted: FAILED, every row an error."""
    return attrs.evolve(
        part, status=ImportStatus.FAILED, requested=sent, created=0, updated=0, accepted=0, errored=sent, **changes
    )


def trace(rows: RowIndex | None, reported: ReportedError, occurrence: int = 0) -> RowError:
    """A provider's report traced back to its input row, by position when given, else by email (the report
    being the ``occurrence``-th, from 0, of that email in the part's report)."""
    row = None
    if rows is not None:
        if reported.position is not None:
            row = rows.row_at(reported.position)
        elif reported.email is not None:
            row = rows.row_of(reported.email.strip().lower(), occurrence)
    return RowError(reported.email, row, reported.field, reported.message, reported.code)


def trace_all(rows: RowIndex | None, reports: Iterable[ReportedError]) -> Iterator[RowError]:
    """One part's report traced back to input rows: one :class:`~contactsync.model.RowError` per row reported.

    The n-th report naming an email (and no position) goes to the n-th row of the part carrying
    it, or its last one when the report names it more often (two fields of one row). A
    count-only report (:meth:`ReportedError.unnamed <contactsync.provider.ReportedError.unnamed>`)
    becomes ``count`` errors with no email and no row, saying so: the provider counted them
    without naming them. Within one import the duplicates rule sends an address once, so a part
    carries it in one row; the n-th rule serves a :class:`~contactsync.batching.RowIndex` built
    otherwise (a plugin's own) and keeps two reports of one row on that row.
    """
    seen: collections.Counter[str] = collections.Counter()
    for reported in reports:
        if reported.email is None and reported.position is None:
            message = f"{reported.message} (one of {reported.count:,} rows rejected without being named)"
            for _ in range(reported.count):
                yield RowError(None, None, reported.field, message, reported.code)
            continue
        occurrence = 0
        if reported.position is None and reported.email is not None:
            key = reported.email.strip().lower()
            occurrence = seen[key]
            seen[key] += 1
        yield trace(rows, reported, occurrence)
