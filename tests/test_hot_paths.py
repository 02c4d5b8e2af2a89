"""The import's hot paths write what the general paths write.

Each fast writer (the JSON routes' per-shape plans written by orjson, the CSV routes' per-type
cell formatters, joined CSV rows, memoised timestamps) is checked against the slow, obviously
right form it stands in for.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import date, datetime, timedelta, timezone
from typing import Any

from hypothesis import assume, given
from hypothesis import strategies as st

from contactsync import jsonplan
from contactsync.csvio import csv_row
from contactsync.model import Contact, FieldType, PropertyValue
from contactsync.providers.dotmailer import translate as dotmailer
from contactsync.providers.mailjet import translate as mailjet
from contactsync.providers.sendgrid import translate as sendgrid
from contactsync.providers.sendgrid.wire import FieldRecord, WireFieldType
from contactsync.timestamps import utc_text


def same_json(fast: bytes, general: bytes) -> bool:
    """The same JSON text up to how a number is spelled (orjson writes 1e-05 as 0.00001): members in order."""
    return bool(json.loads(fast, object_pairs_hook=list) == json.loads(general, object_pairs_hook=list))


texts = st.text(max_size=12) | st.sampled_from(['a"b', "a,b", "a\nb", "a\r\nb", " x ", "東京", "\\", "\x00", "e" * 300])
moments = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)).flatmap(
    lambda d: st.sampled_from(
        [
            d.replace(tzinfo=timezone.utc),
            d.replace(tzinfo=timezone.utc, microsecond=0),
            d.replace(microsecond=0),
            d.replace(tzinfo=timezone(timedelta(hours=5)), microsecond=0),
        ]
    )
)
values: st.SearchStrategy[PropertyValue] = st.one_of(
    st.none(),
    texts,
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.dates(),
    moments,
)
names = st.sampled_from(["age", "Age", "note", "city", "first_name", "email", "last_clicked", "x_1", "é"])
USUAL = Contact(
    "ann@example.com",
    "Ann Lee",
    {
        "age": 41,
        "note": '東京 "x"',
        "city": 2.5,
        "x_1": True,
        "é": date(2024, 2, 29),
        "email": datetime(2024, 3, 1, 12, 30, 5, tzinfo=timezone.utc),
    },
)
"""A contact of the usual types, every one of which the hot paths take."""
contacts = st.builds(
    Contact,
    st.just("ann@example.com"),
    st.none() | texts,
    st.dictionaries(names, values, max_size=5),
)


# -- shared pieces -----------------------------------------------------------------------------------


@given(st.lists(texts, min_size=1, max_size=6), st.sampled_from(["\r\n", "\n"]))
def test_csv_rows_are_what_csv_writer_writes(cells: list[str], terminator: str) -> None:
    assume(sys.version_info >= (3, 11) or "\x00" not in "".join(cells))  # 3.10's writer refuses NUL outright
    out = io.StringIO()
    csv.writer(out, lineterminator=terminator).writerow(cells)
    assert csv_row(cells, terminator) == out.getvalue()


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)))
def test_utc_text_is_isoformat_to_the_second(moment: datetime) -> None:
    whole = moment.replace(microsecond=0)
    assert utc_text(whole.replace(tzinfo=timezone.utc)) == whole.isoformat()
    assert utc_text(whole) == whole.isoformat()


# -- Mailjet ---------------------------------------------------------------------------------------------


def mailjet_planned(contact: Contact, datatypes: dict[str, str]) -> bytes | None:
    """What a Mailjet JSON route's hot path writes for ``contact``, or None where it defers."""

    def step(name: str, kind: type) -> tuple[str, jsonplan.Conversion] | None:
        conversion = mailjet.json_conversion(datatypes.get(name), kind)
        return None if conversion is None else (name, conversion)

    return jsonplan.JsonPlans(step, mailjet.json_record).encode(contact)


@given(contacts, st.dictionaries(names, st.sampled_from(["str", "int", "float", "bool", "datetime", "text"])))
def test_mailjet_hot_path_writes_what_the_general_path_writes(contact: Contact, datatypes: dict[str, str]) -> None:
    planned = mailjet_planned(contact, datatypes)
    if planned is not None:
        assert same_json(planned, mailjet.contact_json(contact, datatypes))


