"""The Mailjet translator: round trips for every wire record and for contacts, lenient parsing, strict writing."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contactsync import Contact, FieldDefinition, FieldType, ImportStatus, ListSubscription, SubscriptionAction
from contactsync.errors import UnrepresentableValue
from contactsync.providers.mailjet import translate, wire
from contactsync.providers.mailjet.wire import MjId

AWARE_ZONES = st.sampled_from([timezone.utc, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))])
ZONES = st.none() | AWARE_ZONES
TIMESTAMPS = st.none() | st.datetimes(timezones=ZONES)
IDS = st.one_of(st.integers(0, 2**53).map(str), st.text(min_size=1)).map(MjId)
TEXT = st.text()
COUNTS = st.integers(0, 2**40)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
LIST_ACTIONS = st.builds(wire.MjListAction, list_id=IDS, action=st.sampled_from([a.value for a in SubscriptionAction]))

RECORDS: dict[type[Any], st.SearchStrategy[Any]] = {
    wire.MjListAction: LIST_ACTIONS,
    wire.MjContact: st.builds(
        wire.MjContact,
        email=TEXT,
        name=st.none() | TEXT,
        is_excluded_from_campaigns=st.none() | st.booleans(),
        properties=st.dictionaries(TEXT, JSON, max_size=4),
    ),
    wire.MjJobCreated: st.builds(wire.MjJobCreated, job_id=IDS),
    wire.MjJob: st.builds(
        wire.MjJob,
        status=TEXT,
        job_start=TIMESTAMPS,
        job_end=TIMESTAMPS,
        count=COUNTS,
        error=TEXT,
        error_file=TEXT,
        contacts_lists=st.lists(LIST_ACTIONS, max_size=3),
    ),
    wire.MjImportOptions: st.builds(
        wire.MjImportOptions,
        date_time_format=TEXT,
        timezone_offset=st.integers(-12, 12),
        field_names=st.lists(TEXT, max_size=4),
    ),
    wire.MjCsvData: st.builds(wire.MjCsvData, id=IDS),
    wire.MjCsvImport: st.builds(
        wire.MjCsvImport,
        id=IDS,
        contacts_list_id=IDS,
        data_id=IDS,
        method=TEXT,
        import_options=TEXT,
        err_treshold=COUNTS,
        alive_at=TIMESTAMPS,
        count=COUNTS,
        current=COUNTS,
        errcount=COUNTS,
        job_start=TIMESTAMPS,
        job_end=TIMESTAMPS,
        request_at=TIMESTAMPS,
        status=TEXT,
    ),
    wire.MjContactMetadata: st.builds(
        wire.MjContactMetadata,
        name=TEXT,
        datatype=st.sampled_from(sorted(translate.DATATYPES)),
        namespace=st.sampled_from(["static", "historic"]),
        id=st.none() | IDS,
    ),
    wire.MjListMembership: st.builds(
        wire.MjListMembership, list_id=IDS, is_active=st.booleans(), is_unsub=st.booleans(), subscribed_at=TIMESTAMPS
    ),
    wire.MjListRecipient: st.builds(
        wire.MjListRecipient,
        id=IDS,
        contact_id=IDS,
        list_id=IDS,
        is_active=st.booleans(),
        is_unsubscribed=st.booleans(),
        unsubscribed_at=TIMESTAMPS,
        subscribed_at=TIMESTAMPS,
        list_name=TEXT,
    ),
    wire.MjContactsList: st.builds(
        wire.MjContactsList,
        id=IDS,
        name=TEXT,
        address=TEXT,
        created_at=TIMESTAMPS,
        is_deleted=st.booleans(),
        subscriber_count=COUNTS,
    ),
    wire.MjStoredContact: st.builds(
        wire.MjStoredContact,
        id=IDS,
        email=TEXT,
        name=TEXT,
        is_excluded_from_campaigns=st.booleans(),
        created_at=TIMESTAMPS,
        last_update_at=TIMESTAMPS,
    ),
    wire.MjDataItem: st.builds(wire.MjDataItem, name=TEXT, value=JSON),
    wire.MjContactData: st.builds(
        wire.MjContactData,
        contact_id=IDS,
        data=st.lists(st.builds(wire.MjDataItem, name=TEXT, value=JSON), max_size=3),
        id=st.none() | IDS,
    ),
    wire.MjError: st.builds(
        wire.MjError,
        error_message=TEXT | st.dictionaries(TEXT, JSON, max_size=2),
        error_info=TEXT | st.dictionaries(TEXT, JSON, max_size=2),
        status_code=st.integers(100, 599),
        error_identifier=TEXT,
    ),
    wire.Envelope: st.builds(wire.Envelope, count=COUNTS, data=st.lists(JSON, max_size=3), total=COUNTS),
}


def test_every_wire_record_has_a_strategy() -> None:
    assert set(RECORDS) == {getattr(wire, name) for name in wire.__all__ if name != "MjId"}


@pytest.mark.parametrize("cls", list(RECORDS), ids=lambda cls: cls.__name__)
@given(data=st.data())
def test_wire_records_survive_json(cls: type[Any], data: st.DataObject) -> None:
    record = data.draw(RECORDS[cls])
    text = json.dumps(translate.unstructure(record))
    assert translate.structure(json.loads(text), cls) == record


# -- lenient reading ----------------------------------------------------------------------------


def test_csvimport_record_as_seed_000_shows_it() -> None:
    seed = {
        "AliveAt": "",
        "ContactsList": "",
        "Count": "1",
        "Current": "",
        "DataID": "",
        "Errcount": "0",
        "ErrTreshold": "",
        "ID": "",
        "ImportOptions": "",
        "JobEnd": "",
        "JobStart": "",
        "Method": "",
        "RequestAt": "",
        "Status": "Completed",
    }
    record = translate.structure(seed, wire.MjCsvImport)
    assert (record.count, record.errcount, record.current, record.job_end) == (1, 0, 0, None)


def test_job_record_with_lower_case_action_and_quoted_ids() -> None:
    record = translate.structure(
        {"ContactsLists": [{"ListID": "987654321", "action": "addnoforce"}], "Count": "2", "Status": "Completed"},
        wire.MjJob,
    )
    assert record.contacts_lists == [wire.MjListAction(MjId("987654321"), "addnoforce")]
    assert record.count == 2
    assert translate.unstructure(record.contacts_lists[0]) == {"ListID": 987654321, "Action": "addnoforce"}


def test_getcontactslists_record_with_quoted_values() -> None:
    record = translate.structure(
        {"IsActive": "true", "IsUnsub": "false", "ListID": "1", "SubscribedAt": "2019-01-01T00:00:00Z"},
        wire.MjListMembership,
    )
    assert record == wire.MjListMembership(MjId("1"), True, False, datetime(2019, 1, 1, tzinfo=timezone.utc))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", None),
        (0, None),
        (None, None),
        ("2018-01-01T00:00:00", datetime(2018, 1, 1)),
        ("2019-01-01T00:00:00Z", datetime(2019, 1, 1, tzinfo=timezone.utc)),
        ("2018-01-01T01:00:00+01:00", datetime(2018, 1, 1, tzinfo=timezone.utc)),
        (1514764800, datetime(2018, 1, 1, tzinfo=timezone.utc)),
        ("1514764800", datetime(2018, 1, 1, tzinfo=timezone.utc)),
    ],
)
def test_timestamps_in_every_form(raw: Any, expected: datetime | None) -> None:
    assert translate.parse_timestamp(raw) == expected


def test_error_body_with_object_message() -> None:
    body = {
        "ErrorInfo": "",
        "ErrorMessage": {"ContactsLists": [{"ListID": "9", "Action": "x", "Error": "action missing or not valid"}]},
        "StatusCode": 400,
    }
    message, code = translate.error_text(translate.structure(body, wire.MjError))
    assert "action missing or not valid" in message and code is None


def test_error_code_is_read_from_the_message() -> None:
    body = {"ErrorInfo": "", "ErrorMessage": "MJ08 Property ContactsList is invalid", "StatusCode": 400}
    assert translate.error_text(translate.structure(body, wire.MjError)) == (
        "MJ08 Property ContactsList is invalid",
        "MJ08",
    )


@pytest.mark.parametrize(
    ("raw", "errors", "expected"),
    [
        ("Allocated", 0, ImportStatus.PENDING),
        ("Upload", 0, ImportStatus.PENDING),
        ("Prepare", 0, ImportStatus.RUNNING),
        ("Importing", 0, ImportStatus.RUNNING),
        ("In Progress", 0, ImportStatus.RUNNING),
        ("Completed", 0, ImportStatus.COMPLETED),
        ("Completed", 3, ImportStatus.COMPLETED_WITH_ERRORS),
        ("Error", 0, ImportStatus.FAILED),
        ("Abort", 0, ImportStatus.CANCELLED),
        ("Paused", 0, ImportStatus.UNKNOWN),
    ],
)
def test_status_mapping(raw: str, errors: int, expected: ImportStatus) -> None:
    assert translate.status_of(raw, errors) is expected


# -- contacts ---------------------------------------------------------------------------------------

EMAILS = st.from_regex(r"[a-z0-9]{1,12}(\.[a-z0-9]{1,6})?@[a-z]{1,12}\.(com|org|fr)", fullmatch=True)
AWARE = (
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=AWARE_ZONES)
    .map(lambda d: d.replace(microsecond=0))
    .filter(lambda d: d.astimezone(timezone.utc).time() != time(0))  # midnight UTC is how a date is held
)
VALUES = st.one_of(
    TEXT,
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    AWARE,
    st.dates(min_value=date(1, 1, 2)),
    st.none(),
)
CONTACTS = st.builds(
    Contact,
    email=EMAILS,
    name=st.none() | st.text(min_size=1),
    properties=st.dictionaries(st.text(min_size=1), VALUES, max_size=5),
)


def _datatypes(contact: Contact) -> dict[str, str]:
    return {name: translate.infer_datatype(value) or "str" for name, value in contact.properties.items()}


@given(CONTACTS)
def test_contacts_survive_the_wire(contact: Contact) -> None:
    types = _datatypes(contact)
    sent = json.loads(json.dumps(translate.unstructure(translate.contact_to_wire(contact, types))))
    assert translate.contact_from_wire(translate.structure(sent, wire.MjContact), types) == contact


def _as_contactdata_shows(value: Any) -> str:
    """Values come back from /contactdata as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


