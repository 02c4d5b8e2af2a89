"""Writing a list's members to a file: CSV (plain or gzipped, or a text stream) or Excel.

The columns are ``email``, ``name``, one per property (in the order they first appear),
then ``subscribed``, ``subscribed_at`` and ``unsubscribed_at``: a file ``contactsync import``
reads back (skip the last three with ``--map subscribed= ...``). Since the property names
are known only once every member is read, members are spooled to a temporary file first,
so memory stays flat whatever the list's size.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import os
import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from typing import IO, Any, TextIO

import attrs

from contactsync.errors import ConfigurationError
from contactsync.model import ListMember, PropertyValue

__all__ = ["STANDING_COLUMNS", "ExportSummary", "export_members", "text_of"]

STANDING_COLUMNS = ("subscribed", "subscribed_at", "unsubscribed_at")
"""The columns after the properties: the member's standing on the list."""

_FIXED = ("email", "name", *STANDING_COLUMNS)


@attrs.frozen
class ExportSummary:
    """What :func:`export_members` wrote."""

    members: int
    subscribed: int
    columns: tuple[str, ...]

    @property
    def unsubscribed(self) -> int:
        """Members written as not subscribed."""
        return self.members - self.subscribed


def text_of(value: PropertyValue) -> str:
    """A value as export text: ISO 8601 times (UTC as ``Z``), ``true``/``false``, numbers as Python writes them."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if value.utcoffset() is not None and text.endswith("+00:00") else text
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def export_members(
    members: Iterable[ListMember],
    target: str | os.PathLike[str] | TextIO,
    *,
    on_progress: Callable[[str, int], None] | None = None,
) -> ExportSummary:
    """Write ``members`` to ``target``: a path (``.csv``, ``.csv.gz``, ``.xlsx``) or an open text stream (CSV).

    ``on_progress`` sees (``reading`` or ``writing``, members so far). A property named like a
    fixed column is written as ``NAME (property)``.
    """
    progress = on_progress or (lambda stage, count: None)
    kind = _kind(target)
    with tempfile.TemporaryFile() as spool:
        names: dict[str, None] = {}
        count = subscribed = 0
        for count, member in enumerate(members, start=1):
            contact = member.contact
            names.update(dict.fromkeys(contact.properties))
            row = (contact.email, contact.name, dict(contact.properties), member.subscribed)
            pickle.dump((*row, member.subscribed_at, member.unsubscribed_at), spool)
            subscribed += member.subscribed
            if count % 1000 == 0:
                progress("reading", count)
        progress("reading", count)
        spool.seek(0)
        header = ["email", "name", *(_column(n) for n in names), *STANDING_COLUMNS]
        rows = _rows(spool, list(names), count, progress)
        if kind == "xlsx" and isinstance(target, str | os.PathLike):
            _write_xlsx(os.fspath(target), header, rows)
        else:
            with _text_target(target, kind) as out:
                writer = csv.writer(out)
                writer.writerow(header)
                writer.writerows([text_of(v) for v in row] for row in rows)
    return ExportSummary(members=count, subscribed=subscribed, columns=tuple(header))


def _kind(target: str | os.PathLike[str] | TextIO) -> str:
    if not isinstance(target, str | os.PathLike):
        return "csv"
    name = os.fspath(target).lower()
    if name.endswith(".xlsx"):
        return "xlsx"
    if name.endswith(".csv.gz"):
        return "csv.gz"
    if name.endswith(".csv"):
        return "csv"
    raise ConfigurationError(f"cannot tell the format of {os.fspath(target)!r}: name it .csv, .csv.gz or .xlsx")


def _column(name: str) -> str:
    return f"{name} (property)" if name.lower() in _FIXED else name


def _rows(spool: IO[bytes], names: list[str], total: int, progress: Callable[[str, int], None]) -> Iterator[list[Any]]:
    for number in range(1, total + 1):
        email, name, properties, subscribed, since, until = pickle.load(spool)  # our own spool, written just above
        yield [email, name, *(properties.get(n) for n in names), subscribed, since, until]
        if number % 1000 == 0:
            progress("writing", number)
    progress("writing", total)


@contextlib.contextmanager
def _text_target(target: str | os.PathLike[str] | TextIO, kind: str) -> Iterator[TextIO]:
    if not isinstance(target, str | os.PathLike):
        yield target
        target.flush()
        return
    if kind == "csv.gz":
        with gzip.open(target, "wt", newline="", encoding="utf-8") as zipped:
            yield zipped
        return
    with open(target, "w", newline="", encoding="utf-8") as plain:
        yield plain


def _write_xlsx(path: str, header: list[str], rows: Iterable[list[Any]]) -> None:
    """An Excel sheet, written as a stream (openpyxl's write-only mode); text cells stay text, never formulas."""
    try:
        from openpyxl import Workbook  # type: ignore[import-untyped]
        from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - depends on the installation
        raise ConfigurationError("writing .xlsx needs openpyxl: pip install 'contactsync[excel]'") from None
    book = Workbook(write_only=True)
    sheet = book.create_sheet("members")
    sheet.append(header)

    def cell(value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        text = WriteOnlyCell(sheet, value=text_of(value))
        text.data_type = "s"  # "=..." is data here, not a formula
        return text

    for row in rows:
        sheet.append([cell(value) for value in row])
    book.save(path)
