"""The conformance suite: the portable contract, proven for one provider through its emulator over real HTTP.

Each test is one clause of the contract (DESIGN.md, "The portable contract"): round trips
of every value the provider declares it holds, refusals before sending for the rest,
duplicates, every action in bulk and per contact, the same exception for the same
mistake, race-safe fields, counts that add up, and every row accounted for when the
input is hostile; and, from :mod:`contactsync.testing.readback`, read-back: ``members()``,
the events the sandbox's recipients cause, deletes. A test of a feature the provider does
not declare skips, saying so.
"""

from __future__ import annotations

import math
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contactsync.errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidInput,
    NotFound,
    UnrepresentableValue,
    UnsupportedAction,
)
from contactsync.model import (
    Contact,
    FieldDefinition,
    FieldType,
    ImportJob,
    ImportStatus,
    ListSubscription,
    PropertyValue,
    RowError,
    SubscriptionAction,
)
from contactsync.provider import Capabilities, InputItem, Provider
from contactsync.registry import connect
from contactsync.sandbox import Emulator, Sandbox
from contactsync.testing.readback import ReadbackSuite

__all__ = ["ProviderSuite", "held_contacts", "held_values", "same_value"]

POLL = 0.02
"""The first pause of ``wait`` in the suite: the emulators finish a job in a few status reads."""
WAIT = 120.0
"""The longest the suite waits for one job."""

_TEXT = st.characters(categories=("L", "M", "N", "P", "S", "Zs"))
"""Letters, marks, digits, punctuation, symbols and spaces: text any provider holds (no control characters)."""
_ZONES = st.integers(min_value=-14 * 4, max_value=14 * 4).map(
    lambda quarters: timezone(timedelta(minutes=15 * quarters))
)
_WHEN = (datetime(1900, 1, 2), datetime(2100, 12, 30))
_NAMES = {kind: f"{kind.value.capitalize()}Value" for kind in FieldType}
"""One property per field type, its name in mixed case (so that a name read back in another case shows)."""


# -- what a provider holds, as hypothesis strategies ----------------------------------------------


def _aware(capabilities: Capabilities) -> st.SearchStrategy[datetime]:
    moments = st.datetimes(min_value=_WHEN[0], max_value=_WHEN[1], timezones=_ZONES).map(
        lambda moment: moment.replace(microsecond=0)
    )
    if capabilities.dates_at_midnight:
        moments = moments.filter(lambda moment: moment.astimezone(timezone.utc).time() != time(0))
    return moments


def held_values(kind: FieldType, capabilities: Capabilities) -> st.SearchStrategy[PropertyValue]:
    """Values of ``kind`` every provider declaring ``kind`` must store and read back equal.

    Text is printable (no control characters), 1 to 100 characters (fewer where
    ``max_text`` says so); integers are within 2**53; datetimes are aware, to the second,
    between 1900 and 2100 (and not at midnight UTC where ``dates_at_midnight``).
    """
    if kind is FieldType.TEXT:
        return st.text(_TEXT, min_size=1, max_size=min(100, capabilities.max_text or 100))
    if kind is FieldType.INTEGER:
        return st.integers(min_value=-(2**53), max_value=2**53)
    if kind is FieldType.NUMBER:
        return st.floats(allow_nan=False, allow_infinity=False)
    if kind is FieldType.BOOLEAN:
        return st.booleans()
    if kind is FieldType.DATE:
        return st.dates(min_value=_WHEN[0].date(), max_value=_WHEN[1].date())
    return _aware(capabilities)


def _held_names() -> st.SearchStrategy[str | None]:
    """Names every provider holds: printable, 1 to 40 characters, no white space at either end."""
    return st.none() | st.text(_TEXT, min_size=1, max_size=40).filter(lambda name: name == name.strip())


def held_contacts(capabilities: Capabilities, emails: Iterator[str]) -> st.SearchStrategy[Contact]:
    """Contacts of fresh addresses whose name and properties (one per declared field type, or none) are held."""
    properties = st.fixed_dictionaries(
        {}, optional={_NAMES[kind]: held_values(kind, capabilities) for kind in sorted(capabilities.field_types)}
    )
    return st.builds(lambda name, values: Contact(next(emails), name, values), _held_names(), properties)


