"""The sync engine over real HTTP, on every provider's sandbox, with the state in SQLite and in PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contactsync import Contact, EventType, ListSubscription, RowError, SubscriptionAction, SyncLocked, SyncRefused
from contactsync.errors import UnsupportedAction
from contactsync.sandbox import Sandbox
from contactsync.sync import Operation, Result, Sync, SyncCounts, SyncMode, SyncStatus
from tests.sync.conftest import Destination, people


def _moved(contact: Contact, team: str) -> Contact:
    return Contact(contact.email, contact.name, {**contact.properties, "team": team})


def _team(destination: Destination, email: str) -> object:
    """The contact's team as the provider stores it (dotmailer upper-cases field names)."""
    stored = destination.client.get_contact(email)
    assert stored is not None
    return {name.lower(): value for name, value in stored.properties.items()}.get("team")


def test_the_first_run_sends_every_contact_and_records_what_the_provider_confirmed(
    sync: Sync, destination: Destination
) -> None:
    run = sync.run(people(25))
    assert run.status is SyncStatus.COMPLETED
    assert run.counts == SyncCounts(create=25, accepted=25)
    assert run.job is not None and run.job.requested == 25
    assert destination.members() == {c.email for c in people(25)}


def test_a_second_run_of_an_unchanged_source_sends_nothing(sync: Sync, destination: Destination) -> None:
    sync.run(people(25))
    before = len(destination.sandbox.requests)
    run = sync.run(people(25))
    assert run.counts == SyncCounts(unchanged=25)
    assert run.job is None
    assert destination.writes(before) == []


def test_with_events_and_reconcile_off_an_unchanged_run_makes_no_request_at_all(
    sync: Sync, destination: Destination
) -> None:
    sync.run(people(25), events=False)
    before = len(destination.sandbox.requests)
    run = sync.run(people(25), events=False, reconcile=False)
    assert run.counts.unchanged == 25
    assert len(destination.sandbox.requests) == before


def test_a_changed_property_is_sent_and_only_that_contact(sync: Sync, destination: Destination) -> None:
    source = people(25)
    sync.run(source)
    source[7] = _moved(source[7], "Lyon")
    run = sync.run(source)
    assert (run.counts.update, run.counts.unchanged, run.counts.accepted) == (1, 24, 1)
    assert run.job is not None and run.job.requested == 1
    assert _team(destination, source[7].email) == "Lyon"
    assert sync.run(source).counts == SyncCounts(unchanged=25)


def test_a_contact_who_unsubscribed_at_the_provider_stays_unsubscribed_after_any_number_of_runs(
    sync: Sync, destination: Destination
) -> None:
    source = people(5)
    sync.run(source)
    unsubscribed = source[2].email
    destination.client.manage_subscriptions(
        unsubscribed, [ListSubscription(destination.list_id, SubscriptionAction.UNSUBSCRIBE)]
    )
    for team in ("Red", "Green", "Gold"):  # changed every time, so it is sent every time
        source[2] = _moved(source[2], team)
        sync.run(source)
    standing = [m for m in destination.client.get_subscriptions(unsubscribed) if m.list_id == destination.list_id]
    assert not any(m.subscribed for m in standing)
    others = destination.client.get_subscriptions(source[3].email)
    assert any(m.subscribed for m in others if m.list_id == destination.list_id)


def _recipient_unsubscribes(sandbox: Any, provider: str, email: str) -> None:
    """A recipient unsubscribes at the provider (the read-back branch's sandbox simulates it)."""
    sandbox.simulate(provider, email, "unsubscribe")


def test_an_unsubscribe_at_the_provider_is_recorded_and_reported_by_the_next_run(
    sync: Sync, destination: Destination
) -> None:
    source = people(5)
    sync.run(source, events=True)
    _recipient_unsubscribes(destination.sandbox, destination.provider, source[1].email)
    run = sync.run(source, events=True)
    assert [(e.type, e.email) for e in run.events] == [(EventType.UNSUBSCRIBED, source[1].email)]
    assert [(e.type, e.email) for e in sync.events()] == [(EventType.UNSUBSCRIBED, source[1].email)]
    assert sync.run(source, events=True).events == ()  # reported once


