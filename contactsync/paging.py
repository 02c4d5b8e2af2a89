"""Reading paged answers: offset pages until a short one, and reading pages ahead in a worker thread.

Every built-in provider lists records by offset (Mailjet ``Limit``/``Offset``, dotmailer
``select``/``skip``, SendGrid's suppressions ``limit``/``offset``); a read of a large list
is hundreds of pages, so the next page is fetched while the caller works on this one.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from contactsync.errors import ProviderError

__all__ = ["offset_pages", "read_ahead"]

T = TypeVar("T")

_WAIT = 0.1
"""Seconds a blocked worker waits before looking whether its reader went away."""


def offset_pages(fetch: Callable[[int], Sequence[T]], size: int, *, provider: str) -> Iterator[Sequence[T]]:
    """The pages ``fetch(offset)`` answers for offsets 0, ``size``, 2 ``size``... up to the first short page.

    A full page that starts with the same record as the page before it means the
    provider ignored the offset (reference/mailjet.md §9a, node #291): that raises
    :class:`~contactsync.errors.ProviderError` rather than loop for ever.
    """
    offset = 0
    first: Any = None
    while True:
        page = fetch(offset)
        if page and offset and page[0] == first:
            raise ProviderError(
                f"the page at offset {offset} repeats the page before it: the provider ignored the offset",
                provider=provider,
            )
        yield page
        if len(page) < size:
            return
        first = page[0]
        offset += size


def read_ahead(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """The items of ``items``, produced by a worker thread up to ``depth`` ahead of the caller.

    HTTP waits then overlap with the caller's work. An exception in the worker is raised
    to the caller at the point it was met; a caller that stops early lets the worker end
    after the item it is producing.
    """
    buffer: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[bool, Any]) -> bool:
        while not stop.is_set():
            try:
                buffer.put(entry, timeout=_WAIT)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        source = iter(items)
        try:
            for item in source:
                if not put((True, item)):
                    return
        except BaseException as exc:  # handed to the reader, raised there
            put((False, exc))
            return
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()  # a generator stopped early runs its cleanup here, in its own thread
        put((False, None))

    worker = threading.Thread(target=work, name="contactsync-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            more, value = buffer.get()
            if not more:
                if value is not None:
                    raise value
                return
            yield value
    finally:
        stop.set()
