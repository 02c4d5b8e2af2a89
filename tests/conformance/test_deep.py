"""The suite's round trips with many more examples, for the slow run (``pytest -m slow``)."""

from __future__ import annotations

import pytest

from tests.conformance import test_builtins as builtins  # modules, not classes: pytest would collect those twice
from tests.conformance import test_toy as toy

DEEP = 60
pytestmark = pytest.mark.slow


class TestMailjetDeep(builtins.TestMailjet):
    examples = DEEP


class TestSendGridDeep(builtins.TestSendGrid):
    examples = DEEP


class TestSendGridWithUnsubscribesDeep(builtins.TestSendGridWithUnsubscribes):
    examples = DEEP


class TestDotmailerDeep(builtins.TestDotmailer):
    examples = DEEP


class TestToyDeep(toy.TestToy):
    examples = DEEP
