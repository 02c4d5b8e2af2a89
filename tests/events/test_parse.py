"""events.parse: dispatching by provider name, the settings each provider needs, and who pushes nothing."""

from __future__ import annotations

import json

import pytest

from contactsync import events
from contactsync.errors import ConfigurationError, InvalidSignature, UnsupportedAction
from contactsync.model import EventType
from tests.events import vectors

SIGNED = {
    "X-Twilio-Email-Event-Webhook-Signature": vectors.SIGNATURE,
    "X-Twilio-Email-Event-Webhook-Timestamp": vectors.TIMESTAMP,
}


def test_parse_verifies_and_reads_a_sendgrid_request() -> None:
    (event,) = events.parse("sendgrid", SIGNED, vectors.PAYLOAD, verification_key=vectors.PUBLIC_KEY, tolerance=None)
    assert (event.type, event.email) == (EventType.BLOCKED, "hello@world.com")


def test_parse_refuses_a_sendgrid_request_signed_by_another_key() -> None:
    with pytest.raises(InvalidSignature):
        events.parse("sendgrid", SIGNED, vectors.PAYLOAD, verification_key=vectors.WRONG_KEY, tolerance=None)


def test_skipping_verification_takes_an_explicit_none() -> None:
    (event,) = events.parse("sendgrid", {}, vectors.PAYLOAD, verification_key=None)
    assert event.reason == "Bounced Address"


def test_a_missing_verification_setting_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="need verification_key"):
        events.parse("sendgrid", SIGNED, vectors.PAYLOAD)


def test_an_unknown_setting_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="no setting secret"):
        events.parse("mailjet", {}, b"[]", username=None, password=None, secret="x")


def test_parse_dispatches_mailjet_to_its_parser() -> None:
    body = json.dumps({"event": "unsub", "email": "a@example.com", "time": 1, "mj_list_id": 9})
    (event,) = events.parse("mailjet", {}, body, username=None, password=None)
    assert (event.provider, event.list_id) == ("mailjet", "9")


def test_dotmailer_pushes_nothing_and_says_to_poll() -> None:
    with pytest.raises(UnsupportedAction, match="events_since"):
        events.parse("dotmailer", {}, b"[]")


def test_a_provider_without_a_parser_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="mailjet, sendgrid"):
        events.parse("brevo", {}, b"[]")


def test_every_built_in_provider_either_pushes_or_is_read_by_polling() -> None:
    from contactsync import registry

    assert set(registry.BUILTINS) == set(events.FORMATS) | set(events.POLL_ONLY)


def test_the_feature_matrix_says_which_events_each_provider_pushes() -> None:
    from contactsync import registry
    from contactsync.features import feature_matrix

    header, *rows = feature_matrix([registry.load(name) for name in ("dotmailer", "mailjet", "sendgrid")])
    assert header == ["feature", "dotmailer", "mailjet", "sendgrid"]
    (pushed,) = [row for row in rows if row[0] == "contact events pushed by webhook"]
    assert pushed[1].startswith("none")
    assert pushed[2] == "unsub, bounce, spam, blocked"
    assert "group_unsubscribe" in pushed[3]
