"""Mailjet read-back: the three-way join of a list's pages, GDPR-deleted contacts, and the list reads on the wire."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

import requests
from hypothesis import given
from hypothesis import strategies as st
from mailjet_rest import Client

from contactsync import Contact, EventType, ListSubscription
from contactsync.providers.mailjet.provider import MailjetProvider
from contactsync.providers.mailjet.readback import join_members, lockstep
from contactsync.providers.mailjet.wire import MjContactData, MjDataItem, MjId, MjListRecipient, MjStoredContact
from contactsync.sandbox import Sandbox
from contactsync.sandbox.mailjet import MailjetEmulator

T = TypeVar("T")


def _paged(items: list[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@given(
    st.integers(min_value=0, max_value=60),
    st.integers(min_value=1, max_value=7),
    st.randoms(use_true_random=False),
    st.sets(st.integers(min_value=0, max_value=59), max_size=5),
)
def test_the_join_pairs_every_membership_with_its_contact_and_data_in_any_order(
    count: int, size: int, shuffle: random.Random, late: set[int]
) -> None:
    ids = [str(n) for n in range(count)]
    recipients = [MjListRecipient(id=MjId(f"r{i}"), contact_id=MjId(i), list_id=MjId("1")) for i in ids]
    contacts = [MjStoredContact(id=MjId(i), email=f"c{i}@example.com") for i in ids if int(i) not in late]
    data = [MjContactData(contact_id=MjId(i), data=[MjDataItem("n", i)], id=MjId(i)) for i in ids]
    contacts += [MjStoredContact(id=MjId("gone"), email="gone@example.com")]  # left the list while it was read
    shuffle.shuffle(contacts)
    shuffle.shuffle(data)
    fetched = []

    def fetch_one(contact_id: str) -> tuple[MjStoredContact, MjContactData | None] | None:
        fetched.append(contact_id)
        return MjStoredContact(id=MjId(contact_id), email=f"c{contact_id}@example.com"), None

    streams = lockstep(_paged(recipients, size), _paged(contacts, size), _paged(data, size))
    joined = list(join_members(streams, fetch_one))
    assert sorted(str(r.contact_id) for r, _, _ in joined) == sorted(ids)
    for recipient, contact, values in joined:
        assert str(contact.id) == str(recipient.contact_id) and contact.email == f"c{contact.id}@example.com"
        assert values is None or str(values.id) == str(contact.id)
    assert sorted(fetched) == sorted(i for i in ids if int(i) in late)


def _filled(client: MailjetProvider, count: int = 3) -> str:
    list_id = client.create_list("News")
    contacts = [Contact(f"m{n}@example.com", properties={"city": f"c{n}"}) for n in range(count)]
    client.wait(client.import_contacts(contacts, [ListSubscription(list_id)]))
    return list_id


def test_a_gdpr_deleted_contact_is_anonymised_and_left_out_of_members(
    client: MailjetProvider, mj_sandbox: Sandbox
) -> None:
    list_id = _filled(client)
    client.delete_contacts(["m1@example.com"])
    listed = client.transport.json("GET", "/v3/REST/contact", params={"ContactsList": list_id, "Limit": 10})["Data"]
    assert len(listed) == 3  # reference §9b: kept until purged, under an anonymised address
    anonymised = [c for c in listed if c["Email"].endswith("@domain.invalid")]
    assert [(c["Email"][:2], c["Name"]) for c in anonymised] == [("\\x", "Anonymized")]
    assert {m.contact.email for m in client.members(list_id)} == {"m0@example.com", "m2@example.com"}


def test_an_address_deleted_can_be_imported_again(client: MailjetProvider) -> None:
    list_id = _filled(client, 1)
    client.delete_contacts(["m0@example.com"])
    client.wait(client.import_contacts([Contact("m0@example.com")], [ListSubscription(list_id)]))
    assert [m.contact for m in client.members(list_id)] == [Contact("m0@example.com")]


def test_count_only_answers_the_total(client: MailjetProvider) -> None:
    list_id = _filled(client, 4)
    answer = client.transport.json("GET", "/v3/REST/listrecipient", params={"ContactsList": list_id, "countOnly": 1})
    assert answer == {"Count": 4, "Data": [], "Total": 4}  # reference §9a


def test_the_official_client_pages_the_three_resources(
    client: MailjetProvider, official: Client, emulator: MailjetEmulator
) -> None:
    list_id = _filled(client, 3)
    filters: dict[str, Any] = {"ContactsList": list_id, "Limit": 2, "Offset": 2}
    for resource in (official.listrecipient, official.contact, official.contactdata):
        response = resource.get(filters=filters)
        assert response.status_code == 200
        assert response.json()["Count"] == 1  # the page's count, not the total (reference §9a)


def test_events_scan_the_memberships(client: MailjetProvider, mj_sandbox: Sandbox) -> None:
    list_id = _filled(client, 3)
    later = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=1)  # after the subscriptions
    time.sleep((later - datetime.now(timezone.utc)).total_seconds())
    mj_sandbox.simulate("mailjet", "m2@example.com", "unsubscribe", list_id)
    found = list(client.events_since(later, list_id))
    assert [(e.type, e.email) for e in found] == [(EventType.UNSUBSCRIBED, "m2@example.com")]
    everything = list(client.events_since(later - timedelta(minutes=1)))
    assert {e.type for e in everything} == {EventType.SUBSCRIBED, EventType.UNSUBSCRIBED}


def test_a_deleted_lists_memberships_make_no_events(client: MailjetProvider, mj_sandbox: Sandbox) -> None:
    list_id = _filled(client, 2)
    client.delete_list(list_id)
    assert list(client.events_since(datetime.now(timezone.utc) - timedelta(minutes=1))) == []


def test_the_emulator_lists_memberships_in_membership_order(client: MailjetProvider, mj_sandbox: Sandbox) -> None:
    list_id = _filled(client, 3)
    emulator = mj_sandbox.emulators["mailjet"]
    auth = (emulator.API_KEY, emulator.SECRET_KEY)  # type: ignore[attr-defined]
    url = mj_sandbox.base_url("mailjet") + "/v3/REST/listrecipient"
    rows = requests.get(url, params={"contactslist": list_id, "unsub": "false"}, auth=auth, timeout=10).json()["Data"]
    assert [r["ID"] for r in rows] == sorted(r["ID"] for r in rows) and len(rows) == 3
