"""Reading contact files (CSV, gzipped CSV, Excel) as a stream, and writing row-error reports.

:func:`read_contacts` yields one :class:`~contactsync.model.Contact` or
:class:`~contactsync.model.RowError` per data row, in file order, so that the row
numbers a :class:`~contactsync.provider.Provider` assigns (1-based, header not
counted) are the ones the reader reports. Blank lines are not rows. A problem with
one row (bad email, a value that does not parse, a ragged row) is a ``RowError``; a
problem with the file itself (no header, no email column, undecodable bytes, NUL
bytes) raises :class:`~contactsync.errors.InvalidInput` naming the row.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import importlib
import io
import os
import re
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from types import TracebackType
from typing import Any, BinaryIO, TextIO, cast

from contactsync.errors import ConfigurationError, InvalidInput
from contactsync.model import Contact, FieldType, PropertyValue, RowError

__all__ = [
    "EMAIL_COLUMNS",
    "ContactReader",
    "ErrorWriter",
    "csv_row",
    "escape_cell",
    "parse_value",
    "read_contacts",
    "write_errors",
]

EMAIL_COLUMNS = frozenset({"email", "emailaddress", "mail", "emailaddr"})
"""Header names (lower-cased, without spaces, dashes, underscores or dots) taken as the email column."""
_NAME_COLUMNS = frozenset({"name", "fullname"})
_DELIMITERS = ",;\t|"
_SNIFF_BYTES = 64 * 1024
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_TRUE = frozenset({"true", "t", "yes", "y", "1", "on"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "off"})
_INTEGER = re.compile(r"[+-]?\d+").fullmatch
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?").fullmatch
_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)

Item = Contact | RowError


def _squash(header: str) -> str:
    return re.sub(r"[\s_.\-]+", "", header).lower()


def parse_value(text: str, field_type: FieldType) -> PropertyValue:
    """Parse one cell as ``field_type``; raise ValueError saying what was expected.

    A date alone in a datetime column is that date (the providers hold it as midnight UTC and
    read it back as a date); other datetimes keep the zone they give (or none).
    """
    value = text.strip()
    if field_type is FieldType.TEXT:
        return text
    if field_type is FieldType.INTEGER:
        if _INTEGER(value):
            return int(value)
        raise ValueError(f"expected a whole number, got {text!r}")
    if field_type is FieldType.NUMBER:
        if _INTEGER(value):
            return int(value)
        if _NUMBER(value):
            return float(value)
        raise ValueError(f"expected a number, got {text!r}")
    if field_type is FieldType.BOOLEAN:
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(f"expected true/false (or yes/no, 1/0), got {text!r}")
    if field_type is FieldType.DATE:
        try:
            if len(value) == 10:
                return date.fromisoformat(value)
        except ValueError:
            pass
        raise ValueError(f"expected a date as YYYY-MM-DD, got {text!r}")
    try:
        if len(value) == 10:  # a date alone: held as midnight UTC, so it is one instant everywhere
            return date.fromisoformat(value)
        return datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value)
    except ValueError:
        raise ValueError(f"expected a date and time as YYYY-MM-DDTHH:MM[:SS][+HH:MM], got {text!r}") from None


def _cell_text(value: Any) -> str:
    """An Excel cell as the text a CSV would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class _Counter(io.RawIOBase):
    """A read-through wrapper counting the bytes consumed from the file on disk (for progress)."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        self.count += len(data)
        return len(data)

    def close(self) -> None:
        self.raw.close()
        super().close()


class ContactReader:
    """An open contact file: its header checked at construction, then one item per data row.

    Use :func:`read_contacts` to make one. ``properties`` names the property fields
    the file provides (after ``mapping``); ``progress`` is (done, total) in bytes of
    the file on disk (rows for Excel), for progress bars.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        mapping: Mapping[str, str] | None = None,
        field_types: Mapping[str, FieldType] | None = None,
        encoding: str | None = None,
        delimiter: str | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self.rows = 0
        self._types = {k.lower(): FieldType(v) for k, v in (field_types or {}).items()}
        self._closers: list[Callable[[], None]] = []
        self._counter: _Counter | None = None
        self._total = 0
        self._excel_rows = 0
        self._header_done = False
        try:
            if self.path.lower().endswith((".xlsx", ".xlsm")):
                cells = self._open_excel()
            else:
                cells = self._open_csv(encoding, delimiter)
            try:
                header = next(cells, None)
            except csv.Error as exc:
                raise InvalidInput(f"{self.path}: the header row is not valid CSV ({exc})") from None
            if header is None:
                raise InvalidInput(f"{self.path} is empty: expected a header row naming the columns")
            self._plan(header, dict(mapping or {}))
            self._header_done = True
        except BaseException:
            self.close()
            raise
        self._cells = cells
        self._items = self._generate()

    # -- opening --------------------------------------------------------------------

    def _open_csv(self, encoding: str | None, delimiter: str | None) -> Iterator[list[str]]:
        raw: BinaryIO = open(self.path, "rb")  # noqa: SIM115 - closed by close()
        self._closers.append(raw.close)
        self._total = os.fstat(raw.fileno()).st_size
        self._counter = _Counter(raw)
        stream: io.BufferedIOBase = io.BufferedReader(self._counter, buffer_size=256 * 1024)
        if self.path.lower().endswith(".gz"):
            stream = gzip.GzipFile(fileobj=stream, mode="rb")
        self._closers.insert(0, stream.close)
        lines = self._decode(stream, encoding)
        head: list[str] = []
        size = 0
        for line in lines:
            head.append(line)
            size += len(line)
            if size >= _SNIFF_BYTES:
                break
        if delimiter is None:
            delimiter = self._sniff("".join(head))
        elif len(delimiter) != 1:
            raise InvalidInput(f"the delimiter must be one character, got {delimiter!r}")
        return csv.reader(_chain(head, lines), delimiter=delimiter, strict=True)

    def _decode(self, stream: io.BufferedIOBase, encoding: str | None) -> Iterator[str]:
        """Decode line by line, so a bad byte is reported with its line; refuse binary files."""
        name = encoding or "utf-8-sig"
        try:
            info = codecs.lookup(name)
        except LookupError:
            raise ConfigurationError(f"unknown encoding {name!r}") from None
        if info.name == "utf-8":
            info = codecs.lookup("utf-8-sig")
        if not "a\n".encode(info.name).endswith(b"a\n"):
            # UTF-16/32 cannot be split on newline bytes: let the codec frame the text.
            try:
                yield from io.TextIOWrapper(cast(BinaryIO, stream), encoding=info.name, newline="")
            except UnicodeDecodeError as exc:
                raise self._line_error(None, f"is not valid {encoding}: {exc.reason}; check --encoding") from None
            return
        decoder = info.incrementaldecoder("strict")
        number = 0
        for number, raw in enumerate(self._raw_lines(stream), start=1):
            if number == 1 and encoding is None:
                for bom, label in _BOMS:
                    if raw.startswith(bom):
                        raise InvalidInput(f"{self.path} is {label} text; pass --encoding {label.lower()}")
            if b"\x00" in raw:
                raise self._line_error(number, "contains NUL bytes: this looks like a binary file, not CSV text")
            try:
                yield decoder.decode(raw)
            except UnicodeDecodeError as exc:
                raise self._decode_error(number, raw, exc, encoding) from None
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise self._decode_error(number, b"", exc, encoding) from None

    def _raw_lines(self, stream: io.BufferedIOBase) -> Iterator[bytes]:
        """The stream's lines; a corrupt or truncated gzip stream is the file's error, not an OSError."""
        try:
            yield from stream
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise self._line_error(None, f"is not a valid gzip file ({exc})") from None

    def _line_error(self, number: int | None, problem: str) -> InvalidInput:
        """An error naming the line, and the data row once the header has been read."""
        where = "the file" if number is None else f"line {number}"
        if self._header_done:
            return InvalidInput(f"{where} {problem}", row=self.rows + 1)
        return InvalidInput(f"{self.path}: {where} {problem}")

    def _decode_error(self, number: int, raw: bytes, exc: UnicodeDecodeError, encoding: str | None) -> InvalidInput:
        hint = "pass --encoding (for example cp1252 or latin-1)" if encoding is None else "check --encoding"
        if not raw:
            return self._line_error(number, f"ends inside a multi-byte character; {hint}")
        bad = raw[exc.start : exc.start + 1].hex()
        return self._line_error(
            number, f"is not valid {encoding or 'UTF-8'} (byte 0x{bad} at column {exc.start + 1}); {hint}"
        )

    @staticmethod
    def _sniff(sample: str) -> str:
        """The delimiter: the only candidate in the header line, else csv.Sniffer's guess, else the commonest."""
        first = sample.split("\n", 1)[0]
        present = [d for d in _DELIMITERS if d in first]
        if len(present) <= 1:
            return present[0] if present else ","
        try:
            return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
        except csv.Error:
            return max(present, key=first.count)

    def _open_excel(self) -> Iterator[list[str]]:
        try:
            openpyxl: Any = importlib.import_module("openpyxl")
        except ImportError:
            raise ConfigurationError("reading .xlsx files needs openpyxl: pip install 'contactsync[excel]'") from None
        try:
            book = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
        except (KeyError, ValueError, OSError) as exc:
            if isinstance(exc, FileNotFoundError):
                raise
            raise InvalidInput(f"{self.path} is not a readable .xlsx workbook: {exc}") from None
        except Exception as exc:  # zipfile.BadZipFile and openpyxl's own errors
            raise InvalidInput(f"{self.path} is not a readable .xlsx workbook: {type(exc).__name__}") from None
        self._closers.append(book.close)
        sheet = book.worksheets[0]
        self._total = int(sheet.max_row or 0)
        return self._excel_cells(sheet)

    def _excel_cells(self, sheet: Any) -> Iterator[list[str]]:
        width = 0
        for values in sheet.iter_rows(values_only=True):
            cells = [_cell_text(v) for v in values]
            width = width or len(cells)
            yield cells + [""] * (width - len(cells))

    # -- the header -----------------------------------------------------------------

    def _plan(self, header: list[str], mapping: dict[str, str]) -> None:
        """Decide what each column becomes: the email, the name, a property, or nothing."""
        names = [h.strip() for h in header]
        while names and not names[-1]:
            names.pop()
        self._width = len(names)
        lowered = {n.lower(): i for i, n in enumerate(names)}
        targets: list[str | None] = list(names)
        mapped: list[int] = []
        for column, field in mapping.items():
            index = names.index(column) if column in names else lowered.get(column.lower())
            if index is None:
                raise InvalidInput(f"--map names column {column!r}, which the header lacks; it has: {', '.join(names)}")
            targets[index] = field.strip() or None
            mapped.append(index)
        self._email = _find(targets, mapped, {"email"}, EMAIL_COLUMNS)
        if self._email is None:
            raise InvalidInput(
                f"{self.path} has no email column (looked for 'email', 'e-mail', 'email address'); "
                f"the header has: {', '.join(names) or '(nothing)'}. Rename it or pass --map COLUMN=email"
            )
        self._name = _find(targets, mapped, {"name"}, _NAME_COLUMNS)
        self._properties: list[tuple[int, str, FieldType | None]] = []
        seen = {"email", "name"}
        for index, target in enumerate(targets):
            if index in (self._email, self._name) or target is None:
                continue
            if not target:
                raise InvalidInput(f"column {index + 1} has no name in the header; name it or pass --map")
            if target.lower() in seen:
                raise InvalidInput(f"two columns are both called {target!r}; rename one with --map")
            seen.add(target.lower())
            self._properties.append((index, target, self._types.get(target.lower())))

    @property
    def properties(self) -> list[str]:
        """The property fields, in column order (after the mapping)."""
        return [name for _, name, _ in self._properties]

    @property
    def progress(self) -> tuple[int, int]:
        """(done, total): bytes read of the file on disk, or rows for Excel."""
        if self._counter is not None:
            return min(self._counter.count, self._total), self._total
        return min(self._excel_rows, self._total), self._total

    # -- the rows -------------------------------------------------------------------

    def _generate(self) -> Iterator[Item]:
        try:
            while True:
                try:
                    cells = next(self._cells, None)
                except csv.Error as exc:
                    raise InvalidInput(
                        f"the file is not valid CSV ({exc}; an unclosed quote?)", row=self.rows + 1
                    ) from None
                if cells is None:
                    return
                self._excel_rows += 1
                if not any(cells):
                    continue
                self.rows += 1
                yield self._item(cells)
        finally:
            self.close()

    def _item(self, cells: list[str]) -> Item:
        row = self.rows
        raw_email = cells[self._email].strip() if self._email is not None and self._email < len(cells) else ""
        if len(cells) < self._width or any(cells[self._width :]):
            return RowError(
                raw_email or None, row, None, f"the row has {len(cells)} cells but the header has {self._width}"
            )
        if not raw_email:
            return RowError(None, row, "email", "the email is empty")
        properties: dict[str, PropertyValue] = {}
        for index, field, field_type in self._properties:
            text = cells[index]
            if not text:
                continue
            if field_type is None:
                properties[field] = text
                continue
            try:
                properties[field] = parse_value(text, field_type)
            except ValueError as exc:
                return RowError(raw_email, row, field, str(exc))
        name = cells[self._name] if self._name is not None and cells[self._name] else None
        try:
            return Contact(raw_email, name, properties)
        except InvalidInput as exc:
            return RowError(raw_email, row, exc.field, exc.message)

    def __iter__(self) -> Iterator[Item]:
        return self

    def __next__(self) -> Item:
        return next(self._items)

    def close(self) -> None:
        """Close the file (also done when the rows run out)."""
        closers, self._closers = self._closers, []
        for closer in closers:
            closer()

    def __enter__(self) -> ContactReader:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


