"""The commands with a plugin installed: its provider listed, its emulator served, the demo and --sandbox using it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from contactsync.cli import EXIT_OK
from tests.cli.conftest import BUILTINS, CliRunnerCall
from tests.sandbox_process import COMMAND

ROOT = Path(__file__).resolve().parents[2]


def test_providers_says_which_have_an_emulator(run: CliRunnerCall, toy_plugin: Path) -> None:
    rows = {row["name"]: row for row in json.loads(run("providers", "--json").stdout)}
    assert (rows["toy"]["kind"], rows["toy"]["emulator"], rows["toy"]["status"]) == ("plugin", "yes", "ok")
    assert rows["broken"]["emulator"].startswith("broken: emulator 'broken' failed to load")
    assert rows["mailjet"]["emulator"].startswith("broken: plugin toyplugin:ToyEmulator is shadowed")
    table = run("providers").stdout.splitlines()
    assert table[0].split() == ["provider", "kind", "version", "emulator", "status"]


def test_sandbox_commands_reach_a_plugins_emulator(run: CliRunnerCall, toy_plugin: Path, tmp_path: Path) -> None:
    state = ["--provider", "toy", "--sandbox", "--state", str(tmp_path / "state.db")]
    created = run("create-list", "Plugged in", *state, "--json")
    assert created.exit_code == EXIT_OK, created.output
    assert "Plugged in" in run("lists", *state).stdout  # the state file kept the toy's account


def test_the_demo_includes_every_installed_provider_with_an_emulator(
    run: CliRunnerCall, toy_plugin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    record = json.loads(run("demo", "--json").stdout)
    assert {"toy", *BUILTINS} <= {result["provider"] for result in record["results"]}
    toy = next(result for result in record["results"] if result["provider"] == "toy")
    assert toy["requested"] == 3_000 == toy["accepted"] + toy["errored"]  # the toy holds no dates: rows refused
    assert "broken" in record["skipped"] and "failed to load" in record["skipped"]["broken"]


def test_the_sandbox_command_serves_a_plugins_emulator_and_reports_a_broken_one(toy_plugin: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(toy_plugin), str(ROOT)])}
    process = subprocess.Popen(
        [*COMMAND, "sandbox", "--port", "0", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        started = json.loads(process.stdout.readline())
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    assert {"toy", *BUILTINS} <= set(started["providers"])
    assert started["providers"]["toy"]["base_url"].endswith("/toy")
    assert "failed to load" in started["skipped"]["broken"]
