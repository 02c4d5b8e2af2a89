"""SendGrid read-back: exports and their files, unsubscribe groups, group suppressions by list, the export rows."""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st
from sendgrid import SendGridAPIClient

from contactsync import Contact, EventType, FieldDefinition, FieldType, InvalidInput, ListSubscription
from contactsync.providers.sendgrid.exports import export_rows, run_export
from contactsync.providers.sendgrid.provider import SendGridProvider
from contactsync.providers.sendgrid.translate import FieldBook, contact_from_wire, details_from_export
from contactsync.providers.sendgrid.wire import ContactDetails, FieldRecord, WireFieldType
from contactsync.sandbox import Sandbox
from contactsync.sandbox.sendgrid import EXPORT_COLUMNS, STORAGE, SendGridEmulator


def _filled(client: SendGridProvider, count: int) -> str:
    list_id = client.create_list("News")
    contacts = [Contact(f"s{n}@example.com", name=f"S {n}", properties={"city": "Lyon", "n": n}) for n in range(count)]
    client.wait(client.import_contacts(contacts, [ListSubscription(list_id)]))
    return list_id


def test_export_files_are_fetched_without_the_api_key(client: SendGridProvider, sandbox: Sandbox) -> None:
    list_id = _filled(client, 3)
    assert len(list(client.members(list_id))) == 3
    downloads = [r for r in sandbox.requests if r.path.startswith(f"/{STORAGE}/exports/")]
    assert downloads and all("Authorization" not in r.headers for r in downloads)


def test_the_storage_refuses_an_authorization_header(client: SendGridProvider) -> None:
    list_id = _filled(client, 1)
    (url,) = run_export(client.transport, [list_id], 0.01).urls
    refused = requests.get(url, headers={"Authorization": "Bearer x"}, timeout=10)
    assert refused.status_code == 400 and b"Only one auth mechanism allowed" in refused.content


def test_a_large_export_comes_in_several_files_each_read_as_a_stream(client: SendGridProvider) -> None:
    list_id = _filled(client, 12_000)  # about 1.5 MB of CSV: files of at most 1 MB
    status = run_export(client.transport, [list_id], 0.01, max_file_size=1)
    assert len(status.urls) == 2
    emails = [row[0] for url in status.urls for row in list(export_rows(client.transport, url))[1:]]
    assert sorted(emails) == sorted(f"s{n}@example.com" for n in range(12_000))


def test_the_official_client_and_requests_read_an_export(sandbox: Sandbox, client: SendGridProvider) -> None:
    list_id = _filled(client, 2)
    sg = SendGridAPIClient(sandbox.credentials("sendgrid")["api_key"], host=sandbox.base_url("sendgrid"))
    answer = sg.client.marketing.contacts.exports.post(request_body={"list_ids": [list_id]})
    assert answer.status_code == 202
    export_id = json.loads(answer.body)["id"]
    status: dict[str, Any] = {"status": "pending"}
    while status["status"] == "pending":
        status = json.loads(sg.client.marketing.contacts.exports._(export_id).get().body)
    assert status["status"] == "ready" and status["contact_count"] == 2
    text = gzip.decompress(requests.get(status["urls"][0], timeout=10).content).decode()
    assert text.splitlines()[0].startswith('"EMAIL","FIRST_NAME","LAST_NAME"')  # reference §9 (ABT's header)


def test_an_export_of_an_unknown_list_is_not_found(sandbox: Sandbox) -> None:
    emulator: SendGridEmulator = sandbox.emulators["sendgrid"]  # type: ignore[assignment]
    url = sandbox.base_url("sendgrid") + "/v3/marketing/contacts/exports"
    headers = {"Authorization": f"Bearer {emulator.state['api_key']}"}
    assert requests.post(url, json={"list_ids": ["nope"]}, headers=headers, timeout=10).status_code == 404


def test_unsubscribe_groups_are_created_and_listed(client: SendGridProvider) -> None:
    group = client.create_unsubscribe_group("Newsletter", "Weekly news")
    assert (group.name, group.description, group.unsubscribes) == ("Newsletter", "Weekly news", 0)
    assert client.unsubscribe_groups() == [group]


@pytest.mark.parametrize(("name", "description"), [("x" * 31, ""), ("ok", "y" * 101), ("", "")])
def test_a_group_the_limits_refuse_is_refused_before_sending(
    client: SendGridProvider, sandbox: Sandbox, name: str, description: str
) -> None:
    sandbox.requests.clear()
    with pytest.raises(InvalidInput):
        client.create_unsubscribe_group(name, description)
    assert [r for r in sandbox.requests if r.method == "POST"] == []


def test_a_second_group_of_the_same_name_is_refused(client: SendGridProvider) -> None:
    client.create_unsubscribe_group("News", "")
    with pytest.raises(InvalidInput, match="already has"):
        client.create_unsubscribe_group("News", "again")


