"""WebhookApp: a WSGI application receiving the providers' webhooks, one path per provider.

Each request is verified, parsed and handed to the application's handler; the status
code tells the provider whether to send it again (any non-2xx is retried).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from contactsync.errors import ConfigurationError, ContactSyncError, InvalidInput, InvalidSignature
from contactsync.events.formats import configure, webhook_format
from contactsync.model import ContactEvent

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = ["DEFAULT_MAX_BODY_BYTES", "WebhookApp"]

log = logging.getLogger("contactsync.events")

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
"""The largest request body read (4 MiB): SendGrid posts batches of up to 768 KB (reference/sendgrid.md
§13b); Mailjet's batch size is not documented (reference/mailjet.md §12b), a second of events is far less."""


def _answer(status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=dict(headers or {}), content_type="application/json")


class WebhookApp:
    """A WSGI application serving ``POST /<provider>`` for each provider given settings.

    ``WebhookApp(handler, sendgrid={"verification_key": ...}, mailjet={"username": ..., "password": ...})``.
    A request that verifies and parses calls ``handler(events)`` with its events (not when there
    are none) and answers 200. Bad signature or credentials: 401, nothing handled. Malformed body:
    400. Body over ``max_body_bytes``: 413. The handler raised: 500, so the provider sends the
    request again and no event is lost; the handler must therefore tolerate repeats.
    """

    def __init__(
        self,
        handler: Callable[[list[ContactEvent]], object],
        *,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        **provider_settings: Mapping[str, Any],
    ) -> None:
        if not provider_settings:
            raise ConfigurationError("WebhookApp needs settings for at least one provider, e.g. sendgrid={...}")
        if max_body_bytes < 1:
            raise ConfigurationError("max_body_bytes must be positive")
        self.handler = handler
        self.max_body_bytes = max_body_bytes
        self._settings = {name: configure(name, values) for name, values in provider_settings.items()}

    @property
    def paths(self) -> Sequence[str]:
        """The paths served, one per configured provider (``/sendgrid``, ``/mailjet``)."""
        return [f"/{name}" for name in self._settings]

    def __repr__(self) -> str:
        return f"WebhookApp(paths={list(self.paths)!r}, max_body_bytes={self.max_body_bytes})"

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        # One byte over the cap: werkzeug stops a chunked body at the limit without an error, so a
        # body read to cap + 1 bytes is how an oversized one shows.
        request.max_content_length = self.max_body_bytes + 1
        return self._respond(request)(environ, start_response)

    def _respond(self, request: Request) -> Response:
        provider = request.path.strip("/")
        settings = self._settings.get(provider)
        if settings is None:
            return _answer(404, {"error": f"no webhook is served at {request.path}"})
        if request.method != "POST":
            return _answer(405, {"error": "webhooks are POSTed"}, {"Allow": "POST"})
        try:
            body = request.get_data(cache=False)
        except RequestEntityTooLarge:  # the Content-Length says so
            body = None
        if body is None or len(body) > self.max_body_bytes:
            return _answer(413, {"error": f"the body exceeds {self.max_body_bytes} bytes"})
        try:
            received = webhook_format(provider).parse(dict(request.headers.items()), body, settings)
        except InvalidSignature as exc:
            log.warning("refused a %s webhook request: %s", provider, exc)
            return _answer(401, {"error": str(exc)})
        except InvalidInput as exc:
            log.warning("refused a malformed %s webhook request: %s", provider, exc)
            return _answer(400, {"error": str(exc)})
        if received:
            try:
                self.handler(received)
            except ContactSyncError as exc:  # a failure the handler explains: its message is enough
                log.error("the webhook handler failed on %d %s events (answered 500): %s", len(received), provider, exc)
                return _answer(500, {"error": "the handler failed; send the events again"})
            except Exception:
                log.exception("the webhook handler failed on %d %s events (answered 500)", len(received), provider)
                return _answer(500, {"error": "the handler failed; send the events again"})
        return _answer(200, {"received": len(received)})
