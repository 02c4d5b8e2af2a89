"""The journal: an interrupted import continues without sending its finished batches again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from contactsync import ConfigurationError, Contact, InvalidInput, ListSubscription, RowError
from contactsync.batching import Batch
from contactsync.journal import Journal
from contactsync.provider import InputItem
from contactsync.sandbox import Sandbox
from tests.reliability.conftest import emails, people
from tests.toy import REJECTED_DOMAIN, ToyEmulator, ToyProvider

ROWS = 20


def rows() -> list[InputItem]:
    """Twenty rows: one the reader rejected (row 5), two the toy provider refuses (rows 7 and 16)."""
    items: list[InputItem] = []
    for row in range(1, ROWS + 1):
        if row == 5:
            items.append(RowError("broken", None, "email", "not an email address"))
        elif row in (7, 16):
            items.append(Contact(f"r{row}{REJECTED_DOMAIN}"))
        else:
            items.append(Contact(f"c{row}@example.com"))
    return items


def cut_at(row: int) -> Iterator[InputItem]:
    """The rows, breaking off (as a crash would) when ``row`` is reached."""
    for number, item in enumerate(rows(), start=1):
        if number == row:
            raise KeyboardInterrupt
        yield item


@pytest.fixture
def toy() -> Iterator[tuple[Sandbox, ToyEmulator]]:
    emulator = ToyEmulator()
    with Sandbox([emulator]) as sandbox:
        yield sandbox, emulator


def client(sandbox: Sandbox) -> ToyProvider:
    """A fresh client each time, as a new process would have."""
    return ToyProvider(**sandbox.credentials("toy"), poll_interval=0.01)


def posts(sandbox: Sandbox) -> int:
    return sum(1 for request in sandbox.requests if request.method == "POST")


def test_an_import_cut_short_resumes_without_resending_its_batches(
    toy: tuple[Sandbox, ToyEmulator], tmp_path: Path
) -> None:
    sandbox, emulator = toy
    journal = tmp_path / "import.journal"
    with pytest.raises(KeyboardInterrupt):
        client(sandbox).import_contacts(cut_at(12), route="json", journal=journal)
    sent_first = posts(sandbox)
    assert sent_first == 3  # rows 1-3, 4-7 (row 5 rejected) and 8-10, three contacts a batch

    resumed = client(sandbox)
    job = resumed.wait(resumed.import_contacts(rows(), journal=journal))  # the journal keeps the route
    assert posts(sandbox) - sent_first == 4  # only rows 11-20
    assert job.requested == ROWS and len(job.parts) == 7
    errors = sorted((e.row, e.message) for e in resumed.import_errors(job))
    assert errors == [(5, "not an email address"), (7, "domain refused"), (16, "domain refused")]
    stored = set(emulator.state["contacts"])
    assert stored == {c.email for c in rows() if isinstance(c, Contact) and not c.email.endswith(REJECTED_DOMAIN)}


def test_a_finished_journal_gives_back_the_same_job(toy: tuple[Sandbox, ToyEmulator], tmp_path: Path) -> None:
    sandbox, _ = toy
    journal = tmp_path / "import.journal"
    first = client(sandbox)
    done = first.wait(first.import_contacts(rows(), route="json", journal=journal))
    sent = posts(sandbox)

    again = client(sandbox)
    job = again.wait(again.import_contacts(rows(), journal=journal))
    assert posts(sandbox) == sent
    assert job.id == done.id and job.status is done.status
    assert [e.row for e in again.import_errors(job)] == [5, 7, 16]


def test_a_batch_cut_off_while_sending_is_reported_when_a_repeat_is_unsafe(
    toy: tuple[Sandbox, ToyEmulator], tmp_path: Path
) -> None:
    sandbox, emulator = toy
    journal = tmp_path / "import.journal"
    record = Journal(journal)
    record.begin("toy", ())
    record.set_route("json")
    record.sending(Batch(1, [b"{}"] * 3, [1, 2, 3], [c.email for c in people(3)]), [])
    record.close()  # the process died before the provider answered

    resumed = client(sandbox)
    job = resumed.wait(resumed.import_contacts(people(6), journal=journal))
    assert sorted(emulator.state["contacts"]) == [c.email for c in people(6)[3:]]
    errors = list(resumed.import_errors(job))
    assert [e.row for e in errors] == [1, 2, 3]
    assert all("may or may not have been applied" in e.message for e in errors)


def test_a_batch_cut_off_while_sending_is_sent_again_when_that_is_safe(tmp_path: Path) -> None:
    journal = tmp_path / "import.journal"
    with Sandbox(["mailjet"]) as sandbox:
        mailjet = sandbox.connect("mailjet")
        subscription = ListSubscription(mailjet.create_list("Resumed"))
        record = Journal(journal)
        record.begin("mailjet", [subscription])
        record.set_route("json")
        record.sending(Batch(1, [b"{}"] * 2, [1, 2], [c.email for c in people(2)]), [])
        record.close()
        job = mailjet.wait(mailjet.import_contacts(people(5), [subscription], journal=journal))
        stored = emails(sandbox.contacts("mailjet", subscription.list_id))
    assert stored == {c.email for c in people(5)}
    assert list(mailjet.import_errors(job)) == []


def test_resuming_another_import_is_refused(toy: tuple[Sandbox, ToyEmulator], tmp_path: Path) -> None:
    sandbox, _ = toy
    journal = tmp_path / "import.journal"
    with pytest.raises(KeyboardInterrupt):
        client(sandbox).import_contacts(cut_at(12), route="json", journal=journal)
    other = client(sandbox).create_list("Other")
    with pytest.raises(ConfigurationError, match="subscriptions"):
        client(sandbox).import_contacts(rows(), [ListSubscription(other)], journal=journal)
    with pytest.raises(InvalidInput, match=r"row 1: the input is p00001@example\.com here"):
        client(sandbox).import_contacts(people(20), journal=journal)


def test_a_file_that_is_not_a_journal_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "not-a-journal"
    path.write_text("hello, I am text\n" * 100)
    with pytest.raises(ConfigurationError, match="not an import journal"):
        Journal(path)
