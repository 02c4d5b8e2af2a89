"""The transport against a real HTTP server on 127.0.0.1: retries, backoff, error mapping, redaction, hosts."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from urllib3.response import HTTPResponse
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from contactsync import __version__
from contactsync.errors import (
    AuthenticationError,
    ConfigurationError,
    NetworkError,
    NotFound,
    ProviderError,
    RateLimited,
    ServerError,
)
from contactsync.http import BasicAuth, BearerAuth, Transport, default_retry
from contactsync.sandbox import Emulator, Sandbox, json_response

SECRET = "sk-very-secret-0042"


class ScriptEmulator(Emulator):
    """Answers each request with the next scripted response; records what it received."""

    name = "script"
    prefixes = ("script-storage",)
    public_endpoints = frozenset({"answer"})

    def __init__(self) -> None:
        super().__init__()
        self.script: list[tuple[int, dict[str, str], Any, float]] = []
        self.received: list[Request] = []

    def rules(self) -> list[Rule]:
        return [Rule("/<path:rest>", endpoint="answer", methods=["GET", "POST", "PUT", "DELETE"])]

    def initial_state(self) -> dict[str, Any]:
        return {}

    def credentials(self) -> dict[str, str]:
        return {}

    def authenticate(self, request: Request) -> Response | None:
        return None

    def error(self, status: int, message: str) -> Response:
        return json_response({"message": message}, status)

    def rate_limited(self, retry_after: int) -> Response:
        return json_response({"message": "slow down"}, 429, {"Retry-After": str(retry_after)})

    def answer(self, request: Request, rest: str) -> Response:
        self.received.append(request)
        status, headers, body, delay = self.script.pop(0) if self.script else (200, {}, {"ok": True}, 0.0)
        if delay:
            time.sleep(delay)
        if body == "echo-auth":
            body = {"message": f"you sent {request.headers.get('Authorization')}"}
        if body == "trickle":  # one byte every half second, for half a minute
            return Response(_trickle(60, 0.5), status=status, headers=headers, content_type="application/json")
        if body == "not json":
            return Response("<html>oops</html>", status=status, headers=headers, content_type="text/html")
        return json_response(body, status, headers)


def _trickle(count: int, pause: float) -> Iterator[bytes]:
    for _ in range(count):
        time.sleep(pause)
        yield b" "


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
        auth=BearerAuth(SECRET),
        secrets=[SECRET],
        error_parser=lambda r: (r.json()["message"], "E42"),
        **options,
    )


def test_idempotent_request_is_retried_after_a_server_error(server: tuple[ScriptEmulator, str]) -> None:
    emulator, url = server
    emulator.script = [(503, {}, {"message": "busy"}, 0.0)]
    assert _transport(url).json("GET", "/things") == {"ok": True}
    assert len(emulator.received) == 2


def test_post_is_not_repeated_after_a_server_error(server: tuple[ScriptEmulator, str]) -> None:
    emulator, url = server
    emulator.script = [(500, {}, {"message": "boom"}, 0.0)]
    with pytest.raises(ServerError) as caught:
        _transport(url).json("POST", "/things", json={"a": 1})
    assert len(emulator.received) == 1
    assert (caught.value.status, caught.value.message, caught.value.code) == (500, "boom", "E42")


def test_post_declared_safe_is_retried(server: tuple[ScriptEmulator, str]) -> None:
    emulator, url = server
    emulator.script = [(502, {}, {"message": "gateway"}, 0.0)]
    assert _transport(url).json("POST", "/search", json={}, safe=True) == {"ok": True}
    assert len(emulator.received) == 2


def test_rate_limited_post_is_retried_after_retry_after(server: tuple[ScriptEmulator, str]) -> None:
    emulator, url = server
    emulator.script = [(429, {"Retry-After": "1"}, {"message": "slow"}, 0.0)]
    started = time.monotonic()
    assert _transport(url).json("POST", "/things", json={}) == {"ok": True}
    assert time.monotonic() - started >= 0.9
    assert len(emulator.received) == 2


def test_rate_limit_reset_header_is_honoured_when_there_is_no_retry_after(server: tuple[ScriptEmulator, str]) -> None:
    emulator, url = server
    emulator.script = [(429, {"X-RateLimit-Reset": "1"}, {"message": "slow"}, 0.0)]
    started = time.monotonic()
    _transport(url).json("GET", "/things")
    assert time.monotonic() - started >= 0.9


def test_exhausted_rate_limit_raises_with_retry_after(server: tuple[ScriptEmulator, str]) -> None:
    emulator, url = server
    emulator.script = [(429, {"Retry-After": "0"}, {"message": "slow"}, 0.0)] * 4
    with pytest.raises(RateLimited) as caught:
        _transport(url).json("GET", "/things")
    assert caught.value.retry_after == 0
    assert len(emulator.received) == 4


@pytest.mark.parametrize(
    ("reset", "expected"),
    [("30", 30.0), ("epoch+60", 60.0), ("junk", None), ("100000", 100000.0)],
)
def test_reset_header_is_read_as_seconds_or_epoch(reset: str, expected: float | None) -> None:
    if reset == "epoch+60":
        reset = str(int(time.time()) + 60)
    response = HTTPResponse(status=429, headers={"X-RateLimit-Reset": reset})
    seconds = default_retry().get_retry_after(response)
    if expected is None:
        assert seconds is None
    else:
        assert seconds == pytest.approx(expected, abs=2)


@pytest.mark.parametrize(
    ("status", "error"), [(401, AuthenticationError), (403, AuthenticationError), (404, NotFound), (400, ProviderError)]
)
def test_failures_map_to_the_hierarchy(server: tuple[ScriptEmulator, str], status: int, error: type[Exception]) -> None:
    emulator, url = server
    emulator.script = [(status, {}, {"message": "nope"}, 0.0)]
    with pytest.raises(error) as caught:
        _transport(url).json("GET", "/things")
    assert type(caught.value) is error
    assert "script" in str(caught.value)
    assert f"HTTP {status}" in str(caught.value)


def test_credentials_are_redacted_from_error_bodies_and_messages(server: tuple[ScriptEmulator, str]) -> None:
    emulator, url = server
    emulator.script = [(400, {}, "echo-auth", 0.0)]
    with pytest.raises(ProviderError) as caught:
        _transport(url).json("GET", "/things")
    assert SECRET not in str(caught.value)
    assert SECRET not in caught.value.body
    assert "[redacted]" in caught.value.message


def test_basic_credentials_are_redacted_in_their_encoded_form() -> None:
    transport = Transport(
        "x", "https://api.example.com", auth=BasicAuth("user-1234", SECRET), secrets=["user-1234", SECRET]
    )
    header = BasicAuth("user-1234", SECRET)._header
    assert transport.redact(f"got {header}") == "got Basic [redacted]"


def test_reprs_and_logs_show_no_secret(server: tuple[ScriptEmulator, str], caplog: pytest.LogCaptureFixture) -> None:
    _, url = server
    transport = _transport(url)
    with caplog.at_level(logging.DEBUG):
        transport.json("GET", "/things")
    assert caplog.records
    for text in (repr(transport), repr(BearerAuth(SECRET)), repr(BasicAuth("u", SECRET)), caplog.text):
        assert SECRET not in text


def test_auth_and_user_agent_go_to_the_api_only(server: tuple[ScriptEmulator, str]) -> None:
    emulator, url = server
    transport = _transport(url)
    transport.json("GET", "/things")
    outside_prefix = url.rsplit("/", 1)[0] + "/script-storage/upload"  # same host, outside the base path
    other_host = url.replace("127.0.0.1", "localhost") + "/things"
    transport.request("GET", outside_prefix)
    transport.request("GET", other_host)
    api, storage, other = emulator.received
    assert api.headers["Authorization"] == f"Bearer {SECRET}"
    assert api.headers["User-Agent"] == f"contactsync/{__version__}"
    assert "Authorization" not in storage.headers
    assert "Authorization" not in other.headers


def test_plain_http_to_a_remote_host_is_refused_unless_allowed() -> None:
    with pytest.raises(ConfigurationError, match="https"):
        Transport("x", "http://api.example.com", auth=None)
    assert Transport("x", "http://api.example.com", auth=None, allow_insecure=True).base_url == "http://api.example.com"


def test_slow_response_times_out_and_get_is_retried(server: tuple[ScriptEmulator, str]) -> None:
    emulator, url = server
    emulator.script = [(200, {}, {"late": True}, 0.5)]
    assert _transport(url, timeout=0.2).json("GET", "/things") == {"ok": True}
    assert len(emulator.received) >= 2  # the emulator answers one request at a time, so a retry may wait too


def test_slow_post_is_not_repeated(server: tuple[ScriptEmulator, str]) -> None:
    emulator, url = server
    emulator.script = [(200, {}, {"late": True}, 0.5)]
    with pytest.raises(NetworkError, match="may have been applied"):
        _transport(url, timeout=0.2).json("POST", "/things", json={})
    assert len(emulator.received) == 1


def test_refused_connection_is_retried_even_for_post() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    transport = _transport(f"http://127.0.0.1:{port}", retry=default_retry(total=2, backoff_factor=0.1))
    started = time.monotonic()
    with pytest.raises(NetworkError, match="retries exhausted"):
        transport.json("POST", "/things", json={})
    assert time.monotonic() - started >= 0.1  # it backed off before giving up


def test_a_wait_beyond_max_retry_wait_fails_fast_with_rate_limited(server: tuple[ScriptEmulator, str]) -> None:
    emulator, url = server
    emulator.script = [(429, {"Retry-After": "7200"}, {"message": "come back later"}, 0.0)]
    started = time.monotonic()
    with pytest.raises(RateLimited) as caught:
        _transport(url, max_retry_wait=30).json("GET", "/things")
    assert time.monotonic() - started < 2
    assert caught.value.retry_after == 7200
    assert len(emulator.received) == 1


def test_a_wait_within_max_retry_wait_is_slept(server: tuple[ScriptEmulator, str]) -> None:
    emulator, url = server
    emulator.script = [(429, {"Retry-After": "1"}, {"message": "slow"}, 0.0)]
    started = time.monotonic()
    assert _transport(url, max_retry_wait=1).json("GET", "/things") == {"ok": True}
    assert time.monotonic() - started >= 0.9


def test_an_answer_trickled_a_byte_at_a_time_is_cut_off_at_the_timeout(server: tuple[ScriptEmulator, str]) -> None:
    emulator, url = server
    emulator.script = [(200, {}, "trickle", 0.0)]
    started = time.monotonic()
    with pytest.raises(NetworkError, match="still arriving"):
        _transport(url, timeout=1, retry=default_retry(total=0)).json("GET", "/things")
    assert time.monotonic() - started < 3  # one timeout, and one byte's wait past it at most


def test_retries_and_waits_stop_at_the_total_timeout(server: tuple[ScriptEmulator, str]) -> None:
    emulator, url = server
    emulator.script = [(503, {"Retry-After": "1"}, {"message": "busy"}, 0.0)] * 10
    started = time.monotonic()
    with pytest.raises(ServerError):
        _transport(url, total_timeout=1.5, retry=default_retry(total=10)).json("GET", "/things")
    assert time.monotonic() - started < 2.5
    assert len(emulator.received) <= 2


def _chain(error: BaseException) -> list[BaseException]:
    found = [error]
    while found[-1].__context__ is not None or found[-1].__cause__ is not None:
        found.append(found[-1].__cause__ or found[-1].__context__)  # type: ignore[arg-type]
    return found


def test_a_network_error_holds_no_request(server: tuple[ScriptEmulator, str]) -> None:
    emulator, url = server
    emulator.script = [(200, {}, {"late": True}, 0.5)]
    with pytest.raises(NetworkError) as caught:
        _transport(url, timeout=0.2).json("POST", "/things", json={})
    assert _chain(caught.value) == [caught.value]  # the requests error (and its prepared request) is not kept
    assert SECRET not in repr(vars(caught.value))


def test_an_answer_that_is_not_json_gives_an_error_holding_no_request(server: tuple[ScriptEmulator, str]) -> None:
    emulator, url = server
    emulator.script = [(200, {}, "not json", 0.0)]
    with pytest.raises(ProviderError, match="not JSON") as caught:
        _transport(url).json("GET", "/things")
    assert _chain(caught.value) == [caught.value]
