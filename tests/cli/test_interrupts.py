"""An import as people run it: Ctrl-C, the journal it leaves, --resume and --restart, following a job, state saving."""

from __future__ import annotations

import contextlib
import json
import shlex
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contactsync.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from contactsync.sandbox.sendgrid import SendGridEmulator
from tests.cli.conftest import CliRunnerCall
from tests.sandbox_process import COMMAND, Served, connection_flags, served

PROVIDER = "mailjet"
ROWS = 40_000  # eight JSON batches of 5,000: the first is journaled well before the last is sent


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Served]:
    with served(tmp_path / "state.db", PROVIDER) as running:
        yield running


def _people(path: Path, rows: int = ROWS) -> Path:
    path.write_text("email\n" + "".join(f"person{n:06d}@example.com\n" for n in range(rows)), encoding="utf-8")
    return path


def _batches(journal: Path) -> int:
    """Batches the journal records, read while the import writes it."""
    if not journal.exists():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=1)) as db:
            return int(db.execute("SELECT count(*) FROM batch").fetchone()[0])
    except sqlite3.OperationalError:  # not written yet
        return 0


def _import(started: dict[str, Any], source: Path, *extra: str) -> list[str]:
    flags = connection_flags(started, PROVIDER)
    return [*COMMAND, "-q", "import", str(source), "--provider", PROVIDER, *flags, "--route", "json", *extra]


def test_ctrl_c_says_how_to_continue_and_a_rerun_without_resume_is_refused(server: Served, tmp_path: Path) -> None:
    _, started = server
    source = _people(tmp_path / "people.csv")
    journal = Path(f"{source}.{PROVIDER}.journal")
    interrupted = subprocess.Popen(_import(started, source), stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not _batches(journal) and interrupted.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    interrupted.send_signal(signal.SIGINT)
    _, stderr = interrupted.communicate(timeout=60)
    assert interrupted.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == "contactsync: interrupted; run the same command with --resume to continue"
    assert journal.exists()

    again = subprocess.run(_import(started, source), capture_output=True, text=True, timeout=60, check=False)
    assert again.returncode == EXIT_USAGE
    assert "pass --resume to continue it, or --restart to discard it" in again.stderr

    resumed = subprocess.run(
        _import(started, source, "--resume", "--json"), capture_output=True, text=True, timeout=120, check=False
    )
    assert resumed.returncode == EXIT_OK, resumed.stderr
    assert json.loads(resumed.stdout)["accepted"] == ROWS
    assert not journal.exists()  # the import has ended


def test_no_journal_is_left_when_nothing_was_sent(run: CliRunnerCall, tmp_path: Path) -> None:
    source = tmp_path / "broken.csv"
    source.write_text("email\nnot-an-address\n", encoding="utf-8")
    result = run("-q", "import", str(source), "--provider", PROVIDER, "--sandbox")
    assert result.exit_code == EXIT_FAILED  # the one row is an error: nothing accepted, so the import failed
    assert not Path(f"{source}.{PROVIDER}.journal").exists()


def test_restart_discards_an_unfinished_journal(run: CliRunnerCall, tmp_path: Path) -> None:
    source = _people(tmp_path / "people.csv", rows=3)
    journal = Path(f"{source}.{PROVIDER}.journal")
    journal.write_bytes(b"")  # an unfinished import's journal, as far as the command can tell
    refused = run("-q", "import", str(source), "--provider", PROVIDER, "--sandbox")
    assert refused.exit_code == EXIT_USAGE and "--restart" in refused.stderr
    restarted = run("-q", "import", str(source), "--provider", PROVIDER, "--sandbox", "--restart")
    assert restarted.exit_code == EXIT_OK, restarted.stderr
    assert not journal.exists()
    both = run("-q", "import", str(source), "--provider", PROVIDER, "--sandbox", "--resume", "--restart")
    assert both.exit_code == EXIT_USAGE


def test_the_follow_hint_pastes_and_status_wait_removes_the_journal(run: CliRunnerCall, tmp_path: Path) -> None:
    source = _people(tmp_path / "people.csv", rows=10)
    state = tmp_path / "sandbox.db"
    flags = ["--provider", "sendgrid", "--sandbox", "--state", str(state), "--poll-interval", "0.01"]
    submitted = run("import", str(source), *flags, "--setting", "booleans=text", "--no-wait", "-q")
    assert submitted.exit_code == EXIT_OK, submitted.stderr
    (hint,) = [line for line in submitted.stdout.splitlines() if "follow it with:" in line]
    command = shlex.split(hint.split("follow it with:", 1)[1])
    journal = Path(f"{source}.sendgrid.journal")
    assert command[:2] == ["contactsync", "status"] and "--wait" in command
    assert command[command.index("--journal") + 1] == str(journal)
    assert command[command.index("--state") + 1] == str(state) and "--sandbox" in command
    assert "booleans=text" in command
    assert journal.exists()
    followed = run(*command[1:], "--poll-interval", "0.01")
    assert followed.exit_code == EXIT_OK, followed.stderr
    assert "completed" in followed.stdout
    assert not journal.exists()


def test_the_follow_hint_never_carries_a_credential(run: CliRunnerCall, tmp_path: Path) -> None:
    source = _people(tmp_path / "people.csv", rows=2)
    secret = SendGridEmulator().credentials()["api_key"]  # the sandbox's own key, given as a setting
    submitted = run(
        "-q", "import", str(source), "--provider", "sendgrid", "--sandbox", "--no-wait",
        "--setting", f"api_key={secret}", "--setting", "booleans=text",
    )  # fmt: skip
    assert "follow it with:" in submitted.stdout
    assert secret not in submitted.output


@pytest.mark.parametrize("job", ["", " ", ",", "a,,b"])
def test_an_empty_job_id_is_a_usage_error(run: CliRunnerCall, job: str) -> None:
    for command in ("status", "errors"):
        result = run(command, job, "--provider", PROVIDER, "--sandbox")
        assert result.exit_code == EXIT_USAGE
        assert "is not a job id" in result.stderr


def test_quiet_works_after_the_command_name_too(run: CliRunnerCall, tmp_path: Path) -> None:
    source = _people(tmp_path / "people.csv", rows=2)
    assert run("import", str(source), "-q", "--provider", PROVIDER, "--sandbox").exit_code == EXIT_OK
    assert run("lists", "--quiet", "--provider", PROVIDER, "--sandbox").exit_code == EXIT_OK


def test_the_sandbox_says_it_is_saving_state_as_soon_as_it_is_stopped(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    process = subprocess.Popen(
        [*COMMAND, "sandbox", "--port", "0", "--state", str(state), "--provider", PROVIDER],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and "serving on" in process.stdout.readline()
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert stderr.splitlines() == [f"saving state to {state}...", f"state saved to {state}"]
    assert state.exists()
