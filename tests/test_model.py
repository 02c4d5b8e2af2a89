"""The domain model: validated at construction, closed vocabularies, aggregation of job parts."""

from __future__ import annotations

import enum
import math
from datetime import date, datetime, timezone
from types import MappingProxyType
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from contactsync import (
    Contact,
    FieldDefinition,
    FieldType,
    ImportJob,
    ImportStatus,
    InvalidInput,
    ListSubscription,
    RowError,
    SubscriptionAction,
)
from contactsync.model import PropertyValue, aggregate_status, field_type_of


def test_contact_email_is_normalised_as_documented() -> None:
    assert Contact("  Jim@Example.COM ").email == "jim@example.com"


def test_contact_with_a_bad_email_is_a_value_error_naming_the_value() -> None:
    with pytest.raises(ValueError, match="'not-an-email' is not a valid email address") as caught:
        Contact("not-an-email")
    assert "@-sign" in str(caught.value)  # and says why


def test_contact_is_frozen_and_its_properties_cannot_be_changed() -> None:
    contact = Contact("a@example.com", properties={"age": 3})
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        contact.email = "b@example.com"  # type: ignore[misc]
    with pytest.raises(TypeError):
        contact.properties["age"] = 4  # type: ignore[index]


def test_contact_accepts_every_property_type() -> None:
    values: dict[str, PropertyValue] = {
        "s": "x",
        "i": 1,
        "f": 1.5,
        "b": True,
        "dt": datetime(2024, 1, 2, 3, 4),
        "d": date(2024, 1, 2),
        "n": None,
    }
    assert dict(Contact("a@example.com", properties=values).properties) == values


@pytest.mark.parametrize("value", [[1], {"a": 1}, b"x", object(), float("nan"), float("inf")])
def test_contact_refuses_other_property_values_naming_the_field(value: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        Contact("a@example.com", properties={"odd": value})  # type: ignore[dict-item]
    assert caught.value.field == "odd"


def test_a_shape_already_seen_still_refuses_a_float_that_is_not_finite() -> None:
    seen = Contact("a@example.com", properties={"age": 3, "score": 1.5})
    with pytest.raises(InvalidInput) as caught:
        Contact("b@example.com", properties={"age": 3, "score": float("-inf")})
    assert caught.value.field == "score"
    assert Contact("c@example.com", properties={"age": 9, "score": 0.5}).shape is seen.shape


odd_values = st.one_of(
    st.none(),
    st.text(max_size=3),
    st.integers(),
    st.booleans(),
    st.floats(),
    st.dates(),
    st.datetimes(),
    st.sampled_from([b"x", [1], {"a": 1}]),
)


@given(st.dictionaries(st.sampled_from(["a", "b", "", 7]), odd_values, max_size=3), st.integers(1, 3))
def test_contacts_of_any_shape_are_checked_every_time(properties: dict[Any, Any], times: int) -> None:
    """Whether the shape is new or already seen, the verdict is the per-value check's."""
    allowed = all(
        isinstance(name, str)
        and name
        and isinstance(value, (str, int, float, date, type(None)))
        and not (isinstance(value, float) and not math.isfinite(value))
        for name, value in properties.items()
    )
    for _ in range(times):
        if allowed:
            contact = Contact("a@example.com", "Ann Lee", properties)
            assert (contact.email, contact.name, dict(contact.properties)) == ("a@example.com", "Ann Lee", properties)
            assert contact.shape.names == tuple(properties)
            assert contact.shape.kinds == tuple(map(type, properties.values()))
        else:
            with pytest.raises(InvalidInput):
                Contact("a@example.com", "Ann Lee", properties)


class Float64(float):
    """A float subclass, as numpy's float64 is one."""


class Count(enum.IntEnum):
    ONE = 1


class Word(str, enum.Enum):
    HELLO = "hello"


def test_a_lone_surrogate_in_the_name_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInput, match="lone surrogate") as caught:
        Contact("b@example.com", name="Ann \ud800")
    assert caught.value.field == "name"


def test_a_lone_surrogate_in_a_property_is_refused_naming_the_field_on_every_shape() -> None:
    Contact("a@example.com", properties={"note": "fine", "city": "Lyon"})  # the shape is seen, and cached
    for text in ("\udfff", "Lyon \ud83d", "é\udc80"):
        with pytest.raises(InvalidInput, match="lone surrogate") as caught:
            Contact("b@example.com", properties={"note": "fine", "city": text})
        assert caught.value.field == "city"


def test_a_lone_surrogate_in_a_property_name_is_refused() -> None:
    with pytest.raises(InvalidInput, match="lone surrogate"):
        Contact("b@example.com", properties={"ci\udcfft\u00e9": "x"})


def test_a_float_subclass_that_is_not_finite_is_refused_on_a_shape_already_seen() -> None:
    Contact("a@example.com", properties={"score": Float64(42.0)})
    for value in (Float64("nan"), Float64("inf")):
        with pytest.raises(InvalidInput) as caught:
            Contact("b@example.com", properties={"score": value})
        assert caught.value.field == "score"


class _Moment(datetime):
    """A datetime subclass, as pandas' Timestamp is one."""


