"""The account's cap across workers: a ``distributed.Semaphore`` lease around each request.

A :class:`Cap` is a :data:`~contactsync.http.Gate`: the transport enters it around each
try of each request, so the cap counts requests in flight, not tasks, and a request
waiting out a rate limit holds no lease.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

__all__ = ["Cap"]


class Cap:
    """At most ``max_leases`` requests at once, across every process of the cluster that names the cap."""

    def __init__(self, semaphore: Any) -> None:
        self.semaphore = semaphore

    @classmethod
    def named(cls, name: str, max_leases: int, client: Any = None) -> Cap:
        """The cap called ``name``, made in this worker (or at ``client``'s scheduler) and registered there."""
        import distributed

        scheduler = client.scheduler if client is not None else None
        loop = client.loop if client is not None else None
        made: Any = distributed.Semaphore
        semaphore = made(max_leases=max_leases, name=name, scheduler_rpc=scheduler, loop=loop)
        semaphore.register()
        return cls(semaphore)

    def __repr__(self) -> str:
        return f"Cap({self.semaphore.name!r}, {self.semaphore.max_leases})"

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        self.semaphore.acquire()
        try:
            yield
        finally:
            self.semaphore.release()
