"""Reading Mailjet's error files, whose JSON shape no source confirms."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contactsync.provider import ReportedError
from contactsync.providers.mailjet.errorfiles import csv_errors, json_errors


@pytest.mark.parametrize(
    "payload",
    [
        [{"Email": "a@example.com", "Error": "Invalid email address", "Field": "Email"}],
        {"Data": [{"Email": "a@example.com", "Error": "Invalid email address", "Field": "Email"}]},
        {"Email": "a@example.com", "ErrorMessage": "Invalid email address", "ErrorRelatedTo": "Email"},
        [{"Contact": {"Email": "a@example.com"}, "Message": "Invalid email address", "Property": "Email"}],
    ],
)
def test_json_error_file_shapes(payload: Any) -> None:
    assert list(json_errors(payload)) == [ReportedError("a@example.com", "Invalid email address", field="Email")]


def test_json_error_file_as_an_email_map_or_plain_strings() -> None:
    assert list(json_errors({"a@example.com": "bad"})) == [ReportedError("a@example.com", "bad")]
    assert list(json_errors(["something failed", None])) == [ReportedError(None, "something failed")]
    assert list(json_errors("not a list")) == []


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(), lambda i: st.lists(i) | st.dictionaries(st.text(), i)
    )
)
def test_json_error_file_never_breaks_on_odd_input(payload: Any) -> None:
    assert all(isinstance(e, ReportedError) for e in json_errors(payload))


def test_csv_error_file_as_seed_000_shows_it() -> None:
    text = 'email,age,error\n"bar@example.com", ###Too few columns at line\n'
    assert list(csv_errors(text)) == [ReportedError("bar@example.com", "Too few columns at line")]


def test_csv_error_file_with_a_field_and_without_a_header() -> None:
    text = "api@mailjet.com,test4, ###Duplicated email###email\n"
    assert list(csv_errors(text)) == [ReportedError("api@mailjet.com", "Duplicated email", field="email")]
    assert list(csv_errors("")) == []
