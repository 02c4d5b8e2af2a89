"""Provider reports traced back to input rows: the n-th report of an email, and rejections counted, not named."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contactsync import Contact, ImportJob, ImportStatus, RowError
from contactsync.batching import RowIndex
from contactsync.importing import trace_all
from contactsync.provider import ReportedError
from contactsync.sandbox import Sandbox
from tests.toy import REJECTED_DOMAIN, ToyEmulator, ToyProvider

EMAILS = st.lists(st.sampled_from(["a@example.com", "b@example.com", "c@example.com", "d@example.com"]), max_size=30)


@given(EMAILS, st.integers(min_value=0, max_value=40))
def test_the_nth_report_of_an_email_maps_to_the_nth_row_carrying_it(emails: list[str], occurrence: int) -> None:
    rows = [10 + 3 * at for at in range(len(emails))]  # any increasing row numbers
    index = RowIndex(rows, emails)
    for email in set(emails):
        carrying = [row for row, seen in zip(rows, emails, strict=True) if seen == email]
        assert index.row_of(email) == carrying[0]
        assert index.row_of(email, occurrence) == carrying[min(occurrence, len(carrying) - 1)]
    assert index.row_of("nobody@example.com", occurrence) is None


def test_reports_of_one_email_follow_its_rows_in_order() -> None:
    index = RowIndex([4, 7, 9], ["a@example.com", "b@example.com", "a@example.com"])
    reports = [ReportedError("A@example.com ", "first"), ReportedError("a@example.com", "second")]
    reports += [ReportedError("b@example.com", "b"), ReportedError("a@example.com", "third, of a row reported twice")]
    assert [(e.row, e.message) for e in trace_all(index, reports)] == [
        (4, "first"),
        (9, "second"),
        (7, "b"),
        (9, "third, of a row reported twice"),
    ]


def test_a_count_only_rejection_becomes_that_many_errors_naming_no_row() -> None:
    index = RowIndex([1, 2, 3], ["a@example.com", "b@example.com", "c@example.com"])
    errors = list(trace_all(index, [ReportedError.unnamed(2, "invalid email", "email", "invalid_email")]))
    assert len(errors) == 2
    assert all((e.email, e.row, e.field, e.provider_code) == (None, None, "email", "invalid_email") for e in errors)
    assert "one of 2 rows rejected without being named" in errors[0].message


@pytest.mark.parametrize(
    "report",
    [
        lambda: ReportedError("a@example.com", "x", count=2),
        lambda: ReportedError(None, "x", position=0, count=3),
        lambda: ReportedError.unnamed(0, "x"),
    ],
    ids=["email", "position", "zero"],
)
def test_only_a_report_naming_no_row_stands_for_several(report: object) -> None:
    with pytest.raises(ValueError, match="row"):
        report()  # type: ignore[operator]


class Counting(ToyProvider):
    """The toy, its error report read as a provider that only counts its rejections."""

    def part_errors(self, part: ImportJob) -> Iterator[ReportedError]:
        count = len(list(super().part_errors(part)))
        if count:
            yield ReportedError.unnamed(count, "the toy counted it invalid", "email", "invalid")


@pytest.fixture
def counting() -> Iterator[Counting]:
    with Sandbox([ToyEmulator()]) as sandbox:
        client = Counting(**sandbox.credentials("toy"), poll_interval=0.01)
        with client:
            yield client


def test_count_only_rejections_are_counted_and_reported_never_dropped(counting: Counting) -> None:
    rows = [Contact("a@example.com"), Contact(f"b{REJECTED_DOMAIN}"), Contact(f"c{REJECTED_DOMAIN}")]
    job = counting.wait(counting.import_contacts(rows))
    errors = list(counting.import_errors(job))
    assert (job.status, job.accepted, job.errored) == (ImportStatus.COMPLETED_WITH_ERRORS, 1, 2)
    assert [(e.row, e.provider_code) for e in errors] == [(None, "invalid"), (None, "invalid")]


def test_in_a_failed_job_every_row_is_reported_once_whatever_was_counted(counting: Counting) -> None:
    rows = [Contact("a@example.com"), Contact(f"b{REJECTED_DOMAIN}")]
    job = counting.wait(counting.import_contacts(rows, extra={"fail": True}))
    errors: list[RowError] = list(counting.import_errors(job))
    assert job.status is ImportStatus.FAILED
    assert sorted(e.row for e in errors if e.row is not None) == [1, 2] and len(errors) == 2
