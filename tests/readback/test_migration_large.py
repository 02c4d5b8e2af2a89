"""The issue's bar: 100,000 members, 1,000 of them unsubscribed, migrated between every ordered pair of providers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from contactsync import ListSubscription, Provider, SubscriptionAction, UnsupportedAction
from contactsync.migration import migrate
from contactsync.sandbox import Sandbox
from tests.readback.conftest import PROVIDERS, SETTINGS, people
from tests.readback.test_migration import PAIRS, standing

pytestmark = pytest.mark.slow

N = 100_000
UNSUBSCRIBED = 1_000


def seed(client: Provider) -> str:
    """A list of N members, the last UNSUBSCRIBED of them unsubscribed (in bulk where the provider can)."""
    contacts = people(N)
    list_id = client.create_list("Large")
    job = client.wait(client.import_contacts(contacts[:-UNSUBSCRIBED], [ListSubscription(list_id)]), timeout=3600)
    assert job.errored == 0, job
    unsubscribe = [ListSubscription(list_id, SubscriptionAction.UNSUBSCRIBE)]
    try:
        client.check_actions(unsubscribe)
        job = client.wait(client.import_contacts(contacts[-UNSUBSCRIBED:], unsubscribe), timeout=3600)
        assert job.errored == 0, job
    except UnsupportedAction:  # dotmailer: a plain import, then the list unsubscribe of each contact
        client.wait(client.import_contacts(contacts[-UNSUBSCRIBED:]), timeout=3600)
        for contact in contacts[-UNSUBSCRIBED:]:
            client.manage_subscriptions(contact.email, unsubscribe)
    return list_id


@pytest.fixture(scope="module")
def seeded() -> Iterator[dict[str, tuple[str, str]]]:
    """Per provider: the emulator state holding the seeded list, and the list's id (seeded once, loaded per test)."""
    found = {}
    with Sandbox() as sandbox:
        for name in PROVIDERS:
            with sandbox.connect(name, **SETTINGS.get(name, {})) as client:
                list_id = seed(client)
            found[name] = (sandbox.emulators[name].dump(), list_id)
    yield found


@pytest.mark.parametrize(("source_name", "target_name"), PAIRS)
def test_a_hundred_thousand_members_migrate_intact(
    seeded: dict[str, tuple[str, str]], source_name: str, target_name: str
) -> None:
    state, origin = seeded[source_name]
    with Sandbox([source_name, target_name]) as sandbox:
        sandbox.emulators[source_name].load(state)
        source = sandbox.connect(source_name, **SETTINGS.get(source_name, {}))
        target = sandbox.connect(target_name, **SETTINGS.get(target_name, {}))
        destination = target.create_list("Moved")
        result = migrate(source, origin, target, destination)
        assert (result.members, result.unsubscribed, result.errors) == (N, UNSUBSCRIBED, ())
        before, after = standing(source, origin), standing(target, destination)
        assert after == before
        assert sum(not subscribed for _, _, subscribed in after.values()) == UNSUBSCRIBED
