"""The read-back clauses of the conformance suite: ``members()``, the events a sandbox recipient causes, deletes.

Mixed into :class:`~contactsync.testing.suite.ProviderSuite`, so every provider and plugin runs
them through its emulator. Each test skips by the provider's declared
:class:`~contactsync.provider.Capabilities` (``reads_members``, ``member_dates``,
``event_types``, ``deletes``); what a provider does not declare must raise
:class:`~contactsync.errors.UnsupportedAction`. The event tests make recipients act with
:meth:`Sandbox.simulate <contactsync.sandbox.Sandbox.simulate>`, and skip, saying so, for an
emulator that simulates none.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contactsync.errors import InvalidInput, NotFound, UnsupportedAction
from contactsync.model import Contact, EventType, ImportJob, ListMember, ListSubscription, SubscriptionAction
from contactsync.provider import Provider
from contactsync.sandbox import Sandbox, SimulatedEvent

__all__ = ["ACROSS_PAGES", "CAUSES", "UNDECLARED", "UNKNOWN_LIST", "ReadbackSuite"]

ACROSS_PAGES = 2_100
"""Members enough for more than two pages of 1,000 (Mailjet's and dotmailer's largest)."""
UNKNOWN_LIST = "424242"
"""A list id no fresh account holds (the suite's other unknown-list test uses it too)."""
CAUSES: dict[EventType, tuple[str, bool]] = {
    EventType.UNSUBSCRIBED: ("unsubscribe", True),
    EventType.SUBSCRIBED: ("resubscribe", True),
    EventType.BOUNCED: ("bounce", False),
    EventType.COMPLAINED: ("spam", False),
    EventType.BLOCKED: ("block", False),
}
"""The :meth:`Sandbox.simulate <contactsync.sandbox.Sandbox.simulate>` event that causes each EventType, and whether
it is made on the list (an unsubscribe, a resubscribe) rather than account-wide."""
UNDECLARED: dict[str, tuple[Callable[[Any], bool], Callable[[Provider], object]]] = {
    "members": (lambda c: c.reads_members, lambda client: list(client.members(UNKNOWN_LIST))),
    "events": (lambda c: bool(c.event_types), lambda client: list(client.events_since(datetime.now(timezone.utc)))),
    "delete contacts": (lambda c: "contacts" in c.deletes, lambda client: client.delete_contacts(["a@example.com"])),
    "delete lists": (lambda c: "lists" in c.deletes, lambda client: client.delete_list(UNKNOWN_LIST)),
}
"""Each read-back call: whether the capabilities declare it, and the call."""


def _held_lists(client: Provider, emails: Iterator[str]) -> st.SearchStrategy[list[Contact]]:
    from contactsync.testing.suite import held_contacts  # the suite imports this module: imported when run

    return st.lists(held_contacts(client.capabilities, emails), min_size=1, max_size=3)


def _same(given: Contact, read: Contact | None) -> bool:
    from contactsync.testing.suite import _same_contact

    return _same_contact(given, read)


def _aware(moment: datetime | None) -> bool:
    return moment is not None and moment.utcoffset() is not None


class ReadbackSuite:
    """The read-back tests of :class:`~contactsync.testing.suite.ProviderSuite` (its fixtures and helpers)."""

    examples: ClassVar[int]

    if TYPE_CHECKING:  # ProviderSuite's helpers, which these tests use

        @staticmethod
        def emails(prefix: str = "c") -> Iterator[str]: ...

        @staticmethod
        def finish(client: Provider, job: ImportJob) -> ImportJob: ...

        @staticmethod
        def require(condition: bool, declaration: str) -> None: ...

        @staticmethod
        def sent(sandbox: Sandbox, since: int) -> list[str]: ...

    # -- helpers -----------------------------------------------------------------------------------

    def filled(self, client: Provider, contacts: list[Contact]) -> str:
        """A new list holding ``contacts``, imported with ADD_FORCE and waited for; its id."""
        list_id = client.create_list(f"Read back {uuid.uuid4().hex[:8]}")
        job = self.finish(client, client.import_contacts(contacts, [ListSubscription(list_id)]))
        assert job.accepted == len(contacts) and job.errored == 0, job
        return list_id

    def fresh(self, count: int, prefix: str = "back") -> list[Contact]:
        emails = self.emails(prefix)
        return [Contact(next(emails)) for _ in range(count)]

    @staticmethod
    def simulate(sandbox: Sandbox, email: str, event: str, list_id: str | None = None) -> SimulatedEvent:
        """A recipient of the suite's emulator acts; the test skips for an emulator that simulates none."""
        (name,) = sandbox.emulators
        try:
            return sandbox.simulate(name, email, event, list_id)
        except NotImplementedError as exc:
            pytest.skip(f"the {name} emulator simulates no recipient events (Emulator.simulate): {exc}")

    @staticmethod
    def standing(client: Provider, list_id: str) -> dict[str, ListMember]:
        """The list's members by email, each once."""
        found: dict[str, ListMember] = {}
        for member in client.members(list_id):
            assert member.contact.email not in found, f"{member.contact.email} read back twice"
            found[member.contact.email] = member
        return found

    # -- members() -----------------------------------------------------------------------------------

    def test_members_read_back_every_held_value_as_get_contact_does(self, suite_client: Provider) -> None:
        """Contacts imported with ADD_FORCE read back through ``members(list_id)`` with the email, name, property
        names and values given, as ``get_contact`` reads them, and subscribed."""
        self.require(suite_client.capabilities.reads_members, "reads_members")
        dates = suite_client.capabilities.member_dates
        emails = self.emails("members")

        @settings(
            max_examples=self.examples,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(_held_lists(suite_client, emails))
        def round_trip(contacts: list[Contact]) -> None:
            members = self.standing(suite_client, self.filled(suite_client, contacts))
            assert sorted(members) == sorted(c.email for c in contacts)
            for given_contact in contacts:
                member = members[given_contact.email]
                assert _same(given_contact, member.contact), (given_contact, member)
                assert _same(member.contact, suite_client.get_contact(given_contact.email)), member
                assert member.subscribed and member.unsubscribed_at is None, member
                assert "subscribed_at" not in dates or _aware(member.subscribed_at), member

        round_trip()

    def test_members_stream_across_pages(self, suite_client: Provider) -> None:
        self.require(suite_client.capabilities.reads_members, "reads_members")
        contacts = self.fresh(ACROSS_PAGES, "page")
        members = self.standing(suite_client, self.filled(suite_client, contacts))
        assert set(members) == {c.email for c in contacts}

    def test_members_of_an_empty_list_are_none(self, suite_client: Provider, suite_list: str) -> None:
        self.require(suite_client.capabilities.reads_members, "reads_members")
        assert list(suite_client.members(suite_list)) == []

    def test_members_of_another_list_are_left_out(self, suite_client: Provider) -> None:
        self.require(suite_client.capabilities.reads_members, "reads_members")
        first, second = self.fresh(3, "first"), self.fresh(2, "second")
        list_id = self.filled(suite_client, first)
        self.filled(suite_client, second)
        assert set(self.standing(suite_client, list_id)) == {c.email for c in first}

    def test_members_of_an_unknown_list_raise_not_found(self, suite_client: Provider) -> None:
        self.require(suite_client.capabilities.reads_members, "reads_members")
        with pytest.raises(NotFound):
            list(suite_client.members(UNKNOWN_LIST))

    def test_an_unsubscribe_reads_back_unsubscribed_with_its_data(self, suite_client: Provider) -> None:
        """A member unsubscribed with ``manage_subscriptions`` reads back ``subscribed=False``, its data kept."""
        capabilities = suite_client.capabilities
        self.require(capabilities.reads_members, "reads_members")
        self.require(SubscriptionAction.UNSUBSCRIBE in capabilities.actions, "action unsub")
        emails = self.emails("unsub")
        contacts = [Contact(next(emails), f"Member {n}") for n in range(3)]
        list_id = self.filled(suite_client, contacts)
        gone = contacts[1]
        suite_client.manage_subscriptions(gone.email, [ListSubscription(list_id, SubscriptionAction.UNSUBSCRIBE)])
        members = self.standing(suite_client, list_id)
        assert {email for email, m in members.items() if not m.subscribed} == {gone.email}
        assert _same(gone, members[gone.email].contact)
        if "unsubscribed_at" in capabilities.member_dates:
            assert _aware(members[gone.email].unsubscribed_at), members[gone.email]
        assert all(m.unsubscribed_at is None for m in members.values() if m.subscribed)

    # -- the events recipients cause (Sandbox.simulate) ----------------------------------------------

    def test_a_recipients_unsubscribe_reads_back_in_members(
        self, suite_client: Provider, suite_sandbox: Sandbox
    ) -> None:
        self.require(suite_client.capabilities.reads_members, "reads_members")
        contacts = self.fresh(3, "leaves")
        list_id = self.filled(suite_client, contacts)
        self.simulate(suite_sandbox, contacts[2].email, "unsubscribe", list_id)
        members = self.standing(suite_client, list_id)
        assert {email for email, m in members.items() if not m.subscribed} == {contacts[2].email}

    def test_a_recipients_resubscribe_reads_back_subscribed(
        self, suite_client: Provider, suite_sandbox: Sandbox
    ) -> None:
        self.require(suite_client.capabilities.reads_members, "reads_members")
        contacts = self.fresh(2, "returns")
        list_id = self.filled(suite_client, contacts)
        self.simulate(suite_sandbox, contacts[0].email, "unsubscribe", list_id)
        self.simulate(suite_sandbox, contacts[0].email, "resubscribe", list_id)
        assert all(m.subscribed for m in self.standing(suite_client, list_id).values())

    @pytest.mark.parametrize("kind", list(CAUSES), ids=[kind.value for kind in CAUSES])
    def test_each_declared_event_type_is_found_by_events_since(
        self, suite_client: Provider, suite_sandbox: Sandbox, kind: EventType
    ) -> None:
        """The recipient's action the sandbox causes is found by ``events_since`` with its EventType, for each
        type the provider declares in ``event_types``."""
        self.require(kind in suite_client.capabilities.event_types, f"event_types {kind.value}")
        event, on_list = CAUSES[kind]
        contacts = self.fresh(2, kind.value)
        list_id = self.filled(suite_client, contacts)
        email = contacts[1].email
        if kind is EventType.SUBSCRIBED:
            self.simulate(suite_sandbox, email, "unsubscribe", list_id)
            time.sleep(1.05 - datetime.now(timezone.utc).microsecond / 1e6)  # past the import's second: it
            # reads as a subscribe too (providers record whole seconds)
        before = datetime.now(timezone.utc)
        self.simulate(suite_sandbox, email, event, list_id if on_list else None)
        found = [e for e in suite_client.events_since(before, list_id) if e.type is kind]
        assert [e.email for e in found] == [email], found
        assert found[0].list_id in (list_id, None), found  # None: an account-wide event (SendGrid's unsubscribe)
        at = found[0].at
        assert at is not None and at.utcoffset() is not None and at >= before.replace(microsecond=0), found

    def test_events_are_normalised_and_of_declared_types(self, suite_client: Provider, suite_sandbox: Sandbox) -> None:
        """Whatever recipients do, ``events_since`` reports it normalised, and only as the types declared (what a
        provider cannot find by time, it does not report)."""
        declared = suite_client.capabilities.event_types
        self.require(bool(declared), "event_types")
        acts = [cause for kind, cause in CAUSES.items() if kind is not EventType.SUBSCRIBED]
        contacts = self.fresh(len(acts), "normal")
        list_id = self.filled(suite_client, contacts)
        before = datetime.now(timezone.utc) - timedelta(seconds=1)
        for contact, (action, on_list) in zip(contacts, acts, strict=True):
            self.simulate(suite_sandbox, contact.email, action, list_id if on_list else None)
        found = list(suite_client.events_since(before))
        assert found
        for event in found:
            assert event.provider == suite_client.name, event
            assert event.type in declared, event
            assert event.at is not None and event.at.utcoffset() == timedelta(0), event
            assert event.email == (event.email or "").lower() and event.raw, event

    def test_events_since_a_later_time_are_none(self, suite_client: Provider, suite_sandbox: Sandbox) -> None:
        self.require(bool(suite_client.capabilities.event_types), "event_types")
        contacts = self.fresh(1, "later")
        list_id = self.filled(suite_client, contacts)
        self.simulate(suite_sandbox, contacts[0].email, "unsubscribe", list_id)
        assert list(suite_client.events_since(datetime.now(timezone.utc) + timedelta(hours=1))) == []

    def test_events_since_refuse_a_naive_time(self, suite_client: Provider) -> None:
        self.require(bool(suite_client.capabilities.event_types), "event_types")
        with pytest.raises(InvalidInput, match="timezone-aware"):
            suite_client.events_since(datetime(2026, 11, 1))

    def test_events_of_an_unknown_list_raise_not_found(self, suite_client: Provider) -> None:
        self.require(bool(suite_client.capabilities.event_types), "event_types")
        with pytest.raises(NotFound):
            list(suite_client.events_since(datetime.now(timezone.utc), UNKNOWN_LIST))

    # -- deletes ---------------------------------------------------------------------------------------

    def test_deleted_contacts_are_gone(self, suite_client: Provider) -> None:
        self.require("contacts" in suite_client.capabilities.deletes, "deletes contacts")
        contacts = self.fresh(4, "erase")
        list_id = self.filled(suite_client, contacts)
        suite_client.delete_contacts([contacts[0].email, contacts[2].email.upper()])
        assert suite_client.get_contact(contacts[0].email) is None
        assert suite_client.get_contact(contacts[2].email) is None
        assert suite_client.get_contact(contacts[1].email) is not None
        if suite_client.capabilities.reads_members:
            assert set(self.standing(suite_client, list_id)) == {contacts[1].email, contacts[3].email}

    def test_deleting_unknown_contacts_changes_nothing(self, suite_client: Provider) -> None:
        self.require("contacts" in suite_client.capabilities.deletes, "deletes contacts")
        contacts = self.fresh(2, "kept")
        self.filled(suite_client, contacts)
        suite_client.delete_contacts([f"nobody.{uuid.uuid4().hex[:6]}@example.com"])
        assert all(suite_client.get_contact(c.email) is not None for c in contacts)

    def test_a_contact_a_recipient_unsubscribed_can_be_deleted(
        self, suite_client: Provider, suite_sandbox: Sandbox
    ) -> None:
        self.require("contacts" in suite_client.capabilities.deletes, "deletes contacts")
        contacts = self.fresh(2, "suppressed")
        self.filled(suite_client, contacts)
        self.simulate(suite_sandbox, contacts[0].email, "unsubscribe")  # account-wide: suppressed where there is one
        suite_client.delete_contacts([contacts[0].email])
        assert suite_client.get_contact(contacts[0].email) is None
        assert suite_client.get_contact(contacts[1].email) is not None

    def test_a_deleted_list_is_gone_and_its_contacts_stay(self, suite_client: Provider) -> None:
        self.require("lists" in suite_client.capabilities.deletes, "deletes lists")
        contacts = self.fresh(2, "stay")
        list_id = self.filled(suite_client, contacts)
        suite_client.delete_list(list_id)
        assert list_id not in {item.id for item in suite_client.lists()}
        if suite_client.capabilities.reads_members:
            with pytest.raises(NotFound):
                list(suite_client.members(list_id))
        assert suite_client.get_contact(contacts[0].email) is not None

    def test_deleting_an_unknown_list_raises_not_found(self, suite_client: Provider) -> None:
        self.require("lists" in suite_client.capabilities.deletes, "deletes lists")
        with pytest.raises(NotFound):
            suite_client.delete_list(UNKNOWN_LIST)

    # -- what is not declared ---------------------------------------------------------------------------

    @pytest.mark.parametrize("call", list(UNDECLARED))
    def test_a_read_back_call_not_declared_is_unsupported_before_sending(
        self, suite_client: Provider, suite_sandbox: Sandbox, call: str
    ) -> None:
        declared, make = UNDECLARED[call]
        if declared(suite_client.capabilities):
            pytest.skip(f"declared: {call}")
        before = len(suite_sandbox.requests)
        with pytest.raises(UnsupportedAction):
            make(suite_client)
        assert self.sent(suite_sandbox, before) == []
