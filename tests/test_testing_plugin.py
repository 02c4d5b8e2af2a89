"""The pytest plugin installed with contactsync: applications' tests get a fresh sandbox by asking for it."""

from __future__ import annotations

from contactsync.registry import BUILTINS
from contactsync.sandbox import Sandbox


def test_the_plugin_serves_a_fresh_sandbox_of_every_built_in(contactsync_sandbox: Sandbox) -> None:
    assert set(BUILTINS) <= set(contactsync_sandbox.emulators)
    for name in BUILTINS:
        with contactsync_sandbox.connect(name) as client:
            assert client.lists() == []
            assert client.poll_interval < 1  # quick polls, for tests
