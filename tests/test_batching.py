"""Streaming batches by count and bytes, and tracing reports back to input rows."""

from __future__ import annotations

import gc
import itertools
import pickle
import sys
import tempfile
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contactsync.batching import Batcher, BatchLimits, FirstRows, RowIndex, batches


@given(
    sizes=st.lists(st.integers(min_value=1, max_value=50), max_size=60),
    max_items=st.integers(min_value=1, max_value=10),
    max_bytes=st.integers(min_value=60, max_value=300),
    overhead=st.integers(min_value=0, max_value=9),
    separator=st.integers(min_value=0, max_value=2),
)
def test_batches_keep_every_item_in_order_within_the_limits(
    sizes: list[int], max_items: int, max_bytes: int, overhead: int, separator: int
) -> None:
    limits = BatchLimits(max_items, max_bytes, overhead, separator)
    items = [(row, f"u{row}@example.com", b"x" * size) for row, size in enumerate(sizes, start=1)]
    result = list(batches(items, limits))
    assert [(r, e, i) for b in result for r, e, i in zip(b.rows, b.emails, b.items, strict=True)] == items
    for batch in result:
        assert 1 <= len(batch) <= max_items
        encoded = overhead + sum(len(i) for i in batch.items) + separator * (len(batch) - 1)
        assert batch.size + overhead == encoded <= max_bytes
    for first, second in itertools.pairwise(result):  # a batch closes only when the next item would not fit
        assert (
            len(first) == max_items
            or encoded_size(first.items, overhead, separator) + separator + len(second.items[0]) > max_bytes
        )
    assert [b.number for b in result] == list(range(1, len(result) + 1))


def encoded_size(items: list[bytes], overhead: int, separator: int) -> int:
    return overhead + sum(map(len, items)) + separator * (len(items) - 1)


def test_batches_are_produced_lazily() -> None:
    def endless() -> Iterator[tuple[int, str, bytes]]:
        for row in itertools.count(1):
            yield row, f"u{row}@example.com", b"{}"

    first = next(batches(endless(), BatchLimits(max_items=5, max_bytes=1000)))
    assert first.rows == [1, 2, 3, 4, 5]


def test_an_item_too_large_for_any_request_names_its_row() -> None:
    with pytest.raises(ValueError, match="row 2"):
        list(batches([(1, "a@x.com", b"ok"), (2, "b@x.com", b"x" * 200)], BatchLimits(10, 100)))


def test_limits_that_leave_no_room_are_refused() -> None:
    with pytest.raises(ValueError):
        BatchLimits(max_items=1, max_bytes=10, overhead=10)


@given(st.lists(st.emails(), min_size=1, max_size=40, unique_by=str.lower))
def test_row_index_finds_rows_by_position_and_email(emails: list[str]) -> None:
    rows = [10 * i + 3 for i in range(len(emails))]
    lowered = [e.lower() for e in emails]
    index = RowIndex(rows, lowered)
    assert len(index) == len(rows)
    assert [index.row_at(p) for p in range(len(rows))] == rows
    assert [index.row_of(e) for e in lowered] == rows
    assert index.row_at(len(rows)) is None
    assert index.row_of("nobody@nowhere.example") is None


_EMAILS = [f"user{i}@example.com" for i in range(12)]
"""A small pool, so that generated batches repeat emails and leave some out."""


@given(st.lists(st.tuples(st.integers(min_value=1, max_value=10**12), st.sampled_from(_EMAILS)), max_size=60))
def test_row_index_agrees_with_a_dict_and_a_list(entries: list[tuple[int, str]]) -> None:
    rows = [row for row, _ in entries]
    emails = [email for _, email in entries]
    first_row: dict[str, int] = {}
    for row, email in entries:
        first_row.setdefault(email, row)  # an email that came twice keeps its first row
    index = RowIndex(rows, emails)
    assert len(index) == len(rows)
    assert [index.row_at(p) for p in range(-2, len(rows) + 2)] == [None, None, *rows, None, None]
    assert {email: index.row_of(email) for email in _EMAILS} == {email: first_row.get(email) for email in _EMAILS}
    copy = pickle.loads(pickle.dumps(index))
    assert [copy.row_at(p) for p in range(len(rows))] == rows
    assert [copy.row_of(email) for email in _EMAILS] == [index.row_of(email) for email in _EMAILS]


def test_an_empty_row_index_finds_nothing() -> None:
    index = RowIndex([], [])
    assert len(index) == 0
    assert index.row_at(0) is None
    assert index.row_of("a@example.com") is None
    assert len(pickle.loads(pickle.dumps(index))) == 0


def test_a_row_index_needs_an_email_per_row() -> None:
    with pytest.raises(ValueError, match="2 rows but 1 emails"):
        RowIndex([1, 2], ["a@example.com"])


def _mapped_from(directory: Path) -> list[str]:
    """The lines of this process's memory map that map a file created in ``directory``."""
    return [line for line in Path("/proc/self/maps").read_text().splitlines() if f" {directory}/" in line]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/maps")
def test_the_row_index_file_has_no_name_and_goes_with_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    index = RowIndex(list(range(1, 1001)), [f"u{i}@example.com" for i in range(1, 1001)])
    assert list(tmp_path.iterdir()) == []  # unnamed (or unlinked at once): nothing to leave behind after a crash
    assert len(_mapped_from(tmp_path)) == 1  # the mapping alone holds the (deleted) file
    assert index.row_of("u500@example.com") == 500
    del index
    gc.collect()
    assert _mapped_from(tmp_path) == []


@given(st.lists(st.sampled_from([f"a{n}@example.com" for n in range(40)]), max_size=200))
def test_first_rows_name_the_first_row_of_every_address_again(emails: list[str]) -> None:
    first_rows = FirstRows()
    expected: dict[str, int] = {}
    for row, email in enumerate(emails, start=1):
        assert first_rows.claim(email, row) == expected.get(email)
        expected.setdefault(email, row)
    assert len(first_rows) == len(expected)


def test_first_rows_grow_past_their_first_table_and_keep_every_address() -> None:
    first_rows = FirstRows()
    count = 50_000  # the index starts at 1,024 slots: it doubles six times on the way
    for row in range(1, count + 1):
        assert first_rows.claim(f"user{row}@example.com", row) is None
    assert all(first_rows.claim(f"user{row}@example.com", count + row) == row for row in range(1, count + 1, 997))
    assert len(first_rows) == count


def test_first_rows_take_about_twenty_bytes_an_address() -> None:
    emails = [f"user{row}@example.com" for row in range(1, 100_001)]
    tracemalloc.start()
    try:
        first_rows = FirstRows()
        for row, email in enumerate(emails, start=1):
            first_rows.claim(email, row)
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(first_rows) == 100_000
    assert held < 30 * 100_000  # a dict of the same addresses takes about 100 bytes each


def test_batchers_sharing_numbers_number_batches_in_the_order_they_complete() -> None:
    numbers = itertools.count(1)
    small, large = Batcher(BatchLimits(2, 100), numbers), Batcher(BatchLimits(3, 100), numbers)
    done = [small.add(1, "a", b"x"), large.add(2, "b", b"y"), small.add(3, "c", b"z"), small.add(4, "d", b"w")]
    first = done[3]
    assert first is not None and (first.number, first.rows) == (1, [1, 3])
    last_large, last_small = large.flush(), small.flush()
    assert last_large is not None and (last_large.number, last_large.rows) == (2, [2])
    assert last_small is not None and (last_small.number, last_small.rows) == (3, [4])
    assert small.flush() is None
