"""Provider: the public API written once. A provider plugin fills in small hooks.

The base class runs every operation (validation against the provider's declared
capabilities, streaming and batching, submission, polling, aggregation, error
reports); a subclass supplies the wire-level pieces. A hook a provider cannot
honour keeps its default, which raises :class:`~contactsync.errors.UnsupportedAction`.
"""

from __future__ import annotations

import abc
import collections
import itertools
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ClassVar, TypedDict

import attrs
from requests.auth import AuthBase
from urllib3.util.retry import Retry

from contactsync.batching import Batch, BatchLimits, RowIndex, batches
from contactsync.errors import (
    AuthenticationError,
    ConfigurationError,
    ImportTimeout,
    InvalidInput,
    NetworkError,
    ProviderError,
    RateLimited,
    ServerError,
    UnsupportedAction,
)
from contactsync.http import Transport
from contactsync.journal import BatchSpool, Journal
from contactsync.model import (
    Contact,
    ContactList,
    FieldDefinition,
    FieldType,
    ImportJob,
    ImportStatus,
    ListSubscription,
    Membership,
    RowError,
    SubscriptionAction,
)

__all__ = [
    "Capabilities",
    "ImportRoute",
    "Provider",
    "ProviderOptions",
    "ReportedError",
    "merge_extra",
]

ProgressCallback = Callable[[ImportJob], None]
InputItem = Contact | RowError
"""What ``import_contacts`` takes: contacts, and rows a reader already rejected."""

_FAILED_OUTRIGHT = frozenset({ImportStatus.FAILED, ImportStatus.REJECTED, ImportStatus.CANCELLED})
_Sent = tuple[ImportJob, tuple[int, int] | None]
"""A submitted batch: its part, and its spool reference when it may be sent again."""
_TRANSIENT = (NetworkError, ServerError, RateLimited)
"""Failures after which a request may or may not have been applied, or was refused for now: worth one more try."""
_UNCERTAIN = (NetworkError, ServerError)
"""Failures after which a request may have been applied all the same (no answer, or a server error)."""


@attrs.frozen
class Capabilities:
    """What a provider can do, declared as data; the docs' feature matrix is built from it."""

    actions: frozenset[SubscriptionAction]
    """Subscription actions the provider applies exactly as the domain defines them, one contact at a time."""
    field_types: frozenset[FieldType]
    """Custom field types the provider stores natively."""
    routes: Mapping[str, BatchLimits]
    """Import routes by name, with what one request (one provider job) may carry."""
    file_route_from: int | None = None
    """From this many contacts on, ``import_contacts`` takes the file route (the last in ``routes``)."""
    lists_per_import: int | None = None
    """How many lists one import may target; ``None`` for any number."""
    import_actions: frozenset[SubscriptionAction] | None = None
    """The actions a bulk import applies exactly; ``None`` when they are ``actions``."""
    notes: Mapping[str, str] = attrs.field(factory=dict)
    """Short explanations, keyed by action value or feature, for the docs."""


@attrs.frozen
class ReportedError:
    """One row of a provider's error report, before it is traced back to an input row.

    ``position`` is the 0-based place of the contact in the submitted batch, when the
    report gives it; otherwise the email is looked up.
    """

    email: str | None
    message: str
    field: str | None = None
    code: str | None = None
    position: int | None = None


class ImportRoute(abc.ABC):
    """One way of getting contacts into the provider (a JSON endpoint, a file upload...)."""

    name: ClassVar[str]
    resubmit_safe: ClassVar[bool] = False
    """True when sending a batch twice leaves the provider as sending it once does (upserts by email with
    list actions). The core then sends a batch once more after a submission with an unknown outcome, or
    after its job failed; otherwise it reports the batch's rows."""

    def __init__(self, limits: BatchLimits) -> None:
        self.limits = limits

    @abc.abstractmethod
    def encode(self, contact: Contact) -> bytes:
        """One contact's bytes in a request body; raises InvalidInput if it cannot be represented."""

    @abc.abstractmethod
    def submit(self, batch: Batch) -> ImportJob:
        """Send one batch as one provider job and return it as a part."""

    def describe(self, batch: Batch) -> Mapping[str, Any]:
        """What :meth:`submit` would send for ``batch``, for dry runs (method, URL, body preview)."""
        return {"route": self.name, "contacts": len(batch)}


def poll_delays(first: float) -> Iterator[float]:
    """The pauses between status polls: ``first``, then half as long again each time, up to ten times
    ``first`` (never more than 30 s, unless ``first`` itself is)."""
    longest = max(first, min(first * 10, 30.0))
    delay = first
    while True:
        yield delay
        delay = min(delay * 1.5, longest)


