"""Mailjet's Event API read into ContactEvents, and the callback URL's credentials checked."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contactsync.errors import ConfigurationError, InvalidInput, InvalidSignature
from contactsync.events import mailjet
from contactsync.model import EventType
from tests.events import strategies

# reference/mailjet.md §12c: the docs' unsub example (DOC-EVT l.478-494).
UNSUB = {
    "event": "unsub",
    "time": 1433334941,
    "MessageID": 20547674933128000,
    "Message_GUID": "1ab23cd4-e567-8901-2345-6789f0gh1i2j",
    "email": "api@mailjet.com",
    "mj_campaign_id": 7276,
    "mj_contact_id": 126,
    "customcampaign": "",
    "CustomID": "helloworld",
    "Payload": "",
    "mj_list_id": 1,
    "ip": "127.0.0.1",
    "geo": "FR",
    "agent": "Mozilla/5.0",
}
SETTINGS = mailjet.Settings(username="hooks", password="s3cret-pass")


def _one(**record: Any) -> Any:
    (event,) = mailjet.read(json.dumps({"email": "ann@example.com", "time": 1700000000, **record}))
    return event


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_the_documented_unsub_reads_with_its_list() -> None:
    (event,) = mailjet.read(json.dumps(UNSUB))
    assert (event.provider, event.type, event.email, event.list_id) == (
        "mailjet",
        EventType.UNSUBSCRIBED,
        "api@mailjet.com",
        "1",
    )
    assert event.at == datetime(2015, 6, 3, 12, 35, 41, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("unsub", EventType.UNSUBSCRIBED),
        ("bounce", EventType.BOUNCED),
        ("spam", EventType.COMPLAINED),
        ("blocked", EventType.BLOCKED),
        ("sent", EventType.UNKNOWN),
        ("open", EventType.UNKNOWN),
        ("click", EventType.UNKNOWN),
        ("typofix", EventType.UNKNOWN),
    ],
)
def test_each_event_maps_to_its_type(name: str, expected: EventType) -> None:
    assert _one(event=name).type is expected


@pytest.mark.parametrize("list_id", [0, None], ids=["zero", "absent"])
def test_an_unsub_with_list_zero_or_none_has_no_list(list_id: int | None) -> None:
    assert _one(event="unsub", mj_list_id=list_id).list_id is None


def test_only_an_unsub_names_a_list() -> None:
    assert _one(event="open", mj_list_id=5).list_id is None


def test_a_grouped_body_reads_every_event_in_order() -> None:
    body = json.dumps([UNSUB, {**UNSUB, "event": "spam", "source": "JMRPP"}, {**UNSUB, "event": "open"}])
    assert [e.type for e in mailjet.read(body)] == [EventType.UNSUBSCRIBED, EventType.COMPLAINED, EventType.UNKNOWN]


@pytest.mark.parametrize(
    ("hard", "reason"),
    [(True, "hard bounce: recipient: user unknown"), (False, "soft bounce: recipient: user unknown")],
)
def test_a_bounce_says_hard_or_soft_and_why(hard: bool, reason: str) -> None:
    event = _one(event="bounce", hard_bounce=hard, error_related_to="recipient", error="user unknown")
    assert event.reason == reason


def test_a_bounce_flag_sent_as_text_is_read() -> None:
    assert _one(event="bounce", hard_bounce="false", error="greylisted").reason == "soft bounce: greylisted"


def test_a_blocked_event_says_why() -> None:
    assert _one(event="blocked", error_related_to="mailjet", error="preblocked").reason == "mailjet: preblocked"


def test_a_spam_event_names_its_feedback_loop() -> None:
    assert _one(event="spam", source="JMRPP").reason == "JMRPP"


def test_a_message_id_beyond_two_to_the_53_stays_exact() -> None:
    assert _one(event="open", MessageID=19421777835146490).raw["MessageID"] == 19421777835146490


@pytest.mark.parametrize("body", [b"", b"nope", b"[1, 2]", b'"unsub"', b"null"])
def test_a_malformed_body_is_invalid_input(body: bytes) -> None:
    with pytest.raises(InvalidInput):
        mailjet.read(body)


def test_the_right_credentials_pass() -> None:
    (event,) = mailjet.parse(_basic("hooks", "s3cret-pass"), json.dumps(UNSUB), SETTINGS)
    assert event.type is EventType.UNSUBSCRIBED


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer s3cret-pass"},
        {"Authorization": "Basic %%%"},
        _basic("hooks", "wrong"),
        _basic("someone", "s3cret-pass"),
        _basic("hooks", "s3cret-pass-and-more"),
        _basic("hooks", ""),
    ],
    ids=["none", "bearer", "not base64", "wrong password", "wrong user", "longer password", "empty password"],
)
def test_other_credentials_fail_without_showing_the_password(headers: dict[str, str]) -> None:
    with pytest.raises(InvalidSignature) as raised:
        mailjet.parse(headers, json.dumps(UNSUB), SETTINGS)
    assert "s3cret-pass" not in str(raised.value)
    assert raised.value.__cause__ is None


def test_no_credentials_configured_accepts_any_request() -> None:
    (event,) = mailjet.parse({}, json.dumps(UNSUB), mailjet.Settings(username=None, password=None))
    assert event.email == "api@mailjet.com"


def test_the_password_never_shows_in_the_settings_repr() -> None:
    assert "s3cret-pass" not in repr(SETTINGS)


@pytest.mark.parametrize(("username", "password"), [("hooks", None), (None, "pass"), ("", "pass")])
def test_half_or_empty_credentials_are_a_configuration_error(username: str | None, password: str | None) -> None:
    with pytest.raises(ConfigurationError):
        mailjet.Settings(username=username, password=password)


@given(records=st.lists(strategies.mailjet_events, min_size=1, max_size=5), grouped=st.booleans())
def test_every_generated_event_reads_with_its_raw_record(records: list[dict[str, Any]], grouped: bool) -> None:
    sent: Any = records if grouped or len(records) > 1 else records[0]
    events = mailjet.read(json.dumps(sent))
    assert [dict(e.raw) for e in events] == records
    for record, event in zip(records, events, strict=True):
        assert event.type is mailjet.EVENT_TYPES.get(record["event"].strip().lower(), EventType.UNKNOWN)
        assert event.at == datetime.fromtimestamp(record["time"], tz=timezone.utc)
        unsub_list = record.get("mj_list_id") if record["event"] == "unsub" else None
        assert event.list_id == (str(unsub_list) if unsub_list else None)


@given(records=st.lists(strategies.scrambled(strategies.mailjet_events), max_size=5))
def test_fields_of_any_type_never_break_the_parser(records: list[dict[str, Any]]) -> None:
    assert len(mailjet.read(strategies.body(records))) == len(records)


@given(body=st.binary(max_size=200) | strategies.json_values.map(lambda v: json.dumps(v).encode()))
def test_any_body_gives_events_or_invalid_input(body: bytes) -> None:
    try:
        events = mailjet.read(body)
    except InvalidInput:
        return
    assert all(e.provider == "mailjet" for e in events)
