"""Contact <-> Brevo mapping and the wire records: round trips for what Brevo holds, clear errors for the rest."""

from __future__ import annotations

import json
import string
from datetime import date, datetime, timezone
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from contactsync import Contact, FieldType, ImportStatus, ListSubscription, SubscriptionAction, UnrepresentableValue
from contactsync_brevo import wire
from contactsync_brevo.translate import (
    STATUSES,
    AttributeBook,
    camel,
    contact_from_wire,
    contact_to_wire,
    converter,
    field_type_from_wire,
    field_type_to_wire,
    job_from_wire,
    join_name,
    lists_to_add,
    memberships_from_wire,
    parse_timestamp,
    property_value,
    split_name,
    status_of,
    wire_type_of,
)

BOOK = AttributeBook(
    [
        wire.AttributeRecord("FIRSTNAME", "normal", "text"),
        wire.AttributeRecord("LASTNAME", "normal", "text"),
        wire.AttributeRecord("CITY", "normal", "text"),
        wire.AttributeRecord("SCORE", "normal", "float"),
        wire.AttributeRecord("VIP", "normal", "boolean"),
        wire.AttributeRecord("BORN", "normal", "date"),
        wire.AttributeRecord("GENDER", "category", "category"),
        wire.AttributeRecord("TOTAL", "calculated"),
    ]
)
"""An account with one normal attribute of each written type, and two that are not written."""

_words = st.text(alphabet=string.ascii_letters + "éøß中 -'", min_size=1, max_size=12).filter(lambda s: s == s.strip())
names = st.one_of(_words, st.builds(lambda a, b: f"{a} {b}", _words, _words))
_values: dict[str, st.SearchStrategy[Any]] = {
    "CITY": st.text(min_size=1, max_size=30),
    "SCORE": st.one_of(st.integers(-(2**53), 2**53), st.floats(allow_nan=False, allow_infinity=False, width=64)),
    "VIP": st.booleans(),
    "BORN": st.dates(),
}
representable = st.builds(
    lambda local, name, properties: Contact(f"{local}@example.com", name=name, properties=properties),
    st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=20),
    st.one_of(st.none(), names),
    st.fixed_dictionaries({}, optional=_values),
)


def stored(item: wire.ImportContact) -> wire.ContactRecord:
    """What Brevo reads back for an imported item: its JSON, attributes as sent (reference/brevo.md §4)."""
    data = json.loads(json.dumps(converter.unstructure(item)))
    record = {"id": 1, "email": data["email"], "listIds": [], "attributes": data.get("attributes", {})}
    return converter.structure(record, wire.ContactRecord)


# -- round trips -------------------------------------------------------------------------------------


@given(representable)
def test_a_contact_round_trips_through_brevo_records(contact: Contact) -> None:
    assert contact_from_wire(stored(contact_to_wire(contact, BOOK)), BOOK) == contact


@given(representable)
def test_read_back_values_keep_their_types(contact: Contact) -> None:
    back = contact_from_wire(stored(contact_to_wire(contact, BOOK)), BOOK)
    assert back is not None
    assert {k: type(v) for k, v in back.properties.items()} == {k: type(v) for k, v in contact.properties.items()}


@given(names)
def test_join_name_inverts_split_name(name: str) -> None:
    first, last = split_name(name)
    assert join_name(first, last or "") == name


_records = [
    wire.ImportRequest,
    wire.CreateContact,
    wire.UpdateContact,
    wire.CreateList,
    wire.ListRecord,
    wire.ProcessCreated,
]


@pytest.mark.parametrize("cls", _records)
def test_camel_case_records_round_trip_through_their_json(cls: type) -> None:
    @given(st.builds(cls))
    def check(record: Any) -> None:
        data = json.loads(json.dumps(converter.unstructure(record)))
        assert all(key == camel(key) or "_" not in key for key in data)
        assert converter.structure(data, cls) == record

    check()


