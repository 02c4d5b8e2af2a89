"""The journal: an interrupted import continues without sending its finished batches again."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from contactsync import (
    ConfigurationError,
    Contact,
    ImportStatus,
    InvalidInput,
    ListSubscription,
    RowError,
    SubscriptionAction,
)
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


def _interrupted(sandbox: Sandbox, tmp_path: Path) -> Path:
    """The journal of an import cut short at row 12: three batches recorded."""
    journal = tmp_path / "import.journal"
    with pytest.raises(KeyboardInterrupt):
        client(sandbox).import_contacts(cut_at(12), route="json", journal=journal)
    return journal


def _edit(sql: str) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        with contextlib.closing(sqlite3.connect(path)) as db:
            db.execute(sql)
            db.commit()

    return edit


def _overwrite(offset: int, data: bytes) -> Callable[[Path], None]:
    def overwrite(path: Path) -> None:
        with path.open("r+b") as handle:
            handle.seek(offset)
            handle.write(data)

    return overwrite


DAMAGE: dict[str, Callable[[Path], object]] = {
    "rows blob not 8-aligned": _edit("UPDATE batch SET rows = x'00112233445566' WHERE number = 1"),
    "rows as text": _edit("UPDATE batch SET rows = 'abc' WHERE number = 1"),
    "row and email counts differ": _edit("UPDATE batch SET emails = 'one@example.com' WHERE number = 1"),
    "unknown status": _edit("UPDATE batch SET status = 'exploded' WHERE number = 1"),
    "a row number that is not a number": _edit("UPDATE batch SET first_row = 'x' WHERE number = 2"),
    "garbage pages": _overwrite(4096, bytes(range(256)) * 48),
    "truncated": lambda path: path.write_bytes(path.read_bytes()[:1500]),
    "not a database": lambda path: path.write_bytes(b"hello, I am text\n" * 500),
    "another version": _edit("PRAGMA user_version = 99"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_journal_is_a_configuration_error_saying_how_to_start_over(
    toy: tuple[Sandbox, ToyEmulator], tmp_path: Path, damage: str
) -> None:
    sandbox, _ = toy
    journal = _interrupted(sandbox, tmp_path)
    DAMAGE[damage](journal)
    with pytest.raises(ConfigurationError, match="delete it to start the import over") as caught:
        client(sandbox).wait(client(sandbox).import_contacts(rows(), journal=journal))
    assert str(journal) in str(caught.value)


def test_no_journal_is_written_before_the_first_batch_is_sent(toy: tuple[Sandbox, ToyEmulator], tmp_path: Path) -> None:
    sandbox, _ = toy
    journal = tmp_path / "import.journal"
    with pytest.raises(KeyboardInterrupt):
        client(sandbox).import_contacts(cut_at(2), route="json", journal=journal)  # cut before a batch filled
    assert not journal.exists()
    rejected = [RowError("broken", None, "email", "not an email address")]
    job = client(sandbox).import_contacts(rejected, journal=journal)  # every row rejected: nothing sent
    assert job.errored == 1 and not journal.exists()


def test_a_resumed_import_runs_the_follow_up_the_stopped_process_never_ran(tmp_path: Path) -> None:
    """dotmailer removes in bulk by importing, then taking each row off the book: a process that
    stopped before its follow-up leaves it to the process that resumes the journal."""
    journal = tmp_path / "remove.journal"
    with Sandbox(["dotmailer"]) as sandbox:
        first = sandbox.connect("dotmailer", poll_interval=0.01)
        book = first.create_list("Leaving")
        people = [Contact(f"f{n}@example.com") for n in range(30)]
        first.wait(first.import_contacts(people, [ListSubscription(book)]))
        removal = [ListSubscription(book, SubscriptionAction.REMOVE)]
        first.import_contacts(people[:20], removal, journal=journal)  # submitted; the process then stops
        assert len(sandbox.contacts("dotmailer", book)) == 30

        second = sandbox.connect("dotmailer", poll_interval=0.01)
        job = second.wait(second.import_contacts(people[:20], removal, journal=journal))
        assert job.status is ImportStatus.COMPLETED and job.accepted == 20
        left = {contact.email for contact in sandbox.contacts("dotmailer", book)}
        assert left == {contact.email for contact in people[20:]}
