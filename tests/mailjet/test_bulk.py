"""Bulk imports end to end: every valid contact arrives, every invalid one is a RowError with its row."""

from __future__ import annotations

import time

import pytest

from contactsync import Contact, ImportStatus, InvalidEmail, ListSubscription, RowError, SubscriptionAction
from contactsync.providers.mailjet.provider import MailjetProvider
from contactsync.sandbox.mailjet import MailjetEmulator

Item = Contact | RowError


def _inputs(count: int, *, names: bool) -> tuple[list[Item], dict[int, Contact], set[int]]:
    """``count`` rows as a reader yields them: contacts, and RowErrors for addresses that fail validation.

    Every 397th row is malformed (rejected before sending); every 331st is an address
    email-validator accepts but the sandbox's Mailjet does not (reported by the job).
    """
    items: list[Item] = []
    valid: dict[int, Contact] = {}
    bad: set[int] = set()
    for row in range(1, count + 1):
        if row % 397 == 0:
            raw = f"broken{row}@@example.com"
            try:
                Contact(raw)
            except InvalidEmail as exc:
                items.append(RowError(raw, None, "email", exc.message))
            bad.add(row)
            continue
        if row % 331 == 0:
            items.append(Contact(f"usér{row}@example.com"))
            bad.add(row)
            continue
        contact = Contact(
            f"person{row}@example.com",
            name=f"Person {row}" if names else None,
            properties={"number": row, "group": f"g{row % 7}", "even": row % 2 == 0},
        )
        items.append(contact)
        valid[row] = contact
    return items, valid, bad


def _check(
    client: MailjetProvider,
    emulator: MailjetEmulator,
    list_id: str,
    route: str | None,
    count: int,
    *,
    names: bool,
    read_back: int,
) -> str:
    items, valid, bad = _inputs(count, names=names)
    job = client.import_contacts(items, [ListSubscription(list_id, SubscriptionAction.ADD_FORCE)], route=route)
    job = client.wait(job, timeout=600)
    assert job.status is ImportStatus.COMPLETED_WITH_ERRORS
    assert (job.requested, job.accepted, job.errored) == (count, len(valid), len(bad))

    errors = list(client.import_errors(job))
    assert sorted(e.row for e in errors if e.row is not None) == sorted(bad)
    assert len(errors) == len(bad)

    stored = {c["Email"]: c for c in emulator.contacts(list_id)}
    assert set(stored) == {c.email for c in valid.values()}
    assert not any(c["IsUnsubscribed"] for c in stored.values())
    step = max(len(valid) // read_back, 1)
    for contact in list(valid.values())[::step]:
        assert client.get_contact(contact.email) == contact
    return job.parts[0].id if job.parts else job.id


def test_thousand_contacts_through_json(client: MailjetProvider, emulator: MailjetEmulator) -> None:
    news = client.create_list("News")
    part = _check(client, emulator, news, None, 1000, names=True, read_back=250)
    assert part.startswith("contactslist:")


def test_thousand_contacts_through_csv(client: MailjetProvider, emulator: MailjetEmulator) -> None:
    news = client.create_list("News")
    part = _check(client, emulator, news, "csv", 1000, names=False, read_back=100)
    assert part.startswith("csvimport:")


@pytest.mark.slow
def test_fifty_thousand_contacts(client: MailjetProvider, emulator: MailjetEmulator) -> None:
    news = client.create_list("News")
    started = time.monotonic()
    part = _check(client, emulator, news, None, 50_000, names=False, read_back=200)
    assert part.startswith("csvimport:"), "a large import into one list takes the CSV route"
    assert time.monotonic() - started < 300


@pytest.mark.slow
def test_fifty_thousand_named_contacts_through_json(client: MailjetProvider, emulator: MailjetEmulator) -> None:
    news = client.create_list("News")
    part = _check(client, emulator, news, None, 50_000, names=True, read_back=200)
    assert part.startswith("contactslist:"), "names keep a large import on the JSON route"
