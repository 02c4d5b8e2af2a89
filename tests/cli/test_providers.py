"""The commands against the built-in providers' emulators: the demo, --sandbox, and --state between runs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from contactsync.cli import EXIT_OK, EXIT_ROW_ERRORS
from tests.cli.conftest import BUILTINS, CliRunnerCall

pytestmark = pytest.mark.parametrize("provider", BUILTINS)


def _file(tmp_path: Path) -> str:
    path = tmp_path / "people.csv"
    path.write_text("email,name,plan\nann@example.com,Ann Ó,gold\nnot-an-email,Bob,\ncy@example.com,Cy,\n")
    return str(path)


def test_import_against_the_embedded_sandbox(run: CliRunnerCall, provider: str, tmp_path: Path) -> None:
    result = run("import", _file(tmp_path), "--provider", provider, "--sandbox", "--create-fields", "--json")
    assert result.exit_code == EXIT_ROW_ERRORS, result.output
    record = json.loads(result.stdout)
    assert record["status"] == "completed_with_errors"
    assert record["requested"] == 3
    assert record["accepted"] == 2
    assert record["created"] is None or record["created"] + record["updated"] == 2  # Mailjet does not tell them apart
    assert [(e["row"], e["field"]) for e in record["errors"]] == [(2, "email")]


def test_state_carries_jobs_and_lists_between_invocations(run: CliRunnerCall, provider: str, tmp_path: Path) -> None:
    flags = ["--provider", provider, "--sandbox", "--state", str(tmp_path / "state.db")]
    created = run("create-list", "Newsletter", *flags, "--json")
    assert created.exit_code == EXIT_OK, created.output
    list_id = json.loads(created.stdout)["id"]
    assert list_id in run("lists", *flags).stdout
    submitted = run("import", _file(tmp_path), *flags, "--create-fields", "--list", list_id, "--no-wait", "--json")
    assert submitted.exit_code == EXIT_ROW_ERRORS, submitted.output
    job_id = json.loads(submitted.stdout)["job_id"]
    waited = run("status", job_id, *flags, "--wait", "--json")
    assert json.loads(waited.stdout)["status"] in ("completed", "completed_with_errors"), waited.output
    memberships = json.loads(run("subscriptions", "ann@example.com", *flags, "--json").stdout)
    assert [(m["list_id"], m["subscribed"]) for m in memberships] == [(list_id, True)]
    assert "plan" in run("fields", *flags).stdout.lower()


def test_subscribe_changes_one_contacts_lists(run: CliRunnerCall, provider: str, tmp_path: Path) -> None:
    flags = ["--provider", provider, "--sandbox", "--state", str(tmp_path / "state.db")]
    list_id = run("create-list", "Updates", *flags).stdout.strip()
    run("import", _file(tmp_path), *flags)
    result = run("subscribe", "cy@example.com", "--list", list_id, "--action", "addforce", *flags)
    assert result.exit_code == EXIT_OK, result.output
    memberships = json.loads(run("subscriptions", "cy@example.com", *flags, "--json").stdout)
    assert (list_id, True) in [(m["list_id"], m["subscribed"]) for m in memberships]


def test_demo_for_one_provider(run: CliRunnerCall, provider: str, tmp_path: Path) -> None:
    out = tmp_path / "demo-errors.csv"
    result = run("demo", "--provider", provider, "--errors-out", str(out), "--json")
    assert result.exit_code == EXIT_OK, result.output
    (row,) = json.loads(result.stdout)["results"]
    assert row["status"] == "completed_with_errors"
    assert row["requested"] == 3_000
    with out.open(newline="", encoding="utf-8") as handle:
        report = list(csv.DictReader(handle))
    assert len(report) == row["errored"] >= 30
    assert {r["provider"] for r in report} == {provider}
