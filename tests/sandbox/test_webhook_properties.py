"""Property-based tests of the emulators' webhook settings: the uniqueness rules, and which settings make a POST."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contactsync.sandbox import SIMULATED_EVENTS, Sandbox
from contactsync.sandbox.mailjet import CALLBACK_EVENTS
from contactsync.sandbox.sendgrid import MAX_WEBHOOKS, WEBHOOK_FLAGS
from tests.events.serving import Receiver, served

EXAMPLES = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
FAMILY: dict[str, str | None] = {
    "unsubscribe": "unsubscribe",
    "resubscribe": None,
    "bounce": "bounce",
    "spam": "spam_report",
    "block": "bounce",
}
"""The SendGrid flag that asks for each simulated event's webhook (account-wide; a block is a bounce, §13c); a
global resubscribe posts nothing."""


class Account:
    """One sandbox for every example, each example starting from the fresh account (``dump``/``load``)."""

    def __init__(self, sandbox: Sandbox, receiver: Receiver, base: str) -> None:
        self.sandbox, self.receiver, self.base = sandbox, receiver, base
        self._fresh = {name: emulator.dump() for name, emulator in sandbox.emulators.items()}

    def fresh(self) -> Account:
        for name, emulator in self.sandbox.emulators.items():
            emulator.load(self._fresh[name])
        self.receiver.posted.clear()
        return self

    def mailjet(self, method: str, body: Any = None) -> requests.Response:
        credentials = self.sandbox.credentials("mailjet")
        return requests.request(
            method,
            f"{self.sandbox.base_url('mailjet')}/v3/REST/eventcallbackurl",
            json=body,
            auth=(credentials["api_key"], credentials["secret_key"]),
            timeout=10,
        )

    def sendgrid(self, body: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.sandbox.credentials('sendgrid')['api_key']}"}
        url = f"{self.sandbox.base_url('sendgrid')}/v3/user/webhooks/event/settings"
        return requests.post(url, json=body, headers=headers, timeout=10)


@pytest.fixture
def account() -> Iterator[Account]:
    with Sandbox(["mailjet", "sendgrid"]) as sandbox, served(receiver := Receiver()) as base:
        yield Account(sandbox, receiver, base)


@EXAMPLES
@given(pairs=st.lists(st.tuples(st.sampled_from(sorted(CALLBACK_EVENTS)), st.booleans()), max_size=10))
def test_mailjet_keeps_one_callback_per_event_type_and_backup(account: Account, pairs: list[tuple[str, bool]]) -> None:
    account.fresh()
    answers = [
        account.mailjet("POST", {"EventType": event, "IsBackup": backup, "Url": "https://h.example.com/"})
        for event, backup in pairs
    ]
    listed = account.mailjet("GET").json()
    first = {pair: pairs.index(pair) for pair in pairs}
    assert [a.status_code for a in answers] == [201 if first[pair] == n else 400 for n, pair in enumerate(pairs)]
    assert {(r["EventType"], r["IsBackup"]) for r in listed["Data"]} == set(pairs)
    assert listed["Count"] == len(set(pairs))


@EXAMPLES
@given(numbers=st.lists(st.integers(min_value=0, max_value=7), max_size=9))
def test_sendgrid_keeps_one_webhook_per_url_up_to_the_maximum(account: Account, numbers: list[int]) -> None:
    account.fresh()
    made: dict[int, str] = {}
    for number in numbers:
        answer = account.sendgrid({"url": f"https://h.example.com/{number}"})
        if len(made) == MAX_WEBHOOKS:
            assert answer.status_code == 400 and "billing plan" in answer.json()["errors"][0]["message"]
        elif number in made:
            assert answer.status_code == 400 and answer.json()["errors"][0]["id"] == made[number]
        else:
            assert answer.status_code == 201, answer.text
            made[number] = answer.json()["id"]


@EXAMPLES
@given(
    enabled=st.booleans(),
    flags=st.fixed_dictionaries({flag: st.booleans() for flag in WEBHOOK_FLAGS}),
    event=st.sampled_from(SIMULATED_EVENTS),
)
def test_sendgrid_posts_exactly_when_the_webhook_is_enabled_and_asks_for_the_event(
    account: Account, enabled: bool, flags: dict[str, bool], event: str
) -> None:
    account.fresh().sendgrid({"url": f"{account.base}/hook", "enabled": enabled, **flags})
    done = account.sandbox.simulate("sendgrid", "a@example.com", event)
    family = FAMILY[event]
    expected = enabled and family is not None and flags[family]
    assert [d.status for d in done.deliveries] == ([200] if expected else [])
    assert len(account.receiver.posted) == int(expected)
