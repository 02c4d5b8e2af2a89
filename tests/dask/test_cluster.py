"""Partitioned syncs on a real LocalCluster (two worker processes) against the sandbox and PostgreSQL."""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

import pytest
from distributed import Client
from distributed.diagnostics.plugin import SchedulerPlugin

from contactsync.dask import PartitionedRun, sync_dataframe
from contactsync.sandbox import Sandbox
from contactsync.sync import RunRecord, Sync, SyncMode, SyncStatus
from tests.dask.conftest import STATE_PASSWORD, most_in_flight, people, stored, writes

PARTITIONS = 8
CAP = 2


def run(client: Client, sandbox: Sandbox, list_id: str, state: str, frame: Any, **options: Any) -> PartitionedRun:
    settings = {**sandbox.credentials("mailjet"), "poll_interval": 0.05}
    options.setdefault("events", False)  # Mailjet's events cost a read per contact; each partition would read them all
    return sync_dataframe(
        frame,
        provider="mailjet",
        settings=settings,
        list_id=list_id,
        name="newsletter",
        state=state,
        partitions=PARTITIONS,
        max_concurrency=CAP,
        client=client,
        **options,
    )


def test_sync_resync_change_mirror(client: Client, mailjet: Sandbox, state: str) -> None:
    n = 20_000
    list_id = mailjet.connect("mailjet").create_list("Newsletter")

    first = run(client, mailjet, list_id, state, people(n))
    assert (first.status, first.counts.create, first.counts.accepted) == (SyncStatus.COMPLETED, n, n)
    assert [p.partition.index for p in first.partitions] == list(range(PARTITIONS))
    assert all(p.counts.create > 0 for p in first.partitions)
    assert stored(mailjet, list_id) == {f"user{i:07d}@example.com": "Blue" for i in range(n)}
    assert 2 <= most_in_flight(list(mailjet.requests)) <= CAP

    before = len(mailjet.requests)
    again = run(client, mailjet, list_id, state, people(n))
    assert (again.counts.unchanged, again.counts.sent) == (n, 0)
    assert writes(mailjet, before) == []

    changed = run(client, mailjet, list_id, state, people(n, changed=True))
    assert (changed.counts.update, changed.counts.accepted, changed.counts.unchanged) == (
        n // 100,
        n // 100,
        n - n // 100,
    )
    teams = stored(mailjet, list_id)
    assert sum(team == "Red" for team in teams.values()) == n // 100

    mirrored = run(client, mailjet, list_id, state, people(n, changed=True, gone=True), mode=SyncMode.MIRROR)
    assert (mirrored.counts.remove, mirrored.counts.removed, mirrored.counts.sent) == (n // 100, n // 100, 0)
    assert set(stored(mailjet, list_id)) == {f"user{i:07d}@example.com" for i in range(n) if i % 100 != 50}
    assert most_in_flight(list(mailjet.requests)) <= CAP


def test_row_errors_carry_the_frames_row_numbers(client: Client, mailjet: Sandbox, state: str) -> None:
    frame = people(1_000)
    frame.loc[[9, 499], "email"] = ["not an address", "also@bad@example.com"]
    list_id = mailjet.connect("mailjet").create_list("Newsletter")
    done = run(client, mailjet, list_id, state, frame)
    assert done.status is SyncStatus.COMPLETED_WITH_ERRORS
    assert [(e.row, e.field) for e in done.errors] == [(10, "email"), (500, "email")]
    assert done.counts.accepted == 998


class _Seen(SchedulerPlugin):
    """Keeps every task's key and the repr of what it runs, as the dashboard would show them."""

    name = "contactsync-seen"

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.scheduler: Any = None

    async def start(self, scheduler: Any) -> None:
        self.scheduler = scheduler

    def transition(self, key: Any, start: str, finish: str, *args: Any, **kwargs: Any) -> None:
        task = self.scheduler.tasks.get(key)
        if finish == "processing" and task is not None:
            self.texts += [str(key), repr(task.run_spec)]


def _seen(dask_scheduler: Any) -> list[str]:
    texts: list[str] = dask_scheduler.plugins[_Seen.name].texts
    return texts


def test_credentials_never_show_in_keys_reprs_logs_or_messages(client: Client, mailjet: Sandbox, state: str) -> None:
    client.register_plugin(_Seen())
    list_id = mailjet.connect("mailjet").create_list("Newsletter")
    secret = mailjet.credentials("mailjet")["secret_key"]
    done = run(client, mailjet, list_id, state, people(500))
    assert done.counts.accepted == 500
    wrong = "Wrong-Secret-8c1f2e9d"
    refused = sync_dataframe(
        people(500),
        provider="mailjet",
        settings={**mailjet.credentials("mailjet"), "secret_key": wrong},
        list_id=list_id,
        name="refused",
        state=state,
        partitions=2,
        client=client,
    )
    assert refused.status is SyncStatus.FAILED and len(refused.failed) == 2
    assert all("AuthenticationError" in str(part.message) for part in refused.failed)
    texts = client.run_on_scheduler(_seen)
    assert any(text.startswith("contactsync-sync-newsletter-part-") for text in texts)
    logs = [line for lines in client.get_worker_logs().values() for _, line in lines]
    logs += [line for _, line in client.get_scheduler_logs()]
    shown = "\n".join([*texts, *logs, repr(done), repr(refused)])
    for hidden in (secret, wrong, STATE_PASSWORD):
        assert hidden not in shown


def test_a_worker_killed_mid_run_converges_on_rerun(client: Client, mailjet: Sandbox, state: str) -> None:
    n = 20_000
    list_id = mailjet.connect("mailjet").create_list("Newsletter")
    outcome: list[PartitionedRun | BaseException] = []

    def first_run() -> None:
        try:
            outcome.append(run(client, mailjet, list_id, state, people(n)))
        except BaseException as exc:  # the run may give up on a partition: the rerun below settles it
            outcome.append(exc)

    worker = threading.Thread(target=first_run)
    worker.start()
    deadline = time.monotonic() + 60
    while sum("managemanycontacts" in w or "csvimport" in w for w in writes(mailjet)) < 2:
        assert time.monotonic() < deadline and worker.is_alive(), "the first run sent nothing in time"
        time.sleep(0.01)
    pids = client.run(os.getpid)
    os.kill(next(iter(pids.values())), signal.SIGKILL)
    assert worker.is_alive(), "the first run ended before the kill"
    worker.join(timeout=300)
    assert not worker.is_alive()

    client.wait_for_workers(2, timeout=60)
    rerun = run(client, mailjet, list_id, state, people(n))
    assert rerun.status is SyncStatus.COMPLETED
    assert stored(mailjet, list_id) == {f"user{i:07d}@example.com": "Blue" for i in range(n)}
    settled = run(client, mailjet, list_id, state, people(n))
    assert (settled.counts.unchanged, settled.counts.sent) == (n, 0)
    # The state's history: a run killed with its worker was finished by a later one, and every
    # contact was confirmed by exactly one run (the retried tasks sent nothing already confirmed).
    history = [run for index in range(PARTITIONS) for run in _runs(mailjet, list_id, state, index)]
    assert any(run.status is SyncStatus.INTERRUPTED for run in history)
    assert sum(run.counts.accepted for run in history) == n


def _runs(sandbox: Sandbox, list_id: str, state: str, index: int) -> list[RunRecord]:
    with Sync(
        sandbox.connect("mailjet"), list_id, name="newsletter", state=state, partition=(index, PARTITIONS)
    ) as sync:
        return sync.runs()


@pytest.mark.slow
def test_two_hundred_thousand_contacts_in_eight_partitions(client: Client, mailjet: Sandbox, state: str) -> None:
    n = 200_000
    list_id = mailjet.connect("mailjet").create_list("Newsletter")
    first = run(client, mailjet, list_id, state, people(n))
    assert (first.status, first.counts.accepted) == (SyncStatus.COMPLETED, n)
    before = len(mailjet.requests)
    again = run(client, mailjet, list_id, state, people(n))
    assert (again.counts.unchanged, writes(mailjet, before)) == (n, [])
    changed = run(client, mailjet, list_id, state, people(n, changed=True))
    assert (changed.counts.update, changed.counts.accepted) == (n // 100, n // 100)
    mirrored = run(client, mailjet, list_id, state, people(n, changed=True, gone=True), mode=SyncMode.MIRROR)
    assert (mirrored.counts.removed, mirrored.counts.sent) == (n // 100, 0)
    teams = stored(mailjet, list_id)
    assert len(teams) == n - n // 100
    assert sum(team == "Red" for team in teams.values()) == n // 100
    assert most_in_flight(list(mailjet.requests)) <= CAP
