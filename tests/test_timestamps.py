"""The shared conversion of instants to UTC."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contactsync.errors import UnrepresentableValue
from contactsync.timestamps import as_date_if_midnight, property_instant, to_utc, usual_utc_text

# Fixed offsets: a zone with daylight saving has wall times that are no instant at all (the gap).
OFFSETS = st.timedeltas(min_value=-timedelta(hours=23, minutes=59), max_value=timedelta(hours=23, minutes=59)).map(
    lambda delta: timezone(timedelta(minutes=delta // timedelta(minutes=1)))
)


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=OFFSETS))
def test_aware_values_become_the_same_instant_in_utc(value: datetime) -> None:
    utc = to_utc(value, "seen")
    assert utc.utcoffset() == timedelta(0)
    assert utc == value


def test_naive_values_are_left_to_the_caller() -> None:
    naive = datetime(2024, 1, 2, 3, 4, 5)
    assert to_utc(naive, "seen") is naive


@pytest.mark.parametrize(
    "edge",
    [
        datetime.min.replace(tzinfo=timezone(timedelta(hours=2))),
        datetime.max.replace(tzinfo=timezone(timedelta(hours=-2))),
    ],
)
def test_instants_outside_the_calendar_in_utc_name_the_field(edge: datetime) -> None:
    with pytest.raises(UnrepresentableValue, match="outside the years") as caught:
        to_utc(edge, "seen")
    assert caught.value.field == "seen"


@given(st.dates())
def test_a_date_is_its_midnight(day: date) -> None:
    assert usual_utc_text(day) == datetime.combine(day, datetime.min.time()).isoformat()


@given(st.datetimes(timezones=st.none() | st.just(timezone.utc) | OFFSETS))
def test_only_utc_datetimes_with_whole_seconds_off_midnight_have_the_usual_text(value: datetime) -> None:
    midnight = (value.hour, value.minute, value.second) == (0, 0, 0)
    usual = value.tzinfo is timezone.utc and not value.microsecond and not midnight
    assert usual_utc_text(value) == (value.replace(tzinfo=None).isoformat() if usual else None)
    assert usual_utc_text(value.isoformat()) is None  # text is not an instant


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=OFFSETS))
def test_a_property_instant_is_the_same_instant_in_utc_or_refused_naming_the_field(value: datetime) -> None:
    utc = value.astimezone(timezone.utc)
    if value.microsecond or (utc.hour, utc.minute, utc.second) == (0, 0, 0):
        with pytest.raises(UnrepresentableValue) as caught:
            property_instant(value, "seen", "toy")
        assert caught.value.field == "seen"
    else:
        assert property_instant(value, "seen", "toy") == value
        assert as_date_if_midnight(property_instant(value, "seen", "toy")) == value  # it reads back a datetime


def test_a_naive_datetime_is_no_property_instant() -> None:
    with pytest.raises(UnrepresentableValue, match="timezone-aware") as caught:
        property_instant(datetime(2024, 1, 2, 3, 4, 5), "seen", "toy")
    assert caught.value.field == "seen"


def test_a_midnight_datetime_is_refused_since_it_would_read_back_a_date() -> None:
    midnight = datetime(2024, 1, 2, 1, tzinfo=timezone(timedelta(hours=1)))
    with pytest.raises(UnrepresentableValue, match="back as a date"):
        property_instant(midnight, "seen", "toy")


@given(st.dates(min_value=date(1, 1, 2)))
def test_a_date_stored_as_its_midnight_reads_back_a_date(day: date) -> None:
    stored = datetime.combine(day, datetime.min.time(), timezone.utc)
    assert as_date_if_midnight(stored) == day
    assert type(as_date_if_midnight(stored)) is date
