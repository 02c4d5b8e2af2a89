"""The main job: `contactsync demo` imports the shipped file into every provider and prints the summary."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path
from typing import Any

import pytest

from contactsync.cli import DEMO_DATA, EXIT_OK
from tests.cli.conftest import BUILTINS, CliRunnerCall

ROOT = Path(__file__).resolve().parents[2]


def _generator() -> Any:
    """examples/make_contacts.py, loaded by path (examples/ is scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("make_contacts", ROOT / "examples" / "make_contacts.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_shipped_file_is_what_the_generator_writes() -> None:
    shipped = (ROOT / "contactsync" / DEMO_DATA).read_text(encoding="utf-8")
    with (ROOT / "contactsync" / DEMO_DATA).open(newline="", encoding="utf-8") as handle:
        assert list(map(tuple, csv.reader(handle))) == _generator().rows()
    assert (ROOT / "examples" / "contacts.csv").read_text(encoding="utf-8") == shipped


def test_demo_completes_with_errors_everywhere_and_writes_the_error_file(
    run: CliRunnerCall, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("demo", *(flag for name in BUILTINS for flag in ("--provider", name)))  # plugins: test_plugins.py
    assert result.exit_code == EXIT_OK, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "provider",
        "status",
        "requested",
        "accepted",
        "created",
        "updated",
        "errored",
        "seconds",
    ]
    table = {line.split()[0]: line.split() for line in lines[2:5]}
    assert sorted(table) == BUILTINS
    assert all(cells[1] == "completed_with_errors" and cells[2] == "3,000" for cells in table.values())
    report = tmp_path / "contactsync-demo-errors.csv"
    assert "row errors written to contactsync-demo-errors.csv" in lines[-1]
    with report.open(newline="", encoding="utf-8") as handle:
        providers = {r["provider"] for r in csv.DictReader(handle)}
    assert providers == set(BUILTINS)