def _any_values() -> st.SearchStrategy[PropertyValue]:
    """Every kind of property value, the awkward ones included: empty or long text, huge integers, naive or
    fractional or midnight datetimes, dates far off, None."""
    return st.one_of(
        st.text(_TEXT, max_size=20),
        st.sampled_from(["", " ", "a ", " a", "x" * 300]),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
        st.dates(),
        st.datetimes(
            min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.one_of(st.none(), _ZONES)
        ),
        st.dates().map(lambda day: datetime.combine(day, time(0), timezone.utc)),
        st.none(),
    )


def same_value(given: PropertyValue, read: PropertyValue) -> bool:
    """Whether a value read back is the one given: equal, and of the same kind (a bool stays a bool, a date a
    date; an integer and a float of equal value count as the same number)."""
    if isinstance(given, bool) or isinstance(read, bool):
        return type(given) is type(read) and given == read
    if isinstance(given, datetime) or isinstance(read, datetime):
        return isinstance(given, datetime) and isinstance(read, datetime) and given == read
    if isinstance(given, date) or isinstance(read, date):
        return type(given) is type(read) and given == read
    if isinstance(given, int | float) and isinstance(read, int | float):
        return given == read
    return type(given) is type(read) and given == read


def _same_contact(given: Contact, read: Contact | None) -> bool:
    if read is None or (read.email, read.name) != (given.email, given.name):
        return False
    expected = {name: value for name, value in given.properties.items() if value is not None}
    return set(read.properties) == set(expected) and all(
        same_value(value, read.properties[name]) for name, value in expected.items()
    )


class _Float(float):
    """A float subclass, as numpy's ``float64`` is one."""


# -- the suite -------------------------------------------------------------------------------------


