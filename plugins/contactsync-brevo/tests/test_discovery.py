"""With the distribution installed, Brevo is found everywhere a provider is: listed, served by the sandbox,
in the demo's default set and in the feature matrix, through its two entry points alone."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from contactsync import registry
from contactsync.cli import EXIT_OK, cli
from contactsync.features import feature_matrix, installed
from contactsync.sandbox import Sandbox
from contactsync_brevo.emulator import BrevoEmulator


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """The command line in-process, away from the user's config file."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-config"))
    monkeypatch.delenv("CONTACTSYNC_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    return CliRunner()


def _invoke(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(cli, list(args), catch_exceptions=False)


def test_contactsync_providers_lists_brevo_with_its_emulator(run: CliRunner) -> None:
    rows = {row["name"]: row for row in json.loads(_invoke(run, "providers", "--json").stdout)}
    assert (rows["brevo"]["kind"], rows["brevo"]["emulator"], rows["brevo"]["status"]) == ("plugin", "yes", "ok")


def test_a_default_sandbox_serves_brevo() -> None:
    assert "brevo" in registry.emulators() and "brevo" not in registry.emulator_problems()
    with Sandbox() as sandbox:
        assert isinstance(sandbox.emulators["brevo"], BrevoEmulator)
        with sandbox.connect("brevo") as client:
            assert client.name == "brevo"
            list_id = client.create_list("Found")
            assert [item.id for item in client.lists()] == [list_id]


def test_the_sandbox_command_serves_brevo() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "contactsync.cli", "sandbox", "--port", "0", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        started = json.loads(process.stdout.readline())
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    assert started["providers"]["brevo"]["base_url"] == f"{started['url']}/brevo"
    assert "api_key" in started["providers"]["brevo"] and started["skipped"] == {}


def test_a_command_with_sandbox_and_state_reaches_brevo(run: CliRunner, tmp_path: Path) -> None:
    flags = ["--provider", "brevo", "--sandbox", "--state", str(tmp_path / "state.db")]
    created = _invoke(run, "create-list", "Kept", *flags, "--json")
    assert created.exit_code == EXIT_OK, created.output
    assert "Kept" in _invoke(run, "lists", *flags).stdout


def test_the_demo_takes_brevo_by_default(run: CliRunner) -> None:
    record = json.loads(_invoke(run, "demo", "--json", "-q").stdout)
    assert "brevo" in {result["provider"] for result in record["results"]}
    assert "brevo" not in record["skipped"]


def test_the_feature_matrix_has_a_brevo_column() -> None:
    header, *rows = feature_matrix(installed())
    assert "brevo" in header
    emulated = next(row for row in rows if row[0] == "emulated by the sandbox")
    assert emulated[header.index("brevo")] == "yes"
