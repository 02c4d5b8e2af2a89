"""Fixtures of the sync tests: each provider in its own sandbox, and the state in SQLite and in PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from contactsync import Contact, FieldDefinition
from contactsync.provider import Provider
from contactsync.sandbox import Sandbox
from contactsync.sync import Sync

PROVIDERS = ["mailjet", "sendgrid", "dotmailer"]
STORES = ["sqlite", "postgresql"]
OPTIONS: dict[str, dict[str, Any]] = {"sendgrid": {"global_unsubscribe": True}}
"""SendGrid unsubscribes through a global suppression only when told to (its lists are membership only)."""


@attrs.frozen
class Destination:
    """A provider served by a sandbox of its own, a client, and a list to sync into."""

    sandbox: Sandbox
    client: Provider
    list_id: str

    @property
    def provider(self) -> str:
        return self.client.name

    def members(self) -> set[str]:
        """The addresses on the list, as the emulator stores them."""
        found = self.sandbox.contacts(self.provider, self.list_id)
        return {contact.email for contact in found}

    def writes(self, since: int = 0) -> list[str]:
        """The requests that could change the account (anything but GET), from request number ``since`` on."""
        return [f"{r.method} {r.path}" for r in list(self.sandbox.requests)[since:] if r.method != "GET"]


def people(count: int, start: int = 0, team: str = "Blue") -> list[Contact]:
    """``count`` distinct contacts with a name and a text property."""
    return [Contact(f"p{n:05d}@example.com", f"Person {n}", {"team": team}) for n in range(start, start + count)]


@pytest.fixture(params=PROVIDERS)
def destination(request: pytest.FixtureRequest) -> Iterator[Destination]:
    with Sandbox([request.param]) as sandbox:
        client: Provider = sandbox.connect(request.param, **OPTIONS.get(request.param, {}))
        with client:
            client.ensure_fields([FieldDefinition("team")])
            yield Destination(sandbox, client, client.create_list("Synced"))


@pytest.fixture(params=STORES)
def state(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a sync keeps its state: an SQLite file, or a fresh schema of the test PostgreSQL server."""
    if request.param == "sqlite":
        return str(tmp_path / "sync.db")
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def sync(destination: Destination, state: str, tmp_path: Path) -> Iterator[Sync]:
    """A sync of the destination's list, its journals in the test's directory."""
    with Sync(destination.client, destination.list_id, state=state, journal_dir=tmp_path / "journals") as made:
        yield made
