"""Kill `contactsync import` mid-import, resume it, and end where an uninterrupted import ends.

The sandbox runs in one process, the imports in others; the killed import gets SIGKILL
(no cleanup of any kind) once its journal shows finished batches.
"""

from __future__ import annotations

import csv
import json
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import contactsync
from tests.sandbox_process import COMMAND, Served, connection_flags, served

PROVIDER = "dotmailer"
ROWS = 6000
BROKEN = {100, 4500}  # rows the reader rejects: they must be reported after the resume too
KILL_AFTER = 15  # settled batches


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Served]:
    with served(tmp_path / "state.db", PROVIDER) as running:
        yield running


def _write_input(path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["email", "name"])
        for row in range(1, ROWS + 1):
            writer.writerow([f"broken-{row}" if row in BROKEN else f"k{row:05d}@example.com", f"Person {row}"])


def _command(started: dict[str, Any], config: Path, book: str, source: Path, tag: str, *extra: str) -> list[str]:
    flags = connection_flags(started, PROVIDER)
    return [
        *COMMAND,
        "--quiet",
        "import",
        str(source),
        "--provider",
        PROVIDER,
        *flags,
        "--config",
        str(config),
        "--poll-interval",
        "0.02",
        "--list",
        book,
        "--json",
        "--errors-out",
        str(source.parent / f"errors-{tag}.csv"),
        *extra,
    ]


def _settled(journal: Path) -> tuple[int, bool]:
    """(batches with a known outcome, whether the whole input was submitted), read while the import writes."""
    if not journal.exists():
        return 0, False
    try:
        with sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=1) as db:
            (settled,) = db.execute("SELECT count(*) FROM batch WHERE part_id IS NOT NULL").fetchone()
            submitted = db.execute("SELECT 1 FROM import_meta WHERE key = 'submitted'").fetchone() is not None
    except sqlite3.OperationalError:  # the schema is not written yet
        return 0, False
    return settled, submitted


def _errors(path: Path) -> set[tuple[str, str, str]]:
    with path.open(newline="", encoding="utf-8") as source:
        return {(row["row"], row["email"], row["message"]) for row in csv.DictReader(source)}


def test_a_killed_import_resumes_to_the_same_end_as_an_uninterrupted_one(server: Served, tmp_path: Path) -> None:
    process, started = server
    settings = started["providers"][PROVIDER]
    with contactsync.connect(PROVIDER, **settings) as client:
        interrupted, straight = client.create_list("Interrupted"), client.create_list("Straight")
    source = tmp_path / "people.csv"
    _write_input(source)
    config = tmp_path / "contactsync.toml"
    config.write_text(f"[{PROVIDER}]\nmax_file_bytes = 4096\n", encoding="utf-8")  # ~100 rows a file: many batches
    journal = tmp_path / "people.journal"

    killed = subprocess.Popen(
        _command(started, config, interrupted, source, "resumed", "--journal", str(journal)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while _settled(journal)[0] < KILL_AFTER and killed.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=10)
    settled_at_kill, submitted_at_kill = _settled(journal)
    assert settled_at_kill >= KILL_AFTER and not submitted_at_kill, "the import was not stopped midway"

    resumed = subprocess.run(
        _command(started, config, interrupted, source, "resumed", "--journal", str(journal), "--resume"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert resumed.returncode == 1, resumed.stderr  # EXIT_ROW_ERRORS: the two broken rows
    after_resume = json.loads(resumed.stdout)
    assert not journal.exists()  # waited to its end: the journal is done with

    uninterrupted = subprocess.run(
        _command(started, config, straight, source, "straight"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert uninterrupted.returncode == 1, uninterrupted.stderr
    whole = json.loads(uninterrupted.stdout)

    for record in (after_resume, whole):
        assert (record["status"], record["requested"], record["error_count"]) == (
            "completed_with_errors",
            ROWS,
            len(BROKEN),
        )
        assert record["created"] + record["updated"] == ROWS - len(BROKEN)
    assert _errors(tmp_path / "errors-resumed.csv") == _errors(tmp_path / "errors-straight.csv")

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    with sqlite3.connect(tmp_path / "state.db") as db:
        (saved,) = db.execute("SELECT state FROM emulator_state WHERE name = ?", (PROVIDER,)).fetchone()
    state = json.loads(saved)
    books = state["books"]
    assert set(books[interrupted]["members"]) == set(books[straight]["members"])
    assert len(books[straight]["members"]) == ROWS - len(BROKEN)
    uploads = [job for job in state["imports"].values() if str(job["book"]) == interrupted]
    # Finished batches were not sent again: at most the two in flight at the kill went twice.
    assert after_resume["parts"] <= len(uploads) <= after_resume["parts"] + 2
    assert len([job for job in state["imports"].values() if str(job["book"]) == straight]) == whole["parts"]
