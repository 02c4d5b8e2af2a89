"""dotmailer's translator: wire records and contacts survive a round trip; what cannot be held raises."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contactsync import Contact, FieldDefinition, FieldType, UnrepresentableValue
from contactsync.providers.dotmailer import translate, wire

json_scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20)
words = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30)
counts = st.integers(0, 2**31 - 1)
field_names = st.from_regex(r"[a-z][a-zA-Z0-9_-]{0,19}", fullmatch=True).filter(
    lambda n: n.upper() not in ("FULLNAME", "EMAIL")
)
emails = st.from_regex(r"[a-z0-9]{1,10}(\.[a-z0-9]{1,5})?@[a-z]{1,10}\.(com|org|co\.uk)", fullmatch=True)

pairs = st.builds(wire.DataFieldValue, key=field_names, value=json_scalars)
api_contacts = st.builds(
    wire.ApiContact,
    email=emails,
    id=st.none() | counts,
    opt_in_type=st.none() | st.sampled_from(["Unknown", "Single", "Double", "VerifiedDouble"]),
    email_type=st.none() | st.sampled_from(["PlainText", "Html"]),
    data_fields=st.none() | st.lists(pairs, max_size=5).map(tuple),
    status=st.none() | st.sampled_from(["Subscribed", "Unsubscribed", "HardBounced", "Suppressed"]),
)
records: dict[type[Any], st.SearchStrategy[Any]] = {
    wire.ContactImport: st.builds(
        wire.ContactImport, id=st.uuids().map(str), status=st.sampled_from(wire.IMPORT_STATUSES)
    ),
    wire.ImportReport: st.builds(wire.ImportReport, *[counts] * 15),
    wire.DataFieldValue: pairs,
    wire.ApiContact: api_contacts,
    wire.AddressBook: st.builds(
        wire.AddressBook, id=counts, name=words, visibility=st.sampled_from(["Private", "Public"]), contacts=counts
    ),
    wire.DataField: st.builds(
        wire.DataField,
        name=field_names.map(str.upper),
        type=st.sampled_from(wire.DATA_FIELD_TYPES),
        visibility=st.none() | st.sampled_from(["Private", "Public"]),
        default_value=json_scalars,
    ),
    wire.ApiError: st.builds(wire.ApiError, message=words),
    wire.ContactSuppression: st.builds(
        wire.ContactSuppression,
        suppressed_contact=st.none() | api_contacts,
        date_removed=st.none() | st.just("2025-07-23 11:01:55.433000+00:00"),
        reason=st.none() | st.just("Unsubscribed"),
    ),
    wire.Resubscription: st.builds(
        wire.Resubscription, unsubscribed_contact=api_contacts, preferred_locale=st.none() | st.just("de-DE")
    ),
    wire.ResubscribeResult: st.builds(
        wire.ResubscribeResult,
        status=st.sampled_from(["ContactAdded", "ContactChallenged", "ContactCannotBeUnsuppressed"]),
        contact=st.none() | api_contacts,
    ),
    wire.AccountInfo: st.builds(
        wire.AccountInfo,
        id=st.none() | counts,
        properties=st.lists(
            st.builds(wire.AccountProperty, name=words, type=st.none() | words, value=json_scalars)
        ).map(tuple),
    ),
}


@pytest.mark.parametrize("cls", list(records), ids=lambda c: c.__name__)
@given(data=st.data())
def test_every_wire_record_survives_json(cls: type[Any], data: st.DataObject) -> None:
    record = data.draw(records[cls])
    text = json.dumps(translate.unstructure(record))
    assert translate.structure(json.loads(text), cls) == record


def test_pascal_case_keys_and_string_numbers_are_read() -> None:
    body = {"Id": "7", "Email": "a@b.com", "DataFields": [{"Key": "AGE", "Value": 3}], "Status": "Subscribed"}
    contact = translate.structure(body, wire.ApiContact)
    assert contact == wire.ApiContact(
        "a@b.com", id=7, data_fields=(wire.DataFieldValue("AGE", 3),), status="Subscribed"
    )


def test_report_counts_absent_are_zero_and_faults_sum_the_outcomes() -> None:
    report = translate.structure({"newContacts": 2, "invalidEntries": "1", "duplicateEmails": 3}, wire.ImportReport)
    assert (report.new_contacts, report.faults) == (2, 4)
    assert translate.structure({"suppressedContacts": 5}, wire.ImportReport).faults == 5


def test_error_code_is_the_last_error_token() -> None:
    assert wire.ApiError("Contact is suppressed. ERROR_CONTACT_SUPPRESSED").code == "ERROR_CONTACT_SUPPRESSED"
    assert wire.ApiError("Authorization has been denied for this request.").code is None


# -- the faults CSV -----------------------------------------------------------------

columns = st.lists(st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,8}", fullmatch=True), min_size=1, max_size=4, unique=True)


@given(data=st.data())
def test_faults_csv_round_trip(data: st.DataObject) -> None:
    names = ["Email", *data.draw(columns.filter(lambda c: all(n.lower() not in ("email", "reason") for n in c)))]
    row = st.lists(words, min_size=len(names), max_size=len(names)).map(lambda vs: tuple(zip(names, vs, strict=True)))
    reasons = st.sampled_from(["Duplicate", "Invalid Email", "Unsubscribed"])
    faults = data.draw(st.lists(st.builds(wire.ImportFault, reason=reasons, cells=row)))
    assert translate.parse_faults(translate.format_faults(faults, names)) == faults


def test_faults_csv_official_example_with_bom() -> None:
    data = (
        b"\xef\xbb\xbfReason,email,firstname\r\n"
        b"Unsubscribed,karina.plain@example.com,Karina\r\n"
        b'DUPLICATE,demo@apiconnector.com,"Demo, Jr"\r\n'
    )
    faults = translate.parse_faults(data)
    assert [(f.reason, f.email) for f in faults] == [
        ("Unsubscribed", "karina.plain@example.com"),
        ("DUPLICATE", "demo@apiconnector.com"),
    ]
    assert faults[1].cells[1] == ("firstname", "Demo, Jr")
    assert [translate.reason_code(f.reason) for f in faults] == ["Unsubscribed", "Duplicate"]
    assert translate.reason_code("invalid  EMAIL") == "InvalidEmail"
    assert translate.reason_code("something new") == "Other"


# -- Contact <-> ApiContact -----------------------------------------------------------

datetimes = (
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(timezone.utc))
    .map(lambda d: d.replace(microsecond=0))
    .filter(lambda d: d.time() != datetime.min.time())  # an instant at midnight UTC is how a date is held
)
values = (
    st.none()
    | st.text(max_size=translate.MAX_TEXT)
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.booleans()
    | datetimes
    | st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 1, 1))
)
properties = st.dictionaries(field_names, values, max_size=6).filter(lambda p: len({k.upper() for k in p}) == len(p))
contacts = st.builds(
    Contact, email=emails, name=st.none() | st.text(max_size=translate.MAX_TEXT), properties=properties
)


def _context(contact: Contact) -> dict[str, FieldDefinition]:
    return {
        key.upper(): FieldDefinition(key, translate.infer_field_type(value) or FieldType.TEXT)
        for key, value in contact.properties.items()
    }


@given(contacts)
def test_contact_round_trip_through_json(contact: Contact) -> None:
    body = json.loads(json.dumps(translate.unstructure(translate.to_wire(contact))))
    back = translate.from_wire(translate.structure(body, wire.ApiContact), _context(contact))
    assert back == contact


@given(contacts)
def test_contact_without_context_keeps_upper_case_wire_names(contact: Contact) -> None:
    back = translate.from_wire(translate.to_wire(contact))
    assert set(back.properties) == {k.upper() for k in contact.properties}
    assert back.name == contact.name


def test_name_is_fullname_and_first_last_stay_properties() -> None:
    record = translate.to_wire(Contact("a@b.com", name="Ada Lovelace", properties={"FIRSTNAME": "Ada"}))
    assert record.data_fields == (
        wire.DataFieldValue("FULLNAME", "Ada Lovelace"),
        wire.DataFieldValue("FIRSTNAME", "Ada"),
    )


def test_date_time_values_are_written_in_utc_without_offset() -> None:
    from datetime import timedelta

    moment = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone(timedelta(hours=2)))
    cells = translate.import_cells(Contact("a@b.com", properties={"seen": moment, "ok": False}), blank_clears=False)
    assert [(c[0], c[2]) for c in cells] == [("SEEN", "2024-05-01T10:00:00"), ("OK", "False")]


@pytest.mark.parametrize(
    ("properties", "field"),
    [
        ({"x" * 21: 1}, "x" * 21),
        ({"has space": 1}, "has space"),
        ({"fullname": "x"}, "fullname"),
        ({"Email": "x"}, "Email"),
        ({"age": 1, "AGE": 2}, "AGE"),
        ({"when": datetime(2024, 1, 1, 0, 0, 0, 5)}, "when"),
        ({"bio": "x" * 256}, "bio"),
    ],
)
def test_unrepresentable_values_raise_naming_the_field(properties: dict[str, Any], field: str) -> None:
    with pytest.raises(UnrepresentableValue) as raised:
        translate.to_wire(Contact("a@b.com", properties=properties))
    assert raised.value.field == field


@given(field_names, st.none() | st.just(""))
def test_blank_values_cannot_be_imported_unless_blanks_clear(name: str, blank: str | None) -> None:
    contact = Contact("a@b.com", properties={name: blank})
    with pytest.raises(UnrepresentableValue):
        translate.import_cells(contact, blank_clears=False)
    assert translate.import_cells(contact, blank_clears=True) == [(name.upper(), name, "", blank)]


def test_numbers_are_written_without_exponents() -> None:
    assert translate.format_value(1e16, "n") == "10000000000000000.0"  # a float stays a float when read
    assert translate.format_value(2.5e-7, "n") == "0.00000025"
    assert translate.format_value(10**16, "n") == "10000000000000000"
    assert float(translate.format_value(0.1, "n")) == 0.1


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_float_cell_reads_back_as_that_float(value: float) -> None:
    cell = translate.format_value(value, "n")
    assert "." in cell and "e" not in cell.lower()
    assert float(cell) == value
