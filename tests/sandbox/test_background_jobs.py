"""Import jobs applied in the background by the SendGrid and dotmailer emulators, over raw HTTP.

A job lands whether or not anyone polls it; its status still moves one step per read;
a status read applies a job the worker has not reached (and every job queued before it).
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from contactsync.sandbox import Sandbox
from contactsync.sandbox.dotmailer import DotmailerEmulator
from contactsync.sandbox.sendgrid import JOB_STEP_ROWS, SendGridEmulator

DEADLINE = 30.0
"""Seconds a background job may take to land before a test fails (a generous bound for a loaded machine)."""


def eventually(check: Callable[[], bool]) -> None:
    """Poll ``check`` until it holds; fail after ``DEADLINE`` seconds."""
    give_up = time.monotonic() + DEADLINE
    while not check():
        assert time.monotonic() < give_up, "the background job did not land in time"
        time.sleep(0.02)


def emails(count: int, domain: str = "example.com") -> list[str]:
    return [f"c{i}@{domain}" for i in range(count)]


class SendGrid:
    """Raw requests to the SendGrid emulator with the account's Bearer key."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.base = sandbox.base_url("sendgrid")
        self.headers = {"Authorization": f"Bearer {sandbox.credentials('sendgrid')['api_key']}"}

    def __call__(self, method: str, path: str, body: Any = None) -> Any:
        answer = requests.request(method, self.base + path, json=body, headers=self.headers, timeout=30)
        assert answer.status_code < 300, answer.text
        return answer.json()

    def upsert(self, addresses: list[str], first_name: str = "") -> str:
        contacts = [{"email": e, "first_name": first_name} for e in addresses]
        job_id: str = self("PUT", "/v3/marketing/contacts", {"contacts": contacts})["job_id"]
        return job_id

    def csv_import(self, addresses: list[str]) -> str:
        body = self("PUT", "/v3/marketing/contacts/imports", {"file_type": "csv", "field_mappings": ["_rf2_T"]})
        headers = {pair["header"]: pair["value"] for pair in body["upload_headers"]}
        data = gzip.compress(("email\n" + "".join(f"{e}\n" for e in addresses)).encode())
        assert requests.put(body["upload_uri"], data=data, headers=headers, timeout=30).status_code == 200
        job_id: str = body["job_id"]
        return job_id

    def status(self, job_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self("GET", f"/v3/marketing/contacts/imports/{job_id}")
        return found


class Dotmailer:
    """Raw requests to the dotmailer emulator with the account's Basic credentials."""

    def __init__(self, sandbox: Sandbox) -> None:
        credentials = sandbox.credentials("dotmailer")
        self.base = sandbox.base_url("dotmailer")
        self.auth = (credentials["username"], credentials["password"])
        self.book = self.post("/v2/address-books", json={"name": "background"}).json()["id"]

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.post(self.base + path, auth=self.auth, timeout=30, **kwargs)

    def get(self, path: str) -> requests.Response:
        return requests.get(self.base + path, auth=self.auth, timeout=30)

    def upload(self, addresses: list[str], name: str = "") -> str:
        text = "Email,FULLNAME\n" + "".join(f"{e},{name}\n" for e in addresses)
        files = {"file": ("contacts.csv", text.encode(), "text/csv")}
        answer = self.post(f"/v2/address-books/{self.book}/contacts/import", files=files)
        assert answer.status_code == 202, answer.text
        import_id: str = answer.json()["id"]
        return import_id

    def status(self, import_id: str) -> str:
        status: str = self.get(f"/v2/contacts/import/{import_id}").json()["status"]
        return status


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(["sendgrid", "dotmailer"]) as running:
        yield running


@pytest.fixture
def sendgrid(sandbox: Sandbox) -> SendGrid:
    return SendGrid(sandbox)


@pytest.fixture
def dotmailer(sandbox: Sandbox) -> Dotmailer:
    return Dotmailer(sandbox)


def worker_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("contactsync-") and t.name.endswith("-jobs")]


# -- jobs land without anyone polling ---------------------------------------------------------


def test_a_sendgrid_upsert_nobody_polls_lands(sandbox: Sandbox, sendgrid: SendGrid) -> None:
    count = 2 * JOB_STEP_ROWS + 7  # more than one step
    sendgrid.upsert(emails(count))
    eventually(lambda: len(sandbox.contacts("sendgrid")) == count)


