"""Recovery over real HTTP: a batch whose outcome is unknown, or whose job failed, is sent once more."""

from __future__ import annotations

import pytest

from contactsync import ImportStatus, ListSubscription, NotFound
from contactsync.provider import Provider
from contactsync.sandbox import Sandbox
from contactsync.sandbox.faults import Faults
from tests.reliability.conftest import emails, people

Served = tuple[Sandbox, Provider, ListSubscription]


def test_a_job_that_fails_is_sent_once_more_and_completes(served: Served) -> None:
    sandbox, client, subscription = served
    sandbox.emulators[client.name].fail_next_jobs(1)
    job = client.wait(client.import_contacts(people(5), [subscription]))
    assert job.status is ImportStatus.COMPLETED
    assert "ended" in job.extra["resubmitted"]  # the first job's failure, kept on the part that replaced it
    assert list(client.import_errors(job)) == []
    assert emails(sandbox.contacts(client.name, subscription.list_id)) == {c.email for c in people(5)}


def test_a_job_that_fails_again_reports_every_row_and_applies_none(served: Served) -> None:
    sandbox, client, subscription = served
    sandbox.emulators[client.name].fail_next_jobs(2)
    job = client.wait(client.import_contacts(people(3), [subscription]))
    assert job.status is ImportStatus.FAILED
    assert [error.row for error in client.import_errors(job)] == [1, 2, 3]
    assert sandbox.contacts(client.name, subscription.list_id) == []


def test_refresh_alone_reports_a_failed_job_without_sending_it_again(served: Served) -> None:
    sandbox, client, subscription = served
    sandbox.emulators[client.name].fail_next_jobs(1)
    job = client.import_contacts(people(2), [subscription])
    for _ in range(6):
        job = client.refresh(job)
    assert job.status is ImportStatus.FAILED  # only wait() drives an import to its end, recovering on the way
    assert len(list(client.import_errors(job))) == 2


@pytest.mark.parametrize("fault", ["503", "reset", "slow"])
@pytest.mark.parametrize("provider", ["mailjet", "dotmailer"])
def test_a_submission_with_an_unknown_outcome_is_sent_once_more(provider: str, fault: str) -> None:
    with Sandbox([provider], slow_seconds=0.6) as sandbox:
        client: Provider = sandbox.connect(provider, timeout=0.3)
        subscription = ListSubscription(client.create_list("Unknown outcome"))
        plan = Faults(())
        plan.queue(None, None, fault)  # the import reads the list and the account's fields, then posts: that fails
        sandbox.faults = plan
        job = client.wait(client.import_contacts(people(4), [subscription]))
    faulted = [(r.method, r.fault) for r in sandbox.requests if r.fault]
    assert faulted == [("POST", fault)]
    assert job.status is ImportStatus.COMPLETED
    assert fault in job.extra["resubmitted"] or "may have been applied" in job.extra["resubmitted"]
    assert emails(sandbox.contacts(provider, subscription.list_id)) == {c.email for c in people(4)}


@pytest.mark.parametrize("provider", ["mailjet", "dotmailer"])
def test_a_batch_whose_two_sendings_got_no_clear_answer_is_reported_as_possibly_applied(provider: str) -> None:
    with Sandbox([provider], slow_seconds=0.6) as sandbox:
        client: Provider = sandbox.connect(provider, timeout=0.3)
        subscription = ListSubscription(client.create_list("Unclear"))
        plan = Faults(())
        plan.queue(None, None, "slow", "503")  # the POST lands but answers too late; the second one meets a 503
        sandbox.faults = plan
        job = client.wait(client.import_contacts(people(3), [subscription]))
        errors = list(client.import_errors(job))
    assert job.status is ImportStatus.FAILED and job.extra["uncertain"] is True
    assert [error.row for error in errors] == [1, 2, 3]
    assert all("may have been applied all the same" in error.message for error in errors)


def test_an_import_into_an_unknown_list_is_refused_before_anything_is_sent(served: Served) -> None:
    """Issue 12, items 6 and 7: NotFound on every provider, where Mailjet said 400 and every batch was sent."""
    sandbox, client, _ = served
    before = len(sandbox.requests)
    with pytest.raises(NotFound, match="999999"):
        client.import_contacts(people(2), [ListSubscription("999999")])
    assert [r.method for r in list(sandbox.requests)[before:]] == ["GET"]
