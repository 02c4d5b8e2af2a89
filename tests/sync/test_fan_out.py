"""Fan-out: one source, read once, to several destinations, each with its own state; partitions of one sync."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from contactsync import Contact, FieldDefinition, RowError, SyncLocked, SyncRefused
from contactsync.sandbox import Sandbox
from contactsync.sources import read_file
from contactsync.sync import Partition, Sync, SyncMode, SyncRun, fan_out
from tests.sync.conftest import people

PROVIDERS = ["mailjet", "dotmailer"]


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(PROVIDERS) as running:
        yield running


def _syncs(sandbox: Sandbox, tmp_path: Path, state: str | None = None) -> list[Sync]:
    made = []
    for provider in PROVIDERS:
        client = sandbox.connect(provider)
        client.ensure_fields([FieldDefinition("team")])
        target = state or str(tmp_path / f"{provider}.db")
        made.append(Sync(client, client.create_list("Fan"), state=target, journal_dir=tmp_path / "journals"))
    return made


class Counted:
    """A source that counts how often it is iterated."""

    def __init__(self, items: list[Contact]) -> None:
        self.items = items
        self.reads = 0

    def __iter__(self) -> Iterator[Contact | RowError]:
        self.reads += 1
        yield from self.items


def test_one_source_is_read_once_for_every_destination(sandbox: Sandbox, tmp_path: Path) -> None:
    syncs = _syncs(sandbox, tmp_path)
    source = Counted(people(12))
    runs = fan_out(source, syncs)
    assert source.reads == 1
    assert all(isinstance(run, SyncRun) and run.counts.accepted == 12 for run in runs)
    again = fan_out(Counted(people(12)), syncs)
    assert all(isinstance(run, SyncRun) and run.counts.unchanged == 12 for run in again)


def test_a_file_fans_out_on_the_fast_path(sandbox: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("email,name,team\n" + "".join(f"f{n}@example.com,F {n},Blue\n" for n in range(9)), "utf-8")
    syncs = _syncs(sandbox, tmp_path)
    fan_out(read_file(path), syncs)
    runs = fan_out(read_file(path), syncs)
    assert [run.counts.unchanged for run in runs if isinstance(run, SyncRun)] == [9, 9]


def test_one_destination_refused_or_locked_does_not_stop_the_others(sandbox: Sandbox, tmp_path: Path) -> None:
    syncs = _syncs(sandbox, tmp_path)
    fan_out(people(10), syncs)
    locked = syncs[1]
    with locked.store.lock(locked.record.id):
        results = fan_out(people(5), syncs, mode=SyncMode.MIRROR)
    assert isinstance(results[0], SyncRefused) and "remove 5 of the 10" in str(results[0])
    assert isinstance(results[1], SyncLocked)
    upsert = fan_out(people(11), syncs)
    assert [run.counts.create for run in upsert if isinstance(run, SyncRun)] == [1, 1]


def test_destinations_may_share_one_state(sandbox: Sandbox, tmp_path: Path, state: str) -> None:
    runs = fan_out(people(4), _syncs(sandbox, tmp_path, state))
    assert [run.counts.accepted for run in runs if isinstance(run, SyncRun)] == [4, 4]


def test_partitions_together_sync_every_contact_and_mirror_only_their_own(
    sandbox: Sandbox, tmp_path: Path, state: str
) -> None:
    client = sandbox.connect("mailjet")
    list_id = client.create_list("Parts")
    source = people(40)
    parts = [Sync(client, list_id, state=state, partition=part, journal_dir=tmp_path) for part in Partition.all(2)]
    runs = [part.run([c for c in source if part.partition and part.partition.holds(c.email)]) for part in parts]
    assert sum(run.counts.accepted for run in runs) == 40
    assert all(run.counts.accepted > 5 for run in runs)
    everyone = parts[0].run(source)  # contacts of the other partition are refused, not synced
    assert everyone.counts.rejected == runs[1].counts.accepted
    assert "belongs to partition 1 of 2" in everyone.errors[0].message
    mine = [c for c in source if Partition.of(c.email, 2) == 0]
    mirrored = parts[0].run(mine[:-1], mode=SyncMode.MIRROR, max_removals=1)
    assert mirrored.counts.removed == 1
    assert len(sandbox.contacts("mailjet", list_id)) == 39
