"""The feature matrix: its read-back rows come from each provider's declared capabilities."""

from __future__ import annotations

from contactsync import registry
from contactsync.features import feature_matrix, installed, push_and_poll
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


def test_the_push_and_poll_rows_set_each_webhook_against_what_polling_finds() -> None:
    rows = _rows([registry.load(name) for name in ("mailjet", "sendgrid", "dotmailer")])
    # Mailjet pushes bounces, complaints and blocks it cannot find by time; SendGrid's group resubscribe leaves
    # nothing to poll; dotmailer pushes nothing, so polling is all there is.
    assert rows["pushed, not found by ``events_since()``"] == ["bounced, complained, blocked", "subscribed", "none"]
    assert rows["found by ``events_since()``, not pushed"] == [
        "subscribed",
        "none",
        "unsubscribed, bounced, complained, blocked",
    ]


def test_a_provider_without_webhooks_or_events_has_nothing_either_way() -> None:
    rows = _rows([ToyProvider])
    assert (
        rows["pushed, not found by ``events_since()``"] == rows["found by ``events_since()``, not pushed"] == ["none"]
    )


def test_the_push_and_poll_table_reads_the_parsers_tables_and_the_declarations() -> None:
    header, *rows = push_and_poll([registry.load(name) for name in ("mailjet", "dotmailer")])
    assert header[0] == "provider"
    by_provider = {row[0]: dict(zip(header[1:], row[1:], strict=True)) for row in rows}
    assert by_provider["mailjet"]["pushed by webhook"].startswith("``unsub``: unsubscribed; ``bounce``: bounced")
    assert by_provider["mailjet"]["only polled"] == "subscribed"
    assert by_provider["dotmailer"]["pushed by webhook"] == "nothing"
    assert by_provider["dotmailer"]["only polled"] == by_provider["dotmailer"]["found by ``events_since()``"]


def test_the_matrix_covers_every_installed_provider_and_leaves_out_a_broken_one(toy_plugin: object) -> None:
    names = [cls.name for cls in installed()]
    assert {"dotmailer", "mailjet", "sendgrid", "toy"} <= set(names) and "broken" not in names
    assert names == sorted(names)
    rows = _rows([registry.load("mailjet"), ToyProvider])
    assert rows["emulated by the sandbox"] == ["yes", "yes"]  # the toy plugin declares its emulator too


def test_a_provider_without_an_emulator_says_so() -> None:
    class Unserved(ToyProvider):
        name = "unserved"

    assert _rows([Unserved])["emulated by the sandbox"] == ["no"]