def test_values_of_subclasses_are_stored_as_the_property_types_themselves() -> None:
    odd: dict[str, PropertyValue] = {
        "score": Float64(2.5),
        "count": Count.ONE,
        "word": Word.HELLO,
        "at": _Moment.fromtimestamp(0, timezone.utc),
    }
    for _ in range(2):  # the new shape, then the remembered one
        contact = Contact("a@example.com", name=Word.HELLO, properties=odd)
        assert dict(contact.properties) == {"score": 2.5, "count": 1, "word": "hello", "at": odd["at"]}
        assert [type(v) for v in contact.properties.values()] == [float, int, str, datetime]
        assert type(contact.name) is str and contact.name == "hello"
        assert contact.shape.kinds == (float, int, str, datetime)


def test_a_mapping_proxy_given_as_properties_is_copied() -> None:
    source: dict[str, PropertyValue] = {"city": "Lyon"}
    contact = Contact("a@example.com", properties=MappingProxyType(source))
    source["city"] = "Rome"
    source["injected"] = float("nan")
    assert dict(contact.properties) == {"city": "Lyon"}


def test_contact_refuses_a_non_string_name() -> None:
    with pytest.raises(InvalidInput, match="name"):
        Contact("a@example.com", name=5)  # type: ignore[arg-type]


def test_equal_contacts_hash_alike() -> None:
    one = Contact("A@example.com", "A", {"x": 1, "y": 2})
    two = Contact("a@example.com", "A", {"y": 2, "x": 1})
    assert one == two
    assert hash(one) == hash(two)


def test_subscription_actions_have_exactly_the_wire_values() -> None:
    assert [a.value for a in SubscriptionAction] == ["addforce", "addnoforce", "remove", "unsub"]
    assert ListSubscription(7, "unsub") == ListSubscription("7", SubscriptionAction.UNSUBSCRIBE)


def test_import_status_has_exactly_eight_members() -> None:
    assert [s.name for s in ImportStatus] == [
        "PENDING",
        "RUNNING",
        "COMPLETED",
        "COMPLETED_WITH_ERRORS",
        "FAILED",
        "REJECTED",
        "CANCELLED",
        "UNKNOWN",
    ]


def test_terminal_and_success_statuses() -> None:
    terminal = {s for s in ImportStatus if s.is_terminal}
    assert terminal == {
        ImportStatus.COMPLETED,
        ImportStatus.COMPLETED_WITH_ERRORS,
        ImportStatus.FAILED,
        ImportStatus.REJECTED,
        ImportStatus.CANCELLED,
    }
    assert {s for s in ImportStatus if s.is_success} == {ImportStatus.COMPLETED, ImportStatus.COMPLETED_WITH_ERRORS}


def test_field_definition_takes_type_values() -> None:
    assert FieldDefinition("age", "number").type is FieldType.NUMBER


def _part(job_id: str, status: ImportStatus, *, requested: int = 0, created: int = 0, **more: int) -> ImportJob:
    return ImportJob(
        "p", job_id, status, status.value.upper(), requested, created, more.get("updated", 0), more.get("errored", 0)
    )


@given(st.lists(st.sampled_from(list(ImportStatus)), min_size=1, max_size=6))
def test_aggregate_is_unfinished_while_any_part_is(statuses: list[ImportStatus]) -> None:
    combined = aggregate_status(statuses)
    assert combined.is_terminal is all(s.is_terminal for s in statuses)
    if all(s is ImportStatus.COMPLETED for s in statuses):
        assert combined is ImportStatus.COMPLETED


def test_aggregate_of_finished_parts_is_the_worst() -> None:
    done, partial, failed = ImportStatus.COMPLETED, ImportStatus.COMPLETED_WITH_ERRORS, ImportStatus.FAILED
    assert aggregate_status([done, partial]) is partial
    assert aggregate_status([partial, failed, done]) is failed
    assert aggregate_status([done, ImportStatus.PENDING]) is ImportStatus.RUNNING
    assert aggregate_status([ImportStatus.PENDING, ImportStatus.PENDING]) is ImportStatus.PENDING
    assert aggregate_status([done], local_errors=True) is partial
    assert aggregate_status([]) is done


def test_combined_job_sums_counts_and_keeps_its_parts() -> None:
    parts = [
        _part("1", ImportStatus.COMPLETED, requested=3, created=2, updated=1),
        _part("2", ImportStatus.COMPLETED_WITH_ERRORS, requested=3, created=1, errored=2),
    ]
    local = (RowError("x", 7, "email", "bad"),)
    job = ImportJob.combine("p", parts, local)
    assert (job.id, job.status, job.provider_status) == (
        "1,2",
        ImportStatus.COMPLETED_WITH_ERRORS,
        "COMPLETED_WITH_ERRORS",
    )
    assert (job.requested, job.created, job.updated, job.errored, job.accepted) == (7, 3, 1, 3, 4)
    assert job.parts == tuple(parts)
    assert job.local_errors == local


def test_a_single_part_is_the_job_itself() -> None:
    part = _part("1", ImportStatus.RUNNING)
    assert ImportJob.combine("p", [part]) is part


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (True, FieldType.BOOLEAN),
        (3, FieldType.INTEGER),
        (2.5, FieldType.NUMBER),
        (datetime(2024, 1, 2, 3, 4), FieldType.DATETIME),
        (date(2024, 1, 2), FieldType.DATE),
        ("x", FieldType.TEXT),
    ],
)
def test_each_property_value_calls_for_one_field_type(value: PropertyValue, expected: FieldType | None) -> None:
    assert field_type_of(value) is expected
