"""The progress bars: counts the provider confirmed, and no rate or ETA until progress gives one."""

from __future__ import annotations

import io
import time

from contactsync.cli.output import Progress, wait_progress
from contactsync.model import ImportJob, ImportStatus


def _job(confirmed: int, status: ImportStatus = ImportStatus.RUNNING) -> ImportJob:
    return ImportJob("sendgrid", "j1", status, "pending", requested=100_000, created=confirmed)


def _lines(stream: io.StringIO) -> list[str]:
    return [line.strip() for line in stream.getvalue().split("\r") if line.strip()]


def test_the_first_look_at_a_job_shows_its_confirmed_rows_and_no_rate_or_eta() -> None:
    stream = io.StringIO()
    show = wait_progress(Progress("waiting", enabled=True, stream=stream))
    show(_job(50_000))  # counts already confirmed when waiting starts: no basis for a rate
    (line,) = _lines(stream)
    assert " 50% 50,000 contacts" in line
    assert "/s" not in line and "ETA" not in line


def test_a_rate_and_an_eta_appear_once_progress_is_seen() -> None:
    stream = io.StringIO()
    show = wait_progress(Progress("waiting", enabled=True, stream=stream))
    show(_job(50_000))
    time.sleep(Progress.SETTLE + 0.1)
    show(_job(60_000))
    last = _lines(stream)[-1]
    rate = int(last.split(" contacts ")[1].split("/s")[0].replace(",", ""))
    assert 10_000 / 2 < rate < 10_000 / Progress.SETTLE  # 10,000 more rows in a little over half a second
    assert "ETA 0:00:0" in last  # 40% to go at 10% a half-second: a couple of seconds, not minutes


def test_no_progress_means_no_eta_however_long_the_wait() -> None:
    stream = io.StringIO()
    show = wait_progress(Progress("waiting", enabled=True, stream=stream))
    show(_job(0))
    time.sleep(Progress.SETTLE + 0.1)
    show(_job(0))
    assert all("ETA" not in line and "/s" not in line for line in _lines(stream))


def test_a_finished_job_fills_the_bar() -> None:
    stream = io.StringIO()
    show = wait_progress(Progress("waiting", enabled=True, stream=stream))
    show(_job(99_000, ImportStatus.COMPLETED_WITH_ERRORS))
    assert "[########################] 100%" in _lines(stream)[-1]