def test_json_names_are_brevos_camel_case() -> None:
    body = converter.unstructure(wire.ImportRequest([2], True, False, True, True))
    assert body == {
        "listIds": [2],
        "updateExistingContacts": True,
        "emptyContactsAttributes": False,
        "emailBlacklist": True,
        "disableNotification": True,
    }
    update = converter.unstructure(wire.UpdateContact(unlink_list_ids=[4], email_blacklisted=False))
    assert update == {"emailBlacklisted": False, "unlinkListIds": [4]}


def test_camel_turns_snake_case_into_brevos_names() -> None:
    assert [camel(n) for n in ("list_ids", "update_existing_contacts", "id")] == [
        "listIds",
        "updateExistingContacts",
        "id",
    ]


# -- what Brevo cannot hold ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("contact", "field"),
    [
        (Contact("a@example.com", properties={"city": 3}), "city"),
        (Contact("a@example.com", properties={"NOPE": None}), "NOPE"),
        (Contact("a@example.com", properties={"WHEN": datetime(2020, 1, 1, tzinfo=timezone.utc)}), "WHEN"),
        (Contact("a@example.com", properties={"no space": "x"}), "no space"),
        (Contact("a@example.com", properties={"CITY": None}), "CITY"),
        (Contact("a@example.com", properties={"CITY": ""}), "CITY"),
        (Contact("a@example.com", properties={"CITY": 3}), "CITY"),
        (Contact("a@example.com", properties={"SCORE": "3"}), "SCORE"),
        (Contact("a@example.com", properties={"SCORE": True}), "SCORE"),
        (Contact("a@example.com", properties={"SCORE": 2**60}), "SCORE"),
        (Contact("a@example.com", properties={"VIP": 1}), "VIP"),
        (Contact("a@example.com", properties={"BORN": datetime(2020, 1, 1, tzinfo=timezone.utc)}), "BORN"),
        (Contact("a@example.com", properties={"BORN": "2020-01-01"}), "BORN"),
        (Contact("a@example.com", properties={"GENDER": "1"}), "GENDER"),
        (Contact("a@example.com", properties={"TOTAL": "1"}), "TOTAL"),
        (Contact("a@example.com", properties={"FIRSTNAME": "Ann"}), "FIRSTNAME"),
        (Contact("a@example.com", properties={"EMAIL": "b@example.com"}), "EMAIL"),
        (Contact("a@example.com", properties={"sms": "+33612345678"}), "sms"),
        (Contact("a@example.com", name=""), "name"),
        (Contact("a@example.com", name="Ann "), "name"),
        (Contact("a@example.com", name=" Ann"), "name"),
    ],
)
def test_what_brevo_cannot_hold_is_refused_naming_the_field(contact: Contact, field: str) -> None:
    with pytest.raises(UnrepresentableValue) as raised:
        contact_to_wire(contact, BOOK)
    assert raised.value.field == field


def test_a_property_is_its_attribute_in_capitals_whatever_its_case() -> None:
    item = contact_to_wire(Contact("a@example.com", properties={"City": "Oslo", "score": 2}), BOOK)
    assert item.attributes == {"CITY": "Oslo", "SCORE": 2}
    back = contact_from_wire(stored(item), BOOK, {"CITY": "City", "SCORE": "score"})
    assert back == Contact("a@example.com", properties={"City": "Oslo", "score": 2})


@given(st.sampled_from([3, 2.5, True, date(2020, 1, 1), "text"]))
def test_a_missing_attribute_is_noted_with_the_type_its_first_value_calls_for(value: Any) -> None:
    book = AttributeBook(BOOK.by_name.values())
    contact_to_wire(Contact("a@example.com", properties={"Extra": value, "CITY": "x"}), book)
    (name, kind), *rest = book.take_new().values()
    assert (name, kind, rest) == ("Extra", wire_type_of(value, "Extra"), [])
    assert kind == {int: "float", float: "float", bool: "boolean", date: "date", str: "text"}[type(value)]


def test_a_contact_refused_notes_no_attribute() -> None:
    book = AttributeBook(BOOK.by_name.values())
    with pytest.raises(UnrepresentableValue):
        contact_to_wire(Contact("a@example.com", properties={"Extra": 1, "CITY": 3}), book)
    assert book.take_new() == {}


