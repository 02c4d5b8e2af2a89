"""`contactsync sandbox` served from a separate process, and the CLI flags to reach it, for end-to-end tests."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

COMMAND = [sys.executable, "-m", "contactsync.cli"]
"""The command line, run as a module of the interpreter running the tests."""

Served = tuple[subprocess.Popen[str], dict[str, Any]]


def serve(state: Path, provider: str) -> Served:
    """Start a sandbox for ``provider`` keeping its accounts in ``state``; return it and what it printed."""
    process = subprocess.Popen(
        [*COMMAND, "sandbox", "--port", "0", "--json", "--state", str(state), "--provider", provider],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line, "the sandbox printed nothing"
    return process, json.loads(line)


@contextlib.contextmanager
def served(state: Path, provider: str) -> Iterator[Served]:
    """:func:`serve`, killed on the way out if it is still running."""
    process, started = serve(state, provider)
    try:
        yield process, started
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def connection_flags(started: dict[str, Any], provider: str) -> list[str]:
    """``--api-key ... --base-url ...``: the credentials the sandbox printed, as command-line flags."""
    settings = started["providers"][provider]
    return [item for key, value in settings.items() for item in (f"--{key.replace('_', '-')}", value)]
