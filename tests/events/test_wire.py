"""The lenient readers every webhook parser shares."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from contactsync.events import wire


@pytest.mark.parametrize(
    ("value", "expected"),
    [(42, 42), ("42", 42), (" -7 ", -7), (3.0, 3), (3.5, None), ("--5", None), ("-", None), ("", None), (True, None)],
)
def test_integers_are_read_from_numbers_and_decimal_text(value: object, expected: int | None) -> None:
    assert wire.integer(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), ("false", False), (" TRUE ", True), (1, True), (0, False), ("0", False), (2, None), (None, None)],
)
def test_flags_are_read_from_booleans_numbers_and_text(value: object, expected: bool | None) -> None:
    assert wire.flag(value) is expected


def test_headers_are_found_in_any_case() -> None:
    assert wire.header({"content-TYPE": "application/json"}, "Content-Type") == "application/json"
    assert wire.header({}, "Content-Type") is None


def test_a_time_just_above_the_millisecond_threshold_is_milliseconds() -> None:
    assert wire.unix_time(wire.MILLISECONDS_FROM + 1000) == datetime.fromtimestamp(
        (wire.MILLISECONDS_FROM + 1000) / 1000, tz=timezone.utc
    )


@pytest.mark.parametrize(
    ("head", "details", "expected"),
    [
        ("bounce", ("a", None, "b"), "bounce: a; b"),
        ("bounce", (None,), "bounce"),
        (None, ("a",), "a"),
        (None, (), None),
    ],
)
def test_a_summary_joins_the_parts_present(
    head: str | None, details: tuple[str | None, ...], expected: str | None
) -> None:
    assert wire.summary(head, *details) == expected