def test_mirror_takes_off_the_list_the_contacts_that_left_the_source(sync: Sync, destination: Destination) -> None:
    sync.run(people(20))
    run = sync.run(people(18), mode=SyncMode.MIRROR)
    assert (run.counts.remove, run.counts.removed, run.counts.unchanged) == (2, 2, 18)
    assert destination.members() == {c.email for c in people(18)}
    removed = [o for o in sync.outcomes(run.id) if o.operation is Operation.REMOVE]
    assert {o.email for o in removed} == {c.email for c in people(2, start=18)}
    assert all(o.result is Result.ACCEPTED for o in removed)
    assert sync.run(people(18), mode=SyncMode.MIRROR).counts == SyncCounts(unchanged=18)


def test_mirror_refuses_an_empty_source_and_sends_nothing(sync: Sync, destination: Destination) -> None:
    sync.run(people(10))
    before = len(destination.sandbox.requests)
    with pytest.raises(SyncRefused, match="empty source") as refused:
        sync.run([RowError(None, 1, "email", "the email is empty")], mode=SyncMode.MIRROR)
    assert "10 of the 10 contacts" in str(refused.value)
    assert destination.writes(before) == []
    assert destination.members() == {c.email for c in people(10)}
    assert sync.runs()[0].status is SyncStatus.REFUSED


def test_mirror_refuses_more_removals_than_allowed_naming_the_numbers(sync: Sync, destination: Destination) -> None:
    sync.run(people(20))
    before = len(destination.sandbox.requests)
    with pytest.raises(SyncRefused, match=r"remove 5 of the 20 contacts .* max_removals \(10% of 20 = 2\)"):
        sync.run(people(15, start=5), mode=SyncMode.MIRROR)
    with pytest.raises(SyncRefused, match=r"max_removals \(4\)"):
        sync.run(people(15, start=5), mode=SyncMode.MIRROR, max_removals=4)
    assert destination.writes(before) == []
    forced = sync.run(people(15, start=5), mode=SyncMode.MIRROR, force=True)
    assert forced.counts.removed == 5
    assert destination.members() == {c.email for c in people(15, start=5)}


def test_a_refused_row_is_retried_by_the_next_run_and_recorded_once_accepted(
    sync: Sync, destination: Destination
) -> None:
    source = people(10)
    sync.run(source)
    for at in (1, 4):
        source[at] = _moved(source[at], "Lyon")
    destination.sandbox.emulators[destination.provider].fail_next_jobs(2)  # the job, and the one resend
    refused = sync.run(source)
    assert refused.status is SyncStatus.COMPLETED_WITH_ERRORS
    assert (refused.counts.update, refused.counts.failed, refused.counts.accepted) == (2, 2, 0)
    assert sorted((e.row, e.email) for e in refused.errors) == [(2, source[1].email), (5, source[4].email)]
    assert sync.plan(source).retry.count == 2
    retried = sync.run(source)
    assert (retried.counts.retry, retried.counts.accepted, retried.errors) == (2, 2, ())
    for at in (1, 4):
        assert _team(destination, source[at].email) == "Lyon"
    assert sync.run(source).counts == SyncCounts(unchanged=10)


def test_a_plan_sends_nothing_and_counts_what_the_run_then_does(sync: Sync, destination: Destination) -> None:
    sync.run(people(10))
    source: list[Contact | RowError] = [*people(8), _moved(people(9)[8], "Lyon"), *people(3, start=20)]
    source.append(RowError("x", 13, "email", "bad"))
    before = len(destination.sandbox.requests)
    plan = sync.plan(source, mode=SyncMode.MIRROR)
    assert destination.writes(before) == []
    assert (plan.create.count, plan.update.count, plan.unchanged.count, plan.remove.count) == (3, 1, 8, 1)
    assert plan.rejected.count == 1 and plan.rejected.sample[0].row == 13
    assert plan.update.sample == (_moved(people(9)[8], "Lyon"),)
    assert plan.remove.sample == (people(10)[9].email,)
    run = sync.run(source, mode=SyncMode.MIRROR, max_removals=1)
    assert (run.counts.create, run.counts.update, run.counts.unchanged, run.counts.remove) == (3, 1, 8, 1)


