"""Chaos: imports through a sandbox injecting faults at a 10% total rate lose nothing (benchmarks/chaos.py, smaller)."""

from __future__ import annotations

import pytest

from benchmarks.chaos import run
from contactsync.sandbox.faults import FAULT_KINDS
from tests.reliability.conftest import PROVIDERS

ROWS = 3000
BATCH = 25


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_row_is_accepted_or_reported_under_faults(provider: str) -> None:
    result = run(provider, ROWS, batch=BATCH, seed=7, slow_seconds=0.5, timeout=0.25)
    print(result)  # the figures, with -s
    assert result.lost == 0
    assert result.duplicates == 0 and result.changed == 0
    assert result.applied_and_reported == 0
    # One or the other, but for rows whose batch may have landed after a failure with no clear refusal:
    assert result.accepted + result.row_errors - result.uncertain_applied == ROWS
    assert result.statuses_right
    assert result.resubmitted_batches > 0  # recovery was exercised, not merely spared
    assert set(result.injected) == FAULT_KINDS - {"502", "504"}  # every kind in the plan was injected
