"""Sandbox.simulate: the event names it knows, and what each emulator records and returns."""

from __future__ import annotations

import pytest

from contactsync import Contact, ListSubscription, Provider
from contactsync.providers.sendgrid.provider import SendGridProvider
from contactsync.sandbox import SIMULATED_EVENTS, Sandbox


def _member(sandbox: Sandbox, provider: str) -> str:
    client: Provider = sandbox.connect(provider)
    list_id = client.create_list("L")
    client.wait(client.import_contacts([Contact("a@example.com")], [ListSubscription(list_id)]))
    return list_id


def test_an_unknown_event_is_refused_naming_the_known_ones(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match="unsubscribe, resubscribe, bounce, spam, block"):
        sandbox.simulate("sendgrid", "a@example.com", "opened")


def test_a_complaint_is_the_spam_event(sandbox: Sandbox) -> None:
    done = sandbox.simulate("sendgrid", "A@Example.com", "complaint")
    assert (done.event, done.email) == ("spam", "a@example.com")
    assert [r["event"] for r in done.records] == ["spamreport"]
    assert SIMULATED_EVENTS == ("unsubscribe", "resubscribe", "bounce", "spam", "block")


@pytest.mark.parametrize("provider", ["mailjet", "dotmailer"])
def test_a_contact_the_account_does_not_hold_is_refused(sandbox: Sandbox, provider: str) -> None:
    with pytest.raises(ValueError, match="no contact"):
        sandbox.simulate(provider, "nobody@example.com", "bounce")


def test_mailjet_returns_its_event_api_objects(sandbox: Sandbox) -> None:
    list_id = _member(sandbox, "mailjet")
    done = sandbox.simulate("mailjet", "a@example.com", "unsubscribe", list_id)
    (record,) = done.records
    assert record["event"] == "unsub" and record["email"] == "a@example.com"
    assert str(record["mj_list_id"]) == list_id and isinstance(record["time"], int)
    assert sandbox.simulate("mailjet", "a@example.com", "resubscribe", list_id).records == ()  # Mailjet sends none
    bounce = sandbox.simulate("mailjet", "a@example.com", "bounce").records[0]
    assert (bounce["event"], bounce["hard_bounce"], bounce["blocked"]) == ("bounce", True, True)


def test_sendgrid_reads_a_list_id_that_is_no_group_as_global(sandbox: Sandbox) -> None:
    emulator = sandbox.emulators["sendgrid"]
    done = sandbox.simulate("sendgrid", "a@example.com", "unsubscribe", "not-a-group")
    assert [r["event"] for r in done.records] == ["unsubscribe"]
    assert "a@example.com" in emulator.state["global_suppressions"]


def test_sendgrid_unsubscribes_from_a_group(sandbox: Sandbox) -> None:
    client = sandbox.connect("sendgrid")
    assert isinstance(client, SendGridProvider)
    group = client.create_unsubscribe_group("News", "The newsletter")
    done = sandbox.simulate("sendgrid", "a@example.com", "unsubscribe", str(group.id))
    assert [(r["event"], r["asm_group_id"]) for r in done.records] == [("group_unsubscribe", group.id)]
    assert [g.unsubscribes for g in client.unsubscribe_groups()] == [1]


def test_dotmailer_returns_its_suppression_records(sandbox: Sandbox) -> None:
    _member(sandbox, "dotmailer")
    (record,) = sandbox.simulate("dotmailer", "a@example.com", "bounce").records
    assert record["reason"] == "HardBounced"
    assert record["suppressedContact"]["email"] == "a@example.com" and record["dateRemoved"].endswith("Z")


def test_dotmailer_pushes_nothing(sandbox: Sandbox) -> None:
    _member(sandbox, "dotmailer")
    assert sandbox.simulate("dotmailer", "a@example.com", "unsubscribe").deliveries == ()


@pytest.mark.parametrize("provider", ["mailjet", "sendgrid"])
def test_nothing_is_posted_where_no_url_is_registered(sandbox: Sandbox, provider: str) -> None:
    _member(sandbox, provider)
    done = sandbox.simulate(provider, "a@example.com", "bounce")
    assert done.records and done.deliveries == ()
