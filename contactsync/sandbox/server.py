"""The sandbox server: every emulator behind one werkzeug server on 127.0.0.1, one path prefix each."""

from __future__ import annotations

import collections
import logging
import socket
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal, overload

import attrs
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from contactsync import registry
from contactsync.model import Contact
from contactsync.sandbox.emulator import Emulator
from contactsync.sandbox.faults import Faults
from contactsync.sandbox.simulation import SimulatedEvent, event_name

if TYPE_CHECKING:
    from contactsync.provider import Provider

__all__ = ["EMULATORS", "RecordedRequest", "Sandbox"]

log = logging.getLogger("contactsync.sandbox")

EMULATORS = registry.BUILTIN_EMULATORS
"""The built-in emulators by name (``"module:Class"``); :func:`contactsync.registry.emulators` names every
installed one."""


class _RequestHandler(WSGIRequestHandler):
    """Keeps connections alive (HTTP/1.1) and logs requests to ``contactsync.sandbox`` instead of stderr."""

    protocol_version = "HTTP/1.1"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.info("%s %s -> %s", self.command, self.path, code)


@attrs.frozen
class RecordedRequest:
    """One request the sandbox received (headers included), for assertions.

    ``started`` and :attr:`finished` are when the sandbox began and ended answering it, on
    its monotonic clock (``time.monotonic()``): the requests in flight at once can be counted.
    """

    method: str
    path: str
    query: str
    headers: dict[str, str]
    fault: str | None = None
    started: float = 0.0
    _ended: list[float] = attrs.field(factory=list, eq=False, repr=False, alias="ended")

    @property
    def finished(self) -> float | None:
        """When the sandbox had its answer (before sending it); ``None`` while it is still answering."""
        return self._ended[0] if self._ended else None


