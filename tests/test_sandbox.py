"""The sandbox server: routing, recording, and injected faults over real HTTP."""

from __future__ import annotations

import pytest
import requests

from contactsync import Contact, ImportStatus
from contactsync.errors import ConfigurationError, NetworkError, RateLimited, ServerError
from contactsync.http import default_retry
from contactsync.sandbox import Sandbox
from contactsync.sandbox.faults import Faults
from tests.toy import ToyEmulator, ToyProvider


def _client(sandbox: Sandbox, **options: object) -> ToyProvider:
    return ToyProvider(**sandbox.credentials("toy"), poll_interval=0.01, **options)  # type: ignore[arg-type]


def test_unknown_prefixes_get_a_plain_404() -> None:
    with Sandbox([ToyEmulator()]) as sandbox:
        response = requests.get(f"{sandbox.url}/nobody/here", timeout=5)
    assert response.status_code == 404
    assert "no emulator serves /nobody/here" in response.text


def test_every_request_is_recorded_with_its_headers() -> None:
    with Sandbox([ToyEmulator()]) as sandbox:
        _client(sandbox).import_contacts([Contact("a@example.com")])
    (recorded,) = sandbox.requests
    assert (recorded.method, recorded.path, recorded.fault) == ("POST", "/toy/v1/imports", None)
    assert recorded.headers["Authorization"].startswith("Bearer ")


def test_injected_5xx_comes_in_the_providers_shape_and_changes_nothing() -> None:
    emulator = ToyEmulator()
    with Sandbox([emulator], faults="503:1") as sandbox:
        client = _client(sandbox, retry=default_retry(total=1, backoff_factor=0))
        job = client.import_contacts([Contact("a@example.com")])
        with pytest.raises(ServerError, match="injected fault"):
            client.transport.json("GET", "/v1/imports/1")
    assert job.status is ImportStatus.FAILED
    assert "injected fault" in job.extra["error"]
    assert emulator.state["contacts"] == {}
    assert sandbox.injected["503"] == 3  # the POST once (not repeated), the GET twice


def test_injected_429_is_retried_then_reported() -> None:
    with Sandbox([ToyEmulator()], faults="429:1") as sandbox:
        client = _client(sandbox, retry=default_retry(total=2, backoff_factor=0))
        with pytest.raises(RateLimited, match="slow down"):
            client.refresh("1")
    assert sandbox.injected["429"] == 3


def test_a_reset_drops_the_connection_and_may_have_applied_the_request() -> None:
    emulator = ToyEmulator()
    with Sandbox([emulator], faults="reset:1", seed=3) as sandbox:
        client = _client(sandbox)
        outcomes = []
        for i in range(8):
            with pytest.raises(NetworkError, match="may have been applied"):
                client.transport.json("POST", "/v1/imports", json={"contacts": [{"email": f"u{i}@example.com"}]})
            outcomes.append(f"u{i}@example.com" in emulator.state["contacts"])
    assert True in outcomes  # some were applied before the connection dropped...
    assert False in outcomes  # ...and some were not


def test_a_slow_response_is_applied_but_arrives_after_the_timeout() -> None:
    emulator = ToyEmulator()
    with Sandbox([emulator], faults="slow:1", slow_seconds=0.5) as sandbox:
        job = _client(sandbox, timeout=0.2).import_contacts([Contact("a@example.com")])
    assert "may have been applied" in job.extra["error"]
    assert "a@example.com" in emulator.state["contacts"]


def test_the_same_seed_draws_the_same_faults() -> None:
    plans = [Faults.parse("429:0.2,500:0.2,reset:0.1", seed=7) for _ in range(2)]
    assert [plans[0].draw() for _ in range(200)] == [plans[1].draw() for _ in range(200)]


def test_rates_are_honoured_roughly() -> None:
    faults = Faults.parse("500:0.1,slow:0.05", seed=1)
    drawn = [faults.draw() for _ in range(20_000)]
    assert drawn.count("500") == pytest.approx(2_000, rel=0.1)
    assert drawn.count("slow") == pytest.approx(1_000, rel=0.15)


@pytest.mark.parametrize("spec", ["teapot:0.1", "500:x", "500:0.7,429:0.5", "500:-0.1"])
def test_bad_fault_specs_are_configuration_errors(spec: str) -> None:
    with pytest.raises(ConfigurationError):
        Faults.parse(spec)


def test_an_import_survives_a_sprinkle_of_safe_faults() -> None:
    emulator = ToyEmulator()
    with Sandbox([emulator], faults="429:0.15,503:0.1", seed=11) as sandbox:
        client = _client(sandbox, retry=default_retry(total=8, backoff_factor=0.01))
        contacts = [Contact(f"user{i}@example.com") for i in range(30)]
        job = client.wait(client.import_contacts(contacts, route="json"))
        reported = {e.row for e in client.import_errors(job)}
    assert sandbox.injected["429"] + sandbox.injected["503"] > 0
    # 503 on a POST is not repeated, so a batch may be refused; every contact is then accepted or reported
    accepted = {i + 1 for i in range(30) if f"user{i}@example.com" in emulator.state["contacts"]}
    assert accepted | reported == set(range(1, 31))
    assert job.status in (ImportStatus.COMPLETED, ImportStatus.FAILED)
