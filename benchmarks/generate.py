"""N realistic contacts for the benchmarks, streamed: the demo file's rows, cycled, with unique emails.

The rows come from examples/make_contacts.py (unicode names, a company, an integer, a
number, a boolean, a date, and one bad row in 75), plus a ``last_seen`` date-time so
every property type is there. A pool of its 3,000 rows is made once; row ``i`` of a
benchmark is pool row ``i mod 3000`` with ``i`` in its email, so memory does not grow
with N and producing a row costs one string format.

``python benchmarks/generate.py --n 1000000 --output big.csv`` writes the CSV form.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import random
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import TypeAlias

from contactsync import Contact, FieldDefinition, FieldType, InvalidInput, RowError
from contactsync.csvio import parse_value

__all__ = [
    "FIELDS",
    "FIELD_TYPES",
    "HEADER",
    "PROPERTIES",
    "Row",
    "contacts",
    "prepare",
    "rows",
    "text_rows",
    "write_csv",
]

ROOT = Path(__file__).resolve().parent.parent
PROPERTIES = ("company", "age", "score", "vip", "signup_date", "last_seen")
"""Property names, in the order every contact sets them."""
HEADER = ("email", "name", *PROPERTIES)
FIELD_TYPES = {
    "company": FieldType.TEXT,
    "age": FieldType.INTEGER,
    "score": FieldType.NUMBER,
    "vip": FieldType.BOOLEAN,
    "signup_date": FieldType.DATE,
    "last_seen": FieldType.DATETIME,
}
FIELDS = [FieldDefinition(name, kind) for name, kind in FIELD_TYPES.items()]
"""The fields an account needs before the import (created in each benchmark's set-up)."""

Value: TypeAlias = str | int | float | bool | date | None
Row: TypeAlias = tuple[bool, str, str, Value, Value, Value, Value, Value, Value]
"""(valid, email, name, company, age, score, vip, signup_date, last_seen); ``None`` is an empty cell.

``valid`` is what the generator knows about the row (make_contacts breaks one row in 75):
the raw floor uses it to skip the same rows the model rejects, so both write the same bytes.
"""

_NUMBERED = re.compile(r"(.*?)\d+@(.+)")
_EPOCH = datetime(2024, 1, 1, tzinfo=timezone.utc)


def _make_contacts() -> ModuleType:
    """examples/make_contacts.py, loaded by path (examples/ is scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("make_contacts", ROOT / "examples" / "make_contacts.py")
    if spec is None or spec.loader is None:
        raise RuntimeError("examples/make_contacts.py is missing")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _typed(text: str, kind: FieldType) -> Value:
    """A cell as a program would hold it; a cell that does not parse stays text (the model rejects it)."""
    if not text:
        return None
    try:
        return parse_value(text, kind)
    except ValueError:
        return text


@cache
def _pool() -> tuple[list[tuple[str, str, str, tuple[str, ...], Row]], int]:
    """The pool rows: (email prefix, domain, raw email, text cells, typed row) and the bad-row period."""
    module = _make_contacts()
    rng = random.Random(module.SEED)
    pool = []
    for number, cells in enumerate(module.rows()[1:], start=1):
        seen = _EPOCH + timedelta(seconds=rng.randrange(365 * 86400))
        text = (*cells, seen.isoformat())
        valid = number % module.BAD_EVERY != 0
        cells_typed = zip(PROPERTIES, text[2:], strict=True)
        typed = tuple(_typed(t, FIELD_TYPES[p]) if p != "company" else (t or None) for p, t in cells_typed)
        match = _NUMBERED.fullmatch(cells[0])
        prefix, domain = (match.group(1), match.group(2)) if match and valid else ("", "")
        row: Row = (valid, cells[0], cells[1], *typed)
        pool.append((prefix, domain, cells[0], text, row))
    return pool, module.BAD_EVERY


def prepare() -> None:
    """Build the pool now, so that a timed loop does not pay for it."""
    _pool()


def rows(n: int) -> Iterator[Row]:
    """``n`` typed rows; the email of row ``i`` (1-based) carries ``i``, so every valid email is unique."""
    pool, _ = _pool()
    size = len(pool)
    for i in range(n):
        prefix, domain, _raw, _text, row = pool[i % size]
        if domain:
            yield (True, f"{prefix}{i + 1}@{domain}", *row[2:])
        else:
            yield row


def text_rows(n: int) -> Iterator[tuple[str, ...]]:
    """The same ``n`` rows as CSV cells (header not included)."""
    pool, _ = _pool()
    size = len(pool)
    for i in range(n):
        prefix, domain, _raw, text, _row = pool[i % size]
        yield (f"{prefix}{i + 1}@{domain}", *text[1:]) if domain else text


def contacts(n: int) -> Iterator[Contact | RowError]:
    """The ``n`` rows as an application would hand them to ``import_contacts``: a Contact, or why not.

    The properties are gathered as the raw floor gathers them (only company and age are ever empty),
    so that steps b and d differ by contactsync's own work.
    """
    for number, (_valid, email, name, company, age, score, vip, signup, seen) in enumerate(rows(n), start=1):
        properties: dict[str, Value] = {}
        if company is not None:
            properties["company"] = company
        if age is not None:
            properties["age"] = age
        properties["score"] = score
        properties["vip"] = vip
        properties["signup_date"] = signup
        properties["last_seen"] = seen
        try:
            yield Contact(email, name, properties)
        except InvalidInput as exc:
            yield RowError(email or None, number, exc.field, exc.message)


def write_csv(path: Path, n: int) -> None:
    """Write the ``n`` rows as a UTF-8 CSV file with a header."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(text_rows(n))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    write_csv(args.output, args.n)


if __name__ == "__main__":
    main()
