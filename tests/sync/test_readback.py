"""Reconcile and consent end to end, with a provider that reads its list back (the toy, with read-back)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from contactsync import Contact, EventType, ListSubscription, UnsupportedAction, registry
from contactsync.sandbox import Sandbox
from contactsync.sync import Partition, Sync, SyncMode
from tests.sync.readback_toy import ReadBackToy, ReadBackToyEmulator
from tests.toy import TOKEN, ToyEmulator, ToyProvider

LIST = "news"


@attrs.frozen
class Toy:
    sandbox: Sandbox
    client: ReadBackToy

    @property
    def emulator(self) -> ReadBackToyEmulator:
        emulator = self.sandbox.emulators["toy"]
        assert isinstance(emulator, ReadBackToyEmulator)
        return emulator

    def members(self) -> dict[str, bool]:
        return dict(self.emulator.state["list_members"].get(LIST, {}))


def contacts(count: int, start: int = 0) -> list[Contact]:
    return [Contact(f"r{n}@example.com", f"R {n}") for n in range(start, start + count)]


@pytest.fixture
def toy() -> Iterator[Toy]:
    with Sandbox([ReadBackToyEmulator()]) as sandbox:
        sandbox.emulators["toy"].state["lists"][LIST] = "News"
        client = ReadBackToy(token=TOKEN, base_url=sandbox.base_url("toy"), poll_interval=0.01)
        with client:
            yield Toy(sandbox, client)


@pytest.fixture
def sync(toy: Toy, state: str, tmp_path: Path) -> Iterator[Sync]:
    with Sync(toy.client, LIST, state=state, journal_dir=tmp_path / "journals") as made:
        yield made


def _import(toy: Toy, people: list[Contact]) -> None:
    toy.client.wait(toy.client.import_contacts(people, [ListSubscription(LIST)]))


def test_a_first_run_reconciles_so_contacts_already_on_the_list_are_not_sent(toy: Toy, sync: Sync) -> None:
    _import(toy, contacts(4))
    run = sync.run(contacts(6))
    assert (run.counts.unchanged, run.counts.create, run.counts.accepted) == (4, 2, 2)
    assert any("reconciled with the list: 4 members" in note for note in run.notes)
    assert run.job is not None and run.job.requested == 2


def test_a_reconciled_mirror_removes_members_the_source_never_had(toy: Toy, sync: Sync) -> None:
    _import(toy, contacts(6))
    run = sync.run(contacts(4), mode=SyncMode.MIRROR, max_removals=2)
    assert (run.counts.unchanged, run.counts.remove, run.counts.removed) == (4, 2, 2)
    assert set(toy.members()) == {c.email for c in contacts(4)}


def test_later_runs_do_not_reconcile_unless_asked(toy: Toy, sync: Sync) -> None:
    sync.run(contacts(2))
    _import(toy, contacts(2, start=2))  # added at the provider behind the sync's back
    assert sync.run(contacts(4)).counts.create == 2
    assert sync.run(contacts(4), reconcile=True).counts.unchanged == 4


def test_an_unsubscribe_since_the_last_run_is_recorded_and_reported_once(toy: Toy, sync: Sync) -> None:
    sync.run(contacts(3))
    toy.emulator.recipient_unsubscribes("r1@example.com", LIST)
    toy.emulator.recipient_unsubscribes("r2@example.com", "another-list")
    run = sync.run(contacts(3))
    assert [(e.type, e.email, e.list_id) for e in run.events] == [(EventType.UNSUBSCRIBED, "r1@example.com", LIST)]
    assert sync.run(contacts(3)).events == ()
    assert [e.email for e in sync.events()] == ["r1@example.com"]
    assert toy.members()["r1@example.com"] is False  # the sync sent nothing that resubscribed it


def test_an_account_wide_unsubscribe_concerns_every_list(toy: Toy, sync: Sync) -> None:
    sync.run(contacts(2))
    toy.emulator.recipient_unsubscribes("r0@example.com", None)
    assert [e.email for e in sync.run(contacts(2)).events] == ["r0@example.com"]


def test_requiring_events_from_a_provider_without_them_fails_before_sending(state: str, tmp_path: Path) -> None:
    registry.register("toy", ToyProvider, replace=True)
    with Sandbox([ToyEmulator()]) as sandbox:
        sandbox.emulators["toy"].state["lists"][LIST] = "News"
        client = ToyProvider(token=TOKEN, base_url=sandbox.base_url("toy"), poll_interval=0.01)
        with client, Sync(client, LIST, state=state, journal_dir=tmp_path) as sync:
            with pytest.raises(UnsupportedAction, match="events"):
                sync.run(contacts(2), events=True)
            assert not [r for r in sandbox.requests if r.method != "GET"]
            run = sync.run(contacts(2))  # by default, it goes on without them and says so
            assert run.counts.accepted == 2
            assert any(note.startswith("events not read") for note in run.notes)
            assert any(note.startswith("not reconciled") for note in run.notes)


def test_a_partition_reconciles_only_its_own_members(toy: Toy, state: str, tmp_path: Path) -> None:
    people = contacts(8)
    _import(toy, people)
    mine = [c for c in people if Partition.of(c.email, 2) == 0]
    with Sync(toy.client, LIST, state=state, partition=(0, 2), journal_dir=tmp_path) as half:
        run = half.run(mine, mode=SyncMode.MIRROR)
    assert (run.counts.unchanged, run.counts.remove) == (len(mine), 0)
    assert set(toy.members()) == {c.email for c in people}
