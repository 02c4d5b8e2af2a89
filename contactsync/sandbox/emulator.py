"""The shape every provider emulator shares: routing, authentication, one lock, JSON-able state.

An emulator is written from the wire references, never from our client code: it
imports nothing from ``contactsync.providers``.
"""

from __future__ import annotations

import abc
import json
import threading
from collections.abc import Callable
from typing import Any, ClassVar

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

__all__ = ["Emulator", "json_response"]


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response with the given status."""
    return Response(json.dumps(body), status=status, headers=headers, content_type="application/json")


class Emulator(abc.ABC):
    """One provider's HTTP API, in memory.

    Subclasses declare ``rules`` (werkzeug rules whose endpoint names a method taking
    the request and the URL values), answer ``authenticate``, and keep all mutable
    state in ``self.state`` (JSON-serialisable, so it can be saved and inspected).
    Requests are handled one at a time under ``self.lock``.
    """

    name: ClassVar[str]
    prefixes: ClassVar[tuple[str, ...]] = ()
    """URL prefixes served besides ``/<name>`` (e.g. a stand-in storage host)."""
    public_endpoints: ClassVar[frozenset[str]] = frozenset()
    """Endpoints served without authentication."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.state: dict[str, Any] = self.initial_state()
        self._map = Map(self.rules(), strict_slashes=False, merge_slashes=False)
        self._failing_jobs = 0
        self.job_fault: Callable[[], bool] | None = None
        """Drawn for each import job created (the Sandbox's ``jobfail`` fault): True makes that job fail."""

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

    def handle(self, request: Request, path: str) -> Response:
        """Route one request (``path`` is relative to the prefix it came in on)."""
        adapter = self._map.bind("sandbox", path_info=path, url_scheme=request.scheme)
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
        handler: Callable[..., Response] = getattr(self, endpoint)
        with self.lock:
            return handler(request, **values)

    def dump(self) -> str:
        """The state as JSON text."""
        with self.lock:
            return json.dumps(self.state)

    def load(self, text: str) -> None:
        """Replace the state with one saved by :meth:`dump`."""
        with self.lock:
            self.state = json.loads(text)
