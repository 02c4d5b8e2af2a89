"""The fault kinds the chaos runs rely on: jobs that fail, queued faults, and the sandbox command's --faults."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
import requests
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from contactsync import ConfigurationError, ImportStatus, ListSubscription
from contactsync.provider import Provider
from contactsync.sandbox import Emulator, Sandbox, json_response
from contactsync.sandbox.faults import Faults
from tests.reliability.conftest import PROVIDERS, emails, people

FAILURE = {"mailjet": "Error", "sendgrid": "failed", "dotmailer": "Failed"}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_jobfail_ends_a_job_in_the_providers_own_failure_status(provider: str) -> None:
    with Sandbox([provider]) as sandbox:
        client: Provider = sandbox.connect(provider)
        subscription = ListSubscription(client.create_list("Doomed"))
        sandbox.faults = Faults.parse("jobfail:1", seed=1)
        job = client.import_contacts(people(3), [subscription])
        for _ in range(6):
            job = client.refresh(job)
        stored = sandbox.contacts(provider, subscription.list_id)
    assert (job.status, job.provider_status) == (ImportStatus.FAILED, FAILURE[provider])
    assert sandbox.injected["jobfail"] == 1  # drawn once per job created, never per request
    assert stored == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_sandbox_contacts_shows_what_each_emulator_stores(provider: str) -> None:
    with Sandbox([provider]) as sandbox:
        client: Provider = sandbox.connect(provider)
        subscription = ListSubscription(client.create_list("Seen"))
        client.wait(client.import_contacts(people(2), [subscription]))
        assert emails(sandbox.contacts(provider)) == emails(sandbox.contacts(provider, subscription.list_id))
        assert emails(sandbox.contacts(provider)) == {c.email for c in people(2)}


class _Bare(Emulator):
    """An emulator of nothing: every hook at its simplest, ``contacts`` left at its default."""

    name = "bare"

    def rules(self) -> list[Rule]:
        return []

    def initial_state(self) -> dict[str, Any]:
        return {}

    def credentials(self) -> dict[str, str]:
        return {}

    def authenticate(self, request: Request) -> Response | None:
        return None

    def error(self, status: int, message: str) -> Response:
        return json_response({"error": message}, status)

    def rate_limited(self, retry_after: int) -> Response:
        return self.error(429, "slow down")


def test_an_emulator_that_keeps_no_contacts_says_so() -> None:
    with pytest.raises(NotImplementedError, match="bare emulator"):
        _Bare().contacts()


def test_queued_faults_come_first_then_the_drawn_ones() -> None:
    plan = Faults.parse("500:1", seed=1)
    plan.queue("503", None, "reset")
    assert [plan.draw() for _ in range(5)] == ["503", None, "reset", "500", "500"]


def test_only_request_faults_can_be_queued() -> None:
    with pytest.raises(ConfigurationError, match="jobfail"):
        Faults(()).queue("jobfail")


def test_job_faults_are_drawn_apart_from_request_faults() -> None:
    plan = Faults.parse("jobfail:1", seed=1)
    assert plan.draw() is None and plan.job_fails()


def test_the_sandbox_command_serves_with_faults() -> None:
    command = [sys.executable, "-m", "contactsync.cli", "sandbox", "--port", "0", "--json", "-p", "mailjet"]
    process = subprocess.Popen(
        [*command, "--faults", "503:1", "--seed", "5"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert process.stdout is not None
        started = json.loads(process.stdout.readline())
        answer = requests.get(f"{started['providers']['mailjet']['base_url']}/v3/REST/contactslist", timeout=10)
    finally:
        process.kill()
        process.wait(timeout=10)
    assert answer.status_code == 503
    assert answer.json() == {"ErrorInfo": "", "ErrorMessage": "injected fault", "StatusCode": 503}


def test_the_sandbox_command_refuses_an_unknown_fault() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "contactsync.cli", "sandbox", "--port", "0", "--faults", "gremlins:0.5"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode != 0
    assert "unknown fault kinds ['gremlins']" in result.stderr
