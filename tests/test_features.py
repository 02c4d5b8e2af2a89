"""The feature matrix: its read-back rows come from each provider's declared capabilities."""

from __future__ import annotations

from contactsync import registry
from contactsync.features import feature_matrix
from contactsync.provider import Provider
from tests.toy import ToyProvider


def _rows(classes: list[type[Provider]]) -> dict[str, list[str]]:
    return {row[0]: row[1:] for row in feature_matrix(classes)}


def test_the_read_back_rows_follow_the_declarations() -> None:
    classes = [registry.load(name) for name in ("mailjet", "sendgrid", "dotmailer")]
    rows = _rows(classes)
    assert rows["``members()``"] == ["yes", "yes", "yes"]
    assert rows["``members()`` dates"] == ["subscribed_at, unsubscribed_at", "unsubscribed_at", "unsubscribed_at"]
    assert rows["``events_since()`` finds"] == [
        "subscribed, unsubscribed",
        "unsubscribed, bounced, complained, blocked",
        "unsubscribed, bounced, complained, blocked",
    ]
    assert rows["events of one list"] == ["yes", "no", "yes"]  # SendGrid: only once lists are mapped to groups
    assert rows["delete contacts"] == rows["delete lists"] == ["yes", "yes", "yes"]


def test_a_provider_that_declares_no_read_back_shows_none() -> None:
    rows = _rows([ToyProvider])
    assert rows["``members()``"] == ["no"]
    assert rows["``events_since()`` finds"] == ["none"]
    assert rows["delete contacts"] == ["no"]
