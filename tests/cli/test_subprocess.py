"""The real thing: `contactsync sandbox` served from one process, `contactsync import` run from another."""

from __future__ import annotations

import json
import resource
import signal
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contactsync.cli import EXIT_INPUT, EXIT_ROW_ERRORS
from tests.sandbox_process import COMMAND, Served, connection_flags, served

PROVIDER = "sendgrid"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Served]:
    with served(tmp_path / "state.db", PROVIDER) as running:
        yield running


def _flags(started: dict[str, Any]) -> list[str]:
    return ["--provider", PROVIDER, "--poll-interval", "0.02", *connection_flags(started, PROVIDER)]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COMMAND, *args], capture_output=True, text=True, timeout=120, check=False)


def test_import_over_http_to_a_separate_sandbox_process(server: Served, tmp_path: Path) -> None:
    process, started = server
    assert started["url"].startswith("http://127.0.0.1:")
    people = tmp_path / "people.csv"
    people.write_text("email,name\nann@example.com,Ann\nbroken,Bob\n", encoding="utf-8")
    result = _run("import", str(people), *_flags(started), "--json")
    assert result.returncode == EXIT_ROW_ERRORS, result.stderr
    record = json.loads(result.stdout)
    assert (record["status"], record["accepted"], record["error_count"]) == ("completed_with_errors", 1, 1)
    assert "Traceback" not in result.stderr

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    with sqlite3.connect(tmp_path / "state.db") as connection:
        (saved,) = connection.execute("SELECT state FROM emulator_state WHERE name = ?", (PROVIDER,)).fetchone()
    assert "ann@example.com" in saved

    with served(tmp_path / "state.db", PROVIDER) as (_, restarted):
        assert restarted["loaded"] == [PROVIDER]
        status = _run("status", record["job_id"], *_flags(restarted), "--json")
        fetched = json.loads(status.stdout)  # by id: the provider's view, without the row rejected locally
        assert (fetched["status"], fetched["accepted"]) == ("completed", 1), status.stderr


def test_a_malformed_file_gives_one_line_and_exit_four(server: Served, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"email,name\nann@example.com,Jos\xe9\n")
    result = _run("import", str(bad), "--encoding", "utf-8", *_flags(server[1]))
    assert result.returncode == EXIT_INPUT
    assert result.stderr.strip().splitlines() == [
        "contactsync: error: row 1: line 2 is not valid UTF-8 (byte 0xe9 at column 20); check --encoding"
    ]


def test_a_detected_encoding_is_said_on_stderr(server: Served, tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes("email;name\nann@example.com;Begoña Ibáñez\n".encode("cp1252"))
    result = _run("import", str(latin), *_flags(server[1]), "--json")
    assert result.returncode == 0, result.stderr
    assert f"contactsync: reading {latin} as cp1252 (detected; --encoding chooses)" in result.stderr
    assert json.loads(result.stdout)["created"] == 1


def _small_files() -> None:
    """In the child: files may grow to 64 KiB at most, as on a disk about to fill (Python ignores SIGXFSZ)."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))


def test_a_journal_that_cannot_be_written_gives_one_line_and_exit_four(tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text(
        "email\n" + "".join(f"someone.with.a.long.address{n}@example.com\n" for n in range(5000)), encoding="utf-8"
    )
    result = subprocess.run(
        [*COMMAND, "-q", "import", str(people), "--sandbox", "--provider", "mailjet", "--poll-interval", "0.01"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        preexec_fn=_small_files,
    )
    assert result.returncode == EXIT_INPUT, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("contactsync: error: cannot write the import journal")
    assert line.endswith(f"{people}.mailjet.journal")
