"""MailjetProvider against the sandbox: configuration, lists, fields, subscriptions, contacts and imports."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import attrs
import pytest

import contactsync
from contactsync import (
    AuthenticationError,
    ConfigurationError,
    Contact,
    FieldDefinition,
    FieldType,
    ImportStatus,
    InvalidInput,
    ListSubscription,
    NotFound,
    ProviderError,
    RowError,
    SubscriptionAction,
    UnsupportedAction,
)
from contactsync.providers.mailjet import readback as mailjet_readback
from contactsync.providers.mailjet.provider import MailjetProvider
from contactsync.sandbox import Sandbox
from contactsync.sandbox.mailjet import MailjetEmulator

ADD_FORCE, ADD_NO_FORCE = SubscriptionAction.ADD_FORCE, SubscriptionAction.ADD_NO_FORCE
REMOVE, UNSUB = SubscriptionAction.REMOVE, SubscriptionAction.UNSUBSCRIBE


# -- configuration ------------------------------------------------------------------------------


def test_connect_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MJ_APIKEY_PUBLIC", "public-key-1234")
    monkeypatch.setenv("MJ_APIKEY_PRIVATE", "private-key-5678")
    client = contactsync.connect("mailjet")
    assert isinstance(client, MailjetProvider)
    assert client.transport.base_url == "https://api.mailjet.com"
    assert "key-1234" not in repr(client) and "key-5678" not in repr(client)


def test_region_us_and_unknown_region() -> None:
    client = contactsync.connect("mailjet", api_key="k" * 8, secret_key="s" * 8, region="us")
    assert client.transport.base_url == "https://api.us.mailjet.com"
    with pytest.raises(ConfigurationError):
        contactsync.connect("mailjet", api_key="k" * 8, secret_key="s" * 8, region="mars")


def test_missing_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MJ_APIKEY_PUBLIC", raising=False)
    monkeypatch.delenv("MJ_APIKEY_PRIVATE", raising=False)
    with pytest.raises(ConfigurationError, match="MJ_APIKEY_PUBLIC"):
        contactsync.connect("mailjet", api_key="only-the-key")


def test_wrong_credentials_are_refused_without_leaking(mj_sandbox: Sandbox) -> None:
    client = mj_sandbox.connect("mailjet", secret_key="wrong-secret-9876")
    with pytest.raises(AuthenticationError) as raised:
        client.lists()
    assert raised.value.status == 401
    assert "authentication/authorization failure" in raised.value.message
    assert "wrong-secret-9876" not in str(raised.value)


# -- lists and fields ------------------------------------------------------------------------------


def test_create_list_and_list_them(client: MailjetProvider) -> None:
    ids = [client.create_list(f"List {n}") for n in range(3)]
    assert [(lst.id, lst.name) for lst in client.lists()] == [(i, f"List {n}") for n, i in enumerate(ids)]


def test_duplicate_list_name_is_a_provider_error(client: MailjetProvider) -> None:
    client.create_list("Twice")
    with pytest.raises(ProviderError) as raised:
        client.create_list("Twice")
    assert raised.value.status == 400 and raised.value.code == "MJ18"


def test_ensure_fields_creates_every_type(client: MailjetProvider) -> None:
    wanted = [FieldDefinition(t.value, t) for t in FieldType]
    client.ensure_fields(wanted)
    stored = {f.name: f.type for f in client.fields()}
    assert stored == {t.value: FieldType.DATETIME if t is FieldType.DATE else t for t in FieldType}
    client.ensure_fields([FieldDefinition("date", FieldType.DATE)])  # a datetime property serves dates
    with pytest.raises(InvalidInput):
        client.ensure_fields([FieldDefinition("text", FieldType.INTEGER)])


# -- one contact's subscriptions ---------------------------------------------------------------------


def _standing(client: MailjetProvider, email: str) -> dict[str, bool]:
    return {m.list_id: m.subscribed for m in client.get_subscriptions(email)}


def test_the_four_actions_on_one_contact(client: MailjetProvider) -> None:
    news, promo = client.create_list("News"), client.create_list("Promo")
    email = "ada@example.com"
    assert client.get_subscriptions(email) == []
    client.manage_subscriptions(email, [ListSubscription(news, ADD_NO_FORCE), ListSubscription(promo, ADD_FORCE)])
    assert _standing(client, email) == {news: True, promo: True}
    client.manage_subscriptions(email, [ListSubscription(news, UNSUB)])
    assert _standing(client, email) == {news: False, promo: True}
    client.manage_subscriptions(email, [ListSubscription(news, ADD_NO_FORCE)])
    assert _standing(client, email) == {news: False, promo: True}, "addnoforce leaves an unsubscribed contact so"
    client.manage_subscriptions(email, [ListSubscription(news, ADD_FORCE)])
    assert _standing(client, email) == {news: True, promo: True}
    client.manage_subscriptions(email, [ListSubscription(promo, REMOVE)])
    assert _standing(client, email) == {news: True}


def test_an_unknown_list_is_not_found_before_anything_is_sent(client: MailjetProvider, mj_sandbox: Sandbox) -> None:
    """Issue 12, item 6: Mailjet answers an unknown list in ContactsLists with a 400; the client says NotFound."""
    news = client.create_list("News")
    before = len(mj_sandbox.requests)
    with pytest.raises(NotFound, match="999"):
        client.manage_subscriptions("ada@example.com", [ListSubscription(news), ListSubscription("999", ADD_FORCE)])
    with pytest.raises(NotFound, match="999"):
        client.import_contacts([Contact("ada@example.com")], [ListSubscription(news), ListSubscription("999")])
    assert [r.method for r in list(mj_sandbox.requests)[before:]] == ["GET"] * 4  # each list read, nothing sent


# -- imports --------------------------------------------------------------------------------------------

MOMENT = datetime(2024, 2, 29, 13, 14, 15, tzinfo=timezone(timedelta(hours=1)))


def _typed_contact(email: str, name: str | None = "Ada") -> Contact:
    return Contact(
        email,
        name=name,
        properties={"city": "Paris", "age": 36, "score": 9.5, "vip": True, "seen": MOMENT, "born": date(1815, 12, 10)},
    )


def test_import_creates_missing_properties_and_reads_them_back(client: MailjetProvider) -> None:
    news = client.create_list("News")
    job = client.wait(client.import_contacts([_typed_contact("ada@example.com")], [ListSubscription(news)]))
    assert job.status is ImportStatus.COMPLETED and job.accepted == 1
    assert {f.name: f.type for f in client.fields()} == {
        "city": FieldType.TEXT,
        "age": FieldType.INTEGER,
        "score": FieldType.NUMBER,
        "vip": FieldType.BOOLEAN,
        "seen": FieldType.DATETIME,
        "born": FieldType.DATETIME,  # Mailjet has one datetime type; a date is held as its midnight UTC
    }
    back = client.get_contact("ADA@example.com")
    assert back == _typed_contact("ada@example.com")  # and the date reads back a date (issue 12, item 3)
    assert client.get_contact("nobody@example.com") is None


def test_import_without_lists_and_into_many_lists(client: MailjetProvider, emulator: MailjetEmulator) -> None:
    first, second = client.create_list("First"), client.create_list("Second")
    client.wait(client.import_contacts([Contact("solo@example.com")]))
    assert [c["Email"] for c in emulator.contacts()] == ["solo@example.com"]
    client.manage_subscriptions("both@example.com", [ListSubscription(second, ADD_FORCE)])
    client.manage_subscriptions("both@example.com", [ListSubscription(second, UNSUB)])
    subs = [ListSubscription(first, ADD_FORCE), ListSubscription(second, ADD_NO_FORCE)]
    job = client.wait(client.import_contacts([Contact("both@example.com", name="Both")], subs))
    assert job.id.startswith("contact:")
    assert _standing(client, "both@example.com") == {first: True, second: False}


def test_import_with_clearing_a_property(client: MailjetProvider) -> None:
    news = client.create_list("News")
    client.wait(client.import_contacts([Contact("a@example.com", properties={"city": "Rome", "age": 3})]))
    client.wait(client.import_contacts([Contact("a@example.com", properties={"city": None})], [ListSubscription(news)]))
    back = client.get_contact("a@example.com")
    assert back is not None and dict(back.properties) == {"age": 3}


def test_values_that_do_not_fit_the_account_become_row_errors(client: MailjetProvider) -> None:
    client.ensure_fields([FieldDefinition("age", FieldType.INTEGER)])
    contacts = [
        Contact("ok@example.com", properties={"age": 4}),
        Contact("bad@example.com", properties={"age": "four"}),
        Contact("naive@example.com", properties={"when": datetime(2020, 1, 1)}),
    ]
    job = client.wait(client.import_contacts(contacts))
    assert job.status is ImportStatus.COMPLETED_WITH_ERRORS
    assert [(e.row, e.field) for e in client.import_errors(job)] == [(2, "age"), (3, "when")]


def test_provider_reported_errors_come_back_with_their_rows(client: MailjetProvider) -> None:
    # The sandbox accepts ASCII addresses only; email-validator accepts these, so Mailjet's job reports them.
    contacts = [Contact("one@example.com"), Contact("josé@example.com"), Contact("two@example.com")]
    job = client.wait(client.import_contacts(contacts))
    assert (job.status, job.accepted, job.errored) == (ImportStatus.COMPLETED_WITH_ERRORS, 2, 1)
    assert (job.created, job.updated) == (None, None)  # Mailjet does not tell created from updated
    assert [(e.row, e.email) for e in client.import_errors(job)] == [(2, "josé@example.com")]


def test_csv_route_with_datetimes(client: MailjetProvider, emulator: MailjetEmulator) -> None:
    news = client.create_list("News")
    contacts = [
        Contact("a@example.com", properties={"seen": MOMENT, "age": 1, "vip": False}),
        Contact("b@example.com", properties={"age": 2}),
    ]
    job = client.wait(client.import_contacts(contacts, [ListSubscription(news, ADD_FORCE)], route="csv"))
    assert job.id.startswith("csvimport:") and job.status is ImportStatus.COMPLETED
    assert client.get_contact("a@example.com") == Contact(
        "a@example.com", properties={"seen": MOMENT, "age": 1, "vip": False}
    )
    assert sorted(c["Email"] for c in emulator.contacts(news)) == ["a@example.com", "b@example.com"]


def test_rows_the_csv_route_cannot_carry_go_by_json(client: MailjetProvider) -> None:
    """Issue 12, item 10: a name, an empty text or a property to clear cannot travel in the CSV; the row still goes."""
    news = client.create_list("News")
    contacts = [
        Contact("named@example.com", name="Named"),
        Contact("plain@example.com", properties={"note": "x"}),
        Contact("empty@example.com", properties={"note": ""}),
        Contact("cleared@example.com", properties={"note": None}),
    ]
    job = client.wait(client.import_contacts(contacts, [ListSubscription(news)], route="csv"))
    assert job.local_errors == ()
    assert sorted(part.id.split(":")[0] for part in job.parts) == ["contactslist", "csvimport"]
    assert (job.status, job.accepted, job.errored) == (ImportStatus.COMPLETED, 4, 0)
    assert client.get_contact("named@example.com") == Contact("named@example.com", name="Named")
    assert client.get_contact("empty@example.com") == Contact("empty@example.com", properties={"note": ""})
    with pytest.raises(UnsupportedAction):
        client.import_contacts(contacts, [], route="csv")


def test_names_after_the_first_ten_thousand_rows_still_go(client: MailjetProvider, emulator: MailjetEmulator) -> None:
    """Issue 12, item 10: the automatic CSV route (from 10,000 plain contacts) no longer drops later named rows."""
    news = client.create_list("News")
    contacts = [Contact(f"c{n}@example.com") for n in range(10_000)] + [Contact("late@example.com", name="Late")]
    job = client.wait(client.import_contacts(contacts, [ListSubscription(news)]), timeout=600)
    assert job.local_errors == () and list(client.import_errors(job)) == []
    assert job.accepted == 10_001
    assert client.get_contact("late@example.com") == Contact("late@example.com", name="Late")


def test_large_single_list_imports_take_the_csv_route(client: MailjetProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client, "capabilities", attrs.evolve(client.capabilities, file_route_from=5))
    news = client.create_list("News")
    plain = [Contact(f"c{n}@example.com") for n in range(6)]
    assert client.import_contacts(plain, [ListSubscription(news)]).id.startswith("csvimport:")
    named = [Contact(f"n{n}@example.com", name="N") for n in range(6)]
    assert client.import_contacts(named, [ListSubscription(news)]).id.startswith("contactslist:")
    other = client.create_list("Other")
    two = [ListSubscription(news), ListSubscription(other)]
    assert client.import_contacts(plain, two).id.startswith("contact:")


def test_failed_job_reports_every_row(client: MailjetProvider, emulator: MailjetEmulator) -> None:
    emulator.fail_jobs(2)  # wait() sends a failed job's batch once more (docs/reliability.rst); both fail here
    job = client.wait(client.import_contacts([Contact("a@example.com"), Contact("b@example.com")]))
    assert job.status is ImportStatus.FAILED and job.provider_status == "Error"
    assert [e.row for e in client.import_errors(job)] == [1, 2]


def test_extra_is_merged_into_the_body(client: MailjetProvider) -> None:
    job = client.import_contacts([Contact("a@example.com")], extra={"Unknown": 1})
    assert job.status is ImportStatus.FAILED
    errors = list(client.import_errors(job))
    assert len(errors) == 1 and 'has no property "Unknown"' in errors[0].message


def test_refresh_by_job_id_and_bad_ids(client: MailjetProvider) -> None:
    job = client.import_contacts([Contact("a@example.com")])
    assert job.status is ImportStatus.PENDING
    polled = [client.refresh(job.id).provider_status for _ in range(4)]
    assert polled == ["Upload", "Prepare", "Importing", "Completed"]
    with pytest.raises(InvalidInput):
        client.refresh("what:is:this:id")


def test_rate_limits_are_waited_out() -> None:
    with Sandbox(["mailjet"], faults="429:0.4", seed=7) as sandbox:
        client = sandbox.connect("mailjet")
        news = client.create_list("News")
        job = client.wait(client.import_contacts([Contact("a@example.com")], [ListSubscription(news)]))
        assert job.status is ImportStatus.COMPLETED
        assert sandbox.injected["429"] > 0


def test_row_errors_from_a_reader_keep_their_place(client: MailjetProvider) -> None:
    items: list[Contact | RowError] = [
        Contact("a@example.com"),
        RowError("not-an-email", None, "email", "invalid"),
        Contact("b@example.com"),
    ]
    job = client.wait(client.import_contacts(items))
    assert [(e.row, e.email) for e in client.import_errors(job)] == [(2, "not-an-email")]


def test_lists_and_fields_are_read_page_by_page(client: MailjetProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mailjet_readback, "PAGE", 2)
    ids = [client.create_list(f"L{n}") for n in range(5)]
    client.ensure_fields([FieldDefinition(f"f{n}") for n in range(5)])
    assert [lst.id for lst in client.lists()] == ids
    assert len(client.fields()) == 5


def test_addresses_with_plus_and_upper_case(client: MailjetProvider) -> None:
    client.wait(client.import_contacts([Contact("Ada+News@Example.com", name="Ada")]))
    back = client.get_contact("ada+news@example.com")
    assert back == Contact("ada+news@example.com", name="Ada")


def test_plan_import_chooses_like_import(client: MailjetProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client, "capabilities", attrs.evolve(client.capabilities, file_route_from=2))
    news = client.create_list("News")
    contacts = [Contact("a@example.com", properties={"when": MOMENT}), Contact("b@example.com")]
    route, batches, rejected = client.plan_import(contacts, [ListSubscription(news)])
    assert route == "csv" and rejected == []
    assert batches[0]["columns"] == ["email", "when"]
    assert client.plan_import(contacts, [])[0] == "json"
    assert client.fields() == [], "a dry run creates nothing"


def test_emulator_state_survives_a_dump(client: MailjetProvider, emulator: MailjetEmulator) -> None:
    news = client.create_list("News")
    client.wait(client.import_contacts([Contact("a@example.com", properties={"n": 1})], [ListSubscription(news)]))
    copy = MailjetEmulator()
    copy.load(emulator.dump())
    assert copy.contacts(news) == emulator.contacts(news) != []


def test_a_job_that_confirms_fewer_rows_than_it_was_sent_reports_the_others(
    client: MailjetProvider, emulator: MailjetEmulator
) -> None:
    """Issue 12, item 8: a CSV job answered Completed, Count 0, Errcount 0 for 3 rows (the emulator had crashed on
    a 200 KB cell): the rows were neither stored nor reported. Now every row is accepted (and stored) or an error."""
    news = client.create_list("News")
    contacts = [
        Contact("a@example.com", properties={"note": "n"}),
        Contact("b@example.com", properties={"note": "x" * 200_000}),
        Contact("c@example.com", properties={"note": "m"}),
    ]
    job = client.wait(client.import_contacts(contacts, [ListSubscription(news)], route="csv"))
    errors = list(client.import_errors(job))
    assert job.accepted + job.errored == job.requested == 3
    assert len(errors) == job.errored
    reported = {error.row for error in errors}
    stored = {c["Email"] for c in emulator.contacts(news)}
    assert {c.email for row, c in enumerate(contacts, start=1) if row not in reported} <= stored
