"""What a source gives the sync engine: contacts and row errors, or raw rows it can key before parsing."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol, runtime_checkable

from contactsync.model import Contact, RowError

__all__ = ["Item", "RawRows", "Source"]

Item = Contact | RowError
"""One source row: a contact, or the reason it is not one (with its row number)."""

Source = Iterable[Item]
"""Any iterable of contacts and row errors; rows are numbered from 1 in the order given."""


@runtime_checkable
class RawRows(Protocol):
    """A source whose rows the sync can key before parsing them (a contact file, see :func:`read_file`).

    A row whose cells are the same as last time, read the same way (``layout``), is
    known to be unchanged without becoming a contact; :meth:`item` parses the others.
    """

    @property
    def layout(self) -> str:
        """How cells become contacts here: two readers with equal layouts read equal cells alike."""

    def raw_batches(self, size: int = ...) -> Iterator[list[list[str]]]:
        """The data rows as cells, in order (row 1 first), in lists of up to ``size``."""

    def item(self, cells: list[str], row: int) -> Item:
        """What data row ``row`` (its cells from :meth:`raw_batches`) stands for."""
