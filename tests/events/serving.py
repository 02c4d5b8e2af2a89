"""Real HTTP for the webhook tests: any WSGI app on a free loopback port, and a receiver that records posts."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import attrs
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


@contextlib.contextmanager
def served(app: Callable[..., Any]) -> Iterator[str]:
    """Serve ``app`` with werkzeug's threaded server on 127.0.0.1 and a free port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@attrs.define
class Posted:
    """One request a :class:`Receiver` got."""

    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """A WSGI app that records every request and answers ``status`` (200 unless told otherwise)."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.posted: list[Posted] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        with self._lock:
            self.posted.append(Posted(request.path, dict(request.headers.items()), request.get_data()))
        return Response("{}", status=self.status, content_type="application/json")(environ, start_response)


class Later:
    """A WSGI app handing each request to ``app``, set once it can be built: a SendGrid receiver needs the
    public key, which the provider gives only for a webhook registered at the receiver's URL."""

    def __init__(self) -> None:
        self.app: Callable[..., Any] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self.app is None:
            return Response('{"error": "not ready"}', status=503)(environ, start_response)
        return self.app(environ, start_response)
