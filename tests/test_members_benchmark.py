"""A small run of benchmarks/members.py: every reader reads every member, and reports sane figures.

The benchmark itself is a script (python benchmarks/members.py --n 1000000); this only checks it works.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
N = 2000


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, Any]]:
    command = [sys.executable, str(ROOT / "benchmarks" / "members.py"), "--n", str(N), "--json"]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    figures: dict[str, dict[str, Any]] = json.loads(done.stdout)
    return figures


def test_every_reader_runs_for_every_provider_and_size(results: dict[str, dict[str, Any]]) -> None:
    providers = ("mailjet", "sendgrid", "dotmailer")
    expected = {f"{r}:{p}:{n}" for r in ("ours", "peer") for p in providers for n in (N // 10, N)}
    assert set(results) == expected


def test_both_readers_see_every_member_and_the_same_unsubscribed(results: dict[str, dict[str, Any]]) -> None:
    for key, figures in results.items():
        n = int(key.rsplit(":", 1)[1])
        assert (figures["members"], figures["unsubscribed"]) == (n, n // 100), key


def test_figures_are_sane(results: dict[str, dict[str, Any]]) -> None:
    for key, figures in results.items():
        assert 0 < figures["seconds"] < 120, key
        assert 20 < figures["rss_mib"] < 500, key
