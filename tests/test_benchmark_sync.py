"""A small run of benchmarks/sync.py: its figures are sane and its exact checks hold (the timing target needs a
large N, so it is the benchmark's own to report: python benchmarks/sync.py --n 1000000)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
N = 3000


@pytest.fixture(scope="module")
def figures() -> dict[str, Any]:
    command = [sys.executable, str(ROOT / "benchmarks" / "sync.py"), "--n", str(N), "--json"]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout)
    return report


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_an_unchanged_resync_sends_no_request(figures: dict[str, Any], store: str) -> None:
    unchanged = figures[f"{store}:{N}"]["unchanged"]
    assert (unchanged["requests"], unchanged["unchanged"], unchanged["accepted"]) == (0, N, 0)


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_one_percent_changed_sends_exactly_those_and_mirror_removes_exactly_the_gone(
    figures: dict[str, Any], store: str
) -> None:
    checks = figures[f"{store}:{N}"]["checks"]
    assert checks["1% changed sends exactly those"] and checks["mirror removes exactly the 1% gone"]
    assert figures[f"{store}:{N}"]["first"]["accepted"] == N


def test_every_step_reports_its_time_and_memory(figures: dict[str, Any]) -> None:
    for key, steps in figures.items():
        for step in ("first", "floor", "unchanged", "changed", "mirror"):
            assert 0 < steps[step]["seconds"] < 300, (key, step)
            assert 10 < steps[step]["rss_mib"] < 200, (key, step)
