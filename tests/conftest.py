"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import pathlib
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from contactsync import registry
from contactsync.sandbox import Sandbox
from tests.postgres import PostgresServer, postgres_server

settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=100)
settings.register_profile("deep", parent=settings.get_profile("ci"), max_examples=2_000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A sandbox with every emulator, started on a free port for one test."""
    with Sandbox() as running:
        yield running


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server for the session (see tests/postgres.py); an error, never a skip, if it fails."""
    with postgres_server() as server:
        yield server


@pytest.fixture
def postgres_url(postgres: PostgresServer) -> str:
    """A URL whose connections work in a fresh, empty schema of the session's PostgreSQL server."""
    return postgres.new_schema()


TOY_PLUGIN_ENTRY_POINTS = """\
[contactsync.providers]
toy = toyplugin:ToyProvider
broken = toyplugin_missing:Nothing
mailjet = toyplugin:ToyProvider

[contactsync.emulators]
toy = toyplugin:ToyEmulator
broken = toyplugin_missing:Nothing
mailjet = toyplugin:ToyEmulator
"""
"""A plugin of a provider and its emulator, a broken one of each, and one of each shadowed by a built-in."""


@pytest.fixture
def toy_plugin(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[pathlib.Path]:
    """Install a throwaway distribution ``toyplugin``: a module and a .dist-info with entry_points.txt, on sys.path,
    with the registry's caches emptied (and restored after the test)."""
    where = tmp_path_factory.mktemp("toyplugin")
    (where / "toyplugin.py").write_text(
        "from tests.toy import ToyEmulator, ToyProvider\n\n__all__ = ['ToyEmulator', 'ToyProvider']\n"
    )
    info = where / "toyplugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toyplugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(TOY_PLUGIN_ENTRY_POINTS)
    monkeypatch.syspath_prepend(str(where))
    for kind in (registry._providers, registry._emulators):
        monkeypatch.setattr(kind, "loaded", {})
        monkeypatch.setattr(kind, "registered", {})
    yield where
