"""The shape every provider emulator shares: routing, authentication, one lock, JSON-able state, a job worker.

An emulator is written from the wire references, never from our client code: it
imports nothing from ``contactsync.providers``.
"""

from __future__ import annotations

import abc
import json
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import Any, ClassVar

import attrs
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from contactsync.sandbox.simulation import SimulatedEvent
from contactsync.sandbox.webhooks import Push

__all__ = ["MAX_BODY_BYTES", "Emulator", "JobLifecycle", "MalformedRequest", "StoredContact", "json_response"]

log = logging.getLogger("contactsync.sandbox")

WORKER_IDLE_SECONDS = 5.0
"""A job worker with nothing queued for this long ends; the next queued job starts another."""
MAX_BODY_BYTES = 20 * 1024 * 1024
"""The largest request body an emulator reads: beyond it, the provider's own 413 (the providers' limits are lower)."""
REQUESTS_FIRST_SECONDS = 1.0
"""The longest a job worker gives way to requests waiting for the lock before it takes its next step."""


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response with the given status."""
    return Response(json.dumps(body), status=status, headers=headers, content_type="application/json")


class MalformedRequest(Exception):
    """A request an emulator cannot read (raised by :meth:`Emulator.json_body`): answered with the provider's
    error of ``status`` (400, or 413 for a body over the cap)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


StoredContact = tuple[str, str | None, Mapping[str, Any]]
"""What :meth:`Emulator.contact_of` makes of a stored record: (email, name, properties)."""


@attrs.frozen
class JobLifecycle:
    """The statuses an emulated job shows, one more per status read, as the provider's own jobs are seen to move.

    Status read ``n`` (from 1) shows ``statuses[n - 1]``; once they are used up, every read
    shows the job's final status. ``settle_from`` is the read from which the job must be
    applied (by default the first read showing the final status); ``counter`` the key of the
    job's record that counts its reads (the record lives in the emulator's state, so a
    saved and loaded job carries on where it was).
    """

    statuses: tuple[str, ...]
    settle_from: int | None = None
    counter: str = "polls"


def _no_constant(name: str) -> Any:
    raise MalformedRequest(f"{name} is not a JSON value")


