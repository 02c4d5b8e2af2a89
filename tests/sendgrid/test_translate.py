"""Contact <-> SendGrid mapping: round trips for what SendGrid holds, clear errors for what it cannot."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from typing import Any

import pytest
from hypothesis import given

from contactsync.errors import UnrepresentableValue
from contactsync.model import Contact, FieldType, ImportStatus
from contactsync.providers.sendgrid.errorsfile import parse_errors_file
from contactsync.providers.sendgrid.translate import (
    FieldBook,
    contact_from_wire,
    contact_to_wire,
    converter,
    field_type_to_wire,
    infer_field_type,
    status_of,
)
from contactsync.providers.sendgrid.wire import ContactDetails, ContactRequest, JobRecord, WireFieldType
from tests.sendgrid.strategies import BOOK, representable_contacts


def stored(request: ContactRequest, book: FieldBook) -> ContactDetails:
    """What SendGrid reads back for an upsert: JSON, custom fields keyed by name instead of id."""
    data: dict[str, Any] = json.loads(json.dumps(converter.unstructure(request)))
    custom = data.pop("custom_fields", {})
    data["custom_fields"] = {book.by_id[fid].name: value for fid, value in custom.items()}
    return converter.structure({"id": "c1", **data}, ContactDetails)


@given(representable_contacts)
def test_contact_round_trips_through_sendgrid_records(contact: Contact) -> None:
    assert contact_from_wire(stored(contact_to_wire(contact, BOOK), BOOK), BOOK) == contact


def test_name_splits_at_the_first_space() -> None:
    wire = contact_to_wire(Contact("a@example.com", name="Mary Ann Lee"), BOOK)
    assert (wire.first_name, wire.last_name) == ("Mary", "Ann Lee")


def test_an_empty_name_is_refused_since_it_would_read_back_as_none() -> None:
    with pytest.raises(UnrepresentableValue) as caught:
        contact_to_wire(Contact("a@example.com", name=""), BOOK)
    assert caught.value.field == "name"


def test_custom_fields_are_written_by_id() -> None:
    wire = contact_to_wire(Contact("a@example.com", properties={"note": "hi", "age": 3}), BOOK)
    assert wire.custom_fields == {"e1_T": "hi", "e2_N": 3}


@pytest.mark.parametrize(
    ("contact", "field"),
    [
        (Contact("a@example.com", properties={"flag": True}), "flag"),
        (Contact("a@example.com", properties={"age": True}), "age"),
        (Contact("a@example.com", properties={"age": "3"}), "age"),
        (Contact("a@example.com", properties={"note": 3}), "note"),
        (Contact("a@example.com", properties={"joined": datetime(2020, 1, 1, 10)}), "joined"),
        (Contact("a@example.com", properties={"joined": datetime(2020, 1, 1, 10, 0, 0, 5, timezone.utc)}), "joined"),
        (Contact("a@example.com", properties={"age": 2**60}), "age"),
        (Contact("a@example.com", properties={"age": None}), "age"),
        (Contact("a@example.com", properties={"city": 5}), "city"),
        (Contact("a@example.com", properties={"unknown": "x"}), "unknown"),
        (Contact("a@example.com", properties={"created_at": "x"}), "created_at"),
        (Contact("a@example.com", properties={"email": "b@example.com"}), "email"),
        (Contact("a@example.com", name="Ann", properties={"first_name": "Ann"}), "first_name"),
        (Contact("a@example.com", name="Ann "), "name"),
        (Contact("a@example.com", name="x" * 51), "first_name"),
    ],
)
def test_unrepresentable_values_raise_naming_the_field(contact: Contact, field: str) -> None:
    with pytest.raises(UnrepresentableValue) as raised:
        contact_to_wire(contact, BOOK)
    assert raised.value.field == field


def test_booleans_follow_the_chosen_policy() -> None:
    book = FieldBook(BOOK.by_id.values())
    assert contact_to_wire(Contact("a@example.com", properties={"note": True}), book, "text").custom_fields == {
        "e1_T": "true"
    }
    assert contact_to_wire(Contact("a@example.com", properties={"age": False}), book, "number").custom_fields == {
        "e2_N": 0
    }
    with pytest.raises(UnrepresentableValue):
        contact_to_wire(Contact("a@example.com", properties={"age": True}), book, "text")


def test_field_types_inferred_from_values() -> None:
    assert infer_field_type("a", "x", None) is WireFieldType.TEXT
    assert infer_field_type("a", 1.5, None) is WireFieldType.NUMBER
    assert infer_field_type("a", date(2020, 1, 1), None) is WireFieldType.DATE
    assert infer_field_type("a", None, None) is None
    assert infer_field_type("a", True, "number") is WireFieldType.NUMBER
    with pytest.raises(UnrepresentableValue):
        infer_field_type("a", True, None)
    assert field_type_to_wire(FieldType.DATETIME, None, "a") is WireFieldType.DATE


def test_unset_and_read_only_fields_are_left_out_when_reading() -> None:
    details = converter.structure(
        {"id": "c", "email": "a@example.com", "first_name": "", "city": "", "custom_fields": {"note": ""}},
        ContactDetails,
    )
    assert contact_from_wire(details, BOOK) == Contact("a@example.com")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"status": "pending"}, ImportStatus.PENDING),
        ({"status": "pending", "results": {"requested_count": 5}}, ImportStatus.PENDING),
        ({"status": "pending", "results": {"requested_count": 5, "created_count": 1}}, ImportStatus.RUNNING),
        ({"status": "completed"}, ImportStatus.COMPLETED),
        ({"status": "errored"}, ImportStatus.COMPLETED_WITH_ERRORS),
        ({"status": "failed"}, ImportStatus.FAILED),
        ({"status": "ready"}, ImportStatus.UNKNOWN),
    ],
)
def test_status_mapping(body: dict[str, Any], status: ImportStatus) -> None:
    assert status_of(converter.structure({"id": "j", **body}, JobRecord)) is status


def test_errors_file_with_unknown_headers_is_read_leniently() -> None:
    text = (
        "\ufeffLine,Contact Email,Error Reason,Column\n"
        "3,a@example.com,bad phone,phone_number\n,,,\n4,b@example.com,bad date,\n"
    )
    found = list(parse_errors_file(text))
    assert [(e.email, e.message, e.field) for e in found] == [
        ("a@example.com", "bad phone", "phone_number"),
        ("b@example.com", "bad date", None),
    ]


def test_errors_file_without_named_columns_uses_the_address_and_the_last_cell() -> None:
    found = list(parse_errors_file("a,b,c\n1,x@example.com,it failed\n"))
    assert [(e.email, e.message) for e in found] == [("x@example.com", "it failed")]