@given(VALUES.filter(lambda v: v is not None))
def test_property_values_of_every_datatype_survive_storage_as_text(value: Any) -> None:
    datatype = translate.infer_datatype(value) or "str"
    stored = _as_contactdata_shows(translate.encode_property("p", value, datatype))
    assert translate.decode_property(stored, datatype) == value


@pytest.mark.parametrize("hours", [2, -2])
def test_datetimes_that_leave_the_calendar_in_utc_are_refused(hours: int) -> None:
    edge = datetime.min if hours > 0 else datetime.max.replace(microsecond=0)
    with pytest.raises(UnrepresentableValue, match="outside the years"):
        translate.encode_property("p", edge.replace(tzinfo=timezone(timedelta(hours=hours))), "datetime")


@given(st.dates())
def test_dates_are_held_as_midnight_utc_and_read_back_as_dates(day: date) -> None:
    encoded = translate.encode_property("d", day, "datetime")
    assert encoded == f"{day.isoformat()}T00:00:00Z"
    back = translate.decode_property(encoded, "datetime")
    assert back == day and type(back) is date


def test_a_datetime_at_midnight_utc_is_refused_since_it_would_read_back_a_date() -> None:
    with pytest.raises(UnrepresentableValue, match="back as a date") as caught:
        translate.encode_property("seen", datetime(2024, 1, 2, tzinfo=timezone.utc), "datetime")
    assert caught.value.field == "seen"