def test_every_source_row_ends_unchanged_accepted_or_a_row_error(sync: Sync) -> None:
    sync.run(people(5))
    source: list[Contact | RowError] = [*people(5), *people(3, start=5)]
    source.insert(2, RowError(None, None, "email", "the email is empty"))
    source.append(people(1)[0])  # an email met twice
    run = sync.run(source)
    assert run.counts.unchanged + run.counts.accepted + run.counts.errored == len(source)
    assert sorted((e.row, e.field) for e in run.errors) == [(3, "email"), (10, "email")]
    assert "repeats the email of" in run.errors[-1].message


def test_a_second_run_at_the_same_time_refuses_at_once(sync: Sync, destination: Destination, state: str) -> None:
    reading = threading.Event()
    release = threading.Event()

    def slow_source() -> Iterator[Contact]:
        yield from people(3)
        reading.set()
        release.wait(timeout=30)
        yield from people(3, start=3)

    first: list[Any] = []
    worker = threading.Thread(target=lambda: first.append(sync.run(slow_source())))
    worker.start()
    try:
        assert reading.wait(timeout=30)
        with Sync(destination.client, destination.list_id, state=state) as other:
            before = len(destination.sandbox.requests)
            with pytest.raises(SyncLocked, match="in progress"):
                other.run(people(6))
            assert destination.writes(before) == []
    finally:
        release.set()
        worker.join(timeout=60)
    assert first[0].counts.accepted == 6


def test_syncs_of_one_state_keep_their_own_records(destination: Destination, state: str, tmp_path: Path) -> None:
    other_list = destination.client.create_list("Other")
    journals = tmp_path / "journals"
    with (
        Sync(destination.client, destination.list_id, state=state, journal_dir=journals) as one,
        Sync(destination.client, other_list, state=state, journal_dir=journals) as two,
    ):
        one.run(people(4))
        assert two.run(people(4)).counts.create == 4
        assert one.run(people(4)).counts.unchanged == 4


def test_reconciling_finds_contacts_already_on_the_list_and_does_not_send_them(
    sync: Sync, destination: Destination
) -> None:
    already = people(6)
    job = destination.client.import_contacts(
        already, [ListSubscription(destination.list_id, SubscriptionAction.ADD_NO_FORCE)]
    )
    destination.client.wait(job)
    run = sync.run([*already, *people(2, start=6)], reconcile=True)
    assert (run.counts.unchanged, run.counts.create) == (6, 2)


def test_a_reconciled_mirror_removes_list_members_the_source_never_had(sync: Sync, destination: Destination) -> None:
    job = destination.client.import_contacts(
        people(6), [ListSubscription(destination.list_id, SubscriptionAction.ADD_NO_FORCE)]
    )
    destination.client.wait(job)
    run = sync.run(people(4), mode=SyncMode.MIRROR, reconcile=True, max_removals=2)
    assert (run.counts.unchanged, run.counts.removed) == (4, 2)
    assert destination.members() == {c.email for c in people(4)}


def test_mirror_can_unsubscribe_the_contacts_that_left_instead_of_removing_them(
    sync: Sync, destination: Destination
) -> None:
    sync.run(people(6))
    run = sync.run(people(5), mode=SyncMode.MIRROR, removal=SubscriptionAction.UNSUBSCRIBE, max_removals=1)
    assert run.counts.removed == 1
    assert [o.operation for o in sync.outcomes(run.id)] == [Operation.UNSUBSCRIBE]
    gone = people(6)[5].email
    standing = [m for m in destination.client.get_subscriptions(gone) if m.list_id == destination.list_id]
    assert not any(m.subscribed for m in standing)


def test_a_removal_the_provider_cannot_apply_is_refused_before_anything_is_sent(state: str, tmp_path: Path) -> None:
    with Sandbox(["sendgrid"]) as sandbox:
        client = sandbox.connect("sendgrid")  # no unsubscribe groups, no global unsubscribe
        with client, Sync(client, client.create_list("Plain"), state=state, journal_dir=tmp_path) as plain:
            before = len(sandbox.requests)
            with pytest.raises(UnsupportedAction, match="unsubscribe_groups"):
                plain.run(people(3), mode=SyncMode.MIRROR, removal=SubscriptionAction.UNSUBSCRIBE)
            assert len(sandbox.requests) == before