def test_mailjet_hot_path_takes_the_usual_contact() -> None:
    datatypes = {"age": "int", "note": "str", "city": "float", "x_1": "bool", "é": "datetime", "email": "datetime"}
    planned = mailjet_planned(USUAL, datatypes)
    assert planned is not None and same_json(planned, mailjet.contact_json(USUAL, datatypes))


# -- SendGrid --------------------------------------------------------------------------------------------

BOOK = sendgrid.FieldBook(
    [
        FieldRecord("e1_N", "age", WireFieldType.NUMBER),
        FieldRecord("e2_T", "note", WireFieldType.TEXT),
        FieldRecord("e3_D", "x_1", WireFieldType.DATE),
        FieldRecord("e4_T", "é", WireFieldType.TEXT),
    ]
)
booleans = st.sampled_from([None, "text", "number"])


def sendgrid_planned(contact: Contact, policy: Any) -> bytes | None:
    """What SendGrid's JSON route's hot path writes for ``contact``, or None where it defers."""

    def step(name: str, kind: type) -> tuple[str, jsonplan.Conversion] | None:
        record = BOOK.custom_exact(name)
        conversion = None if record is None else sendgrid.json_conversion(record, kind, policy)
        return None if record is None or conversion is None else (record.id, conversion)

    return jsonplan.JsonPlans(step, sendgrid.json_record).encode(contact)


@given(contacts, booleans)
def test_sendgrid_hot_path_writes_what_the_general_path_writes(contact: Contact, policy: Any) -> None:
    planned = sendgrid_planned(contact, policy)
    if planned is not None:
        assert same_json(planned, sendgrid.contact_json(contact, BOOK, policy))


def test_sendgrid_hot_path_takes_the_usual_contact() -> None:
    usual = Contact(USUAL.email, USUAL.name, {"age": 41, "note": "東京", "x_1": date(2024, 2, 29), "é": True})
    planned = sendgrid_planned(usual, "text")
    assert planned is not None and same_json(planned, sendgrid.contact_json(usual, BOOK, "text"))


@given(st.sampled_from(list(BOOK.by_id.values())), values, booleans)
def test_sendgrid_cells_are_what_the_general_path_writes(
    record: FieldRecord, value: PropertyValue, policy: Any
) -> None:
    fast = sendgrid.cell_formatter(record, policy)(value)
    if fast is None:
        return
    _, custom = sendgrid.wire_fields(Contact("ann@example.com", properties={record.name: value}), BOOK, policy)
    general = custom[record.id]
    assert general != ""
    assert fast == (repr(general) if isinstance(general, float) else str(general))


@given(st.none() | texts)
def test_sendgrid_names_split_as_the_general_path_splits_them(name: str | None) -> None:
    if name is None:
        return
    parts = sendgrid.split_name(name)
    if parts is not None:
        reserved, _ = sendgrid.wire_fields(Contact("ann@example.com", name=name), BOOK)
        assert parts == (reserved["first_name"], reserved["last_name"])


# -- dotmailer -------------------------------------------------------------------------------------------


@given(st.sampled_from([FieldType.TEXT, FieldType.NUMBER, FieldType.BOOLEAN, FieldType.DATETIME]), values)
def test_dotmailer_cells_are_what_format_value_writes_for_values_the_field_takes(
    kind: FieldType, value: PropertyValue
) -> None:
    formatter = dotmailer.cell_formatter(kind)
    assert formatter is not None
    cell = formatter(value)
    if cell is None:
        return
    assert cell == dotmailer.format_value(value, "field")
    wanted = dotmailer.infer_field_type(value)
    widen = {FieldType.NUMBER: FieldType.INTEGER, FieldType.DATETIME: FieldType.DATE}
    assert kind is FieldType.TEXT or wanted is kind or widen.get(kind) is wanted
    assert value not in (None, "")


def test_dotmailer_dates_and_instants_in_utc() -> None:
    formatter = dotmailer.cell_formatter(FieldType.DATETIME)
    assert formatter is not None
    assert formatter(date(2024, 2, 29)) == "2024-02-29T00:00:00"
    assert formatter(datetime(2024, 2, 29, 23, 5, 9, tzinfo=timezone.utc)) == "2024-02-29T23:05:09"
    assert formatter(datetime(2024, 2, 29, 23, 5, 9)) is None  # naive: the general path decides