def test_a_list_mapped_to_a_group_reads_its_unsubscribes(sandbox: Sandbox) -> None:
    plain = sandbox.connect("sendgrid")
    assert isinstance(plain, SendGridProvider)
    group = plain.create_unsubscribe_group("News", "")
    other = plain.create_unsubscribe_group("Offers", "")
    list_id = _filled(plain, 3)
    client = sandbox.connect("sendgrid", unsubscribe_groups={list_id: group.id})
    before = datetime.now(timezone.utc)
    sandbox.simulate("sendgrid", "s1@example.com", "unsubscribe", str(group.id))
    sandbox.simulate("sendgrid", "s2@example.com", "unsubscribe", str(other.id))  # a group of no mapped list
    members = {m.contact.email: m.subscribed for m in client.members(list_id)}
    assert members == {"s0@example.com": True, "s1@example.com": False, "s2@example.com": True}
    of_list = [(e.email, e.list_id) for e in client.events_since(before, list_id)]
    assert of_list == [("s1@example.com", list_id)]
    everything = {(e.email, e.list_id) for e in client.events_since(before)}
    assert everything == {("s1@example.com", list_id), ("s2@example.com", None)}
    assert client.capabilities.events_by_list and not plain.capabilities.events_by_list


def test_a_deleted_contacts_suppressions_stay(client: SendGridProvider, sandbox: Sandbox) -> None:
    _filled(client, 2)
    sandbox.simulate("sendgrid", "s0@example.com", "bounce")
    client.delete_contacts(["s0@example.com"])
    assert client.get_contact("s0@example.com") is None
    found = list(client.events_since(datetime.now(timezone.utc) - timedelta(minutes=1)))
    assert [(e.type, e.email) for e in found] == [(EventType.BOUNCED, "s0@example.com")]  # reference §5


BOOK = FieldBook(
    [
        FieldRecord("e1_T", "nickName", WireFieldType.TEXT),
        FieldRecord("e2_N", "score", WireFieldType.NUMBER),
        FieldRecord("e3_D", "joined", WireFieldType.DATE),
    ]
)
_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=20)
_numbers = st.one_of(st.integers(-(2**53), 2**53), st.floats(allow_nan=False, allow_infinity=False))
_dates = st.one_of(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2999, 12, 31)).map(lambda d: d.isoformat() + "T00:00:00Z"),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2999, 1, 1)).map(
        lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")
    ),
)


@given(
    st.fixed_dictionaries(
        {},
        optional={"e1_T": _text, "e2_N": _numbers, "e3_D": _dates},
    ),
    st.sampled_from(["", "Ann", "Ann Lee"]),
    st.sampled_from(["", "Lyon", 'a "quoted", city']),
)
def test_an_emulator_export_row_reads_back_as_the_search_would(custom: dict[str, Any], name: str, city: str) -> None:
    first, _, last = name.partition(" ")
    stored = {
        "id": "c-1",
        "email": "a@example.com",
        "first_name": first,
        "last_name": last,
        "city": city,
        "custom": custom,
        "list_ids": [],
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }
    fields = [{"id": r.id, "name": r.name, "field_type": r.field_type.value} for r in BOOK.by_id.values()]
    emulator = SendGridEmulator()
    emulator.state["fields"] = fields
    emulator.state["contacts"] = {"a@example.com": stored}
    searched = contact_from_wire(ContactDetails(**emulator._details(stored)), BOOK)  # what get_contact reads
    by_name = {r.id: r.name for r in BOOK.by_id.values()}
    header = '"' + '","'.join(h.upper() for h in (*EXPORT_COLUMNS, *(f["name"] for f in fields))) + '"\n'
    line = SendGridEmulator._export_line(stored, [f["name"] for f in fields], by_name)
    (row,) = list(csv.DictReader(io.StringIO(header + line)))
    assert contact_from_wire(details_from_export(row, BOOK), BOOK) == searched


def test_a_field_type_number_cell_keeps_int_and_float_apart() -> None:
    book = FieldBook([FieldRecord("e1_N", "n", WireFieldType.NUMBER)])
    for cell, value in (("42", 42), ("42.0", 42.0), ("1e+20", 1e20)):
        contact = contact_from_wire(details_from_export({"EMAIL": "a@example.com", "N": cell}, book), book)
        assert contact.properties["n"] == value and type(contact.properties["n"]) is type(value)


def test_create_field_then_export_keeps_the_fields_spelling(client: SendGridProvider) -> None:
    client.ensure_fields([FieldDefinition("visitCount", FieldType.NUMBER)])
    list_id = client.create_list("L")
    client.wait(
        client.import_contacts([Contact("v@example.com", properties={"visitCount": 3})], [ListSubscription(list_id)])
    )
    assert [m.contact.properties for m in client.members(list_id)] == [{"visitCount": 3}]
