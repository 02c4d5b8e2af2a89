"""The pytest plugin (entry point ``pytest11``): fixtures for applications' own tests against the sandbox.

Installed with contactsync, so any project's tests can ask for ``contactsync_sandbox`` or
``contactsync_client``. Nothing is imported until a test asks for a fixture: the sandbox
needs werkzeug (the ``sandbox`` extra), which an application's test run may not have.
See :doc:`/testing`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from contactsync.provider import Provider
    from contactsync.sandbox import Sandbox

__all__ = [
    "MARKER",
    "POLL_INTERVAL",
    "contactsync_client",
    "contactsync_provider",
    "contactsync_sandbox",
    "sandbox_providers",
]

MARKER = "contactsync_providers"
"""``@pytest.mark.contactsync_providers("mailjet", ...)``: the providers a test's ``contactsync_client`` runs on;
the ini option of the same name sets them for the whole run."""
POLL_INTERVAL = 0.02
"""The first pause between status polls of the clients the fixtures set up, in seconds (the emulators finish
a job in a few status reads)."""


def pytest_addoption(parser: pytest.Parser) -> None:
    """The ini option ``contactsync_providers``."""
    parser.addini(
        MARKER,
        "providers contactsync_client runs each test on (default: every installed one with an emulator)",
        type="args",
        default=[],
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker, so that ``--strict-markers`` knows it."""
    config.addinivalue_line("markers", f"{MARKER}(*names): the providers contactsync_client runs this test on")


def sandbox_providers() -> list[str]:
    """Every installed provider the sandbox can serve (it has an emulator, and both load)."""
    from contactsync import registry

    return sorted(set(registry.installed()[0]) & set(registry.installed_emulators()[0]))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run a test asking for ``contactsync_client`` once per provider: the marker's, else the ini option's, else
    :func:`sandbox_providers`."""
    if "contactsync_provider" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker(MARKER)
    names: list[str] = list(marker.args) if marker is not None else list(metafunc.config.getini(MARKER))
    metafunc.parametrize("contactsync_provider", names or sandbox_providers(), scope="function")


@pytest.fixture
def contactsync_sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """A fresh sandbox serving every installed emulator (built-ins and plugins'), for one test.

    For the test's length, the environment points :func:`contactsync.connect` at it: for each
    provider served, ``CONTACTSYNC_<NAME>_BASE_URL``, its credentials
    (``CONTACTSYNC_<NAME>_API_KEY``...) and ``CONTACTSYNC_<NAME>_POLL_INTERVAL`` (0.02 s). So
    application code that connects by name reaches the sandbox and polls quickly, unchanged.
    ``contactsync_sandbox.connect(name)`` gives a client directly.
    """
    from contactsync.sandbox import Sandbox
    from contactsync.settings import environment_variable

    with Sandbox() as sandbox:
        for name in sandbox.emulators:
            settings = {**sandbox.credentials(name), "poll_interval": str(POLL_INTERVAL)}
            for setting, value in settings.items():
                monkeypatch.setenv(environment_variable(name, setting), value)
        yield sandbox


@pytest.fixture
def contactsync_provider(request: pytest.FixtureRequest) -> str:
    """The name of the provider this run of the test is on (parametrised: see ``contactsync_client``)."""
    name: str = request.param
    return name


@pytest.fixture
def contactsync_client(contactsync_sandbox: Sandbox, contactsync_provider: str) -> Iterator[Provider]:
    """A client of ``contactsync_sandbox``, polling quickly, once per provider.

    The test runs on each provider named by ``@pytest.mark.contactsync_providers(...)``, else by
    the ini option ``contactsync_providers``, else on every installed provider with an emulator.
    """
    client = contactsync_sandbox.connect(contactsync_provider)
    with client:
        yield client
