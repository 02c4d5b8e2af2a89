"""End to end in the sandbox: a URL registered through the emulator's own settings endpoint, ``sandbox.simulate``
changing the state and POSTing the provider's webhook to a served ``WebhookApp``, the handler receiving the
normalised event, and ``events_since`` and ``members`` agreeing with what was pushed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import attrs
import pytest
import requests

from contactsync import Contact, ContactEvent, EventType, ListSubscription, Provider
from contactsync.events import WebhookApp
from contactsync.providers.sendgrid.provider import SendGridProvider
from contactsync.sandbox import Sandbox, SimulatedEvent
from contactsync.sandbox.mailjet import MailjetEmulator
from contactsync.sandbox.sendgrid import SendGridEmulator
from contactsync.sandbox.webhooks import SigningKey
from contactsync.sync import Sync
from tests.events.serving import Later, served

PASSWORD = "hook-secret-4d1"
PEOPLE = ("ann@example.com", "bob@example.com", "cy@example.com")


class Inbox:
    """The application's handler: keeps what it receives; ``failing`` POSTs raise first, like a broken
    application; ``during`` runs on each batch before it is kept (an application reading the account)."""

    def __init__(self) -> None:
        self.events: list[ContactEvent] = []
        self.failing = 0
        self.during: Callable[[list[ContactEvent]], object] | None = None

    def __call__(self, received: list[ContactEvent]) -> None:
        if self.failing:
            self.failing -= 1
            raise RuntimeError("cannot record events")
        if self.during is not None:
            self.during(received)
        self.events.extend(received)


@attrs.define
class Loop:
    """One provider's account in the sandbox, a list holding ``PEOPLE``, and a receiver registered with it."""

    sandbox: Sandbox
    client: Provider
    list_id: str
    inbox: Inbox
    group: int | None = None

    def simulate(self, email: str, event: str, list_id: str | None = None) -> SimulatedEvent:
        return self.sandbox.simulate(self.client.name, email, event, list_id)

    def pushed(self) -> list[tuple[EventType, str | None, str | None]]:
        return [(e.type, e.email, e.list_id) for e in self.inbox.events]

    def polled(
        self, since: datetime, email: str, list_id: str | None = None
    ) -> list[tuple[EventType, str | None, str | None]]:
        """``email``'s events since ``since`` but SUBSCRIBED: the import made in that second reads as one on
        Mailjet (providers record whole seconds), and no test here resubscribes on Mailjet."""
        found = self.client.events_since(since, list_id)
        return [(e.type, e.email, e.list_id) for e in found if e.email == email and e.type is not EventType.SUBSCRIBED]

    def unsubscribed(self) -> set[str]:
        return {m.contact.email for m in self.client.members(self.list_id) if not m.subscribed}


def _filled(client: Provider) -> str:
    list_id = client.create_list("Newsletter")
    job = client.wait(client.import_contacts([Contact(e) for e in PEOPLE], [ListSubscription(list_id)]))
    assert job.accepted == len(PEOPLE), job
    return list_id


def _sendgrid(sandbox: Sandbox, method: str, path: str, body: Any = None) -> requests.Response:
    """A plain request to the SendGrid emulator's webhook settings (reference/sendgrid.md §13a)."""
    headers = {"Authorization": f"Bearer {sandbox.credentials('sendgrid')['api_key']}"}
    url = f"{sandbox.base_url('sendgrid')}/v3/user/webhooks/event{path}"
    return requests.request(method, url, json=body, headers=headers, timeout=10)


