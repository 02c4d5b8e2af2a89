"""``contactsync.migration.migrate`` between every ordered pair of built-in providers, through the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from contactsync import ListSubscription, NotFound, Provider, SubscriptionAction, UnsupportedAction
from contactsync.migration import migrate
from contactsync.sandbox import Sandbox
from tests.readback.conftest import PROVIDERS, SETTINGS, filled_list, folded, people

PAIRS = [(source, target) for source in PROVIDERS for target in PROVIDERS if source != target]


def connected(sandbox: Sandbox, name: str) -> Provider:
    client: Provider = sandbox.connect(name, **SETTINGS.get(name, {}))
    return client


def unsubscribe(client: Provider, list_id: str, emails: list[str]) -> None:
    for email in emails:
        client.manage_subscriptions(email, [ListSubscription(list_id, SubscriptionAction.UNSUBSCRIBE)])


def standing(client: Provider, list_id: str) -> dict[str, tuple[str | None, dict[str, object], bool]]:
    """Each member's name, properties (names folded, see ``folded``) and subscription, by email."""
    return {
        m.contact.email: (m.contact.name, folded(m.contact.properties), m.subscribed) for m in client.members(list_id)
    }


@pytest.mark.parametrize(("source_name", "target_name"), PAIRS)
def test_migration_keeps_members_properties_and_unsubscribes(
    sandbox: Sandbox, source_name: str, target_name: str
) -> None:
    source, target = connected(sandbox, source_name), connected(sandbox, target_name)
    contacts = people(40)
    origin = filled_list(source, contacts)
    unsubscribe(source, origin, [c.email for c in contacts[::10]])
    destination = target.create_list("Moved")
    result = migrate(source, origin, target, destination)
    assert (result.members, result.subscribed, result.unsubscribed, result.errors) == (40, 36, 4, ())
    before, after = standing(source, origin), standing(target, destination)
    assert after == before
    assert {email for email, (_, _, subscribed) in after.items() if not subscribed} == {c.email for c in contacts[::10]}


def test_a_target_that_cannot_hold_an_unsubscribe_is_refused_before_sending(sandbox: Sandbox) -> None:
    source, target = connected(sandbox, "mailjet"), sandbox.connect("sendgrid")  # no unsubscribe setting
    origin = filled_list(source, people(3))
    destination = target.create_list("Moved")
    sandbox.requests.clear()
    with pytest.raises(UnsupportedAction, match="unsubscribe_groups"):
        migrate(source, origin, target, destination)
    assert [r for r in sandbox.requests if r.method != "GET"] == []


def test_migrating_into_an_unknown_list_raises_not_found(sandbox: Sandbox) -> None:
    source, target = connected(sandbox, "sendgrid"), connected(sandbox, "mailjet")
    origin = filled_list(source, people(2))
    with pytest.raises(NotFound):
        migrate(source, origin, target, "987654")


def test_an_interrupted_migration_resumes_without_sending_again(sandbox: Sandbox, tmp_path: Path) -> None:
    source, target = connected(sandbox, "dotmailer"), connected(sandbox, "mailjet")
    contacts = people(30)
    origin = filled_list(source, contacts)
    unsubscribe(source, origin, [contacts[0].email])
    destination = target.create_list("Moved")
    journal = tmp_path / "move"

    def interrupt(stage: str, count: int) -> None:
        if stage == "unsubscribed":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        migrate(source, origin, target, destination, journal=journal, on_progress=interrupt)
    assert Path(f"{journal}.members").exists()
    sent = sum(r.method == "POST" and "managemanycontacts" in r.path for r in sandbox.requests)
    sandbox.requests.clear()
    result = migrate(source, origin, target, destination, journal=journal)
    again = sum(r.method == "POST" and "managemanycontacts" in r.path for r in sandbox.requests)
    assert sent == 1 and again == 1  # the subscribed batch once, then only the unsubscribed one
    assert sum(r.path.startswith("/dotmailer") for r in sandbox.requests) == 0  # the snapshot, not the source
    assert (result.members, result.unsubscribed, result.errors) == (30, 1, ())
    assert standing(target, destination) == standing(source, origin)
    assert list(tmp_path.iterdir()) == []


def test_a_member_unsubscribed_at_the_target_stays_unsubscribed(sandbox: Sandbox) -> None:
    source, target = connected(sandbox, "mailjet"), connected(sandbox, "sendgrid")
    contacts = people(3)
    origin = filled_list(source, contacts)
    destination = filled_list(target, contacts[:1], "Moved")
    unsubscribe(target, destination, [contacts[0].email])
    migrate(source, origin, target, destination)
    assert not standing(target, destination)[contacts[0].email][2]
