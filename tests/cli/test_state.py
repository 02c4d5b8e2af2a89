"""The sandbox state file: emulator state saved to SQLite and loaded back."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from contactsync import ConfigurationError
from contactsync.sandbox.state import FORMAT_VERSION, load_state, save_state
from tests.toy import ToyEmulator


def test_state_round_trips_through_the_file(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    before = ToyEmulator()
    before.state["contacts"]["a@example.com"] = {"email": "a@example.com", "name": "Ann"}
    save_state(path, [before])
    after = ToyEmulator()
    assert load_state(path, [after]) == ["toy"]
    assert after.state == before.state


def test_saving_again_replaces_the_saved_state(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    emulator = ToyEmulator()
    save_state(path, [emulator])
    emulator.state["jobs"]["1"] = {"polls": 0}
    save_state(path, [emulator])
    fresh = ToyEmulator()
    load_state(path, [fresh])
    assert fresh.state["jobs"] == {"1": {"polls": 0}}


def test_a_missing_file_loads_nothing(tmp_path: Path) -> None:
    emulator = ToyEmulator()
    assert load_state(tmp_path / "none.db", [emulator]) == []
    assert emulator.state == emulator.initial_state()


def test_a_file_that_is_not_a_state_file_is_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello, this is not SQLite" * 100)
    with pytest.raises(ConfigurationError, match="not a sandbox state file"):
        load_state(text, [ToyEmulator()])
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE things (x)")
    with pytest.raises(ConfigurationError, match=f"version {FORMAT_VERSION}"):
        save_state(other, [ToyEmulator()])
