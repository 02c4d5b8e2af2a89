"""Files that are small on disk and ask for unbounded work: each through the CLI, with the time and memory it takes.

    python benchmarks/bombs.py            # the full-size bombs, default limits
    python benchmarks/bombs.py --json

Each bomb is built in a temporary directory (streamed, so building one holds little memory),
then ``contactsync import --sandbox`` runs on it in a subprocess; the script prints the
seconds, the peak RSS of that subprocess (``getrusage(RUSAGE_CHILDREN)``, each in a fresh
child), the exit code and the error's first line. The reader's limits
(:class:`contactsync.csvio.ReadLimits`) are what end each one: the target is under 10 s and
300 MB each, with exit 4. ``tests/cli/test_bombs.py`` meets scaled-down copies with lowered limits.
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl  # type: ignore[import-untyped]

MIB = 1_048_576
_CHUNK = b"x" * MIB

# The smallest parts openpyxl reads a workbook from (ECMA-376 part 1: the package, the workbook, one sheet).
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="xl/workbook.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
    "</Relationships>"
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="contacts" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="worksheets/sheet1.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
    '<Relationship Id="rId2" Target="sharedStrings.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>'
    "</Relationships>"
)
_SHEET = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
    '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="s"><v>3</v></c></row>'
    "</sheetData></worksheet>"
)


def _stream(handle: Any, size: int, chunk: bytes = _CHUNK) -> None:
    """Write ``size`` bytes of ``chunk`` repeated."""
    whole, rest = divmod(size, len(chunk))
    for _ in range(whole):
        handle.write(chunk)
    handle.write(chunk[:rest])


def long_line_gz(path: Path, size: int) -> Path:
    """A gzipped CSV whose second row is one line of ``size`` bytes (1 GB packs into about 1 MB)."""
    with gzip.open(path, "wb", compresslevel=9) as handle:
        handle.write(b"email,note\nann@example.com,ok\nbob@example.com,")
        _stream(handle, size)
        handle.write(b"\n")
    return path


def blank_lines_gz(path: Path, count: int) -> Path:
    """A gzipped CSV holding ``count`` blank lines between two rows (2 GB of them pack into about 2 MB)."""
    with gzip.open(path, "wb", compresslevel=9) as handle:
        handle.write(b"email\nann@example.com\n")
        _stream(handle, count, b"\n" * MIB)
        handle.write(b"bob@example.com\n")
    return path


def wide_header(path: Path, columns: int) -> Path:
    """A CSV whose header names ``columns`` columns (two million of them take 20 MB)."""
    with path.open("wb") as handle:
        handle.write(b"email")
        for number in range(columns):
            handle.write(b",c%d" % number)
        handle.write(b"\nann@example.com\n")
    return path


def shared_string_xlsx(path: Path, size: int) -> Path:
    """A workbook whose one data cell is a shared string of ``size`` bytes (1 GB packs into about 1 MB)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in (
            ("[Content_Types].xml", _CONTENT_TYPES),
            ("_rels/.rels", _RELS),
            ("xl/workbook.xml", _WORKBOOK),
            ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
            ("xl/worksheets/sheet1.xml", _SHEET),
        ):
            archive.writestr(name, text)
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            part.write(
                b'<?xml version="1.0" encoding="UTF-8"?>'
                b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="4" uniqueCount="4">'
                b"<si><t>email</t></si><si><t>note</t></si><si><t>ann@example.com</t></si><si><t>"
            )
            _stream(part, size)
            part.write(b"</t></si></sst>")
    return path


def far_corner_xlsx(path: Path) -> Path:
    """A workbook of three cells, the last at XFD1048576, so its dimension spans 17 billion cells (about 5 KB)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"] = "email"
    sheet["A2"] = "ann@example.com"
    sheet["XFD1048576"] = "x"
    book.save(path)
    return path


BOMBS: dict[str, tuple[str, Callable[[Path], Path]]] = {
    "line.csv.gz": ("one 1 GB line, gzipped", lambda p: long_line_gz(p, 1024 * MIB)),
    "strings.xlsx": ("one 1 GB shared string", lambda p: shared_string_xlsx(p, 1024 * MIB)),
    "string.xlsx": ("one 200 MB shared string", lambda p: shared_string_xlsx(p, 200 * MIB)),
    "corner.xlsx": ("one cell at XFD1048576", far_corner_xlsx),
    "blank.csv.gz": ("2 GB of blank lines, gzipped", lambda p: blank_lines_gz(p, 2048 * MIB)),
    "wide.csv": ("a header of 2 million columns", lambda p: wide_header(p, 2_000_000)),
}


def run_one(path: Path) -> dict[str, Any]:
    """``contactsync import`` on ``path`` in a fresh child process (this one spawned for it alone)."""
    command = [sys.executable, "-m", "contactsync.cli", "-q", "import", str(path), "--sandbox", "-p", "mailjet"]
    measure = [sys.executable, __file__, "--child", *command]
    started = time.monotonic()
    done = subprocess.run(measure, capture_output=True, text=True, timeout=600, check=False)
    seconds = time.monotonic() - started
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return {**figures, "seconds": round(seconds, 2)}


def _child(command: list[str]) -> None:
    """Run ``command``; print its exit code, peak RSS and the first line of its errors as JSON."""
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    first = (done.stderr.strip().splitlines() or [""])[0]
    print(json.dumps({"exit": done.returncode, "rss_mib": round(peak_kib / 1024, 1), "error": first[:200]}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="Print one JSON object.")
    parser.add_argument("--only", action="append", choices=sorted(BOMBS), help="Run only this bomb (repeatable).")
    parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return
    results = {}
    with tempfile.TemporaryDirectory(prefix="contactsync-bombs-") as folder:
        for name in args.only or BOMBS:
            what, build = BOMBS[name]
            path = build(Path(folder) / name)
            results[name] = {"what": what, "bytes_on_disk": path.stat().st_size, **run_one(path)}
            path.unlink()
            if not args.json:
                r = results[name]
                print(
                    f"{name:<14} {what:<32} {r['bytes_on_disk'] / 1e6:8.3f} MB on disk  {r['seconds']:6.2f} s  "
                    f"{r['rss_mib']:7.1f} MiB  exit {r['exit']}  {r['error']}"
                )
    if args.json:
        print(json.dumps(results, indent=2))
    ok = all(r["exit"] == 4 and r["seconds"] < 10 and r["rss_mib"] < 300 for r in results.values())
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
