"""Small files that ask for unbounded work end fast, with InvalidInput naming the row and the limit (exit 4).

Each bomb here is a scaled-down copy of one in benchmarks/bombs.py, met with a lowered
limit (``--limit``) so that it runs in a moment; the benchmark meets the full-size
bombs with the default limits and prints the time and memory each takes.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from benchmarks import bombs
from contactsync.cli import EXIT_INPUT, EXIT_USAGE
from contactsync.csvio import ReadLimits
from tests.cli.conftest import CliRunnerCall

IMPORT = ("-q", "import", "--sandbox", "--provider", "mailjet")


def test_one_endless_line_in_a_gzip_file_is_refused_naming_its_row(run: CliRunnerCall, tmp_path: Path) -> None:
    bomb = bombs.long_line_gz(tmp_path / "line.csv.gz", 200_000)
    result = run(*IMPORT, str(bomb), "--limit", "max_line_bytes=10000")
    assert result.exit_code == EXIT_INPUT
    assert "row 2: line 3 is longer than 10,000 bytes (the max_line_bytes limit)" in result.stderr


def test_a_stretch_of_blank_lines_is_refused_naming_the_row_after_it(run: CliRunnerCall, tmp_path: Path) -> None:
    bomb = bombs.blank_lines_gz(tmp_path / "blank.csv.gz", 50_000)
    result = run(*IMPORT, str(bomb), "--limit", "max_blank_lines=1000")
    assert result.exit_code == EXIT_INPUT
    assert "row 2: more than 1,000 blank lines in a row (the max_blank_lines limit)" in result.stderr


def test_a_header_of_too_many_columns_is_refused(run: CliRunnerCall, tmp_path: Path) -> None:
    bomb = bombs.wide_header(tmp_path / "wide.csv", 5000)
    result = run(*IMPORT, str(bomb), "--limit", "max_columns=100")
    assert result.exit_code == EXIT_INPUT
    assert "the header names 5,001 columns, more than the 100 of the max_columns limit" in result.stderr


def test_a_cell_longer_than_the_field_limit_is_refused_naming_its_row(run: CliRunnerCall, tmp_path: Path) -> None:
    bomb = tmp_path / "cell.csv"
    bomb.write_text(f'email,note\nann@example.com,ok\nbob@example.com,"{"y" * 5000}"\n', encoding="utf-8")
    result = run(*IMPORT, str(bomb), "--limit", "max_field_chars=1000")
    assert result.exit_code == EXIT_INPUT
    assert "row 2: a cell is longer than 1,000 characters (the max_field_chars limit)" in result.stderr


def test_a_workbook_with_a_huge_shared_string_is_refused_before_it_is_read(run: CliRunnerCall, tmp_path: Path) -> None:
    bomb = bombs.shared_string_xlsx(tmp_path / "strings.xlsx", 60_000)
    with zipfile.ZipFile(bomb) as archive:
        assert archive.getinfo("xl/sharedStrings.xml").file_size > 60_000  # the bomb is in the shared strings
    lowered = run(*IMPORT, str(bomb), "--limit", "max_shared_strings_bytes=10000")
    assert lowered.exit_code == EXIT_INPUT
    assert "shared strings take" in lowered.stderr and "max_shared_strings_bytes limit" in lowered.stderr
    cell = run(*IMPORT, str(bomb), "--limit", "max_field_chars=1000")
    assert cell.exit_code == EXIT_INPUT
    assert "holds a cell longer than 1,000 characters (the max_field_chars limit)" in cell.stderr


def test_a_workbook_with_one_cell_in_its_far_corner_is_refused_fast(run: CliRunnerCall, tmp_path: Path) -> None:
    bomb = bombs.far_corner_xlsx(tmp_path / "corner.xlsx")  # the full-size bomb: a dimension of 17 billion cells
    assert bomb.stat().st_size < 10_000
    result = run(*IMPORT, str(bomb))  # the default limits
    assert result.exit_code == EXIT_INPUT
    assert f"row 2: more than {ReadLimits().max_blank_lines:,} blank lines in a row" in result.stderr


def test_an_unknown_or_bad_limit_is_a_usage_error(run: CliRunnerCall, tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text("email\nann@example.com\n", encoding="utf-8")
    for limit, says in [("max_lines=5", "no read limit called max_lines"), ("max_columns=-1", "whole number from 1")]:
        result = run(*IMPORT, str(people), "--limit", limit)
        assert result.exit_code == EXIT_USAGE
        assert says in result.stderr


@pytest.mark.parametrize("name", ["max_line_bytes", "max_field_chars", "max_columns", "max_blank_lines"])
def test_every_limit_has_a_documented_default(name: str) -> None:
    assert getattr(ReadLimits(), name) >= 1_000