def _mailjet_callback(sandbox: Sandbox, event: str, url: str, version: int = 2) -> None:
    """Register a Mailjet callback URL for ``event`` (reference/mailjet.md §12a)."""
    credentials = sandbox.credentials("mailjet")
    answer = requests.post(
        f"{sandbox.base_url('mailjet')}/v3/REST/eventcallbackurl",
        json={"EventType": event, "Url": url, "Version": version, "IsBackup": False},
        auth=(credentials["api_key"], credentials["secret_key"]),
        timeout=10,
    )
    assert answer.status_code == 201, answer.text


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def sendgrid_loop(sandbox: Sandbox, inbox: Inbox) -> Iterator[Loop]:
    """SendGrid with a list mapped to an unsubscribe group, and a signed webhook posting the contact events."""
    setup = sandbox.connect("sendgrid")
    assert isinstance(setup, SendGridProvider)
    group = setup.create_unsubscribe_group("Newsletter", "The weekly letter").id
    list_id = _filled(setup)
    client = sandbox.connect("sendgrid", unsubscribe_groups={list_id: group})
    later = Later()
    with served(later) as base:
        flags = dict.fromkeys(("unsubscribe", "group_unsubscribe", "group_resubscribe", "bounce", "spam_report"), True)
        created = _sendgrid(sandbox, "POST", "/settings", {"url": f"{base}/sendgrid", "enabled": True, **flags})
        assert created.status_code == 201, created.text
        signed = _sendgrid(sandbox, "PATCH", f"/settings/signed/{created.json()['id']}", {"enabled": True})
        key = signed.json()["public_key"]
        later.app = WebhookApp(inbox, sendgrid={"verification_key": key, "unsubscribe_groups": {list_id: group}})
        yield Loop(sandbox, client, list_id, inbox, group)


@pytest.fixture
def mailjet_loop(sandbox: Sandbox, inbox: Inbox) -> Iterator[Loop]:
    """Mailjet with one callback URL per contact event, its Basic credentials in the URL, grouped (Version 2)."""
    client = sandbox.connect("mailjet")
    list_id = _filled(client)
    app = WebhookApp(inbox, mailjet={"username": "hooks", "password": PASSWORD})
    with served(app) as base:
        url = base.replace("http://", f"http://hooks:{PASSWORD}@") + "/mailjet"
        for event in ("unsub", "bounce", "spam", "blocked"):
            _mailjet_callback(sandbox, event, url)
        yield Loop(sandbox, client, list_id, inbox)


@pytest.fixture(params=["mailjet", "sendgrid"])
def loop(request: pytest.FixtureRequest) -> Loop:
    found: Loop = request.getfixturevalue(f"{request.param}_loop")
    return found


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _statuses(done: SimulatedEvent) -> list[tuple[int | None, bool]]:
    return [(d.status, d.accepted) for d in done.deliveries]


# -- SendGrid -----------------------------------------------------------------------------------------


def test_a_sendgrid_unsubscribe_reaches_the_handler_and_polling_agrees(sendgrid_loop: Loop) -> None:
    loop, before = sendgrid_loop, _now()
    done = loop.simulate("ann@example.com", "unsubscribe")
    assert _statuses(done) == [(200, True)]
    assert loop.pushed() == [(EventType.UNSUBSCRIBED, "ann@example.com", None)]
    assert loop.polled(before, "ann@example.com") == loop.pushed()
    assert loop.unsubscribed() == {"ann@example.com"}


def test_a_sendgrid_group_unsubscribe_carries_the_mapped_list_both_ways(sendgrid_loop: Loop) -> None:
    loop, before = sendgrid_loop, _now()
    loop.simulate("bob@example.com", "unsubscribe", str(loop.group))
    assert loop.pushed() == [(EventType.UNSUBSCRIBED, "bob@example.com", loop.list_id)]
    assert loop.polled(before, "bob@example.com", loop.list_id) == loop.pushed()
    assert loop.unsubscribed() == {"bob@example.com"}


@pytest.mark.parametrize(("event", "expected"), [("bounce", EventType.BOUNCED), ("spam", EventType.COMPLAINED)])
def test_a_sendgrid_bounce_or_complaint_is_the_same_event_pushed_and_polled(
    sendgrid_loop: Loop, event: str, expected: EventType
) -> None:
    loop, before = sendgrid_loop, _now()
    loop.simulate("cy@example.com", event)
    assert loop.pushed() == [(expected, "cy@example.com", None)]
    assert loop.polled(before, "cy@example.com") == loop.pushed()