def _find(targets: list[str | None], mapped: list[int], exact: set[str], loose: frozenset[str]) -> int | None:
    """The column for a contact field: mapped to it, else named exactly, else named loosely."""
    for index in mapped:
        target = targets[index]
        if target is not None and target.lower() in exact:
            return index
    for names in (exact, loose):
        for index, target in enumerate(targets):
            if target is not None and _squash(target) in names:
                return index
    return None


def _chain(head: list[str], rest: Iterator[str]) -> Iterator[str]:
    yield from head
    yield from rest


def read_contacts(
    path: str | os.PathLike[str],
    *,
    mapping: Mapping[str, str] | None = None,
    field_types: Mapping[str, FieldType] | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> ContactReader:
    """Open a contact file (``.csv``, ``.csv.gz``, ``.xlsx``) and stream its rows as contacts or row errors.

    ``mapping`` {column: field} renames columns (``email`` and ``name`` are the
    contact's own fields; an empty field skips the column). ``field_types``
    {field: type} parses values; other columns stay text, empty cells are left out.
    The encoding is UTF-8 (a BOM is skipped) unless ``encoding`` is given; the
    delimiter is sniffed among ``, ; TAB |`` unless ``delimiter`` is given.
    """
    return ContactReader(path, mapping=mapping, field_types=field_types, encoding=encoding, delimiter=delimiter)


def csv_row(cells: list[str], terminator: str = "\r\n") -> str:
    """One CSV record of text cells, exactly as ``csv.writer(f, lineterminator=terminator)`` writes it.

    Provider files are written a row per contact: a row with nothing to quote (no comma,
    quote or line break in any cell) is joined directly, which is several times cheaper.
    """
    text = ",".join(cells)
    if '"' in text or "\n" in text or "\r" in text or text.count(",") != len(cells) - 1 or text == "":
        out = io.StringIO()
        csv.writer(out, lineterminator=terminator).writerow(cells)
        return out.getvalue()
    return text + terminator


def escape_cell(text: str) -> str:
    """Make a cell inert in spreadsheets: text that would start a formula gets a leading quote."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


class ErrorWriter:
    """Writes row errors as CSV, one at a time: row, email, field, message, provider_code.

    With ``provider_column`` a leading ``provider`` column names where each error came from.
    Every text cell goes through :func:`escape_cell`.
    """

    HEADER = ("row", "email", "field", "message", "provider_code")

    def __init__(self, target: str | os.PathLike[str] | TextIO, *, provider_column: bool = False) -> None:
        if isinstance(target, (str, os.PathLike)):
            self._file: TextIO = open(target, "w", newline="", encoding="utf-8")  # noqa: SIM115 - closed by close()
            self._owned = True
        else:
            self._file = target
            self._owned = False
        self._provider_column = provider_column
        self._writer = csv.writer(self._file)
        self._writer.writerow((("provider",) if provider_column else ()) + self.HEADER)
        self.count = 0

    def write(self, error: RowError, provider: str | None = None) -> None:
        """Write one error (``provider`` fills the provider column, when there is one)."""
        cells = [
            "" if error.row is None else str(error.row),
            escape_cell(error.email or ""),
            escape_cell(error.field or ""),
            escape_cell(error.message),
            escape_cell(error.provider_code or ""),
        ]
        if self._provider_column:
            cells.insert(0, escape_cell(provider or ""))
        self._writer.writerow(cells)
        self.count += 1

    def close(self) -> None:
        """Flush, and close the file if this writer opened it."""
        if self._owned:
            self._file.close()
        else:
            self._file.flush()

    def __enter__(self) -> ErrorWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


def write_errors(target: str | os.PathLike[str] | TextIO, errors: Iterable[RowError]) -> int:
    """Write ``errors`` as a CSV report (a path, or an open text file); return how many were written."""
    with ErrorWriter(target) as writer:
        for error in errors:
            writer.write(error)
        return writer.count
