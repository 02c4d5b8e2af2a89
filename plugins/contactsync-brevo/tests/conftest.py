"""Fixtures of the Brevo plugin's tests: a sandbox serving the Brevo emulator, a client, raw API calls."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, settings

from contactsync.sandbox import Sandbox
from contactsync_brevo.emulator import BrevoEmulator
from contactsync_brevo.provider import BrevoProvider

settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=100)
settings.register_profile("deep", parent=settings.get_profile("ci"), max_examples=2_000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


class Api:
    """Raw calls to the emulator, as any HTTP client of Brevo makes them (the ``api-key`` header)."""

    def __init__(self, base_url: str, key: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["api-key"] = key

    def __call__(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.base_url + path, timeout=30, **kwargs)

    def wait(self, process_id: int) -> dict[str, Any]:
        """Read the process until it is finished (each read is one step of its statuses)."""
        for _ in range(10):
            process: dict[str, Any] = self("GET", f"/v3/processes/{process_id}").json()
            if process["status"] in ("completed", "failed", "cancelled"):
                return process
        raise AssertionError(f"process {process_id} did not finish")


@pytest.fixture
def emulator() -> BrevoEmulator:
    """A fresh Brevo account in memory."""
    return BrevoEmulator()


@pytest.fixture
def sandbox(emulator: BrevoEmulator) -> Iterator[Sandbox]:
    """``Sandbox([BrevoEmulator()])`` on a free port, for one test."""
    with Sandbox([emulator]) as running:
        yield running


@pytest.fixture
def api(sandbox: Sandbox) -> Api:
    """Raw HTTP against the emulator with the account's key."""
    return Api(sandbox.base_url("brevo"), sandbox.credentials("brevo")["api_key"])


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[BrevoProvider]:
    """Our client, found through its entry point and connected to the sandbox."""
    with sandbox.connect("brevo") as connected:
        assert isinstance(connected, BrevoProvider)
        yield connected


@pytest.fixture
def list_id(api: Api) -> int:
    """A list in a folder of the account, made through the API."""
    folder = api("POST", "/v3/contacts/folders", json={"name": "Fixtures"}).json()["id"]
    created: int = api("POST", "/v3/contacts/lists", json={"name": "Fixture list", "folderId": folder}).json()["id"]
    return created
