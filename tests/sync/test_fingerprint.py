"""Fingerprints: canonical, type-keeping, zone-blind, and read back as they were written."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from contactsync import Contact, SubscriptionAction
from contactsync.model import PropertyValue
from contactsync.sync.fingerprint import canonical, context_salt, fingerprint, restore, row_key

ZONES = st.sampled_from([timezone.utc, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))])
VALUES: st.SearchStrategy[PropertyValue] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.dates(),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=ZONES),
)
NAMES = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=12)
CONTACTS = st.builds(
    Contact,
    email=st.from_regex(r"[a-z]{1,10}@example\.(com|org)", fullmatch=True),
    name=st.none() | st.text(max_size=30),
    properties=st.dictionaries(NAMES, VALUES, max_size=5),
)
ACTIONS = st.sampled_from([SubscriptionAction.ADD_NO_FORCE, SubscriptionAction.ADD_FORCE])


def _same(left: Contact, right: Contact) -> bool:
    """Equal data with equal types (Contact's own == takes 1 == 1.0 == True)."""
    if (left.email, left.name) != (right.email, right.name) or left.properties.keys() != right.properties.keys():
        return False
    return all(
        type(left.properties[k]) is type(right.properties[k]) and left.properties[k] == right.properties[k]
        for k in left.properties
    )


@given(contact=CONTACTS, action=ACTIONS)
def test_a_canonical_contact_reads_back_as_the_same_contact_and_action(
    contact: Contact, action: SubscriptionAction
) -> None:
    restored, restored_action = restore(canonical(contact, action))
    assert _same(restored, contact)
    assert restored_action is action


@given(contact=CONTACTS, data=st.data())
def test_the_order_of_properties_does_not_change_the_fingerprint(contact: Contact, data: st.DataObject) -> None:
    names = data.draw(st.permutations(list(contact.properties)))
    shuffled = Contact(contact.email, contact.name, {name: contact.properties[name] for name in names})
    assert fingerprint(shuffled, SubscriptionAction.ADD_NO_FORCE) == fingerprint(
        contact, SubscriptionAction.ADD_NO_FORCE
    )


@given(contact=CONTACTS, name=NAMES, value=VALUES, other=VALUES)
def test_any_change_to_a_property_changes_the_fingerprint(
    contact: Contact, name: str, value: PropertyValue, other: PropertyValue
) -> None:
    before = Contact(contact.email, contact.name, {**contact.properties, name: value})
    after = Contact(contact.email, contact.name, {**contact.properties, name: other})
    changed = not _same(before, after)
    assert (
        fingerprint(before, SubscriptionAction.ADD_NO_FORCE) != fingerprint(after, SubscriptionAction.ADD_NO_FORCE)
    ) is (changed)


@given(contact=CONTACTS, name=st.none() | st.text(max_size=30))
def test_a_new_name_changes_the_fingerprint(contact: Contact, name: str | None) -> None:
    renamed = Contact(contact.email, name, contact.properties)
    different = renamed.name != contact.name
    assert (
        fingerprint(renamed, SubscriptionAction.ADD_NO_FORCE) != fingerprint(contact, SubscriptionAction.ADD_NO_FORCE)
    ) is (different)


def test_the_subscription_action_is_part_of_the_fingerprint() -> None:
    contact = Contact("a@example.com")
    assert fingerprint(contact, SubscriptionAction.ADD_FORCE) != fingerprint(contact, SubscriptionAction.ADD_NO_FORCE)


def test_values_equal_in_python_but_sent_differently_have_their_own_fingerprints() -> None:
    values: list[PropertyValue] = [1, 1.0, True, "1"]
    fingerprints = {
        fingerprint(Contact("a@example.com", properties={"n": value}), SubscriptionAction.ADD_NO_FORCE)
        for value in values
    }
    assert len(fingerprints) == len(values)


def test_one_instant_in_two_zones_has_one_fingerprint() -> None:
    paris = datetime(2024, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    utc = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    fingerprints = {
        fingerprint(Contact("a@example.com", properties={"at": at}), SubscriptionAction.ADD_NO_FORCE)
        for at in (paris, utc)
    }
    assert len(fingerprints) == 1


def test_a_date_and_midnight_of_that_date_differ() -> None:
    day = fingerprint(Contact("a@example.com", properties={"on": date(2024, 5, 1)}), SubscriptionAction.ADD_NO_FORCE)
    midnight = fingerprint(
        Contact("a@example.com", properties={"on": datetime(2024, 5, 1, tzinfo=timezone.utc)}),
        SubscriptionAction.ADD_NO_FORCE,
    )
    assert day != midnight


@given(cells=st.lists(st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"])), max_size=6))
def test_a_row_key_depends_on_the_cells_and_the_context(cells: list[str]) -> None:
    one, other = context_salt("layout A", "addnoforce"), context_salt("layout B", "addnoforce")
    assert row_key(cells, one) == row_key(list(cells), one)
    assert row_key(cells, one) != row_key(cells, other)
    assert row_key([*cells, "x"], one) != row_key(cells, one)
