"""Provider: the public API written once. A provider plugin fills in small hooks.

The base class runs every operation (validation against the provider's declared
capabilities, polling, error reports) and hands imports to the pipeline of
:mod:`contactsync.importing` (batching, submission, recovery, aggregation); a
subclass supplies the wire-level pieces. A hook a provider cannot honour keeps its
default, which raises :class:`~contactsync.errors.UnsupportedAction`.
"""

from __future__ import annotations

import abc
import os
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, ClassVar, TypedDict

import attrs
from requests.auth import AuthBase
from urllib3.util.retry import Retry

from contactsync.batching import Batch, BatchLimits
from contactsync.errors import (
    ImportTimeout,
    InvalidInput,
    NotFound,
    ProviderError,
    UnrepresentableValue,
    UnsupportedAction,
)
from contactsync.http import DEFAULT_MAX_RETRY_WAIT, DEFAULT_TOTAL_TIMEOUT, Transport
from contactsync.importing import ImportPipeline, InputItem, ProgressCallback
from contactsync.model import (
    Contact,
    ContactEvent,
    ContactList,
    EventType,
    FieldDefinition,
    FieldType,
    ImportJob,
    ImportStatus,
    ListMember,
    ListSubscription,
    Membership,
    RowError,
    SubscriptionAction,
)
from contactsync.settings import check_credentials, check_options

__all__ = [
    "Capabilities",
    "ImportRoute",
    "InputItem",
    "Provider",
    "ProviderOptions",
    "ReportedError",
    "merge_extra",
]


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
    """The actions a bulk import applies exactly (natively, or by a follow-up the provider runs itself);
    ``None`` when they are ``actions``."""
    notes: Mapping[str, str] = attrs.field(factory=dict)
    """Short explanations, keyed by action value or feature, for the docs."""
    field_definitions: bool = True
    """Whether the account keeps typed field definitions (``fields``, ``ensure_fields``); a schemaless
    provider stores properties as they come and declares False."""
    dates_at_midnight: bool = False
    """The provider has one date-time type: a ``date`` is held as 00:00:00 UTC and read back as a
    ``date``, so a ``datetime`` at exactly that instant is refused (it would read back as a date)."""
    max_text: int | None = None
    """The longest text value a property holds, in characters (None: no limit the provider documents)."""
    reads_members: bool = False
    """Whether :meth:`Provider.members` streams a list's members."""
    member_dates: frozenset[str] = frozenset()
    """Which of ``subscribed_at`` and ``unsubscribed_at`` :meth:`Provider.members` fills in (where known)."""
    event_types: frozenset[EventType] = frozenset()
    """The event types :meth:`Provider.events_since` can find by time."""
    events_by_list: bool = False
    """Whether :meth:`Provider.events_since` finds events of one list (``list_id=``) besides account-wide ones."""
    deletes: frozenset[str] = frozenset()
    """Deletable: ``"contacts"`` (:meth:`Provider.delete_contacts`), ``"lists"`` (:meth:`Provider.delete_list`)."""


def _one_unless_unnamed(report: ReportedError, attribute: Any, count: int) -> None:
    if count < 1:
        raise ValueError(f"a reported error stands for at least one row, not {count}")
    if count > 1 and (report.email is not None or report.position is not None):
        raise ValueError("a reported error naming its row (by email or position) stands for that one row")


@attrs.frozen
class ReportedError:
    """One row of a provider's error report, before it is traced back to an input row.

    ``position`` is the 0-based place of the contact in the submitted batch, when the
    report gives it; otherwise the email is looked up (the n-th report of an email goes to
    the n-th row of the part carrying it; see :func:`~contactsync.importing.trace_all`).
    A report with neither stands for ``count`` rows the provider rejected without saying
    which (:meth:`unnamed`): each becomes a :class:`~contactsync.model.RowError` with no row,
    counted in ``errored`` like any other.
    """

    email: str | None
    message: str
    field: str | None = None
    code: str | None = None
    position: int | None = None
    count: int = attrs.field(default=1, validator=_one_unless_unnamed, kw_only=True)
    """How many rows the report stands for: 1, or more for a count-only rejection (:meth:`unnamed`)."""

    @classmethod
    def unnamed(cls, count: int, message: str, field: str | None = None, code: str | None = None) -> ReportedError:
        """``count`` rows rejected by the provider without naming them ("2 invalid emails"): a count-only rejection."""
        return cls(None, message, field, code, count=count)


