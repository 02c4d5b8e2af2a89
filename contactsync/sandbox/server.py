"""The sandbox server: every emulator behind one werkzeug server on 127.0.0.1, one path prefix each."""

from __future__ import annotations

import collections
import importlib
import threading
from collections.abc import Iterable
from typing import Any

import attrs
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from contactsync.sandbox.emulator import Emulator

__all__ = ["EMULATORS", "RecordedRequest", "Sandbox"]

EMULATORS = {
    "mailjet": "contactsync.sandbox.mailjet:MailjetEmulator",
    "sendgrid": "contactsync.sandbox.sendgrid:SendGridEmulator",
    "dotmailer": "contactsync.sandbox.dotmailer:DotmailerEmulator",
}


def _emulator_class(name: str) -> type[Emulator]:
    module_name, _, attr = EMULATORS[name].partition(":")
    cls: type[Emulator] = getattr(importlib.import_module(module_name), attr)
    return cls


@attrs.frozen
class RecordedRequest:
    """One request the sandbox received (headers included), for assertions."""

    method: str
    path: str
    query: str
    headers: dict[str, str]


class Sandbox:
    """Faithful local stand-ins for the providers' APIs, served on a free port in a background thread.

    ``with Sandbox() as sb: client = sb.connect("mailjet")``. ``providers`` names built-in
    emulators or passes emulator instances (a plugin's own), all of them by default.
    """

    def __init__(
        self, providers: Iterable[str | Emulator] | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        chosen = [_emulator_class(p)() if isinstance(p, str) else p for p in (providers or list(EMULATORS))]
        self.emulators: dict[str, Emulator] = {emulator.name: emulator for emulator in chosen}
        self._routes: list[tuple[str, Emulator]] = sorted(
            ((prefix, emu) for emu in self.emulators.values() for prefix in (emu.name, *emu.prefixes)),
            key=lambda route: len(route[0]),
            reverse=True,
        )
        self.requests: collections.deque[RecordedRequest] = collections.deque(maxlen=10_000)
        self._host = host
        self._port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Bind the port and serve in a daemon thread."""
        if self._server is not None:
            return
        self._server = make_server(self._host, self._port, self._app, threaded=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="contactsync-sandbox", daemon=True
        )
        self._thread.start()

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted."""
        self._server = make_server(self._host, self._port, self._app, threaded=True)
        self._server.serve_forever()

    def stop(self) -> None:
        """Shut the server down and wait for its thread."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

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

    def connect(self, provider: str, **settings: Any) -> Any:
        """A contactsync client for ``provider`` pointed at this sandbox, polling quickly."""
        from contactsync.registry import connect

        options: dict[str, Any] = {"poll_interval": 0.02, **self.credentials(provider), **settings}
        return connect(provider, **options)

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        self.requests.append(
            RecordedRequest(request.method, request.path, request.query_string.decode("latin-1"), dict(request.headers))
        )
        response = self._dispatch(request)
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        path = request.path
        for prefix, emulator in self._routes:
            if path == f"/{prefix}" or path.startswith(f"/{prefix}/"):
                return emulator.handle(request, path[len(prefix) + 1 :] or "/")
        return Response(f"no emulator serves {path}\n", status=404, content_type="text/plain")