def test_the_name_splits_at_its_first_space() -> None:
    item = contact_to_wire(Contact("a@example.com", name="Mary Ann Lee"), BOOK)
    assert item.attributes == {"FIRSTNAME": "Mary", "LASTNAME": "Ann Lee"}


def test_a_one_word_name_writes_firstname_only() -> None:
    assert contact_to_wire(Contact("a@example.com", name="Cher"), BOOK).attributes == {"FIRSTNAME": "Cher"}


def test_dates_go_as_days_and_numbers_as_json_numbers() -> None:
    item = contact_to_wire(Contact("a@example.com", properties={"BORN": date(1989, 11, 23), "SCORE": 3}), BOOK)
    assert converter.unstructure(item) == {"email": "a@example.com", "attributes": {"BORN": "1989-11-23", "SCORE": 3}}


# -- reading back -------------------------------------------------------------------------------------


def test_contact_records_are_read_leniently() -> None:
    record = converter.structure(
        {
            "id": "42",
            "email": "A@Example.com",
            "emailBlacklisted": "true",
            "listIds": ["3"],
            "createdAt": None,
            "modifiedAt": "2017-05-02T16:40:31.123Z",
            "listUnsubscribed": None,
            "attributes": {"SCORE": "4"},
        },
        wire.ContactRecord,
    )
    assert (record.id, record.email_blacklisted, record.list_ids, record.list_unsubscribed) == (42, True, [3], None)
    assert record.modified_at == datetime(2017, 5, 2, 16, 40, 31, 123000, tzinfo=timezone.utc)
    contact = contact_from_wire(record, BOOK)
    assert contact == Contact("a@example.com", properties={"SCORE": 4})


def test_sms_only_contacts_and_records_without_email_are_not_read_as_contacts() -> None:
    for data in ({"id": 1, "email": "33058407248@mailin-sms.com"}, {"id": 2}):
        assert contact_from_wire(converter.structure(data, wire.ContactRecord), BOOK) is None


@pytest.mark.parametrize(
    ("kind", "raw", "value"),
    [
        ("date", "1989-11-23", date(1989, 11, 23)),
        ("date", "1989-11-23T00:00:00Z", date(1989, 11, 23)),
        ("date", "1989-11-23T10:00:00+02:00", datetime(1989, 11, 23, 8, tzinfo=timezone.utc)),
        ("date", "23/11/1989", "23/11/1989"),
        ("float", "4.5", 4.5),
        ("float", "4", 4),
        ("float", 4.0, 4.0),
        ("boolean", "true", True),
        ("text", "x", "x"),
        ("multiple-choice", ["India", "China"], '["India", "China"]'),
    ],
)
def test_stored_values_are_read_by_their_attributes_type(kind: str, raw: Any, value: Any) -> None:
    got = property_value(wire.AttributeRecord("X", "normal", kind), raw)
    assert (got, type(got)) == (value, type(value))


def test_parse_timestamp_takes_brevos_forms_and_refuses_nothing() -> None:
    assert parse_timestamp("2024-01-15T10:30:00Z") == datetime(2024, 1, 15, 10, 30, tzinfo=timezone.utc)
    assert parse_timestamp("2024-01-15T10:30:00.123Z") == datetime(2024, 1, 15, 10, 30, 0, 123000, tzinfo=timezone.utc)
    assert parse_timestamp("2024-01-15") == datetime(2024, 1, 15, tzinfo=timezone.utc)
    assert parse_timestamp("soon") is None


# -- processes ------------------------------------------------------------------------------------------


def _process(status: str, **info: Any) -> wire.Process:
    data: dict[str, Any] = {"id": 217, "name": "IMPORTUSER", "status": status}
    if info:
        data["info"] = {"import": info}
    return converter.structure(data, wire.Process)


@given(st.sampled_from(sorted(STATUSES)) | st.text(max_size=20))
def test_every_raw_status_maps_to_exactly_one_status_kept_raw(raw: str) -> None:
    job = job_from_wire(_process(raw))
    assert job.status is STATUSES.get(raw, ImportStatus.UNKNOWN)
    assert job.provider_status == raw