class ProviderSuite(ReadbackSuite):
    """The conformance suite for one provider: subclass it in a test module, naming the provider and its emulator.

    ``provider`` is the name :func:`contactsync.connect` knows (a built-in, an installed
    plugin, or one given to :func:`contactsync.registry.register`); ``emulator`` the
    :class:`~contactsync.sandbox.Emulator` class serving its API (by default the built-in
    emulator of that name); ``settings`` extra keyword arguments for ``connect``.
    ``examples`` is how many examples each round trip draws (each is an import, a wait and
    a read back); a ``slow``-marked subclass may raise it.
    """

    provider: ClassVar[str]
    emulator: ClassVar[type[Emulator] | None] = None
    settings: ClassVar[Mapping[str, Any]] = {}
    examples: ClassVar[int] = 6

    # -- fixtures ----------------------------------------------------------------------------------

    @pytest.fixture
    def suite_sandbox(self) -> Iterator[Sandbox]:
        """A sandbox serving this provider's emulator alone (by default the built-in one of its name), for one test."""
        with Sandbox([self.emulator() if self.emulator is not None else self.provider]) as sandbox:
            yield sandbox

    @pytest.fixture
    def suite_client(self, suite_sandbox: Sandbox) -> Iterator[Provider]:
        """A client of the sandbox, polling quickly."""
        client: Provider = suite_sandbox.connect(self.provider, poll_interval=POLL, **self.settings)
        with client:
            yield client

    @pytest.fixture
    def suite_list(self, suite_client: Provider) -> str:
        """A new list."""
        return suite_client.create_list(f"Suite {uuid.uuid4().hex[:8]}")

    # -- helpers -----------------------------------------------------------------------------------

    @staticmethod
    def emails(prefix: str = "c") -> Iterator[str]:
        """Fresh addresses, one for each example (so that no example reads another's properties)."""
        tag = uuid.uuid4().hex[:6]
        for number in range(1, 10**9):
            yield f"{prefix}{number}.{tag}@example.com"

    @staticmethod
    def finish(client: Provider, job: ImportJob) -> ImportJob:
        """``wait`` for the job, quickly; the finished job."""
        return client.wait(job, timeout=WAIT, poll_interval=POLL)

    @staticmethod
    def sent(sandbox: Sandbox, since: int) -> list[str]:
        """The methods of the requests that could change the account, made after the first ``since`` requests."""
        return [r.method for r in list(sandbox.requests)[since:] if r.method not in ("GET", "HEAD")]

    @staticmethod
    def accounted(client: Provider, job: ImportJob, rows: int) -> list[RowError]:
        """Check that every row of a finished import is accepted or a row error, the counts adding up."""
        assert job.status.is_terminal, job
        errors = list(client.import_errors(job))
        assert job.requested == rows, job
        assert job.accepted + job.errored == job.requested, job
        assert len(errors) == job.errored, errors
        assert job.created is None or job.updated is None or job.created + job.updated == job.accepted, job
        return errors

    @staticmethod
    def require(condition: bool, declaration: str) -> None:
        """Skip a test whose feature the provider does not declare."""
        if not condition:
            pytest.skip(f"not declared: {declaration}")

    def _import_one(self, client: Provider, contact: Contact) -> tuple[ImportJob, list[RowError]]:
        job = self.finish(client, client.import_contacts([contact]))
        return job, self.accounted(client, job, 1)

    # -- round trips -------------------------------------------------------------------------------

    def test_every_held_value_reads_back_as_given(self, suite_client: Provider) -> None:
        """A contact written by ``import_contacts`` reads back with the same email, name, property names
        (case kept) and equal values, for every value the declared field types hold."""
        capabilities = suite_client.capabilities
        emails = self.emails("held")

        @settings(
            max_examples=self.examples,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(held_contacts(capabilities, emails))
        def round_trip(contact: Contact) -> None:
            job, errors = self._import_one(suite_client, contact)
            assert errors == [] and job.accepted == 1, errors
            assert _same_contact(contact, suite_client.get_contact(contact.email)), contact

        round_trip()

    def test_a_value_is_held_exactly_or_refused_before_sending(
        self, suite_client: Provider, suite_sandbox: Sandbox
    ) -> None:
        """Whatever the value, it reads back equal or is refused before anything is sent, naming the field."""
        emails = self.emails("any")
        names = st.none() | st.text(_TEXT, max_size=60) | st.sampled_from(["", " ", "Ann ", " Ann"])
        kinds = [f"Any{n}" for n in range(3)]  # a few fields, so that a value may meet one of another type

        @settings(
            max_examples=self.examples * 2,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(names, st.sampled_from(kinds), _any_values())
        def held_or_refused(name: str | None, field: str, value: PropertyValue) -> None:
            contact = Contact(next(emails), name, {field: value})
            job, errors = self._import_one(suite_client, contact)
            if job.local_errors:
                assert [e.field for e in job.local_errors] in (["name"], [field]), job.local_errors
                assert suite_client.get_contact(contact.email) is None  # nothing of the row was sent
            else:
                assert errors == [], errors
                assert _same_contact(contact, suite_client.get_contact(contact.email)), contact

        held_or_refused()

    def test_a_naive_datetime_is_refused_before_sending(self, suite_client: Provider, suite_sandbox: Sandbox) -> None:
        contact = Contact(next(self.emails()), properties={"Seen": datetime(2024, 5, 1, 12, 30)})
        before = len(suite_sandbox.requests)
        job = suite_client.import_contacts([contact])
        assert [(e.row, e.field) for e in job.local_errors] == [(1, "Seen")]
        assert job.status is ImportStatus.FAILED
        assert self.sent(suite_sandbox, before) == []

    def test_a_date_reads_back_a_date(self, suite_client: Provider) -> None:
        self.require(FieldType.DATE in suite_client.capabilities.field_types, "field type date")
        contact = Contact(next(self.emails()), properties={"Joined": date(2020, 2, 29)})
        assert self._import_one(suite_client, contact)[1] == []
        read = suite_client.get_contact(contact.email)
        assert read is not None and type(read.properties["Joined"]) is date
        assert read.properties["Joined"] == date(2020, 2, 29)

    def test_a_datetime_at_the_instant_a_date_is_held_as_is_refused(self, suite_client: Provider) -> None:
        capabilities = suite_client.capabilities
        self.require(capabilities.dates_at_midnight, "dates_at_midnight")
        midnight = datetime(2020, 3, 1, 1, tzinfo=timezone(timedelta(hours=1)))  # 00:00 UTC
        job = suite_client.import_contacts([Contact(next(self.emails()), properties={"Seen": midnight})])
        assert [(e.field, "date" in e.message) for e in job.local_errors] == [("Seen", True)]

    def test_an_email_keeps_its_ascii_domain(self, suite_client: Provider) -> None:
        address = f"u{uuid.uuid4().hex[:6]}@xn--mller-kva.de"
        assert self._import_one(suite_client, Contact(address))[1] == []
        read = suite_client.get_contact(address)
        assert read is not None and read.email == address

    # -- duplicates ----------------------------------------------------------------------------------

    def test_the_first_row_of_an_address_is_sent_and_later_rows_name_it(self, suite_client: Provider) -> None:
        emails = self.emails("dup")
        twice, other = next(emails), next(emails)
        rows = [Contact(twice, name="First"), Contact(other), Contact(twice.upper(), name="Second")]
        job = self.finish(suite_client, suite_client.import_contacts(rows))
        errors = self.accounted(suite_client, job, 3)
        assert [(e.row, e.email, e.provider_code) for e in errors] == [(3, twice, "Duplicate")]
        assert "row 1" in errors[0].message
        read = suite_client.get_contact(twice)
        assert read is not None and read.name == "First"

    # -- actions -------------------------------------------------------------------------------------

    def _subscribed(self, client: Provider, email: str, list_id: str) -> bool:
        return any(m.list_id == list_id and m.subscribed for m in client.get_subscriptions(email))

    def _member(self, client: Provider, email: str, list_id: str) -> bool:
        return any(m.list_id == list_id for m in client.get_subscriptions(email))

    def _apply(
        self,
        client: Provider,
        email: str,
        list_id: str,
        action: SubscriptionAction,
        *,
        bulk: bool,
        may_refuse: bool = False,
    ) -> None:
        """Apply one action to one contact, by an import (every row accounted for) or one contact at a time.

        ``may_refuse``: the import may report the row (a provider that leaves an unsubscribed
        contact's data alone says so), as long as it is accounted for.
        """
        subscription = ListSubscription(list_id, action)
        if bulk:
            job = self.finish(client, client.import_contacts([Contact(email)], [subscription]))
            errors = self.accounted(client, job, 1)
            assert errors == [] or may_refuse, job
        else:
            client.manage_subscriptions(email, [subscription])

    def _unsubscribed_first(self, client: Provider, email: str, list_id: str) -> bool:
        """Subscribe then unsubscribe ``email`` one contact at a time, when the provider declares both."""
        actions = client.capabilities.actions
        if SubscriptionAction.UNSUBSCRIBE not in actions:
            return False
        client.manage_subscriptions(email, [ListSubscription(list_id, SubscriptionAction.ADD_NO_FORCE)])
        client.manage_subscriptions(email, [ListSubscription(list_id, SubscriptionAction.UNSUBSCRIBE)])
        assert not self._subscribed(client, email, list_id)
        return True

    @pytest.mark.parametrize("bulk", [True, False], ids=["bulk", "per-contact"])
    @pytest.mark.parametrize("action", list(SubscriptionAction), ids=[a.value for a in SubscriptionAction])
    def test_every_action_works_as_defined_or_is_refused_before_sending(
        self,
        suite_client: Provider,
        suite_sandbox: Sandbox,
        suite_list: str,
        action: SubscriptionAction,
        bulk: bool,
    ) -> None:
        """Each action does what the domain defines, in bulk and per contact, natively or by a follow-up;
        one the provider does not declare raises UnsupportedAction naming the alternative, before sending."""
        capabilities = suite_client.capabilities
        declared = capabilities.actions
        if bulk and capabilities.import_actions is not None:
            declared = capabilities.import_actions
        email = next(self.emails("act"))
        if action not in declared:
            before = len(suite_sandbox.requests)
            with pytest.raises(UnsupportedAction) as refused:
                self._apply(suite_client, email, suite_list, action, bulk=bulk)
            assert str(refused.value)
            assert self.sent(suite_sandbox, before) == []
            return
        if action is SubscriptionAction.ADD_NO_FORCE:
            self._apply(suite_client, email, suite_list, action, bulk=bulk)
            assert self._subscribed(suite_client, email, suite_list)
            if self._unsubscribed_first(suite_client, email, suite_list):
                self._apply(suite_client, email, suite_list, action, bulk=bulk, may_refuse=True)
                assert not self._subscribed(suite_client, email, suite_list)  # an unsubscribe stays
        elif action is SubscriptionAction.ADD_FORCE:
            self._apply(suite_client, email, suite_list, action, bulk=bulk)
            assert self._subscribed(suite_client, email, suite_list)
            if self._unsubscribed_first(suite_client, email, suite_list):
                self._apply(suite_client, email, suite_list, action, bulk=bulk)
                assert self._subscribed(suite_client, email, suite_list)  # resubscribed
        else:
            suite_client.manage_subscriptions(email, [ListSubscription(suite_list, SubscriptionAction.ADD_NO_FORCE)])
            self._apply(suite_client, email, suite_list, action, bulk=bulk)
            assert not self._subscribed(suite_client, email, suite_list)
            if action is SubscriptionAction.REMOVE:
                assert not self._member(suite_client, email, suite_list)

    # -- the same mistake, the same exception -----------------------------------------------------------

    def test_an_unknown_list_is_not_found_before_anything_is_sent(
        self, suite_client: Provider, suite_sandbox: Sandbox, suite_list: str
    ) -> None:
        unknown = ListSubscription("424242", SubscriptionAction.ADD_NO_FORCE)
        before = len(suite_sandbox.requests)
        with pytest.raises(NotFound, match="424242"):
            suite_client.import_contacts([Contact(next(self.emails()))], [unknown])
        with pytest.raises(NotFound, match="424242"):
            suite_client.manage_subscriptions(next(self.emails()), [unknown])
        assert self.sent(suite_sandbox, before) == []

    def test_an_unknown_job_is_not_found_at_once(self, suite_client: Provider) -> None:
        unknown = str(uuid.uuid4())
        with pytest.raises(NotFound):
            suite_client.refresh(unknown)
        with pytest.raises(NotFound):
            suite_client.wait(unknown, timeout=10)

    def test_wrong_credentials_are_an_authentication_error(self, suite_sandbox: Sandbox) -> None:
        credentials = suite_sandbox.credentials(self.provider)
        wrong = {key: value if key == "base_url" else f"{value}-wrong" for key, value in credentials.items()}
        client: Provider = connect(self.provider, **wrong, **self.settings)
        with client, pytest.raises(AuthenticationError) as refused:
            client.lists()
        assert all(f"{value}-wrong" not in str(refused.value) for value in credentials.values())

    def test_an_unknown_setting_is_a_configuration_error(self, suite_sandbox: Sandbox) -> None:
        with pytest.raises(ConfigurationError, match="region_typo"):
            connect(self.provider, **suite_sandbox.credentials(self.provider), region_typo="x")

    # -- fields ----------------------------------------------------------------------------------------

    def test_every_field_the_account_lists_is_ensured_as_it_is(self, suite_client: Provider) -> None:
        """ensure_fields and create_field succeed for existing fields, built-in and reserved ones included."""
        self.require(suite_client.capabilities.field_definitions, "field_definitions")
        suite_client.ensure_fields([FieldDefinition(f"Kept{uuid.uuid4().hex[:6]}", FieldType.TEXT)])
        stored = suite_client.fields()
        assert suite_client.ensure_fields(stored) == stored
        assert [suite_client.create_field(field) for field in stored] == stored

    def test_an_existing_field_of_another_type_is_refused(self, suite_client: Provider) -> None:
        self.require(suite_client.capabilities.field_definitions, "field_definitions")
        self.require(FieldType.BOOLEAN in suite_client.capabilities.field_types, "field type boolean")
        name = f"Flag{uuid.uuid4().hex[:6]}"
        suite_client.ensure_fields([FieldDefinition(name, FieldType.TEXT)])
        with pytest.raises(UnrepresentableValue) as refused:
            suite_client.ensure_fields([FieldDefinition(name, FieldType.BOOLEAN)])
        assert refused.value.field is not None and refused.value.field.lower() == name.lower()

    def test_a_field_created_from_several_threads_at_once_is_created_once(self, suite_client: Provider) -> None:
        """Issue 12, item 2: the loser of a race for a new field failed; "already exists" now means "read it"."""
        self.require(suite_client.capabilities.field_definitions, "field_definitions")
        wanted = FieldDefinition(f"Raced{uuid.uuid4().hex[:6]}", FieldType.TEXT)
        results = self._together(8, lambda: suite_client.ensure_fields([wanted]))
        assert all(result == [FieldDefinition(wanted.name, FieldType.TEXT)] for result in results), results
        assert [f.name for f in suite_client.fields()].count(wanted.name) == 1

    def test_imports_needing_the_same_new_field_at_once_all_go_through(self, suite_client: Provider) -> None:
        """Issue 12, item 2: two imports creating the same property at once: every row of both is accepted."""
        name = f"Shared{uuid.uuid4().hex[:6]}"
        batches = [[Contact(email, properties={name: "x"}) for email in self._some(3)] for _ in range(4)]
        jobs = self._together(
            len(batches), lambda: self.finish(suite_client, suite_client.import_contacts(batches[self._turn()]))
        )
        for job in jobs:
            assert self.accounted(suite_client, job, 3) == [], job
        read = suite_client.get_contact(batches[0][0].email)
        assert read is not None and read.properties == {name: "x"}

    def _some(self, count: int) -> list[str]:
        emails = self.emails("race")
        return [next(emails) for _ in range(count)]

    def _turn(self) -> int:
        with self._turns_lock:
            turn = self._turns
            self._turns += 1
            return turn

    def _together(self, count: int, work: Callable[[], Any]) -> list[Any]:
        """Run ``work`` in ``count`` threads released at the same moment; their results, or the first error."""
        self._turns, self._turns_lock = 0, threading.Lock()
        start = threading.Barrier(count)
        results: list[Any] = [None] * count
        failures: list[BaseException] = []

        def run(at: int) -> None:
            start.wait()
            try:
                results[at] = work()
            except BaseException as exc:  # reported below, in the test's thread
                failures.append(exc)

        threads = [threading.Thread(target=run, args=(at,)) for at in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=WAIT)
        if failures:
            raise failures[0]
        return results

    # -- counts ------------------------------------------------------------------------------------------

    def test_counts_add_up_and_every_row_is_accounted_for(self, suite_client: Provider) -> None:
        emails = self.emails("count")
        good = [Contact(next(emails)) for _ in range(4)]
        rows: list[InputItem] = [
            *good,
            RowError("broken", None, "email", "not an email address"),  # as a file reader hands it over
            Contact(next(emails), properties={"Seen": datetime(2024, 5, 1, 12, 30)}),  # naive: refused
            Contact(good[0].email),  # a duplicate
        ]
        job = self.finish(suite_client, suite_client.import_contacts(rows))
        errors = self.accounted(suite_client, job, len(rows))
        assert sorted(e.row for e in errors if e.row is not None) == [5, 6, 7]
        assert (job.accepted, job.errored) == (4, 3)
        assert job.status is ImportStatus.COMPLETED_WITH_ERRORS

    def test_an_import_with_nothing_accepted_fails(self, suite_client: Provider) -> None:
        rows = [Contact(next(self.emails()), properties={"Seen": datetime(2024, 5, 1, 12, 30)})] * 2
        job = self.finish(suite_client, suite_client.import_contacts(rows))
        self.accounted(suite_client, job, 2)
        assert job.status is ImportStatus.FAILED and not job.status.is_success

    # -- hostile input: every row accounted for ----------------------------------------------------------

    def _accounts_for_every_row(self, client: Provider, values: list[tuple[str | None, PropertyValue]]) -> None:
        emails = self.emails("hostile")
        rows: list[InputItem] = []
        for name, value in values:
            email = next(emails)
            try:
                rows.append(Contact(email, name, {} if value is None else {"Note": value}))
            except InvalidInput as exc:  # the model refused it: the row is an input error, as a reader hands it
                rows.append(RowError(email, None, exc.field, exc.message))
        job = self.finish(client, client.import_contacts(rows))
        errors = self.accounted(client, job, len(rows))
        reported = {e.row for e in errors}
        assert None not in reported, errors
        for row, item in enumerate(rows, start=1):
            if isinstance(item, Contact) and row not in reported:
                assert client.get_contact(item.email) is not None, item

    def test_control_characters_never_fail_the_import(self, suite_client: Provider) -> None:
        self.require(FieldType.TEXT in suite_client.capabilities.field_types, "field type text")
        texts = ["a\x00b", "tab\there", "line\nbreak", "cr\rlf", "bell\x07", "del\x7f", "sep\u2028", "\x1b[31m"]
        self._accounts_for_every_row(suite_client, [(text, text) for text in texts])

    def test_lone_surrogates_never_fail_the_import(self, suite_client: Provider) -> None:
        self._accounts_for_every_row(suite_client, [("a\ud800b", None), (None, "z\udfff"), ("ok", "ok")])

    def test_huge_values_never_fail_the_import(self, suite_client: Provider) -> None:
        self.require(FieldType.TEXT in suite_client.capabilities.field_types, "field type text")
        self._accounts_for_every_row(suite_client, [("N" * 10_000, None), (None, "x" * 300_000), ("ok", "ok")])

    def test_float_subclasses_never_fail_the_import(self, suite_client: Provider) -> None:
        self.require(FieldType.NUMBER in suite_client.capabilities.field_types, "field type number")
        values: list[tuple[str | None, PropertyValue]] = [
            (None, _Float(1.5)),
            (None, _Float(math.nan)),
            (None, _Float(-0.0)),
            (None, 2.5),
        ]
        try:
            import numpy
        except ImportError:  # numpy is a test dependency of contactsync, not of the suite
            pass
        else:
            values += [(None, numpy.float64(3.25)), (None, numpy.float64("nan")), (None, numpy.float64("inf"))]
        self._accounts_for_every_row(suite_client, values)
