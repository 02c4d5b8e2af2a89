"""``webhooks serve``: receive the providers' webhooks; write the normalised events as JSON lines, or forward them."""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Mapping
from datetime import timedelta
from types import FrameType
from typing import Any, TextIO

import click
import requests

from contactsync.cli.app import cli
from contactsync.cli.connect import json_option
from contactsync.cli.output import emit_json
from contactsync.errors import ContactSyncError
from contactsync.http import without_credentials
from contactsync.model import ContactEvent

FORWARD_TIMEOUT = 30.0
"""Seconds to wait for the ``--forward-to`` receiver; past that the provider is told to retry."""


def event_record(event: ContactEvent) -> dict[str, Any]:
    """One event as a JSON-ready record: the model's fields, the instant in ISO 8601, the raw record as sent."""
    return {
        "provider": event.provider,
        "type": event.type.value,
        "email": event.email,
        "at": event.at.isoformat() if event.at is not None else None,
        "list_id": event.list_id,
        "reason": event.reason,
        "raw": dict(event.raw),
    }


class JsonLines:
    """Appends each event to a text stream as one JSON line, flushed after every request's events."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._lock = threading.Lock()

    def __call__(self, events: list[ContactEvent]) -> None:
        text = "".join(json.dumps(event_record(e), ensure_ascii=False) + "\n" for e in events)
        with self._lock:
            self._out.write(text)
            self._out.flush()


class ForwardFailed(ContactSyncError):
    """The ``--forward-to`` receiver did not take the events (the provider is answered 500 and retries)."""


class Forwarder:
    """POSTs each request's events, as a JSON array of event records, to a URL of the application's."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._shown = without_credentials(url)
        self._session = requests.Session()

    def __call__(self, events: list[ContactEvent]) -> None:
        body = json.dumps([event_record(e) for e in events], ensure_ascii=False).encode("utf-8")
        try:
            response = self._session.post(
                self.url, data=body, headers={"Content-Type": "application/json"}, timeout=FORWARD_TIMEOUT
            )
        except requests.RequestException as exc:
            raise ForwardFailed(f"forwarding to {self._shown} failed: {type(exc).__name__}") from None
        if not response.ok:
            raise ForwardFailed(f"forwarding to {self._shown} failed: HTTP {response.status_code}")


def provider_settings(
    *,
    key: str | None,
    unsigned: bool,
    tolerance: float,
    username: str | None,
    password: str | None,
    no_auth: bool,
) -> dict[str, Mapping[str, Any]]:
    """The WebhookApp settings the flags ask for; a usage error when they contradict or name no provider."""
    settings: dict[str, Mapping[str, Any]] = {}
    if key is not None and unsigned:
        raise click.UsageError("give --sendgrid-key or --sendgrid-unsigned, not both")
    if key is not None or unsigned:
        settings["sendgrid"] = {"verification_key": key, "tolerance": timedelta(seconds=tolerance)}
    if (username is None) != (password is None):
        raise click.UsageError("give both --mailjet-username and --mailjet-password")
    if username is not None and no_auth:
        raise click.UsageError("give Mailjet credentials or --mailjet-no-auth, not both")
    if username is not None or no_auth:
        settings["mailjet"] = {"username": username, "password": password}
    if not settings:
        raise click.UsageError(
            "serve at least one provider: --sendgrid-key KEY (or --sendgrid-unsigned), "
            "--mailjet-username and --mailjet-password (or --mailjet-no-auth)"
        )
    return settings


@cli.group()
def webhooks() -> None:
    """Receive the providers' webhooks as normalised contact events."""


@webhooks.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8026, show_default=True, help="Port (0 picks a free one).")
@click.option(
    "--sendgrid-key",
    envvar="SENDGRID_WEBHOOK_PUBLIC_KEY",
    show_envvar=True,
    help="Serve /sendgrid, verifying signatures with this public key (base64, from the webhook's signed settings).",
)
@click.option("--sendgrid-unsigned", is_flag=True, help="Serve /sendgrid without checking signatures.")
@click.option(
    "--tolerance",
    type=click.FloatRange(min=0),
    default=300.0,
    show_default=True,
    help="Seconds a SendGrid signature's timestamp may be from now.",
)
@click.option("--mailjet-username", envvar="MAILJET_WEBHOOK_USERNAME", show_envvar=True, help="Serve /mailjet ...")
@click.option(
    "--mailjet-password",
    envvar="MAILJET_WEBHOOK_PASSWORD",
    show_envvar=True,
    help="... checking these Basic credentials (the ones in the callback URL).",
)
@click.option("--mailjet-no-auth", is_flag=True, help="Serve /mailjet without checking credentials.")
@click.option(
    "--jsonl",
    type=click.File("a", encoding="utf-8", lazy=False),
    help="Append each event to FILE as a JSON line (the default: standard output).",
)
@click.option("--forward-to", metavar="URL", help="POST each request's events to URL as a JSON array instead.")
@click.option("--max-body-bytes", type=click.IntRange(min=1), default=4 * 1024 * 1024, show_default=True)
@json_option
@click.pass_context
def serve(  # noqa: PLR0917 - one parameter per option
    ctx: click.Context,
    host: str,
    port: int,
    sendgrid_key: str | None,
    sendgrid_unsigned: bool,
    tolerance: float,
    mailjet_username: str | None,
    mailjet_password: str | None,
    mailjet_no_auth: bool,
    jsonl: TextIO | None,
    forward_to: str | None,
    max_body_bytes: int,
    as_json: bool,
) -> None:
    """Serve POST /sendgrid and /mailjet until stopped (Ctrl-C), writing or forwarding the events received.

    A request that fails verification gets 401; one whose events cannot be written or forwarded
    gets 500, so the provider sends it again.
    """
    from werkzeug.serving import make_server

    from contactsync.events import WebhookApp

    ctx.meta["json"] = as_json
    if jsonl is not None and forward_to is not None:
        raise click.UsageError("give --jsonl or --forward-to, not both")
    settings = provider_settings(
        key=sendgrid_key,
        unsigned=sendgrid_unsigned,
        tolerance=tolerance,
        username=mailjet_username,
        password=mailjet_password,
        no_auth=mailjet_no_auth,
    )
    handler = Forwarder(forward_to) if forward_to else JsonLines(jsonl or sys.stdout)
    app = WebhookApp(handler, max_body_bytes=max_body_bytes, **settings)
    server = make_server(host, port, app, threaded=True)
    url = f"http://{host}:{server.server_port}"
    output = f"forward to {without_credentials(forward_to)}" if forward_to else f"JSON lines to {_stream_name(jsonl)}"
    if as_json:
        emit_json({"url": url, "paths": list(app.paths), "output": output})
    else:
        click.echo(f"contactsync webhooks serving on {url}: POST {', '.join(app.paths)}; {output}", err=True)
    sys.stdout.flush()
    _serve_until_stopped(server)


def _stream_name(out: TextIO | None) -> str:
    return getattr(out or sys.stdout, "name", "<stdout>")


def _serve_until_stopped(server: Any) -> None:
    """Serve in a thread until SIGTERM or Ctrl-C, then shut the server down."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_signal)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
