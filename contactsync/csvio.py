"""Reading contact files (CSV, gzipped CSV, Excel) as a stream, and writing row-error reports.

:func:`read_contacts` yields one :class:`~contactsync.model.Contact` or
:class:`~contactsync.model.RowError` per data row, in file order, so that the row
numbers a :class:`~contactsync.provider.Provider` assigns (1-based, header not
counted) are the ones the reader reports. Blank lines are not rows. A problem with
one row (bad email, a value that does not parse, a ragged row) is a ``RowError``; a
problem with the file itself (no header, no email column, undecodable bytes, NUL
bytes, a limit of :class:`ReadLimits` passed) raises :class:`~contactsync.errors.InvalidInput`
naming the row (or the line, before the first row).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import importlib
import io
import itertools
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from types import TracebackType
from typing import Any, BinaryIO, TextIO, cast

import attrs
import charset_normalizer

from contactsync.errors import ConfigurationError, InvalidInput
from contactsync.model import Contact, FieldType, PropertyValue, RowError

__all__ = [
    "EMAIL_COLUMNS",
    "ContactReader",
    "ReadLimits",
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
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
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


class _LineProblem(Exception):
    """A line the reader cannot take, found where the row it belongs to may not be known yet."""

    def __init__(self, number: int | None, problem: str) -> None:
        super().__init__(number, problem)
        self.number = number
        self.problem = problem


class _BlockError(Exception):
    """The block decoder met a NUL byte or an over-long line: the line-by-line decoder is run to say where."""


class _Counter(io.RawIOBase):
    """A read-through wrapper counting the bytes consumed from the file on disk (for progress).

    Once the text is decoded in blocks (:meth:`watch`), it refuses what the line-by-line decoder
    refuses line by line, a NUL byte or a line over the limit, raising :class:`_BlockError` before
    such a line is ever held whole.
    """

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self.raw = raw
        self.count = 0
        self._line_limit: int | None = None
        self._run = 0
        """Bytes read since the last newline."""

    def watch(self, line_limit: int) -> None:
        """From now on, check every block for NUL bytes and for lines longer than ``line_limit`` bytes."""
        self._line_limit = line_limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        if self._line_limit is not None and data:
            self._check(data, self._line_limit)
        buffer[: len(data)] = data
        self.count += len(data)
        return len(data)

    def _check(self, data: bytes, limit: int) -> None:
        """Raise _BlockError for a NUL, or a line sure to be longer than ``limit`` bytes (newline included)."""
        if b"\x00" in data:
            raise _BlockError("NUL byte")
        first = data.find(b"\n")
        if first < 0:
            self._run += len(data)
        else:
            inner = data[first + 1 : data.rfind(b"\n")].split(b"\n") if len(data) > limit else ()
            if self._run + first + 1 > limit or max(map(len, inner), default=0) + 1 > limit:
                raise _BlockError("a line over the limit")
            self._run = len(data) - data.rfind(b"\n") - 1
        if self._run > limit:
            raise _BlockError("a line over the limit")

    def close(self) -> None:
        self.raw.close()
        super().close()


@attrs.frozen
class ReadLimits:
    """How much work one file may ask of the reader; beyond a limit the file is refused.

    Each bounds what a small file can make the reader do (a compressed file can hold a
    line or a blank stretch thousands of times its size), so that reading ends within
    seconds and a few hundred MB whatever the file holds. A file over a limit raises
    :class:`~contactsync.errors.InvalidInput` naming the limit, and the row (or the line,
    or the workbook part) where it was passed. Raise a limit for a file that is large by
    design.
    """

    max_line_bytes: int = 1_048_576
    """The longest line of a text file, in bytes (characters for UTF-16 and UTF-32): 1 MiB."""
    max_field_chars: int = 131_072
    """The longest cell, in characters: 128 KiB, the ``csv`` module's own default (raised when this is higher)."""
    max_columns: int = 1_000
    """The most columns a header may name."""
    max_blank_lines: int = 10_000
    """The most blank lines (or empty spreadsheet rows) in a row; blank lines are skipped, but not without end."""
    max_shared_strings_bytes: int = 256 * 1_048_576
    """The largest shared-strings part of a workbook, uncompressed (openpyxl holds it all in memory): 256 MiB."""

    def __attrs_post_init__(self) -> None:
        for field in attrs.fields(type(self)):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigurationError(f"the read limit {field.name} must be a whole number from 1, got {value!r}")

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> ReadLimits:
        """Limits from ``{name: value}`` (the CLI's ``--limit NAME=VALUE``), the others at their defaults."""
        known = [field.name for field in attrs.fields(cls)]
        unknown = sorted(set(settings) - set(known))
        if unknown:
            raise ConfigurationError(f"no read limit called {', '.join(unknown)}; the limits are: {', '.join(known)}")
        values = {}
        for name, value in settings.items():
            try:
                values[name] = int(value) if isinstance(value, str) else value
            except ValueError:
                raise ConfigurationError(f"the read limit {name} must be a whole number, got {value!r}") from None
        return cls(**values)


