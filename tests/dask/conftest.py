"""Fixtures of the Dask tests: a real LocalCluster of two worker processes, a sandbox, a PostgreSQL state."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dask
import pandas as pd
import pytest
from distributed import Client, LocalCluster

from contactsync.sandbox import Sandbox
from contactsync.sandbox.server import RecordedRequest

STATE_PASSWORD = "pg-secret-0d5f3a"
"""A password in the state's URL (the test server trusts every local connection, so any password works)."""


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    """Two worker processes of two threads, leases of a killed worker freed within seconds."""
    quick_leases = {
        "distributed.scheduler.locks.lease-timeout": "3s",
        "distributed.scheduler.locks.lease-validation-interval": "0.5s",
    }
    with (
        dask.config.set(quick_leases),
        LocalCluster(n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None) as made,
    ):
        yield made


@pytest.fixture
def client(cluster: LocalCluster) -> Iterator[Client]:
    with Client(cluster) as connected:
        connected.wait_for_workers(2, timeout=60)
        yield connected


@pytest.fixture
def mailjet() -> Iterator[Sandbox]:
    with Sandbox(["mailjet"]) as running:
        yield running


@pytest.fixture
def state(postgres_url: str) -> str:
    """The shared state's URL, with a password in it (which must never show)."""
    return postgres_url.replace("postgres@", f"postgres:{STATE_PASSWORD}@", 1)


def people(n: int, *, changed: bool = False, gone: bool = False) -> pd.DataFrame:
    """``n`` contacts; ``changed`` moves every 100th to another team, ``gone`` drops the 50th of each hundred."""
    rows = [
        {
            "email": f"User{i:07d}@Example.com",
            "name": f"User {i}",
            "team": "Red" if changed and i % 100 == 0 else "Blue",
        }
        for i in range(n)
        if not (gone and i % 100 == 50)
    ]
    return pd.DataFrame(rows)


def most_in_flight(requests: list[RecordedRequest]) -> int:
    """The most requests the sandbox was answering at one moment."""
    ends = [(r.finished if r.finished is not None else float("inf"), -1) for r in requests]
    edges = sorted([(r.started, 1) for r in requests] + ends)
    current = most = 0
    for _, step in edges:
        current += step
        most = max(most, current)
    return most


def writes(sandbox: Sandbox, since: int = 0) -> list[str]:
    """The requests that could change the account (anything but GET), from request number ``since`` on."""
    return [f"{r.method} {r.path}" for r in list(sandbox.requests)[since:] if r.method != "GET"]


def stored(sandbox: Sandbox, list_id: str) -> dict[str, Any]:
    """{email: team} of the list's members, as the emulator stores them; a repeated address fails."""
    members = sandbox.contacts("mailjet", list_id)
    teams = {m.email: m.properties.get("team") for m in members}
    assert len(teams) == len(members), "an address is stored twice"
    return teams