@pytest.mark.parametrize(
    ("value", "datatype"),
    [
        (datetime(2020, 1, 1), "datetime"),
        (datetime(2020, 1, 1, 0, 0, 0, 5, tzinfo=timezone.utc), "datetime"),
        (5, "str"),
        (True, "int"),
        (2**63, "int"),
        (2**60 + 1, "float"),
        ("yes", "bool"),
        (1.5, "int"),
        ("2020-01-01", "datetime"),
    ],
)
def test_values_mailjet_cannot_hold_raise(value: Any, datatype: str) -> None:
    with pytest.raises(UnrepresentableValue) as raised:
        translate.encode_property("prop", value, datatype)
    assert raised.value.field == "prop"


@given(CONTACTS.filter(lambda c: any(v is not None for v in c.properties.values())))
def test_properties_the_account_lacks_raise(contact: Contact) -> None:
    with pytest.raises(UnrepresentableValue):
        translate.contact_to_wire(contact, {})


def test_empty_name_raises() -> None:
    with pytest.raises(UnrepresentableValue) as raised:
        translate.contact_to_wire(Contact("a@example.com", name=""), {})
    assert raised.value.field == "name"


def test_csv_cells_cannot_clear_or_be_empty() -> None:
    for value in (None, ""):
        with pytest.raises(UnrepresentableValue):
            translate.csv_cell("city", value, "str")
    moment = datetime(2020, 5, 6, 7, 8, 9, tzinfo=timezone(timedelta(hours=2)))
    assert translate.csv_cell("at", moment, "datetime") == "2020-05-06T05:08:09"
    assert translate.csv_cell("ok", False, "bool") == "false"


def test_fields_and_subscriptions_map_both_ways() -> None:
    for field_type in FieldType:
        stored = translate.field_from_wire(translate.field_to_wire(FieldDefinition("f", field_type)))
        assert stored.type is (FieldType.DATETIME if field_type is FieldType.DATE else field_type)
    sub = ListSubscription("12", SubscriptionAction.UNSUBSCRIBE)
    assert translate.unstructure(translate.subscription_to_wire(sub)) == {"ListID": 12, "Action": "unsub"}
