"""SendGrid's Event Webhook read into ContactEvents: the mapping table, the lenient fields, malformed bodies."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contactsync.errors import InvalidInput
from contactsync.events import sendgrid
from contactsync.model import EventType
from tests.events import strategies, vectors


def _one(**record: Any) -> Any:
    (event,) = sendgrid.read(json.dumps([{"email": "ann@example.com", "timestamp": 1700000000, **record}]))
    return event


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("unsubscribe", EventType.UNSUBSCRIBED),
        ("group_unsubscribe", EventType.UNSUBSCRIBED),
        ("group_resubscribe", EventType.SUBSCRIBED),
        ("bounce", EventType.BOUNCED),
        ("spamreport", EventType.COMPLAINED),
        ("dropped", EventType.BLOCKED),
        ("delivered", EventType.UNKNOWN),
        ("open", EventType.UNKNOWN),
        ("something_new", EventType.UNKNOWN),
    ],
)
def test_each_event_maps_to_its_type(name: str, expected: EventType) -> None:
    assert _one(event=name).type is expected


def test_the_published_payload_reads_as_a_blocked_address() -> None:
    (event,) = sendgrid.read(vectors.PAYLOAD)
    assert (event.provider, event.type, event.email, event.reason) == (
        "sendgrid",
        EventType.BLOCKED,
        "hello@world.com",
        "Bounced Address",
    )
    assert event.at == datetime(2020, 9, 14, 19, 41, 32, tzinfo=timezone.utc)
    assert event.raw["sg_event_id"] == "ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA"


def test_an_event_name_is_read_regardless_of_case() -> None:
    assert _one(event="Spamreport").type is EventType.COMPLAINED


def test_an_unknown_event_keeps_its_raw_record_and_names_itself() -> None:
    event = _one(event="delivered", response="250 OK", custom={"a": [1, 2]})
    assert (event.type, event.reason) == (EventType.UNKNOWN, "delivered")
    assert event.raw["response"] == "250 OK"
    assert event.raw["custom"] == {"a": [1, 2]}


def test_a_hard_bounce_says_so_with_its_classification_and_reason() -> None:
    event = _one(event="bounce", type="bounce", bounce_classification="Invalid Address", reason="550 no such user")
    assert event.reason == "hard bounce: Invalid Address; 550 no such user"


def test_a_blocked_bounce_is_a_block() -> None:
    event = _one(event="bounce", type="blocked", bounce_classification="Unclassified")
    assert (event.type, event.reason) == (EventType.BLOCKED, "blocked: Unclassified")


def test_a_bounce_without_a_type_is_just_a_bounce() -> None:
    assert _one(event="bounce").reason == "bounce"


def test_a_global_unsubscribe_has_no_list() -> None:
    event = _one(event="unsubscribe")
    assert (event.list_id, event.reason) == (None, "global unsubscribe")


def test_a_group_unsubscribe_names_its_group() -> None:
    event = _one(event="group_unsubscribe", asm_group_id=42)
    assert (event.list_id, event.reason) == (None, "unsubscribe group 42")


def test_a_group_mapped_to_a_list_gives_the_list() -> None:
    settings = sendgrid.Settings(verification_key=None, unsubscribe_groups={"list-7": 42})
    body = json.dumps([{"event": "group_resubscribe", "email": "a@example.com", "asm_group_id": "42"}])
    (event,) = sendgrid.parse({}, body, settings)
    assert (event.type, event.list_id) == (EventType.SUBSCRIBED, "list-7")


def test_a_group_id_on_another_event_gives_no_list() -> None:
    settings = sendgrid.Settings(verification_key=None, unsubscribe_groups={"list-7": 42})
    (event,) = sendgrid.parse({}, json.dumps([{"event": "bounce", "asm_group_id": 42}]), settings)
    assert event.list_id is None


@pytest.mark.parametrize(
    "timestamp",
    [1591726752, 1591726752000, "1591726752", "1591726752.0"],
    ids=["seconds", "milliseconds", "text", "decimal text"],
)
def test_timestamps_in_seconds_milliseconds_or_text_read_the_same(timestamp: object) -> None:
    assert _one(event="open", timestamp=timestamp).at == datetime(2020, 6, 9, 18, 19, 12, tzinfo=timezone.utc)


@pytest.mark.parametrize("timestamp", [None, "soon", True, [1], 10**30])
def test_an_unreadable_timestamp_leaves_the_time_unknown(timestamp: object) -> None:
    event = _one(event="unsubscribe", timestamp=timestamp)
    assert (event.type, event.at) == (EventType.UNSUBSCRIBED, None)


def test_the_email_is_normalised_like_a_contacts() -> None:
    assert _one(event="unsubscribe", email="  Ann@Example.COM ").email == "ann@example.com"


def test_an_address_email_validator_refuses_is_kept_as_sent() -> None:
    assert _one(event="unsubscribe", email=" not an address ").email == "not an address"


def test_a_bare_object_reads_as_one_event() -> None:
    (event,) = sendgrid.read(b'{"event": "spamreport", "email": "a@example.com"}')
    assert event.type is EventType.COMPLAINED


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "not JSON"),
        (b"[{]", "not JSON"),
        (b"\xff\xfe[]", "not UTF-8"),
        (b"[1]", "holds a int"),
        (b'[{"event": "open"}, "x"]', "row 2"),
        (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
    ],
    ids=["empty", "broken", "not utf-8", "a number", "a string second", "nested too deep"],
)
def test_a_malformed_body_is_invalid_input(body: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        sendgrid.read(body)


@given(records=st.lists(strategies.sendgrid_events, max_size=5))
def test_every_generated_event_reads_as_one_contact_event_with_its_raw_record(records: list[dict[str, Any]]) -> None:
    events = sendgrid.read(strategies.body(records))
    assert [dict(e.raw) for e in events] == records
    for record, event in zip(records, events, strict=True):
        assert event.provider == "sendgrid"
        name = record["event"].strip().lower()
        if name == "bounce" and str(record.get("type", "")).strip().lower() == "blocked":
            assert event.type is EventType.BLOCKED  # as the blocks list polled by events_since reads it
        else:
            assert event.type is sendgrid.EVENT_TYPES.get(name, EventType.UNKNOWN)
        assert event.email == record["email"].strip().lower()
        assert event.at == datetime.fromtimestamp(record["timestamp"], tz=timezone.utc)


@given(records=st.lists(strategies.scrambled(strategies.sendgrid_events), max_size=5))
def test_fields_of_any_type_never_break_the_parser(records: list[dict[str, Any]]) -> None:
    events = sendgrid.read(strategies.body(records))
    assert len(events) == len(records)
    assert all(e.at is None or e.at.tzinfo is timezone.utc for e in events)


@given(body=st.binary(max_size=200) | strategies.json_values.map(lambda v: json.dumps(v).encode()))
def test_any_body_gives_events_or_invalid_input(body: bytes) -> None:
    try:
        events = sendgrid.read(body)
    except InvalidInput:
        return
    assert all(e.provider == "sendgrid" for e in events)
