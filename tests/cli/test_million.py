"""A million-row import through the command line, embedded sandbox and all (slow: about two minutes)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "cli_million.py"


@pytest.mark.slow
def test_a_million_rows_import_with_every_bad_row_reported() -> None:
    spec = importlib.util.spec_from_file_location("cli_million", BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    figures = module.run(1_000_000, "sendgrid")
    assert figures["status"] == "completed_with_errors"
    assert (figures["accepted"], figures["errored"]) == (999_900, 100)
