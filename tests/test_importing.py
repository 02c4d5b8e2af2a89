"""The pipeline's rules, the same for every provider (issue 12): duplicates, counts, doomed imports, routes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from contactsync import Contact, ImportJob, ImportStatus, ListSubscription, RowError
from contactsync.importing import DUPLICATE
from contactsync.provider import InputItem
from contactsync.sandbox import Sandbox
from tests.toy import LOST_MARK, REJECTED_DOMAIN, ToyEmulator, ToyProvider

Toy = tuple[Sandbox, ToyEmulator, ToyProvider]


@pytest.fixture
def toy() -> Iterator[Toy]:
    emulator = ToyEmulator()
    with Sandbox([emulator]) as sandbox:
        yield sandbox, emulator, ToyProvider(**sandbox.credentials("toy"), poll_interval=0.01)


def _counts_add_up(job: ImportJob) -> bool:
    return job.status.is_terminal and job.accepted + job.errored == job.requested


def test_the_first_row_of_an_address_is_sent_and_each_later_one_names_it(toy: Toy) -> None:
    """Issue 12, item 4: the last row won on Mailjet and SendGrid, the first on dotmailer."""
    _, emulator, client = toy
    rows = [
        Contact("ann@example.com", name="First"),
        Contact("bob@example.com"),
        Contact("  ANN@example.com ", name="Second"),
        Contact("ann@example.com", name="Third"),
    ]
    job = client.wait(client.import_contacts(rows))
    errors = list(client.import_errors(job))
    assert [(e.row, e.email, e.field, e.provider_code) for e in errors] == [
        (3, "ann@example.com", "email", DUPLICATE),
        (4, "ann@example.com", "email", DUPLICATE),
    ]
    assert all("row 1" in e.message for e in errors)
    assert emulator.state["contacts"]["ann@example.com"]["name"] == "First"
    assert sum(len(body["contacts"]) for body in emulator.state["bodies"]) == 2  # decided before sending
    assert (job.accepted, job.errored, job.requested) == (2, 2, 4) and _counts_add_up(job)


def test_when_the_provider_refuses_an_address_its_later_row_is_still_reported(toy: Toy) -> None:
    """Issue 12, item 4: a second row of an address the provider rejected was neither stored nor reported."""
    _, _, client = toy
    refused = f"x{REJECTED_DOMAIN}"
    job = client.wait(client.import_contacts([Contact(refused), Contact("ok@example.com"), Contact(refused)]))
    errors = sorted(client.import_errors(job), key=lambda e: e.row or 0)
    assert [(e.row, e.provider_code) for e in errors] == [(1, None), (3, DUPLICATE)]
    assert _counts_add_up(job)


def test_a_duplicate_counts_against_an_address_whose_first_row_was_refused_locally(toy: Toy) -> None:
    _, _, client = toy
    rows = [Contact("a@example.com", properties={"joined": date(2020, 1, 1)}), Contact("a@example.com")]  # no dates
    job = client.wait(client.import_contacts(rows))
    assert [(e.row, e.field) for e in client.import_errors(job)] == [(1, "joined"), (2, "email")]
    assert job.status is ImportStatus.FAILED


def test_a_resumed_import_still_reports_a_later_row_of_an_address_sent_before_the_interruption(
    toy: Toy, tmp_path: Path
) -> None:
    sandbox, _, _ = toy
    journal = tmp_path / "import.journal"
    rows: list[InputItem] = [*(Contact(f"c{n}@example.com") for n in range(1, 9)), Contact("c2@example.com")]

    def cut(at: int) -> Iterator[InputItem]:
        for number, item in enumerate(rows, start=1):
            if number == at:
                raise KeyboardInterrupt
            yield item

    with pytest.raises(KeyboardInterrupt):
        ToyProvider(**sandbox.credentials("toy")).import_contacts(cut(8), route="json", journal=journal)
    resumed = ToyProvider(**sandbox.credentials("toy"), poll_interval=0.01)
    job = resumed.wait(resumed.import_contacts(rows, journal=journal))
    assert [(e.row, e.provider_code) for e in resumed.import_errors(job)] == [(9, DUPLICATE)]
    assert "row 2" in job.local_errors[0].message
    assert (job.accepted, job.errored, job.requested) == (8, 1, 9)


def test_rows_a_job_did_not_confirm_are_row_errors(toy: Toy) -> None:
    """Issue 12, item 8: a job that confirmed fewer rows than it was sent was taken as done."""
    _, _, client = toy
    rows = [Contact("a@example.com"), Contact(f"{LOST_MARK}b@example.com"), Contact("c@example.com")]
    job = client.wait(client.import_contacts(rows))  # one batch of three; the toy confirms two
    errors = list(client.import_errors(job))
    assert job.status is ImportStatus.FAILED  # none was accepted for sure
    assert [e.row for e in errors] == [1, 2, 3]  # which one was lost is unknown: none of them is confirmed
    assert all("may or may not have been applied" in e.message for e in errors)
    assert (job.accepted, job.errored, job.requested) == (0, 3, 3) and job.extra["unconfirmed"] == 1


def test_a_job_that_confirms_none_of_its_rows_fails(toy: Toy) -> None:
    _, _, client = toy
    job = client.wait(client.import_contacts([Contact(f"{LOST_MARK}{n}@example.com") for n in range(3)]))
    assert job.status is ImportStatus.FAILED and not job.status.is_success
    assert [e.row for e in client.import_errors(job)] == [1, 2, 3]
    assert _counts_add_up(job)


def test_an_import_stops_sending_once_a_refusal_dooms_every_batch(toy: Toy) -> None:
    """Issue 12, item 7: after the first refusal for an unknown list, every later batch was still sent."""
    sandbox, emulator, client = toy
    list_id = client.create_list("Going")

    def remove_the_list(job: ImportJob) -> None:
        emulator.state["lists"].pop(list_id, None)  # deleted in the account while the import runs

    rows = [Contact(f"c{n}@example.com") for n in range(30)]
    job = client.wait(client.import_contacts(rows, [ListSubscription(list_id)], route="json", on_batch=remove_the_list))
    posted = [r for r in sandbox.requests if r.method == "POST" and r.path.endswith("/v1/imports")]
    assert len(posted) <= 1 + 2 + client.concurrency  # the first batch, the ones in flight, none after the refusal
    assert job.status is ImportStatus.FAILED
    errors = list(client.import_errors(job))
    assert len(errors) == 30 - job.accepted and _counts_add_up(job)
    assert any("not sent" in e.message for e in errors) and any("no list" in e.message for e in errors)


def test_rows_the_file_route_cannot_carry_go_by_the_first_route(toy: Toy) -> None:
    """Issue 12, item 10: the file route's limits no longer lose valid rows."""
    _sandbox, emulator, client = toy
    list_id = client.create_list("Mixed")
    rows = [Contact(f"plain{n}@example.com", name=f"P {n}") for n in range(12)]
    rows += [Contact("props@example.com", properties={"age": 3}), Contact("empty@example.com", name="")]
    job = client.wait(client.import_contacts(rows, [ListSubscription(list_id)]))  # 14 rows: the file route
    assert job.local_errors == () and list(client.import_errors(job)) == []
    assert sorted(len(body["contacts"]) for body in emulator.state["bodies"]) == [2]  # the JSON route took two
    assert client.get_contact("props@example.com") == Contact("props@example.com", properties={"age": 3})
    assert client.get_contact("empty@example.com") == Contact("empty@example.com", name="")
    assert {c["email"] for c in emulator.contacts(list_id)} == {c.email for c in rows}
    assert (job.accepted, job.requested) == (14, 14)


def test_an_input_row_error_is_counted_and_kept(toy: Toy) -> None:
    _, _, client = toy
    job = client.wait(client.import_contacts([Contact("a@example.com"), RowError("x", None, "email", "broken")]))
    assert [(e.row, e.message) for e in client.import_errors(job)] == [(2, "broken")]
    assert (job.accepted, job.errored, job.requested) == (1, 1, 2)
