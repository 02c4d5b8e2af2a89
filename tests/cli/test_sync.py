"""``contactsync sync``, ``sync-runs`` and ``sync-outcomes`` against providers served by an in-process sandbox."""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from contactsync import FieldDefinition
from contactsync.cli import EXIT_FAILED, EXIT_OK, EXIT_ROW_ERRORS, EXIT_USAGE
from contactsync.sandbox import Sandbox
from contactsync.sync import Sync
from tests.cli.conftest import CliRunnerCall


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(["mailjet", "dotmailer"]) as running:
        for provider in ("mailjet", "dotmailer"):
            client = running.connect(provider)
            client.ensure_fields([FieldDefinition("team")])
            client.create_list("Synced")
        yield running


def _flags(sandbox: Sandbox, provider: str = "mailjet") -> list[str]:
    given = sandbox.credentials(provider)
    return ["--provider", provider, *(f for key, value in given.items() for f in (f"--{key.replace('_', '-')}", value))]


def _write(path: Path, count: int, start: int = 0, team: str = "Blue") -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["email", "name", "team"])
        writer.writerows([f"c{n}@example.com", f"C {n}", team] for n in range(start, start + count))
    return path


def _sync(run: CliRunnerCall, sandbox: Sandbox, tmp_path: Path, source: Path | str, *extra: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    state = str(tmp_path / "sync.db")
    result = run(
        "sync",
        str(source),
        *_flags(sandbox),
        "--list",
        "1",
        "--state",
        state,
        "--poll-interval",
        "0.02",
        "--json",
        *extra,
    )
    return result.exit_code, json.loads(result.stdout.strip().splitlines()[-1]) if result.stdout.strip() else {}


def _writes(sandbox: Sandbox, since: int) -> list[str]:
    return [f"{r.method} {r.path}" for r in list(sandbox.requests)[since:] if r.method != "GET"]


def test_a_sync_sends_every_contact_then_only_what_changed(
    run: CliRunnerCall, sandbox: Sandbox, tmp_path: Path
) -> None:
    source = _write(tmp_path / "people.csv", 20)
    code, first = _sync(run, sandbox, tmp_path, source)
    assert (code, first["status"], first["counts"]["accepted"]) == (EXIT_OK, "completed", 20)
    before = len(sandbox.requests)
    code, second = _sync(run, sandbox, tmp_path, source)
    assert (code, second["counts"]["unchanged"]) == (EXIT_OK, 20)
    assert _writes(sandbox, before) == []
    _write(source, 20, team="Red")
    _, third = _sync(run, sandbox, tmp_path, source)
    assert (third["counts"]["update"], third["counts"]["accepted"]) == (20, 20)


def test_a_dry_run_plans_and_sends_nothing(run: CliRunnerCall, sandbox: Sandbox, tmp_path: Path) -> None:
    source = _write(tmp_path / "people.csv", 5)
    _sync(run, sandbox, tmp_path, source)
    _write(source, 6)
    before = len(sandbox.requests)
    code, plan = _sync(run, sandbox, tmp_path, source, "--dry-run", "--mode", "mirror")
    assert code == EXIT_OK
    assert (plan["dry_run"], plan["create"], plan["unchanged"], plan["sample"]["create"]) == (
        True,
        1,
        5,
        ["c5@example.com"],
    )
    assert _writes(sandbox, before) == []


def test_a_mirror_over_its_limit_exits_2_naming_the_numbers_and_force_applies_it(
    run: CliRunnerCall, sandbox: Sandbox, tmp_path: Path
) -> None:
    source = _write(tmp_path / "people.csv", 10)
    _sync(run, sandbox, tmp_path, source)
    _write(source, 6)
    state = str(tmp_path / "sync.db")
    refused = run("sync", str(source), *_flags(sandbox), "--list", "1", "--state", state, "--mode", "mirror")
    assert refused.exit_code == EXIT_USAGE
    assert "remove 4 of the 10 contacts" in refused.stderr and "max_removals (10% of 10 = 1)" in refused.stderr
    code, forced = _sync(run, sandbox, tmp_path, source, "--mode", "mirror", "--max-removals", "4")
    assert (code, forced["counts"]["removed"]) == (EXIT_OK, 4)
    assert len(sandbox.contacts("mailjet", "1")) == 6


def test_rejected_rows_exit_1_and_go_to_the_errors_file(run: CliRunnerCall, sandbox: Sandbox, tmp_path: Path) -> None:
    source = _write(tmp_path / "people.csv", 3)
    with source.open("a", encoding="utf-8") as out:
        out.write("not-an-email,Broken,Blue\n")
    errors = tmp_path / "errors.csv"
    code, result = _sync(run, sandbox, tmp_path, source, "--errors-out", str(errors))
    assert (code, result["counts"]["rejected"], result["error_count"]) == (EXIT_ROW_ERRORS, 1, 1)
    with errors.open(newline="", encoding="utf-8") as report:
        assert [(r["row"], r["field"]) for r in csv.DictReader(report)] == [("4", "email")]


def test_the_history_and_a_runs_changelog_are_read_from_the_state(
    run: CliRunnerCall, sandbox: Sandbox, tmp_path: Path
) -> None:
    source = _write(tmp_path / "people.csv", 4)
    _sync(run, sandbox, tmp_path, source)
    _write(source, 4, team="Green")
    _sync(run, sandbox, tmp_path, source)
    state = str(tmp_path / "sync.db")
    history = run("sync-runs", "--state", state, "--json")
    runs = json.loads(history.stdout)
    assert [(r["id"], r["status"], r["counts"]["update"]) for r in runs] == [(2, "completed", 4), (1, "completed", 0)]
    table = run("sync-runs", "--state", state, "--name", "mailjet:1")
    assert "mailjet:1" in table.stdout and table.exit_code == EXIT_OK
    outcomes = run("sync-outcomes", "2", "--state", state)
    rows = list(csv.DictReader(outcomes.stdout.splitlines()))
    assert [(r["row"], r["operation"], r["result"]) for r in rows] == [
        (str(n), "update", "accepted") for n in (1, 2, 3, 4)
    ]
    missing = run("sync-outcomes", "99", "--state", state)
    assert missing.exit_code == EXIT_USAGE and "no run 99" in missing.stderr


def test_a_destinations_file_syncs_one_read_of_the_source_to_every_list(
    run: CliRunnerCall, sandbox: Sandbox, tmp_path: Path
) -> None:
    source = _write(tmp_path / "people.csv", 7)
    plan = tmp_path / "destinations.toml"
    tables = []
    for provider in ("mailjet", "dotmailer"):
        settings = "\n".join(f'{key} = "{value}"' for key, value in sandbox.credentials(provider).items())
        tables.append(f'[[destination]]\nprovider = "{provider}"\nlist = "1"\n[destination.settings]\n{settings}\n')
    plan.write_text(f'state = "{tmp_path / "fan.db"}"\nmode = "mirror"\n\n' + "\n".join(tables), encoding="utf-8")
    command = ["sync", str(source), "--destinations", str(plan), "--poll-interval", "0.02", "--json"]
    first = run(*command)
    assert first.exit_code == EXIT_OK, first.stderr
    record = json.loads(first.stdout)
    assert [(d["sync"], d["counts"]["accepted"], d["mode"]) for d in record["destinations"]] == [
        ("mailjet:1", 7, "mirror"),
        ("dotmailer:1", 7, "mirror"),
    ]
    again = json.loads(run(*command).stdout)
    assert [d["counts"]["unchanged"] for d in again["destinations"]] == [7, 7]


def test_a_run_while_another_holds_the_lock_exits_3(run: CliRunnerCall, sandbox: Sandbox, tmp_path: Path) -> None:
    source = _write(tmp_path / "people.csv", 2)
    state = str(tmp_path / "sync.db")
    with Sync(sandbox.connect("mailjet"), "1", state=state) as holder, holder.store.lock(holder.record.id):
        locked = run("sync", str(source), *_flags(sandbox), "--list", "1", "--state", state)
    assert locked.exit_code == EXIT_FAILED and "in progress" in locked.stderr


def test_a_query_on_a_database_is_a_source(run: CliRunnerCall, sandbox: Sandbox, tmp_path: Path) -> None:
    database = tmp_path / "app.db"
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE users (address TEXT, who TEXT)")
        db.executemany("INSERT INTO users VALUES (?, ?)", [(f"q{n}@example.com", f"Q {n}") for n in range(5)])
    code, result = _sync(
        run,
        sandbox,
        tmp_path,
        f"sqlite:///{database}",
        "--query",
        "SELECT address AS email, who AS name FROM users",
    )
    assert (code, result["counts"]["accepted"]) == (EXIT_OK, 5)


def test_a_malformed_max_removals_is_a_usage_error(run: CliRunnerCall, sandbox: Sandbox, tmp_path: Path) -> None:
    source = _write(tmp_path / "people.csv", 1)
    result = run("sync", str(source), *_flags(sandbox), "--list", "1", "--max-removals", "lots")
    assert result.exit_code == EXIT_USAGE and "expected a percentage" in result.stderr