def test_a_sendgrid_block_reads_as_blocked_pushed_or_polled(sendgrid_loop: Loop) -> None:
    """reference/sendgrid.md §13c: the webhook sends a block as a ``bounce`` of type ``blocked``; the blocks list
    (§12d) holds the same fact. Both read as BLOCKED."""
    loop, before = sendgrid_loop, _now()
    loop.simulate("cy@example.com", "block")
    (pushed,) = loop.inbox.events
    assert (pushed.type, pushed.email, (pushed.reason or "").split(":")[0]) == (
        EventType.BLOCKED,
        "cy@example.com",
        "blocked",
    )
    assert loop.polled(before, "cy@example.com") == [(EventType.BLOCKED, "cy@example.com", None)]


def test_a_sendgrid_group_resubscribe_is_pushed_but_not_polled(sendgrid_loop: Loop) -> None:
    loop = sendgrid_loop
    loop.simulate("ann@example.com", "unsubscribe", str(loop.group))
    before = _now()
    loop.simulate("ann@example.com", "resubscribe", str(loop.group))
    assert loop.pushed()[-1] == (EventType.SUBSCRIBED, "ann@example.com", loop.list_id)
    assert loop.unsubscribed() == set()
    assert EventType.SUBSCRIBED not in loop.client.capabilities.event_types
    assert loop.polled(before, "ann@example.com") == []  # a deleted suppression leaves nothing to poll


def test_a_receiver_with_another_key_refuses_the_signed_push(sandbox: Sandbox, inbox: Inbox) -> None:
    later = Later()
    with served(later) as base:
        created = _sendgrid(sandbox, "POST", "/settings", {"url": f"{base}/sendgrid", "enabled": True, "bounce": True})
        _sendgrid(sandbox, "PATCH", f"/settings/signed/{created.json()['id']}", {"enabled": True})
        later.app = WebhookApp(inbox, sendgrid={"verification_key": SigningKey().public_key})
        done = sandbox.simulate("sendgrid", "ann@example.com", "bounce")
    assert {status for status, _ in _statuses(done)} == {401}
    assert inbox.events == []


def test_with_signing_turned_off_the_push_is_unsigned(sandbox: Sandbox, inbox: Inbox) -> None:
    later = Later()
    with served(later) as base:
        created = _sendgrid(sandbox, "POST", "/settings", {"url": f"{base}/sendgrid", "enabled": True, "bounce": True})
        path = f"/settings/signed/{created.json()['id']}"
        key = _sendgrid(sandbox, "PATCH", path, {"enabled": True}).json()["public_key"]
        assert _sendgrid(sandbox, "PATCH", path, {"enabled": False}).json()["public_key"] == ""
        later.app = WebhookApp(inbox, sendgrid={"verification_key": key})
        refused = sandbox.simulate("sendgrid", "ann@example.com", "bounce")
        later.app = WebhookApp(inbox, sendgrid={"verification_key": None})
        taken = sandbox.simulate("sendgrid", "bob@example.com", "bounce")
    assert {status for status, _ in _statuses(refused)} == {401}
    assert _statuses(taken) == [(200, True)]
    assert [e.email for e in inbox.events] == ["bob@example.com"]


# -- Mailjet ------------------------------------------------------------------------------------------


def test_a_mailjet_unsubscribe_reaches_the_handler_with_its_list_and_polling_agrees(mailjet_loop: Loop) -> None:
    loop, before = mailjet_loop, _now()
    done = loop.simulate("ann@example.com", "unsubscribe", loop.list_id)
    assert _statuses(done) == [(200, True)]
    assert loop.pushed() == [(EventType.UNSUBSCRIBED, "ann@example.com", loop.list_id)]
    assert loop.polled(before, "ann@example.com", loop.list_id) == loop.pushed()
    assert loop.unsubscribed() == {"ann@example.com"}


