"""A small run of benchmarks/run.py: every step reports sane figures; the encode path writes the floor's bytes.

The benchmark itself is a script (python benchmarks/run.py --n 1000000); this only checks it works.
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
BAD = N // 75  # examples/make_contacts.py breaks one row in 75


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, Any]]:
    command = [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--n", str(N), "--json"]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    figures: dict[str, dict[str, Any]] = json.loads(done.stdout)
    return figures


def test_every_step_reports(results: dict[str, dict[str, Any]]) -> None:
    providers = ("mailjet", "sendgrid", "dotmailer")
    routes = ("mailjet:json", "sendgrid:json", "sendgrid:csv", "dotmailer:csv")
    expected = {"read"} | {f"{kind}:{r}" for r in routes for kind in ("encode", "floor", "stdlib")}
    expected |= {f"{kind}:{p}" for p in providers for kind in ("import", "peer")}
    expected -= {"stdlib:sendgrid:csv", "stdlib:dotmailer:csv"}  # the CSV floor is stdlib already
    assert set(results) == expected


def test_figures_are_sane(results: dict[str, dict[str, Any]]) -> None:
    for key, figures in results.items():
        assert figures["contacts"] == N, key
        assert 0 < figures["seconds"] < 120, key
        assert 20 < figures["rss_mib"] < 500, key


def test_every_broken_row_is_rejected_before_sending(results: dict[str, dict[str, Any]]) -> None:
    for key in ("read", "encode:mailjet:json", "encode:sendgrid:csv", "encode:dotmailer:csv", "import:sendgrid"):
        assert results[key]["rejected"] == BAD, key


@pytest.mark.parametrize("route", ["mailjet:json", "sendgrid:json", "sendgrid:csv", "dotmailer:csv"])
def test_the_encode_path_writes_the_floors_bytes(results: dict[str, dict[str, Any]], route: str) -> None:
    ours, floor = results[f"encode:{route}"], results[f"floor:{route}"]
    assert ours["bytes"] > 0 and ours["payloads"] >= 1
    assert (ours["bytes"], ours["crc"]) == (floor["bytes"], floor["crc"])


@pytest.mark.parametrize("provider", ["mailjet", "sendgrid", "dotmailer"])
def test_imports_complete_in_the_sandbox(results: dict[str, dict[str, Any]], provider: str) -> None:
    note = results[f"import:{provider}"]["note"]
    assert note.startswith("completed_with_errors") and f"{N - BAD:,} accepted" in note
    assert results[f"peer:{provider}"]["note"]  # the final statuses the official client saw
