"""Kill -9 a sync mid-run, run it again, and end where an uninterrupted sync ends.

The sandbox is served by the test (its request log shows every import sent); the sync
runs in a process of its own (tests/sync/killable.py) that gets SIGKILL, no cleanup of
any kind, once its import journal shows finished batches (or after a delay).
"""

from __future__ import annotations

import csv
import json
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contactsync import FieldDefinition
from contactsync.sandbox import Sandbox
from contactsync.sync import Sync, SyncStatus
from tests.sync.conftest import OPTIONS, PROVIDERS
from tests.sync.killable import BATCH

ROOT = Path(__file__).resolve().parents[2]
ROWS = 1000
BATCHES = ROWS // BATCH
IMPORTS = {
    "mailjet": r"POST /mailjet/v3/REST/contactslist/\d+/managemanycontacts",
    "sendgrid": r"PUT /sendgrid/v3/marketing/contacts",
    "dotmailer": r"POST /dotmailer/v2/address-books/\d+/contacts/import/",
}
"""Each provider's import request: counting them shows what was sent again."""


class Setup:
    """A served provider, a list, a CSV source, and the settings the killable process takes."""

    def __init__(self, sandbox: Sandbox, provider: str, state: str, tmp_path: Path) -> None:
        self.sandbox = sandbox
        self.provider = provider
        self.client = sandbox.connect(provider, **OPTIONS.get(provider, {}))
        self.client.ensure_fields([FieldDefinition("team")])
        self.list_id = self.client.create_list("Killed")
        self.source = tmp_path / "people.csv"
        self.journals = tmp_path / "journals"
        self.state = state
        self.write_source(range(ROWS))

    def write_source(self, numbers: range) -> None:
        with self.source.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(["email", "name", "team"])
            writer.writerows([f"k{n:05d}@example.com", f"Person {n}", "Blue"] for n in numbers)

    def command(self, mode: str = "upsert") -> list[str]:
        settings = {
            "provider": self.provider,
            "connect": {**self.sandbox.credentials(self.provider), **OPTIONS.get(self.provider, {})},
            "list_id": self.list_id,
            "state": self.state,
            "journals": str(self.journals),
            "source": str(self.source),
            "mode": mode,
        }
        return [sys.executable, "-m", "tests.sync.killable", json.dumps(settings)]

    def run(self, mode: str = "upsert") -> dict[str, Any]:
        done = subprocess.run(self.command(mode), capture_output=True, text=True, timeout=180, check=False, cwd=ROOT)
        assert done.returncode == 0, done.stderr[-3000:]
        result: dict[str, Any] = json.loads(done.stdout)
        return result

    def imports(self) -> int:
        pattern = re.compile(IMPORTS[self.provider])
        return sum(1 for r in list(self.sandbox.requests) if pattern.match(f"{r.method} {r.path}"))

    def members(self) -> set[str]:
        found = self.sandbox.contacts(self.provider, self.list_id)
        return {contact.email for contact in found}

    def history(self) -> list[SyncStatus]:
        with Sync(self.client, self.list_id, state=self.state, journal_dir=self.journals) as sync:
            return [run.status for run in reversed(sync.runs())]


@pytest.fixture(params=PROVIDERS)
def setup(request: pytest.FixtureRequest, state: str, tmp_path: Path) -> Iterator[Setup]:
    with Sandbox([request.param]) as sandbox:
        yield Setup(sandbox, request.param, state, tmp_path)


def _settled(journal: Path) -> int:
    """Batches of the import journal with a known outcome, read while the killable process writes it."""
    if not journal.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=1) as db:
            (settled,) = db.execute("SELECT count(*) FROM batch WHERE part_id IS NOT NULL").fetchone()
    except sqlite3.OperationalError:  # the schema is not written yet
        return 0
    return int(settled)


def _kill_when(setup: Setup, stage: str, batches: int, mode: str = "upsert") -> int:
    """Start a run, SIGKILL it once its ``stage`` journal has ``batches`` settled; return how many it had."""
    journal = next(iter(setup.journals.glob(f"*-{stage}.journal")), None) if setup.journals.exists() else None
    process = subprocess.Popen(setup.command(mode), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    deadline = time.monotonic() + 90
    settled = 0
    while process.poll() is None and time.monotonic() < deadline:
        journal = journal or next(iter(setup.journals.glob(f"*-{stage}.journal")), None)
        settled = _settled(journal) if journal is not None else 0
        if settled >= batches:
            break
        time.sleep(0.003)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert settled >= batches, "the run ended before it could be killed midway"
    return settled


def test_a_run_killed_while_sending_converges_when_run_again(setup: Setup) -> None:
    settled = _kill_when(setup, "send", BATCHES // 3)
    assert settled < BATCHES
    again = setup.run()
    assert any("had not ended" in note for note in again["notes"])
    assert setup.members() == {f"k{n:05d}@example.com" for n in range(ROWS)}
    # Batches the provider took before the kill were not sent again: at most the two in flight went twice.
    assert BATCHES <= setup.imports() <= BATCHES + 2
    third = setup.run()
    assert third["counts"]["unchanged"] == ROWS and third["counts"]["accepted"] == 0
    assert setup.history()[0] is SyncStatus.INTERRUPTED


def test_a_run_killed_while_removing_converges_and_removes_each_contact_once(setup: Setup) -> None:
    setup.run()
    setup.write_source(range(ROWS // 2))
    if setup.provider == "dotmailer":  # one contact at a time there: kill after some of them
        process = subprocess.Popen(
            setup.command("mirror"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT
        )
        deadline = time.monotonic() + 90
        while len(setup.members()) > ROWS - 100 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.003)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        assert ROWS // 2 < len(setup.members()) <= ROWS - 100, "not killed midway"
    else:
        _kill_when(setup, "remove", 3, mode="mirror")
    again = setup.run("mirror")
    assert setup.members() == {f"k{n:05d}@example.com" for n in range(ROWS // 2)}
    assert again["status"] == "completed"
    assert setup.run("mirror")["counts"] == {**dict.fromkeys(again["counts"], 0), "unchanged": ROWS // 2}


@pytest.mark.parametrize("provider", ["mailjet"])
def test_runs_killed_at_any_moment_converge(provider: str, state: str, tmp_path: Path) -> None:
    with Sandbox([provider]) as sandbox:
        setup = Setup(sandbox, provider, state, tmp_path)
        for delay in (0.4, 0.7, 1.0, 1.3):
            process = subprocess.Popen(setup.command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
            time.sleep(delay)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
        final = setup.run()
        assert final["status"] == "completed"
        assert setup.members() == {f"k{n:05d}@example.com" for n in range(ROWS)}
        assert setup.run()["counts"]["unchanged"] == ROWS
