"""What a provider plugin declares to the transport: a key in a header it names, its own rate-limit reset headers."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from urllib3.response import HTTPResponse

from contactsync.errors import ProviderError, RateLimited
from contactsync.http import DEFAULT_RESET_HEADERS, HeaderAuth, RateLimitRetry, Transport, default_retry
from contactsync.provider import Provider
from contactsync.sandbox import Sandbox
from tests.test_http import ScriptEmulator
from tests.toy import ToyProvider

KEY = "xkeysib-0123456789abcdef-secret"
RESET = "x-sib-ratelimit-reset"


@pytest.fixture
def server() -> Iterator[tuple[ScriptEmulator, str]]:
    emulator = ScriptEmulator()
    with Sandbox([emulator]) as sandbox:
        yield emulator, sandbox.base_url("script")


def _transport(base_url: str, **options: Any) -> Transport:
    options.setdefault("retry", default_retry(total=3, backoff_factor=0))
    return Transport(
        "script",
        base_url,
        auth=HeaderAuth("api-key", KEY),
        secrets=[KEY],
        error_parser=lambda r: (r.json()["message"], None),
        **options,
    )


def test_header_auth_sends_the_key_in_the_named_header(server: tuple[ScriptEmulator, str]) -> None:
    emulator, url = server
    _transport(url).json("GET", "/things")
    (received,) = emulator.received
    assert received.headers["api-key"] == KEY
    assert "Authorization" not in received.headers


def test_header_auth_goes_to_the_api_only(server: tuple[ScriptEmulator, str]) -> None:
    emulator, url = server
    _transport(url).request("GET", url.rsplit("/", 1)[0] + "/script-storage/upload")
    (received,) = emulator.received
    assert "api-key" not in received.headers


def test_header_auth_shows_no_key_in_its_repr_or_the_logs(
    server: tuple[ScriptEmulator, str], caplog: pytest.LogCaptureFixture
) -> None:
    _, url = server
    with caplog.at_level(logging.DEBUG):
        _transport(url).json("GET", "/things")
    assert repr(HeaderAuth("api-key", KEY)) == "HeaderAuth('api-key', [redacted])"
    assert caplog.records
    assert KEY not in caplog.text


def test_a_header_key_echoed_in_an_error_is_redacted(server: tuple[ScriptEmulator, str]) -> None:
    emulator, url = server
    emulator.script = [(400, {}, {"message": f"bad key {KEY}"}, 0.0)]
    with pytest.raises(ProviderError) as caught:
        _transport(url).json("GET", "/things")
    assert KEY not in str(caught.value)
    assert KEY not in caught.value.body
    assert caught.value.message == "bad key [redacted]"


def test_declared_reset_headers_are_read_on_a_429() -> None:
    response = HTTPResponse(status=429, headers={RESET: "45", "X-RateLimit-Reset": "5"})
    assert default_retry(reset_headers=(RESET,)).get_retry_after(response) == pytest.approx(45)


def test_the_default_reset_header_is_x_ratelimit_reset() -> None:
    response = HTTPResponse(status=429, headers={RESET: "45", "X-RateLimit-Reset": "5"})
    assert DEFAULT_RESET_HEADERS == ("X-RateLimit-Reset",)
    assert default_retry().get_retry_after(response) == pytest.approx(5)


def test_reset_headers_are_tried_in_order_skipping_unreadable_ones() -> None:
    response = HTTPResponse(status=429, headers={"first": "soon", "second": "7"})
    assert RateLimitRetry(reset_headers=("first", "second")).get_retry_after(response) == pytest.approx(7)


def test_reset_headers_survive_each_attempt() -> None:
    retry = default_retry(total=3, reset_headers=(RESET,)).increment("GET", "/x").increment("GET", "/x")
    assert retry.reset_headers == (RESET,)
    assert retry.total == 1


def test_retry_after_still_wins_over_a_reset_header() -> None:
    response = HTTPResponse(status=429, headers={"Retry-After": "3", RESET: "45"})
    assert default_retry(reset_headers=(RESET,)).get_retry_after(response) == pytest.approx(3)


def test_a_transport_waits_for_the_declared_reset_header(server: tuple[ScriptEmulator, str]) -> None:
    emulator, url = server
    emulator.script = [(429, {RESET: "1"}, {"message": "slow"}, 0.0)]
    started = time.monotonic()
    assert _transport(url, reset_headers=(RESET,)).json("GET", "/things") == {"ok": True}
    assert time.monotonic() - started >= 0.9
    assert len(emulator.received) == 2


def test_a_transport_gives_its_reset_headers_to_the_callers_retry_policy(server: tuple[ScriptEmulator, str]) -> None:
    emulator, url = server
    emulator.script = [(429, {RESET: "9"}, {"message": "slow"}, 0.0)] * 2
    transport = _transport(url, retry=RateLimitRetry(total=1, status_forcelist={429}), reset_headers=(RESET,))
    with pytest.raises(RateLimited) as caught:
        transport.json("GET", "/things")
    assert caught.value.retry_after == pytest.approx(9)


def test_a_provider_declares_its_reset_headers_as_data(server: tuple[ScriptEmulator, str]) -> None:
    class Declaring(ToyProvider):
        reset_headers: ClassVar[tuple[str, ...] | None] = (RESET,)

    emulator, url = server
    done = {"id": "1", "state": "done", "total": 1, "created": 1, "updated": 0, "failed": 0}
    emulator.script = [(429, {RESET: "1"}, {"error": "slow"}, 0.0), (200, {}, done, 0.0)]
    client = Declaring(token="t0ken", base_url=url, retry=RateLimitRetry(total=2, status_forcelist={429}))
    started = time.monotonic()
    assert client.fetch_status("1").provider_status == "done"
    assert time.monotonic() - started >= 0.9
    assert Provider.reset_headers is None
