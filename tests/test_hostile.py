"""Hostile input: fuzzed files and contacts get a typed error naming row and field, never a traceback."""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contactsync import (
    Contact,
    ContactSyncError,
    InvalidInput,
    ListSubscription,
    RowError,
    SubscriptionAction,
    registry,
)
from contactsync.csvio import read_contacts, write_errors
from contactsync.model import PropertyValue
from contactsync.sandbox import Sandbox

PROVIDERS = ["mailjet", "sendgrid", "dotmailer"]
FORMULAS = ['=HYPERLINK("http://x.example","click")', "+1+1", "-2", "@SUM(A1)", "\tTAB", "=cmd|' /C calc'!A0"]
CELL = st.one_of(
    st.text(alphabet=st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=30),
    st.sampled_from(FORMULAS),
    st.text(alphabet='a\r\n",;\t\ufeff é', max_size=12),  # NUL: its own corpus case below
)


def _read_all(path: Path) -> list[Contact | RowError]:
    with read_contacts(path) as reader:
        return list(reader)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=3000), gz=st.booleans())
def test_any_bytes_give_items_or_a_typed_error(tmp_path: Path, data: bytes, gz: bool) -> None:
    path = tmp_path / ("fuzz.csv.gz" if gz else "fuzz.csv")
    path.write_bytes(data)
    try:
        items = _read_all(path)
    except InvalidInput as exc:
        assert str(exc)
    else:
        assert all(isinstance(item, Contact | RowError) for item in items)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(CELL, min_size=0, max_size=5), max_size=12))
def test_any_cells_give_one_item_per_data_row(tmp_path: Path, rows: list[list[str]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["email", "name", "city", "note"])
    writer.writerows(rows)
    path = tmp_path / "cells.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    try:
        items = _read_all(path)
    except InvalidInput as exc:
        assert exc.row is not None or "line " in str(exc)  # a file-level problem still says where
        return
    for item in items:
        if isinstance(item, RowError):
            assert item.row is not None
            assert item.message


def test_a_ten_megabyte_field_is_a_typed_error_naming_the_row(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    path.write_text("email,note\na@example.com,short\nb@example.com," + "x" * 10_000_000 + "\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        _read_all(path)
    assert caught.value.row == 2


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"email,name\na@example.com,A\x00B\n", "line 2 contains NUL bytes"),
        (gzip.compress(b"email\na@example.com\n")[:-9], "not a valid gzip file"),  # truncated
        (gzip.compress(b"email\n") + b"garbage", "not a valid gzip file"),
    ],
)
def test_corrupt_files_are_typed_errors_saying_where(tmp_path: Path, content: bytes, says: str) -> None:
    path = tmp_path / ("bad.csv.gz" if content.startswith(b"\x1f\x8b") else "bad.csv")
    path.write_bytes(content)
    with pytest.raises(InvalidInput, match=says):
        _read_all(path)


def test_formula_cells_are_inert_in_the_error_report(tmp_path: Path) -> None:
    errors = [RowError(formula, i, formula, formula, formula) for i, formula in enumerate(FORMULAS, start=1)]
    report = tmp_path / "errors.csv"
    write_errors(report, errors)
    with report.open(newline="", encoding="utf-8") as handle:
        cells = [cell for row in list(csv.reader(handle))[1:] for cell in row[1:]]
    assert cells
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)


def _values() -> st.SearchStrategy[PropertyValue]:
    zones = st.sampled_from([timezone.utc, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))])
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=300),
        st.sampled_from(FORMULAS),
        st.dates(),
        st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
        st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=zones),
    )


NAMES = st.sampled_from(["city", "age", "vip", "joined", "score", "note", "x" * 40, "bad name!", "Été", "first_name"])
CONTACTS = st.builds(
    Contact,
    email=st.from_regex(r"[a-z]{1,10}@example\.(com|org)", fullmatch=True),
    name=st.none() | st.text(max_size=80),
    properties=st.dictionaries(NAMES, _values(), max_size=4),
)


@pytest.fixture(params=PROVIDERS)
def routes(request: pytest.FixtureRequest) -> Iterator[list[object]]:
    """Every import route of one provider, each against its own sandbox account, as one import sees it."""
    with contextlib.ExitStack() as stack:
        built: list[object] = []
        for route in registry.load(request.param).capabilities.routes:
            sandbox = stack.enter_context(Sandbox([request.param]))
            client = sandbox.connect(request.param)
            subscriptions = (ListSubscription(client.create_list("Hostile")),)
            built.append(client.import_route(subscriptions, route, None))
        yield built


def test_any_contact_encodes_or_is_refused_naming_a_field(routes: list[object]) -> None:
    @settings(deadline=None)
    @given(contact=CONTACTS)
    def check(contact: Contact) -> None:
        for route in routes:
            try:
                encoded = route.encode(contact)  # type: ignore[attr-defined]
            except InvalidInput as exc:
                assert exc.field is not None, exc
            else:
                assert isinstance(encoded, bytes) and encoded

    check()


def test_duplicate_emails_are_all_accounted_for() -> None:
    rows = [Contact("dup@example.com", properties={"city": c}) for c in ("Oslo", "Rome", "Kyiv")]
    for provider in PROVIDERS:
        with Sandbox([provider]) as sandbox:
            client = sandbox.connect(provider)
            job = client.wait(client.import_contacts([*rows, Contact("solo@example.com")]))
            errors = list(client.import_errors(job))
            stored = {c.email for c in sandbox.contacts(provider)}
        assert {"dup@example.com", "solo@example.com"} <= stored, provider
        assert job.accepted + len(errors) >= 2, provider
        assert all(e.row in (1, 2, 3) for e in errors), provider


def test_dates_and_far_instants_never_escape_as_overflow() -> None:
    far = datetime.max.replace(tzinfo=timezone(timedelta(hours=-3)))
    for provider in PROVIDERS:
        with Sandbox([provider]) as sandbox:
            client = sandbox.connect(provider)
            job = client.wait(
                client.import_contacts(
                    [
                        Contact("far@example.com", properties={"at": far}),
                        Contact("near@example.com", properties={"on": date(2020, 1, 1)}),
                    ]
                )
            )
            (error,) = [e for e in client.import_errors(job) if e.row == 1]
        assert error.field == "at", provider


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("list_id", ["../../../sendgrid/v3/marketing/lists?x=", "..", "a/b#c"])
def test_a_list_id_never_reaches_another_path(provider: str, list_id: str) -> None:
    with Sandbox() as sandbox:
        client = sandbox.connect(provider)
        client.wait(client.import_contacts([Contact("a@example.com")]))
        sandbox.requests.clear()
        with contextlib.suppress(ContactSyncError):
            client.wait(client.import_contacts([Contact("a@example.com")], [ListSubscription(list_id)]))
        for action in (SubscriptionAction.ADD_NO_FORCE, SubscriptionAction.REMOVE):
            with contextlib.suppress(ContactSyncError):
                client.manage_subscriptions("a@example.com", [ListSubscription(list_id, action)])
    requests = [(request.method, request.path) for request in sandbox.requests]
    assert all(re.match(rf"/{provider}/v\d/", path) for _, path in requests), requests  # the API's own root
    assert ("DELETE", "/sendgrid/v3/marketing/contacts") not in requests  # where ".." led a REMOVE
    on_lists = [path for _, path in requests if any(f"/{kind}/" in path for kind in ("lists", "contactslist"))]
    assert all(list_id in path for path in on_lists), on_lists  # the id arrived whole, in its own segment
