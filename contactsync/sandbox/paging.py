"""Offset paging over an emulator's state: ordered key lists built once and reused by the next pages.

A client reading a million members asks for a thousand pages; filtering the whole state
for each would cost a million steps a page. A :class:`Views` keeps each ordered list of
keys until the emulator says its key set changed.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

__all__ = ["Views"]


class Views:
    """Ordered lists of state keys, by name, built on first use and dropped by :meth:`changed`.

    An emulator calls :meth:`changed` wherever it adds or removes the keys a view lists
    (and on loading a state); values are read live from the state, so changing a value
    in place needs no call.
    """

    def __init__(self) -> None:
        self._views: dict[Hashable, list[Any]] = {}

    def get(self, name: Hashable, build: Callable[[], list[Any]]) -> list[Any]:
        """The view called ``name``, built by ``build`` when there is none yet."""
        view = self._views.get(name)
        if view is None:
            view = self._views[name] = build()
        return view

    def changed(self) -> None:
        """Forget every view: keys were added or removed."""
        self._views.clear()
