"""``--setting``: values read as JSON where they parse, checked against the constructor, applied with --sandbox too."""

from __future__ import annotations

import json
from pathlib import Path

from contactsync.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from tests.cli.conftest import CliRunnerCall


def test_an_unknown_setting_is_refused_naming_the_ones_taken(run: CliRunnerCall) -> None:
    result = run("lists", "--provider", "sendgrid", "--sandbox", "--setting", "bogus=1")
    assert result.exit_code == EXIT_USAGE
    assert "sendgrid does not take bogus" in result.stderr
    assert "concurrency" in result.stderr  # the settings every provider passes on are listed too


def test_numbers_are_read_as_numbers(run: CliRunnerCall) -> None:
    result = run("lists", "--provider", "mailjet", "--sandbox", "--setting", "concurrency=3")
    assert result.exit_code == EXIT_OK, result.output


def test_settings_apply_with_the_embedded_sandbox(run: CliRunnerCall, tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text("email,vip\na@example.com,true\n", encoding="utf-8")
    base = ["-q", "import", str(people), "--provider", "sendgrid", "--sandbox", "--type", "vip=boolean"]
    refused = run(*base, "--json")
    stored = run(*base, "--json", "--setting", "booleans=text")
    assert refused.exit_code == EXIT_FAILED  # SendGrid has no boolean type unless told how to store one: nothing went
    assert json.loads(refused.stdout)["reason"].startswith("no row was sent")
    assert stored.exit_code == EXIT_OK, stored.output