def test_a_sendgrid_csv_import_lands_once_its_file_is_uploaded(sandbox: Sandbox, sendgrid: SendGrid) -> None:
    body = sendgrid("PUT", "/v3/marketing/contacts/imports", {"file_type": "csv", "field_mappings": ["_rf2_T"]})
    assert sandbox.contacts("sendgrid") == []  # no file yet: nothing to apply, and the status stays put
    assert [sendgrid.status(body["job_id"])["results"] for _ in range(3)] == [{}, {}, {}]
    sendgrid.csv_import(emails(50))
    eventually(lambda: len(sandbox.contacts("sendgrid")) == 50)


def test_a_dotmailer_upload_nobody_polls_lands(sandbox: Sandbox, dotmailer: Dotmailer) -> None:
    count = 5_003
    dotmailer.upload(emails(count))
    eventually(lambda: len(sandbox.contacts("dotmailer", str(dotmailer.book))) == count)


# -- status semantics are those of a job applied at its status read ---------------------------------------


def test_sendgrid_status_steps_are_unchanged_after_the_job_landed(sandbox: Sandbox, sendgrid: SendGrid) -> None:
    contacts = [{"email": "a@example.com"}, {"email": "b@example.com"}, {"email": "c@example.com", "city": "x" * 61}]
    job_id = sendgrid("PUT", "/v3/marketing/contacts", {"contacts": contacts})["job_id"]  # the long city: a row error
    eventually(lambda: len(sandbox.contacts("sendgrid")) == 2)
    first, second, third = (sendgrid.status(job_id) for _ in range(3))
    assert (first["status"], first["results"]) == ("pending", {"requested_count": 3})
    assert (second["status"], second["results"]) == (
        "pending",
        {"requested_count": 3, "created_count": 2, "errored_count": 1},
    )
    assert third["status"] == "errored" and "errors_url" in third["results"]


def test_dotmailer_report_waits_for_the_final_status_read(sandbox: Sandbox, dotmailer: Dotmailer) -> None:
    import_id = dotmailer.upload(["a@example.com", "bad-address", "b@example.com"])
    eventually(lambda: len(sandbox.contacts("dotmailer")) == 2)
    assert dotmailer.get(f"/v2/contacts/import/{import_id}/report").status_code == 400  # not processed yet
    assert dotmailer.status(import_id) == "NotFinished"
    assert dotmailer.get(f"/v2/contacts/import/{import_id}/report-faults").status_code == 400
    assert dotmailer.status(import_id) == "Finished"
    report = dotmailer.get(f"/v2/contacts/import/{import_id}/report").json()
    assert (report["newContacts"], report["invalidEntries"]) == (2, 1)
    assert "bad-address" in dotmailer.get(f"/v2/contacts/import/{import_id}/report-faults").text


# -- the status read applies what the worker has not, in the order queued ----------------------------------


def test_without_the_worker_the_second_status_read_applies_jobs_in_order(sandbox: Sandbox, sendgrid: SendGrid) -> None:
    sandbox.emulators["sendgrid"].apply_in_background = False
    older = sendgrid.upsert(["a@example.com"], "Older")
    newer = sendgrid.upsert(["a@example.com", "b@example.com"], "Newer")
    assert sendgrid.status(newer)["results"] == {"requested_count": 2}
    assert sandbox.contacts("sendgrid") == []  # nothing applied before the second read
    assert sendgrid.status(newer)["results"]["created_count"] == 1  # the older job was applied first
    assert {c.name for c in sandbox.contacts("sendgrid")} == {"Newer"}
    older_reads = [sendgrid.status(older) for _ in range(3)]  # already applied: the reads only step
    assert [r["status"] for r in older_reads] == ["pending", "pending", "completed"]
    assert older_reads[1]["results"] == {"requested_count": 1, "created_count": 1}


def test_without_the_worker_dotmailer_applies_at_the_second_read(sandbox: Sandbox, dotmailer: Dotmailer) -> None:
    sandbox.emulators["dotmailer"].apply_in_background = False
    import_id = dotmailer.upload(["a@example.com"])
    assert dotmailer.status(import_id) == "NotFinished"
    assert sandbox.contacts("dotmailer") == []
    assert dotmailer.status(import_id) == "Finished"
    assert [c.email for c in sandbox.contacts("dotmailer")] == ["a@example.com"]


