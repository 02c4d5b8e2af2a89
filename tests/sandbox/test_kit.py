"""What the sandbox offers applications' tests: portable contacts, reset, a typed connect, the job lifecycle."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from contactsync import Contact, FieldDefinition, FieldType, ListSubscription, Provider
from contactsync.sandbox import Emulator, JobLifecycle, Sandbox
from tests.toy import TOKEN, ToyEmulator

BUILTINS = ["mailjet", "sendgrid", "dotmailer"]


@pytest.fixture(scope="module")
def shared() -> Iterator[Sandbox]:
    """One sandbox for the module, reset by each test that uses it."""
    with Sandbox(BUILTINS) as running:
        yield running


@pytest.mark.parametrize("provider", BUILTINS)
def test_contacts_read_back_as_the_same_contacts_on_every_provider(shared: Sandbox, provider: str) -> None:
    shared.reset()
    client: Provider = shared.connect(provider)
    newsletter = client.create_list("Newsletter")
    client.ensure_fields([FieldDefinition("plan", FieldType.TEXT), FieldDefinition("seats", FieldType.INTEGER)])
    people = [Contact("Ann@Example.com", "Ann Lee", {"plan": "gold", "seats": 3}), Contact("bo@example.com")]
    client.wait(client.import_contacts(people[:1], [ListSubscription(newsletter)]))
    client.wait(client.import_contacts(people[1:]))
    stored = {c.email: c for c in shared.contacts(provider)}
    assert set(stored) == {"ann@example.com", "bo@example.com"}
    ann = stored["ann@example.com"]
    assert ann.name == "Ann Lee"
    assert {name.lower(): value for name, value in ann.properties.items()} == {"plan": "gold", "seats": 3}
    assert stored["bo@example.com"].name is None
    assert [c.email for c in shared.contacts(provider, newsletter)] == ["ann@example.com"]
    raw = shared.contacts(provider, as_model=False)
    assert all(isinstance(record, dict) for record in raw) and len(raw) == 2


def test_reset_empties_every_account_and_keeps_serving(shared: Sandbox) -> None:
    url = shared.url
    for name in BUILTINS:
        client = shared.connect(name)
        client.create_list("Kept until the reset")
        assert client.lists() != []
    shared.reset()
    assert shared.url == url and len(shared.requests) == 0
    for name in BUILTINS:
        assert shared.connect(name).lists() == []
        assert shared.contacts(name) == []


def test_connect_gives_a_quickly_polling_provider(shared: Sandbox) -> None:
    client = shared.connect("mailjet")
    assert isinstance(client, Provider) and client.poll_interval == 0.02
    assert shared.connect("mailjet", poll_interval=0.5).poll_interval == 0.5


def _toy_job(sandbox: Sandbox) -> tuple[requests.Session, str]:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {TOKEN}"
    answer = session.post(f"{sandbox.base_url('toy')}/v1/imports", json={"contacts": [], "lists": []}, timeout=5)
    return session, answer.json()["job"]


def test_a_toy_job_moves_one_status_per_read_through_its_lifecycle() -> None:
    with Sandbox([ToyEmulator()]) as sandbox:
        session, job = _toy_job(sandbox)
        url = f"{sandbox.base_url('toy')}/v1/imports/{job}"
        states = [session.get(url, timeout=5).json()["state"] for _ in range(4)]
    assert states == ["queued", "working", "done", "done"]


class _Queued(ToyEmulator):
    """The toy with a job applied by the emulator's worker, to see when ``read_job`` settles it."""

    applied: list[str]

    def job_steps(self, key: str) -> Iterator[object]:
        if key not in self.applied:
            self.applied.append(key)
        yield None


def test_read_job_settles_a_queued_job_from_the_read_the_lifecycle_names() -> None:
    emulator = _Queued()
    emulator.applied = []
    emulator.apply_in_background = False
    job: dict[str, Any] = {}
    lifecycle = JobLifecycle(("pending", "running", "running"), settle_from=2, counter="reads")
    with emulator.lock:
        emulator.queue_job("7")
        seen = [emulator.read_job(job, lifecycle, lambda: f"done after {emulator.applied}", key="7")]
        assert emulator.applied == []
        seen += [emulator.read_job(job, lifecycle, lambda: f"done after {emulator.applied}", key="7") for _ in range(3)]
    assert seen == ["pending", "running", "running", "done after ['7']"]
    assert job == {"reads": 4}


def test_an_emulator_that_cannot_read_its_records_as_contacts_says_so() -> None:
    class Plain(ToyEmulator):
        name = "plain"
        contact_of = Emulator.contact_of  # the base's default

    with Sandbox([Plain()]) as sandbox:
        sandbox.emulators["plain"].state["contacts"]["a@example.com"] = {"email": "a@example.com"}
        with pytest.raises(NotImplementedError, match="plain emulator"):
            sandbox.contacts("plain")
