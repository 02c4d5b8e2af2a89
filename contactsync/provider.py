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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, ClassVar, TypedDict

import attrs
from requests.auth import AuthBase
from urllib3.util.retry import Retry

from contactsync.batching import Batch, BatchLimits
from contactsync.errors import (
    ConfigurationError,
    ImportTimeout,
    InvalidInput,
    UnsupportedAction,
)
from contactsync.http import Transport
from contactsync.importing import ImportPipeline, InputItem, ProgressCallback
from contactsync.model import (
    Contact,
    ContactEvent,
    ContactList,
    EventType,
    FieldDefinition,
    FieldType,
    ImportJob,
    ListMember,
    ListSubscription,
    Membership,
    RowError,
    SubscriptionAction,
)

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
    """The actions a bulk import applies exactly; ``None`` when they are ``actions``."""
    notes: Mapping[str, str] = attrs.field(factory=dict)
    """Short explanations, keyed by action value or feature, for the docs."""
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
        self.pipeline = ImportPipeline(self)
        """The import pipeline this client's imports run through (see :mod:`contactsync.importing`)."""
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
        return self.pipeline.run(contacts, subs, route=route, extra=extra, on_batch=on_batch, journal=journal)

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
        return self.pipeline.plan(contacts, subs, route=route, extra=extra)

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
        current = self.pipeline.recover(self.refresh(job))
        while not current.status.is_terminal:
            if on_progress is not None:
                on_progress(current)
            if time.monotonic() + delay > deadline:
                raise ImportTimeout(
                    f"{self.name} job {current.id} still {current.provider_status!r} after {timeout:g} s", current
                )
            time.sleep(delay)
            delay = next(delays)
            current = self.pipeline.recover(self.refresh(current))
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
        return self.pipeline.row_errors(job)

    def _unsupported(self, what: str) -> UnsupportedAction:
        return UnsupportedAction(f"{self.name} does not support {what}")