@pytest.mark.parametrize("provider", ["sendgrid", "dotmailer"])
def test_a_job_loaded_unapplied_from_a_dump_is_applied_by_its_status_reads(
    sandbox: Sandbox, sendgrid: SendGrid, dotmailer: Dotmailer, provider: str
) -> None:
    emulator = sandbox.emulators[provider]
    emulator.apply_in_background = False
    job_id = sendgrid.upsert(["a@example.com"]) if provider == "sendgrid" else dotmailer.upload(["a@example.com"])
    saved = emulator.dump()
    emulator.load(saved)  # the queue is not state: only the status reads can apply the job now
    emulator.apply_in_background = True
    reads = [sendgrid.status(job_id)["status"] if provider == "sendgrid" else dotmailer.status(job_id)]
    assert sandbox.contacts(provider) == []
    reads += [sendgrid.status(job_id)["status"] if provider == "sendgrid" else dotmailer.status(job_id)]
    assert [c.email for c in sandbox.contacts(provider)] == ["a@example.com"]
    assert reads == (["pending", "pending"] if provider == "sendgrid" else ["NotFinished", "Finished"])


# -- injected failures -------------------------------------------------------------------------------------


def test_a_failing_sendgrid_job_applies_nothing_in_the_background(sandbox: Sandbox, sendgrid: SendGrid) -> None:
    sandbox.emulators["sendgrid"].fail_next_jobs(1)
    failing = sendgrid.upsert(["a@example.com"])
    sendgrid.upsert(["b@example.com"])  # queued after it: once this one landed, the failing one was processed
    eventually(lambda: len(sandbox.contacts("sendgrid")) == 1)
    assert [c.email for c in sandbox.contacts("sendgrid")] == ["b@example.com"]
    assert [sendgrid.status(failing)["status"] for _ in range(3)] == ["pending", "pending", "failed"]


def test_a_forced_dotmailer_status_applies_nothing_in_the_background(sandbox: Sandbox, dotmailer: Dotmailer) -> None:
    emulator = sandbox.emulators["dotmailer"]
    assert isinstance(emulator, DotmailerEmulator)
    emulator.force_next_import_status("RejectedByWatchdog")
    rejected = dotmailer.upload(["a@example.com"])
    dotmailer.upload(["b@example.com"])
    eventually(lambda: len(sandbox.contacts("dotmailer")) == 1)
    assert [c.email for c in sandbox.contacts("dotmailer")] == ["b@example.com"]
    assert [dotmailer.status(rejected) for _ in range(2)] == ["NotFinished", "RejectedByWatchdog"]


# -- the worker's life -------------------------------------------------------------------------------------


def test_stopping_with_jobs_queued_does_not_hang_and_leaves_no_worker() -> None:
    emulator = SendGridEmulator()
    with Sandbox([emulator]) as sandbox:
        api = SendGrid(sandbox)
        job_ids = [api.upsert(emails(3_000, f"d{n}.example.com")) for n in range(4)]
        started = time.monotonic()
    assert time.monotonic() - started < 10
    assert worker_threads() == []
    with Sandbox([emulator]) as sandbox:  # what was left queued is applied by the status reads
        api = SendGrid(sandbox)
        steps = [[api.status(j)["status"] for _ in range(3)] for j in job_ids]
        assert steps == [["pending", "pending", "completed"]] * 4
        assert len(emulator.contacts()) == 12_000


def test_a_dump_finishes_the_job_the_worker_is_half_way_through(sandbox: Sandbox, sendgrid: SendGrid) -> None:
    emulator = sandbox.emulators["sendgrid"]
    count = 20 * JOB_STEP_ROWS  # long enough that the dump most likely comes mid-job
    job_id = sendgrid.upsert(emails(count))
    eventually(lambda: len(emulator.contacts()) > 0)  # the worker has started it
    copy = SendGridEmulator()
    copy.load(emulator.dump())
    assert len(copy.contacts()) == count
    job = copy.state["jobs"][job_id]
    assert job["input"] is None and job["counts"]["created_count"] == count
