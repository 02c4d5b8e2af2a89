"""Fixtures for the command-line tests: the toy provider registered and served, and a click runner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from contactsync import registry
from contactsync.cli import cli
from contactsync.sandbox import Sandbox
from tests.toy import TOKEN, ToyEmulator, ToyProvider

BUILTINS = sorted(registry.BUILTINS)


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunnerCall]:
    """Run the CLI in-process, isolated from the user's config file and provider variables."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-config"))
    monkeypatch.delenv("CONTACTSYNC_CONFIG", raising=False)
    monkeypatch.delenv("CONTACTSYNC_PROVIDER", raising=False)
    yield CliRunnerCall()


class CliRunnerCall:
    """``run("import", ...)`` -> click Result, with stdout and stderr kept apart."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str) -> Result:
        return self.runner.invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def toy() -> Iterator[tuple[Sandbox, list[str]]]:
    """The toy provider registered as ``toy`` and served; yields the sandbox and the CLI's connection flags."""
    registry.register("toy", ToyProvider, replace=True)
    with Sandbox([ToyEmulator()]) as sandbox:
        yield (
            sandbox,
            [
                "--provider",
                "toy",
                "--base-url",
                sandbox.base_url("toy"),
                "--setting",
                f"token={TOKEN}",
                "--poll-interval",
                "0.01",
            ],
        )