class ImportRoute(abc.ABC):
    """One way of getting contacts into the provider (a JSON endpoint, a file upload...).

    One route object serves one import. :meth:`encode` runs in the importing thread while
    :meth:`submit` runs in the pipeline's worker threads, ``concurrency`` batches at once, so
    the two run at the same time: build what both read in ``__init__``, and guard anything
    they change.
    """

    name: ClassVar[str]
    resubmit_safe: ClassVar[bool] = False
    """True when sending a batch twice leaves the provider as sending it once does (upserts by email with
    list actions). The core then sends a batch once more after a submission with an unknown outcome, or
    after its job failed; otherwise it reports the batch's rows."""

    def __init__(self, limits: BatchLimits) -> None:
        self.limits = limits
        self.follows_up = False
        """True when :meth:`follow_up` has work to do for this import (its batches are kept until their jobs end)."""

    @abc.abstractmethod
    def encode(self, contact: Contact) -> bytes:
        """One contact's bytes in a request body; raises InvalidInput if it cannot be represented
        (:class:`~contactsync.errors.RouteCannotCarry` when the provider's first route could).

        Called in the importing thread, one contact at a time, while earlier batches are submitted.
        """

    @abc.abstractmethod
    def submit(self, batch: Batch) -> ImportJob:
        """Send one batch as one provider job and return it as a part.

        Called in a worker thread, several batches at once. The part's ``id`` is what
        :meth:`Provider.fetch_status` polls on its own; it may not contain ``,`` (which joins
        the ids of an aggregate job) nor start with ``unsent:`` (the pipeline's mark for a
        batch never sent). A POST the transport may repeat after a lost answer is marked
        ``safe=True`` (``transport.json("POST", ..., safe=True)``): only an upsert is.
        """

    def describe(self, batch: Batch) -> Mapping[str, Any]:
        """What :meth:`submit` would send for ``batch``, for dry runs (method, URL, body preview): what
        :meth:`Provider.plan_import` and the command line's ``--dry-run`` show. Nothing may be sent."""
        return {"route": self.name, "contacts": len(batch)}

    def follow_up(self, part: ImportJob, batch: Batch) -> ImportJob:
        """What the provider runs itself once the job of ``batch`` succeeded, for an action its import
        cannot apply alone (dotmailer's ADD_FORCE: resubscribe the rows reported unsubscribed).

        Called by :meth:`Provider.wait` when :attr:`follows_up` is set; returns the part with
        its counts and report as they now stand.
        """
        return part


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


class ProviderOptions(TypedDict, total=False):
    """The settings every provider takes besides its credentials, passed on to :class:`Provider`.

    Each is checked at :func:`~contactsync.connect` (see :mod:`contactsync.settings`).
    """

    timeout: float
    """Seconds to connect, and to wait for each answer and its whole body (default 60)."""
    total_timeout: float
    """Seconds one call may take, every retry and wait included (default 600)."""
    max_retry_wait: float
    """The longest wait a provider may ask for before a call fails with ``RateLimited`` (default 60 s)."""
    retry: Retry | None
    """The urllib3 retry policy (default: five retries with backoff)."""
    poll_interval: float
    """The first pause between status polls in ``wait`` (default 2 s)."""
    allow_insecure: bool
    """Allow plain http to a host that is not loopback (default off)."""
    concurrency: int
    """Batches in flight at once, 1 to 64 (default 2)."""


