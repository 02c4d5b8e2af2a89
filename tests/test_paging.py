"""contactsync.paging: offset pages up to a short one, a repeated page refused, pages read ahead in a thread."""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Iterator, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contactsync.errors import ProviderError
from contactsync.paging import offset_pages, read_ahead


def _source(items: Sequence[int]) -> tuple[list[int], Callable[[int], Sequence[int]]]:
    asked: list[int] = []

    def fetch(offset: int) -> Sequence[int]:
        asked.append(offset)
        return items[offset : offset + 3]

    return asked, fetch


@given(st.integers(min_value=0, max_value=20))
def test_offset_pages_read_every_item_once(count: int) -> None:
    items = list(range(count))
    asked, fetch = _source(items)
    pages = list(offset_pages(fetch, 3, provider="test"))
    assert [item for page in pages for item in page] == items
    assert asked == list(range(0, 3 * len(pages), 3))
    assert len(pages[-1]) < 3


def test_a_page_repeated_for_another_offset_is_refused() -> None:
    with pytest.raises(ProviderError, match="ignored the offset"):
        list(offset_pages(lambda offset: [1, 2, 3], 3, provider="test"))


def test_read_ahead_keeps_the_order() -> None:
    assert list(read_ahead(iter(range(100)), depth=2)) == list(range(100))


def test_read_ahead_raises_the_workers_error_in_place() -> None:
    def broken() -> Iterator[int]:
        yield 1
        raise ValueError("page 2 broke")

    seen = []
    with pytest.raises(ValueError, match="page 2 broke"):
        for item in read_ahead(broken()):
            seen.append(item)
    assert seen == [1]


def test_read_ahead_runs_the_source_in_another_thread() -> None:
    threads = []

    def source() -> Iterator[int]:
        threads.append(threading.current_thread())
        yield 1

    assert list(read_ahead(source())) == [1]
    assert threads and threads[0] is not threading.current_thread()


def test_a_reader_that_stops_early_lets_the_worker_end() -> None:
    finished = threading.Event()

    def endless() -> Iterator[int]:
        try:
            n = 0
            while True:
                n += 1
                yield n
        finally:
            finished.set()

    reader = read_ahead(endless(), depth=1)
    assert isinstance(reader, Generator)
    assert next(reader) == 1
    reader.close()
    assert finished.wait(5)
