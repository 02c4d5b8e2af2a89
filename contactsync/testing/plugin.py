"""The pytest plugin (entry point ``pytest11``): fixtures for applications' own tests against the sandbox.

Installed with contactsync, so any project's tests can ask for ``contactsync_sandbox``.
Nothing is imported until a test asks for a fixture: the sandbox needs werkzeug (the
``sandbox`` extra), which an application's test run may not have.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from contactsync.sandbox import Sandbox

__all__ = ["contactsync_sandbox"]


@pytest.fixture
def contactsync_sandbox() -> Iterator[Sandbox]:
    """A fresh sandbox serving every built-in emulator (and installed plugins' ones), for one test.

    ``contactsync_sandbox.connect(name)`` gives a client that polls quickly.
    """
    from contactsync.sandbox import Sandbox

    with Sandbox() as sandbox:
        yield sandbox