def merge_extra(body: dict[str, Any], extra: Mapping[str, Any] | None) -> dict[str, Any]:
    """Merge provider-only fields into a request body, last, so they win; dictionaries merge deeply."""
    for key, value in (extra or {}).items():
        current = body.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            body[key] = merge_extra(dict(current), value)
        else:
            body[key] = value
    return body


def _peek(items: Iterator[Any], count: int) -> tuple[list[Any], bool]:
    head = list(itertools.islice(items, count))
    return head, len(head) == count


class _Recovery:
    """What :meth:`Provider.wait` needs to send a failed job's batch again: the route, the spool, the journal."""

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


class ProviderOptions(TypedDict, total=False):
    """The settings every provider takes besides its credentials, passed on to :class:`Provider`."""

    timeout: float
    retry: Retry | None
    poll_interval: float
    allow_insecure: bool
    concurrency: int


class Provider(abc.ABC):
    """The one API of DESIGN.md. Subclasses set ``name`` and ``capabilities`` and fill in hooks."""

    name: ClassVar[str]
    capabilities: Capabilities
    """What this provider can do; a class attribute, which an instance may narrow or widen for its configuration."""
    default_base_url: ClassVar[str]

    def __init__(
        self,
        *,
        base_url: str,
        auth: AuthBase | None,
        secrets: Sequence[str] = (),
        timeout: float = 60.0,
        retry: Retry | None = None,
        poll_interval: float = 2.0,
        allow_insecure: bool = False,
        concurrency: int = 2,
    ) -> None:
        self.transport = Transport(
            self.name,
            base_url,
            auth=auth,
            secrets=secrets,
            timeout=timeout,
            retry=retry,
            error_parser=self.parse_error,
            allow_insecure=allow_insecure,
        )
        self.poll_interval = poll_interval
        self._recoveries: dict[str, _Recovery] = {}
        if concurrency < 1:
            raise ConfigurationError(f"{self.name}: concurrency must be at least 1, got {concurrency}")
        self.concurrency = concurrency

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.transport.base_url}>"

    def __enter__(self) -> Provider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the connection pool."""
        self.transport.close()

    # -- hooks a provider fills in -------------------------------------------------

    @staticmethod
    def parse_error(response: Any) -> tuple[str, str | None]:
        """Read the provider's error body: (message, provider code). Raise ValueError if unreadable."""
        return response.reason or f"HTTP {response.status_code}", None

    @abc.abstractmethod
    def import_route(
        self, subscriptions: tuple[ListSubscription, ...], route: str, extra: Mapping[str, Any] | None
    ) -> ImportRoute:
        """Build the route named ``route`` for these subscriptions (fetching field definitions etc.)."""

    @abc.abstractmethod
    def fetch_status(self, job_id: str) -> ImportJob:
        """One status fetch of one provider job, by the id its part carries."""

    def part_errors(self, part: ImportJob) -> Iterator[ReportedError]:
        """The error report of one finished part (default: none available)."""
        return iter(())

    def iter_lists(self) -> Iterator[ContactList]:
        """Every list in the account, page by page."""
        raise self._unsupported("listing lists")

    def create_list(self, name: str) -> str:
        """Create a list; return its id."""
        raise self._unsupported("creating lists")

    def fields(self) -> list[FieldDefinition]:
        """The account's custom contact fields."""
        raise self._unsupported("listing fields")

    def create_field(self, definition: FieldDefinition) -> FieldDefinition:
        """Create one custom field; return it as the provider stored it."""
        raise self._unsupported("creating fields")

    def get_contact(self, email: str) -> Contact | None:
        """The contact stored under ``email``, or None."""
        raise self._unsupported("reading contacts")

    def get_subscriptions(self, email: str) -> list[Membership]:
        """The contact's lists and whether it is subscribed to each."""
        raise self._unsupported("reading subscriptions")

    def apply_subscriptions(self, email: str, subscriptions: tuple[ListSubscription, ...]) -> None:
        """Apply already-checked subscription changes to one contact."""
        raise self._unsupported("managing subscriptions")

    # -- the public API, written once ---------------------------------------------------

    def lists(self) -> list[ContactList]:
        """Every list in the account."""
        return list(self.iter_lists())

    def ensure_fields(self, definitions: Iterable[FieldDefinition]) -> list[FieldDefinition]:
        """Create the fields that are missing; a field that exists with another type is an error."""
        existing = {f.name.lower(): f for f in self.fields()}
        result = []
        for definition in definitions:
            current = existing.get(definition.name.lower())
            if current is None:
                current = self.create_field(definition)
                existing[definition.name.lower()] = current
            elif not self.same_field_type(current.type, definition.type):
                raise InvalidInput(
                    f"{self.name} already has this field as {current.type.value}, not {definition.type.value}",
                    field=definition.name,
                )
            result.append(current)
        return result

    def same_field_type(self, stored: FieldType, wanted: FieldType) -> bool:
        """Whether a stored field serves a wanted type (providers with fewer types widen this)."""
        return stored is wanted

    def manage_subscriptions(self, email: str, subscriptions: Iterable[ListSubscription]) -> None:
        """Change one contact's membership of several lists."""
        subs = tuple(subscriptions)
        self.check_actions(subs, bulk=False)
        self.apply_subscriptions(Contact(email).email, subs)

    def check_actions(self, subscriptions: Sequence[ListSubscription], *, bulk: bool = True) -> None:
        """Raise UnsupportedAction for an action this provider cannot apply exactly.

        ``bulk`` checks a bulk import (its own actions and list limit); otherwise one contact's changes.
        """
        allowed = self.capabilities.actions
        if bulk and self.capabilities.import_actions is not None:
            allowed = self.capabilities.import_actions
        where = " in a bulk import" if bulk and allowed is not self.capabilities.actions else ""
        for sub in subscriptions:
            if sub.action not in allowed:
                note = self.capabilities.notes.get(sub.action.value, "")
                raise UnsupportedAction(
                    f"{self.name} cannot apply {sub.action.value!r} to list {sub.list_id}{where}. {note}".strip()
                )
        limit = self.capabilities.lists_per_import
        if bulk and limit is not None and len(subscriptions) > limit:
            raise UnsupportedAction(f"{self.name} takes at most {limit} list(s) per import; got {len(subscriptions)}")

    def choose_route(self, head: Sequence[InputItem], large: bool, subscriptions: tuple[ListSubscription, ...]) -> str:
        """The route for an import: the file route when the input is large, else the first.

        ``head`` holds the first ``capabilities.file_route_from`` items read ahead, and ``large``
        says the input has at least that many. A provider whose file route takes only some
        subscriptions or some contacts narrows this.
        """
        names = list(self.capabilities.routes)
        return names[-1] if large else names[0]

    def _select_route(
        self, numbered: Iterator[tuple[int, InputItem]], subscriptions: tuple[ListSubscription, ...], route: str | None
    ) -> tuple[str, Iterator[tuple[int, InputItem]]]:
        """The route (reading ahead as far as ``file_route_from`` if none is forced) and the input, intact."""
        if route is None:
            threshold = self.capabilities.file_route_from
            head: list[tuple[int, InputItem]] = []
            large = False
            if threshold is not None:
                head, large = _peek(numbered, threshold)
            route = self.choose_route([item for _, item in head], large, subscriptions)
            numbered = itertools.chain(head, numbered)
        if route not in self.capabilities.routes:
            raise UnsupportedAction(
                f"{self.name} has no import route {route!r}; it has {sorted(self.capabilities.routes)}"
            )
        return route, numbered

    def import_contacts(
        self,
        contacts: Iterable[InputItem],
        subscriptions: Iterable[ListSubscription] = (),
        *,
        route: str | None = None,
        extra: Mapping[str, Any] | None = None,
        on_batch: ProgressCallback | None = None,
        journal: str | os.PathLike[str] | None = None,
    ) -> ImportJob:
        """Stream ``contacts`` to the provider in batches; return the (aggregated) import job.

        Rows are numbered from 1 in the order given. A ``RowError`` in the input, or a
        contact the route cannot represent, becomes one of the job's ``local_errors``.
        ``route`` forces a route by name; otherwise inputs of at least
        ``capabilities.file_route_from`` contacts take the file route. ``extra`` is
        merged last into each request body. ``on_batch`` sees the job after each batch.
        ``journal`` names an SQLite file recording each batch: when it already records
        this import, the import continues where it stopped (pass the same input again).
        """
        subs = tuple(subscriptions)
        self.check_actions(subs)
        record = Journal(journal) if journal is not None else None
        try:
            return self._import(contacts, subs, route=route, extra=extra, on_batch=on_batch, record=record)
        except BaseException:
            if record is not None:
                record.close()
            raise

    def _import(
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
        route, numbered = self._select_route(numbered, subs, route)
        chosen = self.import_route(subs, route, extra)
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
                max_workers=self.concurrency, thread_name_prefix=f"contactsync-{self.name}"
            ) as pool:
                try:
                    for batch in batches(
                        self._encode(numbered, chosen, local_errors), chosen.limits, first_number=first_number
                    ):
                        if record is not None:
                            record.sending(batch, local_errors)
                        in_flight.append((batch.number, pool.submit(self._send, chosen, batch, recovery.spool)))
                        del batch  # the worker alone holds it, so it goes once sent, indexed and spooled
                        if len(in_flight) >= self.concurrency:
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
        ("unsent:N") makes :meth:`import_errors` report every row of the batch; when an attempt
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

    def _recover(self, job: ImportJob) -> ImportJob:
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

    def plan_import(
        self,
        contacts: Iterable[InputItem],
        subscriptions: Iterable[ListSubscription] = (),
        *,
        route: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> tuple[str, list[Mapping[str, Any]], list[RowError]]:
        """A dry run: the route, a description of every batch, and the rows that would be rejected."""
        subs = tuple(subscriptions)
        self.check_actions(subs)
        name, numbered = self._select_route(enumerate(contacts, start=1), subs, route)
        chosen = self.import_route(subs, name, extra)
        local_errors: list[RowError] = []
        described = [chosen.describe(b) for b in batches(self._encode(numbered, chosen, local_errors), chosen.limits)]
        return name, described, local_errors

    def _encode(
        self, items: Iterator[tuple[int, InputItem]], route: ImportRoute, local_errors: list[RowError]
    ) -> Iterator[tuple[int, str, bytes]]:
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

    def refresh(self, job: ImportJob | str) -> ImportJob:
        """One status fetch of every unfinished part; ``job`` may be a job id string."""
        if isinstance(job, str):
            parts = [self.fetch_status(job_id) for job_id in job.split(",")]
            return ImportJob.combine(self.name, parts)
        if not job.parts:
            return self._refresh_part(job)
        return ImportJob.combine(self.name, [self._refresh_part(p) for p in job.parts], job.local_errors)

    def _refresh_part(self, part: ImportJob) -> ImportJob:
        if part.status.is_terminal:
            return part
        fresh = self.fetch_status(part.id)
        return attrs.evolve(
            fresh,
            rows=part.rows,
            requested=fresh.requested or part.requested,
            extra={**part.extra, **fresh.extra},
        )

    def wait(
        self,
        job: ImportJob | str,
        timeout: float = 3600,
        on_progress: ProgressCallback | None = None,
        *,
        poll_interval: float | None = None,
    ) -> ImportJob:
        """Poll until the job is terminal, backing off from ``poll_interval`` to ten times it (at most 30 s).

        A part of an import made by this client whose job fails as a whole has its batch
        sent once more, when its route is safe to repeat (see :meth:`import_contacts`).
        """
        deadline = time.monotonic() + timeout
        delays = poll_delays(self.poll_interval if poll_interval is None else poll_interval)
        delay = next(delays)
        current = self._recover(self.refresh(job))
        while not current.status.is_terminal:
            if on_progress is not None:
                on_progress(current)
            if time.monotonic() + delay > deadline:
                raise ImportTimeout(
                    f"{self.name} job {current.id} still {current.provider_status!r} after {timeout:g} s", current
                )
            time.sleep(delay)
            delay = next(delays)
            current = self._recover(self.refresh(current))
        if on_progress is not None:
            on_progress(current)
        return current

    def import_errors(self, job: ImportJob | str) -> Iterator[RowError]:
        """Every row that did not make it: rejected locally, reported by the provider, or in a failed job.

        A part that failed outright (failed, rejected, cancelled) reports each of its rows,
        since the provider applied none of them: with the provider's own reason where its
        report has one, else the job's status. Unfinished parts report nothing yet.
        """
        if isinstance(job, str):
            job = self.refresh(job)
        yield from job.local_errors
        for part in job.provider_jobs:
            if not part.status.is_terminal:
                continue
            traced = [self._trace(part.rows, reported) for reported in self._reported(part)]
            yield from traced
            if part.status in _FAILED_OUTRIGHT and part.rows is not None:
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
        if part.status in _FAILED_OUTRIGHT:
            try:
                return list(self.part_errors(part))
            except ProviderError:
                return []
        return list(self.part_errors(part))

    @staticmethod
    def _trace(rows: RowIndex | None, reported: ReportedError) -> RowError:
        row = None
        if rows is not None:
            if reported.position is not None:
                row = rows.row_at(reported.position)
            elif reported.email is not None:
                row = rows.row_of(reported.email.strip().lower())
        return RowError(reported.email, row, reported.field, reported.message, reported.code)

    def _unsupported(self, what: str) -> UnsupportedAction:
        return UnsupportedAction(f"{self.name} does not support {what}")