class ContactReader:
    """An open contact file: its header checked at construction, then one item per data row.

    Use :func:`read_contacts` to make one. ``properties`` names the property fields
    the file provides (after ``mapping``); ``progress`` is (done, total) in bytes of
    the file on disk (rows for Excel), for progress bars. ``encoding`` is the text
    encoding the file is read with (None for a workbook), and ``encoding_detected``
    says it was worked out from the bytes rather than given.

    The header is decoded line by line; the rows of a plain UTF-8 file after it are decoded
    in blocks, which is several times cheaper, under the same limits. A block with a NUL byte,
    bad UTF-8, an over-long line or cell makes the reader read the file again line by line, so
    the error names the same line either way.
    """

    _decode_blocks = True
    """Whether the rows of a plain UTF-8 file are decoded in blocks (see above)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        mapping: Mapping[str, str] | None = None,
        field_types: Mapping[str, FieldType] | None = None,
        encoding: str | None = None,
        delimiter: str | None = None,
        limits: ReadLimits | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self._options: dict[str, Any] = {
            "mapping": mapping,
            "field_types": field_types,
            "encoding": encoding,
            "delimiter": delimiter,
            "limits": limits,
        }
        self.rows = 0
        self.limits = limits or ReadLimits()
        self.encoding: str | None = None
        self.encoding_detected = False
        self._types = {k.lower(): FieldType(v) for k, v in (field_types or {}).items()}
        self._closers: list[Callable[[], None]] = []
        self._counter: _Counter | None = None
        self._total = 0
        self._excel_rows = 0
        self._consumed = 0
        """Characters of the lines the CSV parser has taken so far."""
        self._header_done = False
        self._blocks = False
        """Whether the rows are being decoded in blocks."""
        to_blocks: Callable[[], Iterator[list[str]] | None] | None = None
        try:
            kind = _kind_of(self.path)
            if kind == "workbook":
                cells = self._open_excel()
            else:
                cells, to_blocks = self._open_csv(encoding, delimiter, kind == "gzip")
            try:
                header = next(cells, None)
            except csv.Error as exc:
                raise InvalidInput(f"{self.path}: the header row is not valid CSV ({exc})") from None
            if header is None:
                raise InvalidInput(f"{self.path} is empty: expected a header row naming the columns")
            self._plan(header, dict(mapping or {}))
            self._header_done = True
            if to_blocks is not None:
                blocks = to_blocks()
                self._blocks = blocks is not None
                cells = blocks or cells
        except BaseException:
            self.close()
            raise
        self._cells = cells
        self._items = self._generate()

    # -- opening --------------------------------------------------------------------

    def _open_csv(
        self, encoding: str | None, delimiter: str | None, gz: bool
    ) -> tuple[Iterator[list[str]], Callable[[], Iterator[list[str]] | None] | None]:
        """The CSV rows, and (for a plain UTF-8 file) what switches the rows after the header to block decoding."""
        given = encoding is not None
        if encoding is None:
            encoding, self.encoding_detected = self._detect(gz)
        info = _text_codec(encoding)
        self.encoding = info.name
        raw: BinaryIO = open(self.path, "rb")  # noqa: SIM115 - closed by close()
        self._closers.append(raw.close)
        self._total = os.fstat(raw.fileno()).st_size
        self._counter = _Counter(raw)
        stream: io.BufferedIOBase = io.BufferedReader(self._counter, buffer_size=256 * 1024)
        if gz:
            stream = gzip.GzipFile(fileobj=stream, mode="rb")
        self._closers.insert(0, stream.close)
        if self.limits.max_field_chars > csv.field_size_limit():
            csv.field_size_limit(self.limits.max_field_chars)  # the module's limit is process-wide: only raised
        lines = self._decode(stream, info, given=given)
        head: list[str] = []
        size = 0
        deferred: _LineProblem | None = None
        try:
            for line in lines:
                head.append(line)
                size += len(line)
                if size >= _SNIFF_BYTES:
                    break
        except _LineProblem as problem:  # raised when the parser gets there, once the row it is in is known
            deferred = problem
        if delimiter is None:
            delimiter = self._sniff("".join(head))
        elif len(delimiter) != 1:
            raise InvalidInput(f"the delimiter must be one character, got {delimiter!r}")
        rest = lines if deferred is None else iter(())
        unread = iter(head)
        reader = csv.reader(self._feed(unread, rest, deferred), delimiter=delimiter, strict=True)
        # Blocks keep the limits only where the csv module's own field limit is the max_field_chars one.
        blocks_keep_limits = csv.field_size_limit() == self.limits.max_field_chars
        if gz or info.name != "utf-8-sig" or deferred is not None or not (self._decode_blocks and blocks_keep_limits):
            return reader, None
        buffered = cast(io.BufferedReader, stream)
        counter = self._counter

        def to_blocks() -> Iterator[list[str]] | None:
            """After the header: the head lines it left, then the rest decoded in blocks (None: stay line by line)."""
            if b"\x00" in buffered.peek():  # read ahead before the checks are on: let the lines report it
                return None
            counter.watch(self.limits.max_line_bytes)
            text = io.TextIOWrapper(buffered, encoding="utf-8", errors="strict", newline="\n")
            return csv.reader(itertools.chain(unread, text), delimiter=delimiter, strict=True)

        return reader, to_blocks

    def _feed(self, head: Iterator[str], rest: Iterator[str], deferred: _LineProblem | None) -> Iterator[str]:
        """The lines as the CSV parser takes them, counting their characters (see :meth:`_generate`);
        a problem with a line becomes an InvalidInput naming it (and its row, once past the header)."""
        try:
            for line in itertools.chain(head, rest):
                self._consumed += len(line)
                yield line
            if deferred is not None:
                raise deferred
        except _LineProblem as problem:
            raise self._line_error(problem.number, problem.problem) from None

    def _detect(self, gz: bool) -> tuple[str, bool]:
        """The encoding of the file's first bytes: a byte-order mark's, UTF-8 when they decode as such, else
        charset-normalizer's guess (a tie among single-byte code pages going to cp1252, Excel's on Windows).

        Returns (encoding, detected): ``detected`` is False for UTF-8, which is what is read unless told.
        """
        with open(self.path, "rb") as handle:
            try:
                sample = (gzip.GzipFile(fileobj=handle) if gz else handle).read(_SNIFF_BYTES)
            except (gzip.BadGzipFile, EOFError, zlib.error):
                return "utf-8-sig", False  # reading the file says what is wrong with it
        for bom, label in _BOMS:
            if sample.startswith(bom):
                return label, True
        try:  # not final: a file cut inside its last character is UTF-8 still (reading it says what is wrong)
            codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        except UnicodeDecodeError:
            pass
        else:
            return "utf-8-sig", False
        guess = _guess_encoding(sample)
        if guess is None:
            raise InvalidInput(f"{self.path}: the text is not UTF-8 and its encoding cannot be told; pass --encoding")
        return guess, True

    def _decode(self, stream: io.BufferedIOBase, info: codecs.CodecInfo, *, given: bool) -> Iterator[str]:
        """Decode line by line, so a bad byte is reported with its line; refuse binary files and long lines."""
        limit = self.limits.max_line_bytes
        label = "UTF-8" if info.name == "utf-8-sig" else info.name
        if not "a\n".encode(info.name).endswith(b"a\n"):
            # UTF-16/32 cannot be split on newline bytes: let the codec frame the text.
            text = io.TextIOWrapper(cast(BinaryIO, stream), encoding=info.name, newline="")
            number = 0
            try:
                while line := text.readline(limit + 1):
                    number += 1
                    if len(line) > limit:
                        raise _LineProblem(number, self._too_long(limit, "characters"))
                    yield line
            except UnicodeDecodeError as exc:
                raise _LineProblem(None, f"is not valid {label}: {exc.reason}; check --encoding") from None
            return
        decoder = info.incrementaldecoder("strict")
        number = 0
        for number, raw in enumerate(self._raw_lines(stream, limit + 1), start=1):
            if len(raw) > limit:
                raise _LineProblem(number, self._too_long(limit, "bytes"))
            if b"\x00" in raw:
                raise _LineProblem(number, "contains NUL bytes: this looks like a binary file, not CSV text")
            try:
                line = decoder.decode(raw)
            except UnicodeDecodeError as exc:
                raise self._decode_error(number, raw, exc, label, given) from None
            yield line
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise self._decode_error(number, b"", exc, label, given) from None

    @staticmethod
    def _too_long(limit: int, unit: str) -> str:
        return f"is longer than {limit:,} {unit} (the max_line_bytes limit): this does not look like a contact file"

    def _raw_lines(self, stream: io.BufferedIOBase, size: int) -> Iterator[bytes]:
        """The stream's lines, each cut at ``size`` bytes; a corrupt or truncated gzip stream is the file's error."""
        try:
            while line := stream.readline(size):
                yield line
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise _LineProblem(None, f"is not a valid gzip file ({exc})") from None

    def _line_error(self, number: int | None, problem: str) -> InvalidInput:
        """An error naming the line, and the data row once the header has been read."""
        where = "the file" if number is None else f"line {number}"
        if self._header_done:
            return InvalidInput(f"{where} {problem}", row=self.rows + 1)
        return InvalidInput(f"{self.path}: {where} {problem}")

    @staticmethod
    def _decode_error(number: int, raw: bytes, exc: UnicodeDecodeError, label: str, given: bool) -> _LineProblem:
        hint = "check --encoding" if given else "pass --encoding (for example cp1252 or latin-1)"
        if not raw:
            return _LineProblem(number, f"ends inside a multi-byte character; {hint}")
        bad = raw[exc.start : exc.start + 1].hex()
        return _LineProblem(number, f"is not valid {label} (byte 0x{bad} at column {exc.start + 1}); {hint}")

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
        self._check_workbook()
        handle = open(self.path, "rb")  # noqa: SIM115 - closed by close(); a file object, whatever the file's name
        self._closers.append(handle.close)
        try:
            book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        except (KeyError, ValueError, OSError) as exc:
            if isinstance(exc, FileNotFoundError):
                raise
            raise InvalidInput(f"{self.path} is not a readable .xlsx workbook: {exc}") from None
        except Exception as exc:  # zipfile.BadZipFile and openpyxl's own errors
            raise InvalidInput(f"{self.path} is not a readable .xlsx workbook: {type(exc).__name__}") from None
        self._closers.insert(0, book.close)
        if not book.worksheets:
            raise InvalidInput(f"{self.path} has no worksheet")
        sheet = book.worksheets[0]
        self._total = int(sheet.max_row or 0)
        return self._excel_cells(sheet)

    def _check_workbook(self) -> None:
        """Refuse, before openpyxl reads it, a workbook whose shared strings or cells are beyond the limits.

        A zip member's declared size bounds what reading it yields (zipfile stops there), so
        the shared strings (which openpyxl holds in memory) are checked by size, and the
        worksheets and shared strings are scanned for a run of text longer than a cell may be.
        """
        limits = self.limits
        try:
            archive = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError) as exc:
            if isinstance(exc, FileNotFoundError):
                raise
            raise InvalidInput(f"{self.path} is not a readable .xlsx workbook: {type(exc).__name__}") from None
        with archive:
            for info in archive.infolist():
                name = info.filename
                strings = name.lower() == "xl/sharedstrings.xml"
                if strings and info.file_size > limits.max_shared_strings_bytes:
                    raise InvalidInput(
                        f"{self.path}: the workbook's shared strings take {info.file_size:,} bytes, over the "
                        f"{limits.max_shared_strings_bytes:,}-byte max_shared_strings_bytes limit"
                    )
                if strings or (name.lower().startswith("xl/worksheets/") and name.lower().endswith(".xml")):
                    self._scan_part(archive, info)

    def _scan_part(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
        """Refuse a workbook part holding a run of text (no ``<`` in it) longer than a cell may hold.

        UTF-8 takes at most four bytes a character, so the run is measured against four times the limit.
        """
        bound = 4 * self.limits.max_field_chars + 1024  # room for the tag and attributes ahead of the text
        run = 0
        try:
            with archive.open(info) as part:
                while chunk := part.read(1_048_576):
                    pieces = chunk.split(b"<")
                    run += len(pieces[0])
                    if len(pieces) > 1:
                        run = max(run, max(map(len, pieces[1:-1]), default=0))
                        if run > bound:
                            break
                        run = len(pieces[-1])
                    if run > bound:
                        break
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
            raise InvalidInput(f"{self.path} is not a readable .xlsx workbook: {type(exc).__name__}") from None
        if run > bound:
            raise InvalidInput(
                f"{self.path}: {info.filename} holds a cell longer than {self.limits.max_field_chars:,} characters "
                "(the max_field_chars limit)"
            )

    def _excel_cells(self, sheet: Any) -> Iterator[list[str]]:
        limit = self.limits.max_columns
        declared = sheet.max_column  # from the sheet's dimension, which the file may overstate: capped
        width = 0
        for values in sheet.iter_rows(values_only=True, max_col=None if declared is None else min(declared, limit + 1)):
            if len(values) > limit and values[limit] is not None:
                where = "the header" if not self._header_done else f"row {self.rows + 1}"
                raise InvalidInput(f"{self.path}: {where} has more than {limit:,} columns (the max_columns limit)")
            if not any(v is not None and v != "" for v in values):
                yield []  # a blank row: counted, never converted
                continue
            cells = [_cell_text(v) for v in values]
            width = width or len(cells)
            yield cells + [""] * (width - len(cells))

    # -- the header -----------------------------------------------------------------

    def _plan(self, header: list[str], mapping: dict[str, str]) -> None:
        """Decide what each column becomes: the email, the name, a property, or nothing."""
        names = [h.strip() for h in header]
        while names and not names[-1]:
            names.pop()
        if len(names) > self.limits.max_columns:
            raise InvalidInput(
                f"{self.path}: the header names {len(names):,} columns, more than the {self.limits.max_columns:,} "
                "of the max_columns limit"
            )
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
        item = self._item
        for cells in self.raw():
            yield item(cells, self.rows)

    def raw(self) -> Iterator[list[str]]:
        """The remaining data rows as cells, not parsed yet: blank rows are skipped and ``rows`` counts the rest.

        :meth:`item` turns one into what iterating the reader yields. Iterate the reader
        or this, not both. The read limits hold as for the items.
        """
        limits = self.limits
        blank = 0
        counted = self._consumed
        try:
            for cells in self._cells:
                self._excel_rows += 1
                if not any(cells):
                    blank += 1
                    if blank > limits.max_blank_lines:
                        raise self._too_many_blanks()
                    continue
                blank = 0
                self.rows += 1
                # A cell is no longer than the text its row was read from: only a long row is measured.
                size, counted = self._consumed - counted, self._consumed
                if (size > limits.max_field_chars or self._counter is None) and (
                    max(map(len, cells)) > limits.max_field_chars
                ):
                    raise InvalidInput(
                        f"a cell is longer than {limits.max_field_chars:,} characters (the max_field_chars limit)",
                        row=self.rows,
                    )
                yield cells
        except (csv.Error, _BlockError, UnicodeDecodeError) as exc:
            raise self._unreadable(exc) from None
        finally:
            self.close()

    def raw_batches(self, size: int = 4096) -> Iterator[list[list[str]]]:
        """The remaining data rows as in :meth:`raw`, in lists of up to ``size`` (blank rows left out).

        Cheaper than :meth:`raw` row by row: the rows are gathered and filtered without a Python
        step per row (rows decoded in blocks are bounded by the decoder; a list with blank rows
        is counted row by row). A row that cannot be read raises as :meth:`raw` would; the rows
        before it in its list are not yielded.
        """
        if not self._blocks:
            yield from _lists(self.raw(), size)
            return
        cells = self._cells
        blank = 0
        try:
            while chunk := list(itertools.islice(cells, size)):
                self._excel_rows += len(chunk)
                rows = list(filter(any, chunk))
                if len(rows) < len(chunk):
                    blank = self._blank_run(chunk, blank)
                elif rows:
                    blank = 0
                if rows:
                    self.rows += len(rows)
                    yield rows
        except (csv.Error, _BlockError, UnicodeDecodeError) as exc:
            raise self._unreadable(exc) from None
        finally:
            self.close()

    def _blank_run(self, chunk: list[list[str]], blank: int) -> int:
        """The blank rows in a row at the end of ``chunk`` (``blank`` of them ran into it); refuses a run too long."""
        for row, cells in enumerate(chunk):
            if any(cells):
                blank = 0
                continue
            blank += 1
            if blank > self.limits.max_blank_lines:
                self.rows += sum(1 for c in chunk[:row] if any(c))
                raise self._too_many_blanks()
        return blank

    def _too_many_blanks(self) -> InvalidInput:
        return InvalidInput(
            f"more than {self.limits.max_blank_lines:,} blank lines in a row (the max_blank_lines limit): "
            "this does not look like a contact file",
            row=self.rows + 1,
        )

    def _unreadable(self, exc: Exception) -> InvalidInput:
        """The error for rows that could not be read: as the line-by-line reader names it, after a block decoder
        (line by line, only the CSV parser's own refusal gets this far: the decoder names its line itself)."""
        if self._blocks:
            return self._line_by_line_error()
        return InvalidInput(f"the file is not valid CSV ({exc}; an unclosed quote?)", row=self.rows + 1)

    def item(self, cells: list[str], row: int) -> Item:
        """The contact (or row error) that data row ``row``, read by :meth:`raw`, stands for."""
        return self._item(cells, row)

    @property
    def layout(self) -> str:
        """What turns cells into contacts here (columns, fields, types): equal layouts read equal cells alike."""
        properties = [(index, name, kind.value if kind else None) for index, name, kind in self._properties]
        return repr((_LAYOUT_VERSION, self._width, self._email, self._name, properties))

    def _line_by_line_error(self) -> InvalidInput:
        """The error reading this file line by line reports: where the block decoder met what it refuses."""
        again = _LineByLineReader(self.path, **self._options)
        try:
            for _ in again.raw():
                pass
        except InvalidInput as exc:
            return exc
        finally:
            again.close()
        return InvalidInput(f"{self.path}: the file changed while it was read", row=self.rows + 1)

    def _item(self, cells: list[str], row: int) -> Item:
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


class _LineByLineReader(ContactReader):
    """The same reader decoding every line on its own, to name the line of an error met in blocks."""

    _decode_blocks = False


_LAYOUT_VERSION = 1
"""Part of :attr:`ContactReader.layout`: raise it when the same cells come to be read differently."""


def _lists(rows: Iterator[list[str]], size: int) -> Iterator[list[list[str]]]:
    """``rows`` in lists of up to ``size``."""
    while chunk := list(itertools.islice(rows, size)):
        yield chunk


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


def _kind_of(path: str) -> str:
    """``"workbook"``, ``"gzip"`` or ``"text"``, from the file's first bytes (its name when they say nothing)."""
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic == b"PK\x03\x04" or path.lower().endswith((".xlsx", ".xlsm")):
        return "workbook"
    if magic[:2] == b"\x1f\x8b" or path.lower().endswith(".gz"):
        return "gzip"
    return "text"


def _text_codec(name: str) -> codecs.CodecInfo:
    """The codec for a text encoding; UTF-8 skips a byte-order mark. A name that is no text encoding
    (unknown, or a transform such as rot13 or hex) is a ConfigurationError."""
    try:
        info = codecs.lookup(name)
        "a\n".encode(info.name)  # a transform codec (rot13, hex, base64) raises LookupError here
    except (LookupError, TypeError):
        raise ConfigurationError(f"{name!r} is not a text encoding (try utf-8, cp1252, latin-1 or utf-16)") from None
    return codecs.lookup("utf-8-sig") if info.name == "utf-8" else info


def _guess_encoding(sample: bytes) -> str | None:
    """charset-normalizer's best guess for text that is not UTF-8; a tie among the least garbled readings
    goes to cp1252 (what Excel writes on Western European Windows), since short samples often tie."""
    matches = charset_normalizer.from_bytes(sample)
    best = matches.best()
    if best is None:
        return None
    least = min(match.chaos for match in matches)
    for match in matches:
        if match.chaos == least and "cp1252" in match.could_be_from_charset:
            return "cp1252"
    return str(best.encoding)


def read_contacts(
    path: str | os.PathLike[str],
    *,
    mapping: Mapping[str, str] | None = None,
    field_types: Mapping[str, FieldType] | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    limits: ReadLimits | None = None,
) -> ContactReader:
    """Open a contact file (CSV, gzipped CSV, or an ``.xlsx`` workbook) and stream its rows as contacts or row errors.

    ``mapping`` {column: field} renames columns (``email`` and ``name`` are the
    contact's own fields; an empty field skips the column). ``field_types``
    {field: type} parses values; other columns stay text, empty cells are left out.
    What the file is comes from its first bytes (a workbook or gzip renamed ``.csv`` is
    read as what it is). Unless ``encoding`` is given, text is read as UTF-8 when it is,
    else in the encoding its byte-order mark names, else in the one charset-normalizer
    detects (``encoding_detected`` on the reader says so). The delimiter is sniffed among
    ``, ; TAB |`` unless ``delimiter`` is given. ``limits`` bounds the work a file may ask
    for (:class:`ReadLimits`).
    """
    return ContactReader(
        path, mapping=mapping, field_types=field_types, encoding=encoding, delimiter=delimiter, limits=limits
    )


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