class Emulator(abc.ABC):
    """One provider's HTTP API, in memory.

    Subclasses declare ``rules`` (werkzeug rules whose endpoint names a method taking
    the request and the URL values), answer ``authenticate``, and keep all mutable
    state in ``self.state`` (JSON-serialisable, so it can be saved and inspected).
    Requests are handled one at a time under ``self.lock``. Import jobs can be applied
    in the background, as providers do, by one worker thread (:meth:`queue_job`, :meth:`job_steps`).
    """

    name: ClassVar[str]
    max_body_bytes: ClassVar[int] = MAX_BODY_BYTES
    """The largest request body read; a larger one gets ``error(413, ...)`` before its route runs."""
    prefixes: ClassVar[tuple[str, ...]] = ()
    """URL prefixes served besides ``/<name>`` (e.g. a stand-in storage host)."""
    public_endpoints: ClassVar[frozenset[str]] = frozenset()
    """Endpoints served without authentication."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.state: dict[str, Any] = self.initial_state()
        self.url_map = Map(self.rules(), strict_slashes=False, merge_slashes=False)
        self._failing_jobs = 0
        self.job_fault: Callable[[], bool] | None = None
        """Drawn for each import job created (the Sandbox's ``jobfail`` fault): True makes that job fail."""
        self.apply_in_background = True
        """False leaves queued jobs to the status reads that need them applied (for tests of that path)."""
        self._queued: dict[str, Iterator[object]] = {}
        self._started: str | None = None
        self._queue_changed = threading.Condition()
        self._worker: threading.Thread | None = None
        self._worker_stop = threading.Event()
        self._waiting = 0
        self._lock_wanted = threading.Condition()

    @abc.abstractmethod
    def rules(self) -> list[Rule]:
        """The routes, paths relative to the emulator's prefix."""

    @abc.abstractmethod
    def initial_state(self) -> dict[str, Any]:
        """A fresh account."""

    @abc.abstractmethod
    def credentials(self) -> dict[str, str]:
        """The keyword arguments ``contactsync.connect`` needs for this account."""

    @abc.abstractmethod
    def authenticate(self, request: Request) -> Response | None:
        """None when the request carries this account's credentials, else the provider's 401."""

    @abc.abstractmethod
    def error(self, status: int, message: str) -> Response:
        """An error response in the provider's own shape."""

    @abc.abstractmethod
    def rate_limited(self, retry_after: int) -> Response:
        """The provider's own 429 response."""

    def contacts(self, list_id: str | None = None) -> list[dict[str, Any]]:
        """The stored contacts as the provider would read them back (one list's members when ``list_id`` is given).

        Part of the contract for test assertions; an emulator that stores no contacts keeps this default.
        """
        raise NotImplementedError(f"the {self.name} emulator does not expose its stored contacts")

    def contact_of(self, record: Mapping[str, Any]) -> StoredContact:
        """(email, name, properties) of one record :meth:`contacts` returns, in the domain's terms: what
        :meth:`Sandbox.contacts <contactsync.sandbox.Sandbox.contacts>` builds a
        :class:`~contactsync.model.Contact` from.

        The emulator knows its own wire: where the provider keeps the name, which stored keys
        are properties, and the values' types. Property names are as the provider stores
        them; a property without a value is left out.
        """
        raise NotImplementedError(f"the {self.name} emulator does not read its records as contacts")

    def reset(self) -> None:
        """Empty the account: a fresh :meth:`initial_state`, no queued jobs, no failures planned."""
        with self.lock:
            self.state = self.initial_state()
            self._failing_jobs = 0
            with self._queue_changed:
                self._queued.clear()
                self._started = None

    def read_job(
        self,
        job: MutableMapping[str, Any],
        lifecycle: JobLifecycle,
        final: str | Callable[[], str],
        key: str | None = None,
    ) -> str:
        """The status one read of ``job`` (its record in ``self.state``) shows, counting the read.

        Under ``self.lock``, from a status endpoint. From the lifecycle's ``settle_from`` read on,
        a job queued as ``key`` is applied first (:meth:`settle_job`), so the final status, and
        ``final`` when it is a callable reading the job's outcome, come after its rows.
        """
        reads = int(job.get(lifecycle.counter, 0)) + 1
        job[lifecycle.counter] = reads
        settle_from = len(lifecycle.statuses) + 1 if lifecycle.settle_from is None else lifecycle.settle_from
        if key is not None and reads >= settle_from:
            self.settle_job(key)
        if reads <= len(lifecycle.statuses):
            return lifecycle.statuses[reads - 1]
        return final() if callable(final) else final

    def simulate(self, email: str, event: str, list_id: str | None) -> SimulatedEvent:
        """Record a recipient's ``event`` (one of :data:`~contactsync.sandbox.simulation.SIMULATED_EVENTS`) as the
        provider would, under ``self.lock``; ``email`` is lower-cased. Raises ValueError for an unknown list or
        contact. Called by :meth:`Sandbox.simulate <contactsync.sandbox.Sandbox.simulate>`."""
        raise NotImplementedError(f"the {self.name} emulator simulates no recipient events")

    def webhook_pushes(self, simulated: SimulatedEvent) -> list[Push]:
        """The webhook POSTs the provider makes for ``simulated``, to the URLs registered with this emulator.

        Planned under ``self.lock`` (the registrations are state) and made by
        :meth:`Sandbox.simulate <contactsync.sandbox.Sandbox.simulate>` once it is released, since a
        receiver may call back into the sandbox. None by default: a provider without webhooks.
        """
        return []

    def fail_next_jobs(self, count: int = 1) -> None:
        """Make the next ``count`` import jobs end in the provider's own failure status, applying nothing."""
        with self.lock:
            self._failing_jobs += count

    def job_fails(self) -> bool:
        """Asked by a subclass as it creates an import job: whether this job is to end in failure."""
        with self.lock:
            if self._failing_jobs > 0:
                self._failing_jobs -= 1
                return True
        return self.job_fault is not None and self.job_fault()

    def job_steps(self, key: str) -> Iterator[object]:
        """The steps that apply the import job ``key``, for an emulator that queues jobs.

        A generator: each step runs under ``self.lock``, released between steps so that
        requests are answered while a long job is applied. It must do nothing when the state
        shows the job applied already, since the queue is not state (:meth:`load` empties it).
        """
        raise NotImplementedError(f"the {self.name} emulator queues no jobs")

    def queue_job(self, key: str) -> None:
        """Apply job ``key`` in the background, as the providers do: one worker thread runs queued jobs in order."""
        with self._queue_changed:
            self._queued[key] = self.job_steps(key)
            if self._worker is None and self.apply_in_background:
                self._worker_stop = threading.Event()
                self._worker = threading.Thread(
                    target=self._work, args=(self._worker_stop,), name=f"contactsync-{self.name}-jobs", daemon=True
                )
                self._worker.start()
            self._queue_changed.notify_all()

    def settle_job(self, key: str) -> None:
        """Finish now, in the caller's thread, job ``key`` and every job queued before it.

        What a status request calls when the job must be applied by now. A job no longer queued
        (finished by the worker, or loaded from a dump before it was applied) runs its
        :meth:`job_steps`, which do nothing for a job applied already.
        """
        with self.lock:
            while True:
                with self._queue_changed:
                    if key not in self._queued:
                        break
                    first = next(iter(self._queued))
                    steps = self._queued.pop(first)
                    if first == self._started:
                        self._started = None
                for _ in steps:
                    pass
                if first == key:
                    return
            for _ in self.job_steps(key):
                pass

    def _work(self, stop: threading.Event) -> None:
        """The worker: one step of the first queued job at a time, after any request waiting for the lock."""
        while True:
            with self._queue_changed:
                if not self._queued and not stop.is_set():
                    self._queue_changed.wait(WORKER_IDLE_SECONDS)
                if stop.is_set() or not self._queued or not self.apply_in_background:
                    if self._worker is threading.current_thread():
                        self._worker = None
                    return
            with self._lock_wanted:
                self._lock_wanted.wait_for(lambda: self._waiting == 0, timeout=REQUESTS_FIRST_SECONDS)
            with self.lock:
                self._step()

    def _step(self) -> None:
        """Run one step of the first queued job (called under ``self.lock``); drop the job once it is done."""
        with self._queue_changed:
            if not self._queued:
                return
            key, steps = next(iter(self._queued.items()))
            self._started = key
        try:
            next(steps)
            return
        except StopIteration:
            pass
        except Exception:  # a bug in an emulator: logged here, and the job's status request shows it
            log.exception("the %s emulator failed to apply job %s", self.name, key)
        with self._queue_changed:
            if self._queued.get(key) is steps:
                del self._queued[key]
            self._started = None

    def close(self) -> None:
        """Stop the job worker and wait for it; queued jobs stay queued, for a later worker or their status reads."""
        with self._queue_changed:
            worker, self._worker = self._worker, None
            self._worker_stop.set()
            self._queue_changed.notify_all()
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout=30)

    def _want_lock(self, change: int) -> None:
        """Count the requests waiting for ``self.lock``: the worker lets them go first."""
        with self._lock_wanted:
            self._waiting += change
            if self._waiting == 0:
                self._lock_wanted.notify_all()

    def handle(self, request: Request, path: str) -> Response:
        """Route one request (``path`` is relative to the prefix it came in on)."""
        adapter = self.url_map.bind("sandbox", path_info=path, url_scheme=request.scheme)
        try:
            endpoint, values = adapter.match(method=request.method)
        except NotFound:
            return self.error(404, f"no route for {request.method} {path}")
        except MethodNotAllowed:
            return self.error(405, "Method not allowed")
        if endpoint not in self.public_endpoints:
            refused = self.authenticate(request)
            if refused is not None:
                return refused
        if request.content_length is not None and request.content_length > self.max_body_bytes:
            return self.error(413, f"the request body is larger than {self.max_body_bytes:,} bytes")
        request.max_content_length = self.max_body_bytes  # a chunked body is cut there too, as werkzeug reads it
        handler: Callable[..., Response] = getattr(self, endpoint)
        self._want_lock(1)
        with self.lock:
            self._want_lock(-1)
            try:
                return handler(request, **values)
            except MalformedRequest as exc:
                return self.error(exc.status, exc.message)
            except HTTPException as exc:  # werkzeug's own refusals while reading a body (too large, bad form data)
                return self.error(exc.code or 400, exc.description or "the request could not be read")
            except Exception:  # a bug in an emulator: logged, and answered in the provider's shape, not as HTML
                log.exception("the %s emulator failed on %s %s", self.name, request.method, path)
                return self.error(500, "the sandbox failed on this request")

    def json_body(self, request: Request) -> Any:
        """The request body as JSON (None when it is empty), or :class:`MalformedRequest` for a body that is
        not UTF-8, not JSON, nested too deep to read, or holds NaN or Infinity (which JSON does not have)."""
        data = request.get_data()
        if len(data) >= self.max_body_bytes:  # a chunked body, cut at the cap as werkzeug read it
            raise MalformedRequest(f"the request body is larger than {self.max_body_bytes:,} bytes", 413)
        if not data.strip():
            return None
        try:
            return json.loads(data.decode("utf-8-sig"), parse_constant=_no_constant)
        except UnicodeDecodeError as exc:
            raise MalformedRequest(f"the body is not UTF-8 (byte {exc.start})") from None
        except RecursionError:
            raise MalformedRequest("the body is nested too deep") from None
        except ValueError as exc:
            raise MalformedRequest(f"the body is not valid JSON: {exc}") from None

    def json_object(self, request: Request) -> dict[str, Any]:
        """The request body as a JSON object (``{}`` when empty), or :class:`MalformedRequest`."""
        body = self.json_body(request)
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise MalformedRequest(f"the body must be a JSON object, not {type(body).__name__}")
        return body

    def dump(self) -> str:
        """The state as JSON text (a job the worker is half-way through is finished first)."""
        with self.lock:
            if self._started is not None:
                self.settle_job(self._started)
            return json.dumps(self.state)

    def load(self, text: str) -> None:
        """Replace the state with one saved by :meth:`dump`."""
        with self.lock:
            self.state = json.loads(text)
            with self._queue_changed:
                self._queued.clear()  # the queue is not state: the loaded jobs are applied by their status reads
                self._started = None