def test_the_status_table() -> None:
    assert {raw: status_of(_process(raw)) for raw in STATUSES} == {
        "queued": ImportStatus.PENDING,
        "in_process": ImportStatus.RUNNING,
        "processing": ImportStatus.RUNNING,
        "completed": ImportStatus.COMPLETED,
        "failed": ImportStatus.FAILED,
        "cancelled": ImportStatus.CANCELLED,
    }


def test_a_completed_import_with_invalid_emails_completed_with_errors() -> None:
    job = job_from_wire(_process("completed", invalid_emails="2", duplicate_email_id=None))
    assert (job.status, job.errored, job.extra["invalid_emails"]) == (ImportStatus.COMPLETED_WITH_ERRORS, 2, 2)


def test_a_process_reads_its_snake_case_record() -> None:
    data = {
        "id": 217,
        "name": "IMPORTUSER",
        "status": "failed",
        "error": "bad file",
        "export_url": None,
        "created_at": "2024-01-15T10:30:00Z",
        "completed_at": "2024-01-15T10:32:15Z",
        "info": {"import": {"invalid_emails": 0, "duplicate_email_id": "https://x.example/d.csv"}, "export": {}},
    }
    job = job_from_wire(converter.structure(data, wire.Process))
    assert (job.id, job.status, job.finished_at) == (
        "217",
        ImportStatus.FAILED,
        datetime(2024, 1, 15, 10, 32, 15, tzinfo=timezone.utc),
    )
    assert job.extra["error"] == "the Brevo import failed: bad file"
    assert job.extra["duplicate_email_url"] == "https://x.example/d.csv"
    assert (job.created, job.updated) == (None, None)  # Brevo reports neither (reference/brevo.md §3)


def test_a_completed_process_accepts_what_was_sent_less_the_invalid_emails() -> None:
    done = job_from_wire(_process("completed", invalid_emails=1), sent=5)
    assert (done.status, done.requested, done.accepted, done.errored) == (ImportStatus.COMPLETED_WITH_ERRORS, 5, 4, 1)
    assert job_from_wire(_process("failed"), sent=5).accepted == 0
    assert job_from_wire(_process("in_process"), sent=5).accepted == 0
    assert job_from_wire(_process("completed")).accepted == 0  # not sent by this client: nothing known


# -- fields and subscriptions --------------------------------------------------------------------------


def test_field_types_map_both_ways_and_datetimes_are_refused() -> None:
    for kind in (FieldType.TEXT, FieldType.NUMBER, FieldType.BOOLEAN, FieldType.DATE):
        assert field_type_from_wire(field_type_to_wire(kind, "X")) is kind
    assert field_type_from_wire(field_type_to_wire(FieldType.INTEGER, "X")) is FieldType.NUMBER
    with pytest.raises(UnrepresentableValue) as raised:
        field_type_to_wire(FieldType.DATETIME, "WHEN")
    assert raised.value.field == "WHEN"
    assert field_type_from_wire("multiple-choice") is None


def test_standing_follows_the_blacklist_and_list_unsubscription() -> None:
    record = wire.ContactRecord(1, "a@example.com", list_ids=[3, 4], list_unsubscribed=[4, 9])
    blacklisted = attrs.evolve(record, email_blacklisted=True)
    assert [(m.list_id, m.subscribed) for m in memberships_from_wire(record)] == [
        ("3", True),
        ("4", False),
        ("9", False),
    ]
    assert {m.subscribed for m in memberships_from_wire(blacklisted)} == {False}


def test_addnoforce_skips_a_list_the_contact_unsubscribed_from() -> None:
    subs = [
        ListSubscription("3", SubscriptionAction.ADD_NO_FORCE),
        ListSubscription("4", SubscriptionAction.ADD_FORCE),
        ListSubscription("5", SubscriptionAction.REMOVE),
        ListSubscription("6", SubscriptionAction.UNSUBSCRIBE),
        ListSubscription("7", SubscriptionAction.ADD_NO_FORCE),
    ]
    assert lists_to_add(subs, unsubscribed=[3, 4]) == [4, 6, 7]