def test_a_mailjet_unsubscribe_from_everything_is_one_grouped_post_of_each_list(mailjet_loop: Loop) -> None:
    loop = mailjet_loop
    other = loop.client.create_list("Offers")
    loop.client.manage_subscriptions("bob@example.com", [ListSubscription(other)])
    before = _now()
    done = loop.simulate("bob@example.com", "unsubscribe")
    assert len(done.deliveries) == 1  # Version 2 groups the events of one URL
    expected = {(EventType.UNSUBSCRIBED, "bob@example.com", list_id) for list_id in (loop.list_id, other)}
    assert set(loop.pushed()) == expected
    assert set(loop.polled(before, "bob@example.com")) == expected


@pytest.mark.parametrize(
    ("event", "expected"),
    [("bounce", EventType.BOUNCED), ("spam", EventType.COMPLAINED), ("block", EventType.BLOCKED)],
)
def test_a_mailjet_bounce_complaint_or_block_is_pushed_and_only_pushed(
    mailjet_loop: Loop, event: str, expected: EventType
) -> None:
    loop, before = mailjet_loop, _now()
    loop.simulate("cy@example.com", event)
    assert loop.pushed() == [(expected, "cy@example.com", None)]
    assert expected not in loop.client.capabilities.event_types
    assert loop.polled(before, "cy@example.com") == []  # reference/mailjet.md §10: no time to find them by


# -- both ---------------------------------------------------------------------------------------------


def _unsubscribe(loop: Loop, email: str) -> SimulatedEvent:
    return loop.simulate(email, "unsubscribe", loop.list_id if loop.client.name == "mailjet" else None)


def test_a_handler_that_raises_makes_the_sandbox_see_a_5xx_on_every_attempt(loop: Loop) -> None:
    loop.inbox.failing = 100
    before = _now()
    done = _unsubscribe(loop, "ann@example.com")
    emulator = loop.sandbox.emulators[loop.client.name]
    assert isinstance(emulator, MailjetEmulator | SendGridEmulator)
    assert [d.attempt for d in done.deliveries] == list(range(1, emulator.redelivery.attempts + 1))
    assert all(d.status is not None and d.status >= 500 and not d.accepted for d in done.deliveries)
    assert loop.inbox.events == []
    assert [t for t, _, _ in loop.polled(before, "ann@example.com")] == [EventType.UNSUBSCRIBED]  # polling finds it


def test_a_push_refused_once_arrives_on_the_retry(loop: Loop) -> None:
    loop.inbox.failing = 1
    done = _unsubscribe(loop, "bob@example.com")
    assert [(d.attempt, d.accepted) for d in done.deliveries] == [(1, False), (2, True)]
    assert [e.email for e in loop.inbox.events] == ["bob@example.com"]


def test_the_handler_can_read_the_account_while_the_sandbox_waits_for_its_answer(loop: Loop) -> None:
    """The push is made after the state change and with the emulator's lock released: an application that
    reads the account from its handler sees the change, and the sandbox does not wait on itself."""
    seen: list[set[str]] = []
    loop.inbox.during = lambda _: seen.append(loop.unsubscribed())
    done = _unsubscribe(loop, "cy@example.com")
    assert _statuses(done) == [(200, True)]
    assert seen == [{"cy@example.com"}]


# -- into the sync --------------------------------------------------------------------------------------


def test_pushed_events_a_sync_records_are_not_reported_again_when_its_next_run_polls_them(
    loop: Loop, tmp_path: Path
) -> None:
    people = [Contact(email) for email in PEOPLE]
    list_id = loop.list_id if loop.client.name == "mailjet" else None  # Mailjet unsubscribes from a list
    with Sync(loop.client, loop.list_id, state=str(tmp_path / "sync.db"), journal_dir=tmp_path) as sync:
        sync.run(people)
        loop.simulate("ann@example.com", "unsubscribe", list_id)
        other = attrs.evolve(loop.inbox.events[0], provider="another")
        fresh = sync.record_events([*loop.inbox.events, other])
        assert [(e.type, e.email) for e in fresh] == [(EventType.UNSUBSCRIBED, "ann@example.com")]
        assert sync.record_events(loop.inbox.events) == []
        assert sync.run(people).events == ()
        assert [(e.type, e.email) for e in sync.events()] == [(EventType.UNSUBSCRIBED, "ann@example.com")]
