"""Reading contact files: round trips, typing, mapping, and one clear error per malformed file."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
import pytest
from hypothesis import given
from hypothesis import strategies as st

from contactsync import ConfigurationError, Contact, FieldType, InvalidInput, RowError
from contactsync.csvio import escape_cell, parse_value, read_contacts, write_errors

TYPES = {
    "note": FieldType.TEXT,
    "age": FieldType.INTEGER,
    "score": FieldType.NUMBER,
    "vip": FieldType.BOOLEAN,
    "joined": FieldType.DATE,
    "seen": FieldType.DATETIME,
}


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return "" if value is None else str(value)


_text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1, max_size=20)
_values = {
    "note": _text,
    "age": st.integers(-(10**12), 10**12),
    "score": st.floats(allow_nan=False, allow_infinity=False, width=64).filter(lambda f: not f.is_integer()),
    "vip": st.booleans(),
    "joined": st.dates(),
    "seen": st.datetimes(timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=-5))])),
}
_contacts = st.lists(
    st.builds(
        lambda n, local, name, props: Contact(f"{local}{n}@example.com", name, props),
        st.integers(0, 10**6),
        st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12),
        st.none() | _text,
        st.fixed_dictionaries({}, optional=_values),
    ),
    max_size=15,
)


@given(contacts=_contacts, delimiter=st.sampled_from(",;\t|"), bom=st.booleans(), compress=st.booleans())
def test_generated_files_round_trip(
    tmp_path_factory: pytest.TempPathFactory, contacts: list[Contact], delimiter: str, bom: bool, compress: bool
) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(["Email", "Name", *TYPES])
    for contact in contacts:
        writer.writerow([contact.email, contact.name or "", *(_cell(contact.properties.get(k)) for k in TYPES)])
    data = (codecs.BOM_UTF8 if bom else b"") + buffer.getvalue().encode()
    path = tmp_path_factory.mktemp("rt") / ("people.csv.gz" if compress else "people.csv")
    path.write_bytes(gzip.compress(data) if compress else data)
    assert list(read_contacts(path, field_types=TYPES)) == contacts


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        (" 42 ", FieldType.INTEGER, 42),
        ("-7", FieldType.NUMBER, -7),
        ("1.5e3", FieldType.NUMBER, 1500.0),
        ("Yes", FieldType.BOOLEAN, True),
        ("0", FieldType.BOOLEAN, False),
        ("2024-02-29", FieldType.DATE, date(2024, 2, 29)),
        ("2024-02-29T10:30:00Z", FieldType.DATETIME, datetime(2024, 2, 29, 10, 30, tzinfo=timezone.utc)),
        ("2024-02-29", FieldType.DATETIME, date(2024, 2, 29)),  # a date alone is a date, held as midnight UTC
        ("2024-02-29T10:30", FieldType.DATETIME, datetime(2024, 2, 29, 10, 30)),
        ("  kept  ", FieldType.TEXT, "  kept  "),
    ],
)
def test_values_parse_by_type(text: str, kind: FieldType, expected: object) -> None:
    assert parse_value(text, kind) == expected


@pytest.mark.parametrize(
    ("text", "kind"),
    [("4.5", FieldType.INTEGER), ("1_000", FieldType.INTEGER), ("nan", FieldType.NUMBER), ("maybe", FieldType.BOOLEAN),
     ("2023-02-30", FieldType.DATE), ("31/12/2020", FieldType.DATE), ("yesterday", FieldType.DATETIME)],
)  # fmt: skip
def test_values_that_do_not_parse_are_refused(text: str, kind: FieldType) -> None:
    with pytest.raises(ValueError, match="expected"):
        parse_value(text, kind)


def test_bad_rows_become_row_errors_numbered_like_the_provider(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "c.csv",
        "email,name,age\na@example.com,Ann,3\nnot-an-email,Bob,4\n\nc@example.com,Cy,four\n,Dee,5\ne@example.com,E,1,extra\n",
    )
    items = list(read_contacts(path, field_types={"age": FieldType.INTEGER}))
    assert items[0] == Contact("a@example.com", "Ann", {"age": 3})
    errors = [i for i in items if isinstance(i, RowError)]
    assert [(e.row, e.field) for e in errors] == [(2, "email"), (3, "age"), (4, "email"), (5, None)]
    assert "four" in errors[1].message
    assert "4 cells" in errors[3].message


def test_empty_cells_are_omitted_and_untyped_columns_stay_text(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.csv", "E-Mail Address;Phone;Age\nA@Example.com;;007\n")
    (contact,) = read_contacts(path)
    assert contact == Contact("a@example.com", None, {"Age": "007"})


def test_mapping_renames_and_skips_columns(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.csv", "Contact,Full,Secret,Age\na@example.com,Ann,x,30\n")
    reader = read_contacts(path, mapping={"contact": "email", "Full": "name", "Secret": "", "Age": "years"})
    assert reader.properties == ["years"]
    assert list(reader) == [Contact("a@example.com", "Ann", {"years": "30"})]


def test_a_mapped_column_that_does_not_exist_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.csv", "email\na@example.com\n")
    with pytest.raises(InvalidInput, match="'Phone'"):
        read_contacts(path, mapping={"Phone": "phone"})


def test_reading_streams_without_loading_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w") as out:
        out.write("email,n\n")
        out.writelines(f"user{i}@example.com,{i}\n" for i in range(100_000))
    reader = read_contacts(path)
    first = next(reader)
    done, total = reader.progress
    assert first == Contact("user0@example.com", None, {"n": "0"})
    assert done < total / 4
    assert sum(1 for _ in reader) == 99_999
    assert reader.progress == (total, total)


def test_excel_workbooks_are_read(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Email", "Name", "Age", "Joined", "VIP"])
    sheet.append(["a@example.com", "Ann", 30, datetime(2020, 1, 2), True])
    sheet.append(["bad", "Bob", 31, None, False])
    book.save(tmp_path / "c.xlsx")
    items = list(read_contacts(tmp_path / "c.xlsx", field_types={"age": FieldType.INTEGER, "joined": FieldType.DATE}))
    assert items[0] == Contact("a@example.com", "Ann", {"Age": 30, "Joined": date(2020, 1, 2), "VIP": "true"})
    assert isinstance(items[1], RowError) and items[1].row == 2


def test_cp1252_reads_when_asked(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.csv", "email,name\na@example.com,José\n", "cp1252")
    assert list(read_contacts(path, encoding="cp1252")) == [Contact("a@example.com", "José")]


def test_a_semicolon_latin1_file_from_excel_is_read_in_the_encoding_detected(tmp_path: Path) -> None:
    text = "email;name;city\nann@example.com;Begoña Ibáñez;Zürich\nbob@example.com;Hélène Lefèvre;Genève\n"
    path = _write(tmp_path / "excel.csv", text, "cp1252")
    with read_contacts(path) as reader:
        items = list(reader)
    assert (reader.encoding, reader.encoding_detected) == ("cp1252", True)
    assert items == [
        Contact("ann@example.com", "Begoña Ibáñez", {"city": "Zürich"}),
        Contact("bob@example.com", "Hélène Lefèvre", {"city": "Genève"}),
    ]


def test_a_utf16_tab_file_from_excel_is_read(tmp_path: Path) -> None:
    path = _write(tmp_path / "unicode.txt", "email\tname\r\nann@example.com\t東京 Ann\r\n", "utf-16")
    with read_contacts(path) as reader:
        items = list(reader)
    assert (reader.encoding, reader.encoding_detected) == ("utf-16", True)
    assert items == [Contact("ann@example.com", "東京 Ann")]


def test_utf8_is_read_without_being_announced(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.csv", "email,name\na@example.com,José\n")
    with read_contacts(path) as reader:
        assert list(reader) == [Contact("a@example.com", "José")]
    assert (reader.encoding, reader.encoding_detected) == ("utf-8-sig", False)


def test_an_encoding_given_that_does_not_fit_names_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.csv", "email,name\na@example.com,José\n", "cp1252")
    with pytest.raises(InvalidInput, match=r"line 2 is not valid UTF-8 .*; check --encoding"):
        list(read_contacts(path, encoding="utf-8"))


@pytest.mark.parametrize("name", ["rot13", "hex", "base64", "no-such-codec"])
def test_a_name_that_is_no_text_encoding_is_a_configuration_error(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path / "c.csv", "email\na@example.com\n")
    with pytest.raises(ConfigurationError, match="is not a text encoding"):
        read_contacts(path, encoding=name)


def test_a_workbook_renamed_csv_is_read_as_a_workbook(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append(["email", "name"])
    book.active.append(["ann@example.com", "Ann"])
    book.save(tmp_path / "people.xlsx")
    renamed = tmp_path / "people.csv"
    (tmp_path / "people.xlsx").rename(renamed)
    with read_contacts(renamed) as reader:
        assert list(reader) == [Contact("ann@example.com", "Ann")]
    assert reader.encoding is None


def test_a_gzipped_file_without_the_gz_ending_is_read(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(gzip.compress(b"email\nann@example.com\n"))
    assert list(read_contacts(path)) == [Contact("ann@example.com")]


# -- one clear error per malformed file ------------------------------------------------------

MALFORMED = {
    "nul bytes": (b"email,name\x00\x00\na@example.com,x\n", "NUL bytes"),
    "no email column": (b"name,phone\nAnn,1\n", "no email column"),
    "empty": (b"", "is empty"),
    "unclosed quote": (b'email,name\na@example.com,"Ann\n', "unclosed quote"),
    "duplicate columns": (b"email,age,Age\na@example.com,1,2\n", "both called"),
    "truncated character": (b"email,name\na@example.com,Jos\xc3", "multi-byte"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_files_raise_one_clear_input_error(tmp_path: Path, case: str) -> None:
    data, message = MALFORMED[case]
    path = tmp_path / "bad.csv"
    path.write_bytes(data)
    with pytest.raises(InvalidInput, match=message):
        list(read_contacts(path))


def test_a_bad_byte_deep_in_the_file_names_its_row(tmp_path: Path) -> None:
    lines = [f"user{i}@example.com,{'x' * 50}" for i in range(3_000)]
    lines[2_500] = "late@example.com,caf\xe9"
    path = tmp_path / "late.csv"
    path.write_bytes(("email,note\n" + "\n".join(lines) + "\n").encode("latin-1"))
    reader = read_contacts(path)
    with pytest.raises(InvalidInput) as caught:
        list(reader)
    assert caught.value.row == 2_501
    assert "line 2502" in str(caught.value)


def test_not_an_excel_file_is_an_input_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.xlsx", "email\na@example.com\n")
    with pytest.raises(InvalidInput, match=r"not a readable \.xlsx"):
        read_contacts(path)


# -- the error report ---------------------------------------------------------------------


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_formula_like_cells_are_escaped(start: str) -> None:
    assert escape_cell(f"{start}HYPERLINK(1)") == f"'{start}HYPERLINK(1)"
    assert escape_cell("plain") == "plain"


def test_error_report_round_trips_and_is_inert_in_spreadsheets(tmp_path: Path) -> None:
    errors = [
        RowError("=cmd|' /C calc'!A0@example.com", 3, "email", "invalid", None),
        RowError("b@example.com", None, "age", "+1 is not allowed", "E42"),
    ]
    path = tmp_path / "errors.csv"
    assert write_errors(path, errors) == 2
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["row", "email", "field", "message", "provider_code"]
    assert rows[1] == ["3", "'=cmd|' /C calc'!A0@example.com", "email", "invalid", ""]
    assert rows[2] == ["", "b@example.com", "age", "'+1 is not allowed", "E42"]


@pytest.mark.parametrize("bad", [b"x\x00y", b"Jos\xe9", b"\xe2\x82"], ids=["nul", "latin-1", "cut-short"])
def test_a_bad_line_past_the_first_block_is_reported_where_line_by_line_reading_reports_it(
    tmp_path: Path, bad: bytes
) -> None:
    rows = "".join(f"user{i}@example.com,{i}\n" for i in range(20_000)).encode()  # far past the 64 KiB head
    path = tmp_path / "late.csv"
    path.write_bytes(b"email,n\n" + rows + b"z@example.com," + bad + b"\n" + rows)
    with pytest.raises(InvalidInput) as caught:
        _ = list(read_contacts(path))
    assert caught.value.row == 20_001
    assert "line 20002" in str(caught.value)


def test_raw_rows_parse_to_the_items_the_reader_yields(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.csv", "email,name,age\na@example.com,Ann,30\n\n  ,Nobody,1\nb@example.com,Bob,x\n")
    expected = list(read_contacts(path, field_types={"age": FieldType.INTEGER}))
    reader = read_contacts(path, field_types={"age": FieldType.INTEGER})
    assert [reader.item(cells, row) for row, cells in enumerate(reader.raw(), start=1)] == expected
    assert reader.rows == 3


def test_the_layout_changes_with_what_the_columns_become(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.csv", "email,name,age\na@example.com,Ann,30\n")
    plain = read_contacts(path).layout
    assert read_contacts(path).layout == plain
    assert read_contacts(path, field_types={"age": FieldType.INTEGER}).layout != plain
    assert read_contacts(path, mapping={"name": ""}).layout != plain
