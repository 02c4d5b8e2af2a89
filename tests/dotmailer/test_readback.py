"""dotmailer read-back: suppression reasons as events, both dateRemoved spellings, book and account unsubscribes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import requests
from hypothesis import given
from hypothesis import strategies as st

from contactsync import Contact, EventType, ListSubscription
from contactsync.providers.dotmailer.provider import DotmailerProvider
from contactsync.providers.dotmailer.translate import parse_removed, suppression_event
from contactsync.providers.dotmailer.wire import ApiContact, ContactSuppression
from contactsync.sandbox import Sandbox
from contactsync.sandbox.dotmailer import DotmailerEmulator
from tests.readback.conftest import folded

KNOWN = {
    "Unsubscribed": EventType.UNSUBSCRIBED,
    "HardBounced": EventType.BOUNCED,
    "SoftBounced": EventType.BOUNCED,
    "IspComplained": EventType.COMPLAINED,
    "DirectComplaint": EventType.COMPLAINED,
    "MailBlocked": EventType.BLOCKED,
    "DomainSuppression": EventType.BLOCKED,
}


def _suppression(reason: str, removed: str = "2020-01-01T09:40:18.527Z") -> ContactSuppression:
    return ContactSuppression(ApiContact(email="A@Example.com", id=38), removed, reason)


def test_the_reasons_map_to_event_types() -> None:
    for reason, kind in KNOWN.items():
        assert suppression_event(_suppression(reason), {}, None).type is kind


STATUSES = [
    "Subscribed",
    "Unsubscribed",
    "SoftBounced",
    "HardBounced",
    "IspComplained",
    "MailBlocked",
    "PendingOptIn",
    "DirectComplaint",
    "Deleted",
    "SharedSuppression",
    "Suppressed",
    "NotAllowed",
    "DomainSuppression",
    "NoMxRecord",
    "NotAvailableInThisVersion",
]
"""reference §4: ApiContactStatuses, every value ``reason`` can take."""


@given(st.text(max_size=20).filter(lambda r: r not in STATUSES) | st.just("RecycleProtected"))
def test_an_unseen_reason_is_unknown_with_the_record_kept(reason: str) -> None:
    raw = {"reason": reason, "extra": [1, 2]}
    event = suppression_event(_suppression(reason), raw, "7")
    assert (event.type, event.reason, dict(event.raw), event.list_id) == (EventType.UNKNOWN, reason, raw, "7")
    assert event.email == "a@example.com"


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
def test_both_date_removed_spellings_read_as_the_same_instant(moment: datetime) -> None:
    utc = moment.replace(tzinfo=timezone.utc)
    zulu = moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"  # reference §10: S2's spelling
    spaced = moment.strftime("%Y-%m-%d %H:%M:%S.%f") + "+00:00"  # S17's spelling
    assert parse_removed(zulu) == utc.replace(microsecond=moment.microsecond // 1000 * 1000)
    assert parse_removed(spaced) == utc


def test_an_unreadable_date_removed_is_no_time() -> None:
    assert parse_removed("yesterday") is None and parse_removed(None) is None


def _filled(client: DotmailerProvider, count: int = 3) -> str:
    book = client.create_list("Book")
    contacts = [Contact(f"d{n}@example.com", properties={"city": f"c{n}"}) for n in range(count)]
    client.wait(client.import_contacts(contacts, [ListSubscription(book)]))
    return book


def test_an_account_unsubscribe_leaves_every_book_and_is_an_account_event(
    client: DotmailerProvider, dm_sandbox: Sandbox
) -> None:
    book = _filled(client)
    before = datetime.now(timezone.utc) - timedelta(seconds=1)
    dm_sandbox.simulate("dotmailer", "d0@example.com", "unsubscribe")
    assert {m.contact.email for m in client.members(book)} == {"d1@example.com", "d2@example.com"}
    found = [(e.type, e.email, e.list_id) for e in client.events_since(before, book)]
    assert found == [(EventType.UNSUBSCRIBED, "d0@example.com", None)]


def test_a_book_unsubscribe_keeps_the_members_data(client: DotmailerProvider, dm_sandbox: Sandbox) -> None:
    book = _filled(client)
    dm_sandbox.simulate("dotmailer", "d1@example.com", "unsubscribe", book)
    gone = [m for m in client.members(book) if not m.subscribed]
    # names compared case-insensitively: upper-cased today, as given once the portable contract lands
    assert [(m.contact.email, folded(m.contact.properties)) for m in gone] == [("d1@example.com", {"city": "c1"})]
    assert gone[0].unsubscribed_at is not None


def test_a_bounced_member_reads_back_unsubscribed(client: DotmailerProvider, dm_sandbox: Sandbox) -> None:
    book = _filled(client)
    dm_sandbox.simulate("dotmailer", "d2@example.com", "bounce")
    standing = {m.contact.email: m.subscribed for m in client.members(book)}
    assert standing == {"d0@example.com": True, "d1@example.com": True, "d2@example.com": False}


def test_the_emulator_pages_a_book_with_and_without_full_data(
    client: DotmailerProvider, dm_sandbox: Sandbox, emulator: DotmailerEmulator
) -> None:
    book = _filled(client, 5)
    url = f"{dm_sandbox.base_url('dotmailer')}/v2/address-books/{book}/contacts"
    auth = (emulator.username, emulator.password)
    bare = requests.get(url, params={"select": 2, "skip": 2}, auth=auth, timeout=10).json()
    assert [c["email"] for c in bare] == ["d2@example.com", "d3@example.com"]
    assert all(c["dataFields"] is None for c in bare)  # reference §9: null without withFullData
    full = requests.get(url, params={"withFullData": "true", "select": "1"}, auth=auth, timeout=10).json()
    assert {f["key"].lower(): f["value"] for f in full[0]["dataFields"]}["city"] == "c0"
    assert requests.get(url, params={"select": 1001}, auth=auth, timeout=10).status_code == 400


def test_deleting_a_book_answers_success(client: DotmailerProvider) -> None:
    book = _filled(client, 1)
    client.delete_list(book)
    assert book not in {b.id for b in client.lists()}
    assert client.get_contact("d0@example.com") is not None
