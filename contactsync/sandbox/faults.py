"""Fault injection for the sandbox: which faults, how often, drawn from a seeded generator."""

from __future__ import annotations

import collections
import math
import random
import threading

import attrs

from contactsync.errors import ConfigurationError

__all__ = ["FAULT_KINDS", "JOB_FAULTS", "REQUEST_FAULTS", "Faults"]

REQUEST_FAULTS = frozenset({"429", "500", "502", "503", "504", "reset", "slow"})
"""``429`` and 5xx answer in the provider's own shape without touching state; ``reset`` drops the
connection (half the time after applying the request, half before); ``slow`` applies the
request and answers after ``slow_seconds``, later than a client's timeout."""
JOB_FAULTS = frozenset({"jobfail"})
"""``jobfail``: an import job, when the emulator creates it, is set to end in the provider's failure status."""
FAULT_KINDS = REQUEST_FAULTS | JOB_FAULTS


@attrs.define
class Faults:
    """A fault plan: each kind with its probability per request, and the generator that draws them."""

    rates: tuple[tuple[str, float], ...]
    seed: int | None = None
    _rng: random.Random = attrs.field(init=False)
    _job_rng: random.Random = attrs.field(init=False)
    _lock: threading.Lock = attrs.field(init=False, factory=threading.Lock)
    _queued: collections.deque[str | None] = attrs.field(init=False, factory=collections.deque)

    def __attrs_post_init__(self) -> None:
        unknown = {kind for kind, _ in self.rates} - FAULT_KINDS
        if unknown:
            raise ConfigurationError(f"unknown fault kinds {sorted(unknown)}; known: {sorted(FAULT_KINDS)}")
        for kind, rate in self.rates:
            if not (isinstance(rate, (int, float)) and math.isfinite(rate) and 0 <= rate <= 1):
                raise ConfigurationError(f"the rate of fault {kind!r} must be a probability from 0 to 1, got {rate!r}")
        total = sum(rate for _, rate in self.rates)
        if total > 1:
            raise ConfigurationError(f"fault rates must add up to at most 1, got {total:g}")
        self._rng = random.Random(self.seed)
        # A stream of its own: which jobs fail depends on how many were created, not on request timing.
        self._job_rng = random.Random(None if self.seed is None else f"{self.seed}:jobs")

    @classmethod
    def parse(cls, spec: str, seed: int | None = None) -> Faults:
        """Read ``"429:0.05,500:0.03,reset:0.02,slow:0.01,jobfail:0.02"``."""
        rates = []
        for item in filter(None, (part.strip() for part in spec.split(","))):
            kind, _, rate = item.partition(":")
            try:
                rates.append((kind.strip(), float(rate)))
            except ValueError:
                raise ConfigurationError(f"fault {item!r} is not KIND:PROBABILITY") from None
        return cls(tuple(rates), seed)

    def queue(self, *kinds: str | None) -> None:
        """Give the next requests these faults in order (None for none), before any drawn at random."""
        unknown = {kind for kind in kinds if kind is not None} - REQUEST_FAULTS
        if unknown:
            raise ConfigurationError(f"only request faults can be queued, not {sorted(unknown)}")
        with self._lock:
            self._queued.extend(kinds)

    def draw(self) -> str | None:
        """The fault for the next request, or None (job faults are drawn by :meth:`job_fails`)."""
        with self._lock:
            if self._queued:
                return self._queued.popleft()
            roll = self._rng.random()
        for kind, rate in self.rates:
            if kind not in REQUEST_FAULTS:
                continue
            if roll < rate:
                return kind
            roll -= rate
        return None

    def job_fails(self) -> bool:
        """Whether the import job being created is to end in failure (the ``jobfail`` rate, per job)."""
        rate = sum(rate for kind, rate in self.rates if kind == "jobfail")
        if not rate:
            return False
        with self._lock:
            return self._job_rng.random() < rate

    def coin(self) -> bool:
        """A fair coin from the same generator (whether a reset comes after applying)."""
        with self._lock:
            return self._rng.random() < 0.5