class Provider(abc.ABC):
    """The one API of DESIGN.md. Subclasses set ``name`` and ``capabilities`` and fill in hooks."""

    name: ClassVar[str]
    capabilities: Capabilities
    """What this provider can do; a class attribute, which an instance may narrow or widen for its configuration."""
    default_base_url: ClassVar[str]
    reset_headers: ClassVar[tuple[str, ...] | None] = None
    """The provider's rate-limit reset headers (e.g. ``("x-sib-ratelimit-reset",)``), when they are not
    ``X-RateLimit-Reset``: declared as data, they are read on a 429 by the default retry policy and by a
    :class:`~contactsync.http.RateLimitRetry` the caller passes."""

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
        total_timeout: float = DEFAULT_TOTAL_TIMEOUT,
        max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT,
    ) -> None:
        options = check_options(
            self.name,
            {
                "timeout": timeout,
                "total_timeout": total_timeout,
                "max_retry_wait": max_retry_wait,
                "retry": retry,
                "poll_interval": poll_interval,
                "allow_insecure": allow_insecure,
                "concurrency": concurrency,
            },
        )
        for secret in secrets:
            check_credentials(self.name, credential=secret)
        self.transport = Transport(
            self.name,
            base_url,
            auth=auth,
            secrets=secrets,
            timeout=options["timeout"],
            total_timeout=options["total_timeout"],
            max_retry_wait=options["max_retry_wait"],
            retry=retry,
            error_parser=self.parse_error,
            allow_insecure=options["allow_insecure"],
            reset_headers=self.reset_headers,
        )
        self.poll_interval: float = options["poll_interval"]
        self.pipeline = ImportPipeline(self)
        """The import pipeline this client's imports run through (see :mod:`contactsync.importing`)."""
        self.concurrency: int = options["concurrency"]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Keep a plugin written before ``create_field`` became ``define_field`` working, with a warning.

        A subclass overriding ``create_field`` (and not ``define_field``) had it as the hook
        creating one field: it becomes that class's ``define_field``, so ``ensure_fields`` uses it,
        and the public ``create_field`` stays the core's race-safe one.
        """
        super().__init_subclass__(**kwargs)
        own = vars(cls)
        if "create_field" in own and "define_field" not in own:
            warnings.warn(
                f"{cls.__module__}.{cls.__qualname__} overrides create_field, the hook now named define_field: "
                "rename it (create_field is the race-safe public call that uses define_field)",
                DeprecationWarning,
                stacklevel=2,
            )
            cls.define_field = own["create_field"]  # type: ignore[method-assign]
            cls.create_field = Provider.create_field  # type: ignore[method-assign]

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

    def check_property_name(self, name: str) -> None:
        """Raise :class:`~contactsync.errors.UnrepresentableValue` (``field`` the name) when the provider
        cannot take a property of this name as given; the default refuses only the empty name. Lets a
        caller check a file's header once, before sending, rather than meet the same error on every row."""
        if not name:
            raise UnrepresentableValue("a field needs a name", field=name)

    @abc.abstractmethod
    def import_route(
        self, subscriptions: tuple[ListSubscription, ...], route: str, extra: Mapping[str, Any] | None
    ) -> ImportRoute:
        """Build the route named ``route`` for these subscriptions (fetching field definitions etc.)."""

    @abc.abstractmethod
    def fetch_status(self, job_id: str) -> ImportJob:
        """One status fetch of one provider job, by the id its part carries."""

    def part_errors(self, part: ImportJob) -> Iterator[ReportedError]:
        """The error report of one finished part (default: none available).

        Called only for a part whose status is terminal, from ``import_errors``; ``part.rows``
        is its row index. Yield one :class:`ReportedError` per row reported, by position or by
        email, or a count-only one (:meth:`ReportedError.unnamed`) for rejections the provider
        counts without naming. A part that failed outright has every row reported anyway.
        """
        return iter(())

    def iter_lists(self) -> Iterator[ContactList]:
        """Every list in the account, page by page."""
        raise self._unsupported("listing lists")

    def create_list(self, name: str) -> str:
        """Create a list; return its id."""
        raise self._unsupported("creating lists")

    def fields(self) -> list[FieldDefinition]:
        """The account's contact fields, the provider's built-in and reserved ones included."""
        raise self._unsupported("listing fields")

    def define_field(self, definition: FieldDefinition) -> FieldDefinition:
        """Create one field in the account; return it as the provider stored it.

        A field that exists already may raise the provider's refusal: :meth:`create_field`
        then reads the stored definition instead.
        """
        raise self._unsupported("creating fields")

    def check_list(self, list_id: str) -> None:
        """Raise :class:`~contactsync.errors.NotFound` when the account has no list ``list_id``.

        Asked before an import or a subscription change sends anything. The default looks
        through :meth:`iter_lists` (and checks nothing when the provider cannot list them);
        a provider with a read of one list uses that.
        """
        try:
            found = any(item.id == list_id for item in self.iter_lists())
        except UnsupportedAction:
            return
        if not found:
            raise NotFound("no list of the account has this id", provider=self.name)

    def get_contact(self, email: str) -> Contact | None:
        """The contact stored under ``email``, or None."""
        raise self._unsupported("reading contacts")

    def get_subscriptions(self, email: str) -> list[Membership]:
        """The contact's lists and whether it is subscribed to each."""
        raise self._unsupported("reading subscriptions")

    def apply_subscriptions(self, email: str, subscriptions: tuple[ListSubscription, ...]) -> None:
        """Apply already-checked subscription changes to one contact."""
        raise self._unsupported("managing subscriptions")

    def members(self, list_id: str) -> Iterator[ListMember]:
        """Every member of a list, with its data and its standing on the list, streamed page by page.

        An unknown list raises :class:`~contactsync.errors.NotFound`. What ``subscribed``
        means, the order and which dates are known differ by provider: see each provider's
        page and :doc:`/readback`.
        """
        raise self._unsupported("reading a list's members")

    def fetch_events(self, since: datetime, list_id: str | None) -> Iterator[ContactEvent]:
        """The contact events recorded at or after ``since`` (aware, UTC, whole seconds), of one list or all.

        With ``list_id``: that list's events and the account-wide ones (whose ``list_id`` is None).
        """
        raise self._unsupported("reading contact events")

    def erase_contacts(self, emails: Sequence[str]) -> None:
        """Delete these contacts (normalised, each once) from the account."""
        raise self._unsupported("deleting contacts")

    def delete_list(self, list_id: str) -> None:
        """Delete a list; its contacts stay in the account."""
        raise self._unsupported("deleting lists")

    # -- the public API, written once ---------------------------------------------------

    def lists(self) -> list[ContactList]:
        """Every list in the account."""
        return list(self.iter_lists())

    def events_since(self, when: datetime, list_id: str | None = None) -> Iterator[ContactEvent]:
        """Unsubscribes, resubscribes, bounces, complaints and blocks since ``when`` (timezone-aware).

        ``when`` is taken in UTC to the whole second: providers record whole seconds, so an
        event in the second of ``when`` is reported. With ``list_id``, the events of that list
        and the account-wide ones (``list_id`` None on the event). Which types a provider can
        find is ``capabilities.event_types``; see :doc:`/readback` for each provider's order.
        """
        if not isinstance(when, datetime) or when.utcoffset() is None:
            raise InvalidInput("events_since takes a timezone-aware datetime", field="when")
        return self.fetch_events(when.astimezone(timezone.utc).replace(microsecond=0), list_id)

    def delete_contacts(self, emails: Iterable[str]) -> None:
        """Erase these contacts from the account (every list included)."""
        self.erase_contacts(list(dict.fromkeys(Contact(email).email for email in emails)))

    def ensure_fields(self, definitions: Iterable[FieldDefinition]) -> list[FieldDefinition]:
        """The stored definition of each field, creating those that are missing; race-safe.

        Names are matched without regard to case. A field that exists, created a moment ago
        by another import or built into the provider, is read back and its type checked: one
        that cannot hold the wanted type raises :class:`~contactsync.errors.UnrepresentableValue`.
        """
        existing = {f.name.lower(): f for f in self.fields()}
        result = []
        for definition in definitions:
            current = existing.get(definition.name.lower())
            if current is None:
                self.check_property_name(definition.name)
                current = self._define(definition)
                existing[definition.name.lower()] = current
            self._check_field_type(current, definition.type)
            result.append(current)
        return result

    def create_field(self, definition: FieldDefinition) -> FieldDefinition:
        """Create one field, or read it back if it exists (its type checked); return it as the provider stores it."""
        return self.ensure_fields([definition])[0]

    def _define(self, definition: FieldDefinition) -> FieldDefinition:
        """:meth:`define_field`; when it is refused, a field of that name created meanwhile is the answer."""
        try:
            return self.define_field(definition)
        except ProviderError:
            stored = next((f for f in self.fields() if f.name.lower() == definition.name.lower()), None)
            if stored is None:
                raise
            return stored

    def _check_field_type(self, stored: FieldDefinition, wanted: FieldType) -> None:
        if not self.same_field_type(stored.type, wanted):
            raise UnrepresentableValue(
                f"{self.name} already has this field as {stored.type.value}, not {wanted.value}", field=stored.name
            )

    def same_field_type(self, stored: FieldType, wanted: FieldType) -> bool:
        """Whether a stored field serves a wanted type (providers with fewer types widen this)."""
        return stored is wanted

    def manage_subscriptions(self, email: str, subscriptions: Iterable[ListSubscription]) -> None:
        """Change one contact's membership of several lists; an unknown list raises NotFound before any change."""
        subs = tuple(subscriptions)
        self.check_actions(subs, bulk=False)
        address = Contact(email).email
        self._check_lists(subs)
        self.apply_subscriptions(address, subs)

    def _check_lists(self, subscriptions: Sequence[ListSubscription]) -> None:
        """:meth:`check_list` for each list once; the NotFound names the list."""
        for list_id in dict.fromkeys(sub.list_id for sub in subscriptions):
            try:
                self.check_list(list_id)
            except NotFound as exc:
                raise NotFound(
                    f"the {self.name} account has no list {list_id!r}: {exc.message}",
                    provider=self.name,
                    status=exc.status,
                    body=exc.body,
                    code=exc.code,
                ) from None

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

        The first row of an address is sent; each later row of it is a ``RowError`` naming
        the first. An unknown list raises :class:`~contactsync.errors.NotFound` before
        anything is sent.
        """
        subs = tuple(subscriptions)
        self.check_actions(subs)
        self._check_lists(subs)
        return self.pipeline.run(contacts, subs, route=route, extra=extra, on_batch=on_batch, journal=journal)

    def plan_import(
        self,
        contacts: Iterable[InputItem],
        subscriptions: Iterable[ListSubscription] = (),
        *,
        route: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> tuple[str, list[Mapping[str, Any]], list[RowError]]:
        """A dry run: the route, a description of every batch, and the rows that would be rejected.

        Nothing is sent; what ``import_contacts`` would raise (an action the provider cannot
        apply, an unknown list) is raised.
        """
        subs = tuple(subscriptions)
        self.check_actions(subs)
        self._check_lists(subs)
        return self.pipeline.plan(contacts, subs, route=route, extra=extra)

    def refresh(self, job: ImportJob | str) -> ImportJob:
        """One status fetch of every unfinished part; ``job`` may be a job id string.

        An id the provider does not know raises :class:`~contactsync.errors.NotFound`. A part
        of ``job`` that the provider no longer knows ends ``FAILED``, its rows reported.
        """
        return self.pipeline.account(self._fetch(job))

    def _fetch(self, job: ImportJob | str) -> ImportJob:
        if isinstance(job, str):
            parts = [self.fetch_status(job_id) for job_id in job.split(",")]
            return ImportJob.combine(self.name, parts)
        if not job.parts:
            return self._refresh_part(job)
        return ImportJob.combine(self.name, [self._refresh_part(p) for p in job.parts], job.local_errors)

    def _refresh_part(self, part: ImportJob) -> ImportJob:
        if part.status.is_terminal or not part.id:
            return part
        try:
            fresh = self.fetch_status(part.id)
        except NotFound as exc:
            message = (
                f"{self.name} no longer knows the job {part.id} ({exc.message}); it may or may not have been applied"
            )
            fresh = ImportJob(
                self.name, part.id, ImportStatus.FAILED, "NotFound", extra={"error": message, "uncertain": True}
            )
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
        sent once more, when its route is safe to repeat (see :meth:`import_contacts`);
        one that succeeded gets its route's follow-up, if any. After ``timeout`` seconds
        (an hour by default) it raises :class:`~contactsync.errors.ImportTimeout`.
        """
        deadline = time.monotonic() + timeout
        delays = poll_delays(self.poll_interval if poll_interval is None else poll_interval)
        delay = next(delays)
        current = self._poll(job)
        while not current.status.is_terminal:
            if on_progress is not None:
                on_progress(current)
            if time.monotonic() + delay > deadline:
                raise ImportTimeout(
                    f"{self.name} job {current.id} still {current.provider_status!r} after {timeout:g} s", current
                )
            time.sleep(delay)
            delay = next(delays)
            current = self._poll(current)
        if on_progress is not None:
            on_progress(current)
        return current

    def _poll(self, job: ImportJob | str) -> ImportJob:
        """One round of :meth:`wait`: a status fetch, recovery and follow-ups of the parts that ended, the counts."""
        return self.pipeline.account(self.pipeline.recover(self._fetch(job)))

    def import_errors(self, job: ImportJob | str) -> Iterator[RowError]:
        """Every row that did not make it: rejected locally, reported by the provider, or in a failed job.

        A part that failed outright (failed, rejected, cancelled) reports each of its rows,
        since the provider applied none of them: with the provider's own reason where its
        report has one, else the job's status. Unfinished parts report nothing yet.
        """
        if isinstance(job, str):
            job = self.refresh(job)
        return self.pipeline.row_errors(job)

    def _unsupported(self, what: str) -> UnsupportedAction:
        return UnsupportedAction(f"{self.name} does not support {what}")
