"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

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