class Sandbox:
    """Faithful local stand-ins for the providers' APIs, served on a free port in a background thread.

    ``with Sandbox() as sb: client = sb.connect("mailjet")``. ``providers`` names emulators
    (built-in, or found through the ``contactsync.emulators`` entry points) or passes emulator
    instances; by default every installed emulator that loads, those that do not being
    reported in :attr:`skipped` and logged. ``faults``
    (``"429:0.05,500:0.03,reset:0.02,slow:0.01,jobfail:0.02"``) injects faults at those rates,
    drawn from ``seed``; see :mod:`contactsync.sandbox.faults`.
    """

    def __init__(
        self,
        providers: Iterable[str | Emulator] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: str | Faults | None = None,
        seed: int | None = None,
        slow_seconds: float = 2.0,
    ) -> None:
        self.skipped: dict[str, str] = {}
        """Installed emulators left out of a default sandbox because they fail to load, with the reason."""
        if providers is None:
            found, self.skipped = registry.installed_emulators()
            for name, why in self.skipped.items():
                log.warning("the sandbox serves no %s: %s", name, why)
            chosen = [cls() for cls in found.values()]
        else:
            chosen = [registry.load_emulator(p)() if isinstance(p, str) else p for p in providers]
        self.emulators: dict[str, Emulator] = {emulator.name: emulator for emulator in chosen}
        self._routes: list[tuple[str, Emulator]] = sorted(
            ((prefix, emu) for emu in self.emulators.values() for prefix in (emu.name, *emu.prefixes)),
            key=lambda route: len(route[0]),
            reverse=True,
        )
        self.requests: collections.deque[RecordedRequest] = collections.deque(maxlen=10_000)
        self.injected: collections.Counter[str] = collections.Counter()
        self.faults = Faults.parse(faults, seed) if isinstance(faults, str) else faults
        self.slow_seconds = slow_seconds
        self._host = host
        self._port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def faults(self) -> Faults | None:
        """The fault plan in force; assigning one (or None) takes effect from the next request."""
        return self._faults

    @faults.setter
    def faults(self, plan: Faults | None) -> None:
        self._faults = plan
        for emulator in self.emulators.values():
            emulator.job_fault = None if plan is None else self._job_fault

    def _job_fault(self) -> bool:
        plan = self._faults
        failing = plan is not None and plan.job_fails()
        if failing:
            self.injected["jobfail"] += 1
        return failing

    @overload
    def contacts(self, provider: str, list_id: str | None = None, as_model: Literal[True] = True) -> list[Contact]: ...

    @overload
    def contacts(self, provider: str, list_id: str | None, as_model: Literal[False]) -> list[dict[str, Any]]: ...

    @overload
    def contacts(self, provider: str, *, as_model: Literal[False]) -> list[dict[str, Any]]: ...

    def contacts(
        self, provider: str, list_id: str | None = None, as_model: bool = True
    ) -> list[Contact] | list[dict[str, Any]]:
        """The contacts ``provider``'s emulator stores (one list's members when ``list_id`` is given).

        As :class:`~contactsync.model.Contact` by default, the same for every provider (see
        :meth:`Emulator.contact_of <contactsync.sandbox.Emulator.contact_of>`), so an assertion is
        written once; ``as_model=False`` gives the provider's own records.
        """
        emulator = self.emulators[provider]
        records = emulator.contacts(list_id)
        if not as_model:
            return records
        return [Contact(*emulator.contact_of(record)) for record in records]

    def reset(self) -> None:
        """Empty every emulator's account, and forget the requests recorded and the faults counted.

        The server keeps running on its port, so clients connected to it keep working: what a
        module-scoped sandbox calls between tests.
        """
        for emulator in self.emulators.values():
            emulator.reset()
        self.requests.clear()
        self.injected.clear()

    def simulate(self, provider: str, email: str, event: str, list_id: str | None = None) -> SimulatedEvent:
        """A recipient of ``provider`` acts: ``event`` is ``unsubscribe``, ``resubscribe``, ``bounce``,
        ``spam`` (or ``complaint``) or ``block``, from ``list_id`` or account-wide.

        The emulator's state changes as the provider records it, so ``members`` and
        ``events_since`` report it; the return value holds the provider's own records of it.
        Then the provider's webhook is POSTed to each URL registered for these events, here and
        now, retried as the emulator's ``redelivery`` says; the return value's ``deliveries``
        report every attempt. See :doc:`/sandbox` for what each provider records and pushes.
        """
        name = event_name(event)
        emulator = self.emulators[provider]
        with emulator.lock:
            done = emulator.simulate(email.strip().lower(), name, None if list_id is None else str(list_id))
            pushes = emulator.webhook_pushes(done)
        # Posted with the lock released: a receiver may call back into the sandbox while it answers.
        deliveries = tuple(delivery for push in pushes for delivery in push())
        return attrs.evolve(done, deliveries=deliveries)

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Bind the port and serve in a daemon thread."""
        if self._server is not None:
            return
        self._server = self._make_server()
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="contactsync-sandbox", daemon=True
        )
        self._thread.start()

    def _make_server(self) -> BaseWSGIServer:
        return make_server(self._host, self._port, self._app, threaded=True, request_handler=_RequestHandler)

    def stop(self) -> None:
        """Shut the server down and wait for its thread and the emulators' job workers."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None
        for emulator in self.emulators.values():
            emulator.close()

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` of the running server."""
        if self._server is None:
            raise RuntimeError("the sandbox is not running; use it as a context manager or call start()")
        return f"http://{self._host}:{self._server.server_port}"

    def base_url(self, provider: str) -> str:
        """The base URL to give a client of ``provider`` (no trailing slash)."""
        return f"{self.url}/{self.emulators[provider].name}"

    def credentials(self, provider: str) -> dict[str, str]:
        """Keyword arguments for ``contactsync.connect``: credentials and base_url."""
        return {**self.emulators[provider].credentials(), "base_url": self.base_url(provider)}

    def connect(self, provider: str, **settings: Any) -> Provider:
        """A contactsync client for ``provider`` pointed at this sandbox, polling quickly (``poll_interval``
        0.02 s unless ``settings`` say otherwise); ``settings`` go to :func:`contactsync.connect`."""
        options: dict[str, Any] = {"poll_interval": 0.02, **self.credentials(provider), **settings}
        return registry.connect(provider, **options)

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        started = time.monotonic()
        request = Request(environ)
        plan = self._faults
        fault = plan.draw() if plan is not None else None
        recorded = RecordedRequest(
            request.method, request.path, request.query_string.decode("latin-1"), dict(request.headers), fault, started
        )
        self.requests.append(recorded)
        if fault is not None:
            self.injected[fault] += 1
        try:
            response = self._respond(request, fault)
        finally:
            recorded._ended.append(time.monotonic())
        if response is None:  # a dropped connection
            environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
            start_response("200 OK", [("Content-Length", "0")])
            return [b""]
        return response(environ, start_response)

    def _respond(self, request: Request, fault: str | None) -> Response | None:
        route = self._route(request.path)
        if route is None:
            return Response(f"no emulator serves {request.path}\n", status=404, content_type="text/plain")
        emulator, path = route
        if fault == "429":
            return emulator.rate_limited(retry_after=0)
        if fault is not None and fault.isdigit():
            return emulator.error(int(fault), "injected fault")
        if fault == "reset":
            plan = self._faults
            if plan is not None and plan.coin():
                emulator.handle(request, path)
            return None
        response = emulator.handle(request, path)
        if fault == "slow":
            time.sleep(self.slow_seconds)
        return response

    def _route(self, path: str) -> tuple[Emulator, str] | None:
        for prefix, emulator in self._routes:
            if path == f"/{prefix}" or path.startswith(f"/{prefix}/"):
                return emulator, path[len(prefix) + 1 :] or "/"
        return None
