"""Our SendGrid client against the sandbox: imports on both routes, errors by row, lists, fields, subscriptions."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta, timezone

import pytest
from werkzeug.wrappers import Request, Response

import contactsync
from contactsync import (
    Contact,
    FieldDefinition,
    FieldType,
    ImportStatus,
    ListSubscription,
    RowError,
    SubscriptionAction,
)
from contactsync.errors import (
    AuthenticationError,
    ConfigurationError,
    RateLimited,
    UnrepresentableValue,
    UnsupportedAction,
)
from contactsync.http import RateLimitRetry
from contactsync.model import PropertyValue
from contactsync.providers.sendgrid.provider import SendGridProvider
from contactsync.providers.sendgrid.translate import contact_from_wire
from contactsync.sandbox import Sandbox
from contactsync.sandbox.sendgrid import STORAGE, SendGridEmulator

BAD_PHONE_EVERY = 97
BOOL_EVERY = 101
GIVEN_ERROR_AT = 50


def people(n: int) -> Iterator[Contact | RowError]:
    """Contacts with a custom field of each type; some rows SendGrid rejects, some we cannot send, one given bad."""
    start = datetime(2021, 2, 11, 23, 3, 3, tzinfo=timezone.utc)
    for i in range(1, n + 1):
        if i == GIVEN_ERROR_AT:
            yield RowError("broken", None, "email", "the reader rejected it")
            continue
        properties: dict[str, PropertyValue] = {
            "city": f"City {i % 7}",
            "note": f"note {i}",
            "score": i if i % 2 else i + 0.5,
            "joined": date(2020, 1, 1) + timedelta(days=i % 365) if i % 3 else start + timedelta(minutes=i),
        }
        if i % BAD_PHONE_EVERY == 0:
            properties["phone_number"] = "000"  # reference/sendgrid.md §3: 202, then rejected inside the job
        if i % BOOL_EVERY == 0:
            properties["vip"] = True  # no boolean type and no policy: refused before sending
        yield Contact(f"Person{i}@Example.com", name=f"Person {i}", properties=properties)


def expected_errors(n: int) -> dict[int, str]:
    rows = dict.fromkeys(range(BAD_PHONE_EVERY, n + 1, BAD_PHONE_EVERY), "phone_number")
    rows.update(dict.fromkeys(range(BOOL_EVERY, n + 1, BOOL_EVERY), "vip"))
    rows[GIVEN_ERROR_AT] = "email"
    return rows


def read_back(client: SendGridProvider, emails: Sequence[str]) -> dict[str, Contact]:
    """Every stored contact among ``emails``, read through our client (search by email, fields by name)."""
    book = client.field_book()
    return {email: contact_from_wire(d, book) for email, d in client.memberships().search(emails).items()}


def check_import(client: SendGridProvider, sandbox: Sandbox, n: int, route: str | None) -> None:
    """Import ``n`` people; every row is accepted and readable back, or reported with its row number."""
    job = client.wait(client.import_contacts(people(n), route=route), timeout=600)
    errors = {e.row: e for e in client.import_errors(job)}
    wanted = expected_errors(n)
    assert {row: e.field for row, e in errors.items()} == wanted
    assert job.status is ImportStatus.COMPLETED_WITH_ERRORS
    assert job.accepted == n - len(wanted)
    for recorded in sandbox.requests:
        if recorded.path.startswith(f"/{STORAGE}/"):
            assert "Authorization" not in recorded.headers, recorded.path
    storage = {r.method for r in sandbox.requests if r.path.startswith(f"/{STORAGE}/")}
    assert storage == ({"GET"} if route == "json" else {"PUT", "GET"})  # None: large inputs take the CSV route
    sent = [c for i, c in enumerate(people(n), start=1) if i not in wanted and isinstance(c, Contact)]
    assert len(sent) == n - len(wanted)
    stored = read_back(client, [c.email for c in sent])
    assert [stored.get(c.email) for c in sent] == sent


@pytest.mark.parametrize("route", ["json", "csv"])
def test_import_with_every_field_type_reads_back_and_reports_rows(
    client: SendGridProvider, sandbox: Sandbox, route: str
) -> None:
    check_import(client, sandbox, 1_000, route)


@pytest.mark.slow
def test_import_of_200000_contacts(client: SendGridProvider, sandbox: Sandbox) -> None:
    check_import(client, sandbox, 200_000, None)


def test_large_inputs_take_the_csv_route_in_files_of_25000(client: SendGridProvider, sandbox: Sandbox) -> None:
    contacts = (Contact(f"c{i}@example.com") for i in range(30_001))
    job = client.import_contacts(contacts)
    assert [p.requested for p in job.parts] == [25_000, 5_001] and job.requested == 30_001
    assert [r.method for r in sandbox.requests if r.path.startswith(f"/{STORAGE}/uploads/")] == ["PUT", "PUT"]
    assert client.wait(job).status is ImportStatus.COMPLETED


def test_json_batches_stay_within_30000_contacts(client: SendGridProvider) -> None:
    job = client.import_contacts((Contact(f"c{i}@example.com") for i in range(30_001)), route="json")
    assert [p.requested for p in job.parts] == [30_000, 1]
    assert client.wait(job).created == 30_001


def test_refresh_by_job_id_and_import_errors_without_rows(client: SendGridProvider) -> None:
    contacts = [Contact("a@example.com", properties={"phone_number": "000"}), Contact("b@example.com")]
    job = client.wait(client.import_contacts(contacts))
    again = client.refresh(job.id)
    assert again.status is ImportStatus.COMPLETED_WITH_ERRORS and again.provider_status == "errored"
    assert [(e.email, e.row, e.field) for e in client.import_errors(job.id)] == [
        ("a@example.com", None, "phone_number")
    ]


def test_emails_are_lower_cased_and_upserts_are_idempotent(
    client: SendGridProvider, emulator: SendGridEmulator
) -> None:
    for _ in range(2):
        client.wait(client.import_contacts([Contact("Mixed@Example.COM", name="Ann")]))
    assert [c["email"] for c in emulator.contacts()] == ["mixed@example.com"]
    assert client.get_contact("MIXED@example.com") == Contact("mixed@example.com", name="Ann")
    assert client.get_contact("nobody@example.com") is None


def test_lists_are_paginated(client: SendGridProvider, emulator: SendGridEmulator, sandbox: Sandbox) -> None:
    for i in range(1_001):
        list_id = str(uuid.uuid4())
        emulator.state["lists"][list_id] = {"id": list_id, "name": f"L{i}"}
    created = client.create_list("Newsletter")
    names = {lst.id: lst.name for lst in client.lists()}
    assert len(names) == 1_002 and names[created] == "Newsletter"
    assert sum(1 for r in sandbox.requests if r.method == "GET" and r.path.endswith("/marketing/lists")) == 2


def test_fields_are_created_with_sendgrid_types(client: SendGridProvider) -> None:
    made = client.ensure_fields(
        [FieldDefinition("age", FieldType.INTEGER), FieldDefinition("seen", FieldType.DATETIME), FieldDefinition("t")]
    )
    assert [f.type for f in made] == [FieldType.NUMBER, FieldType.DATE, FieldType.TEXT]
    assert client.ensure_fields([FieldDefinition("AGE", FieldType.NUMBER)])[0].name == "age"
    assert {f.name for f in client.fields()} >= {"age", "seen", "t", "first_name", "city", "email"}
    with pytest.raises(UnrepresentableValue):
        client.ensure_fields([FieldDefinition("flag", FieldType.BOOLEAN)])


def test_reserved_fields_are_fields(client: SendGridProvider, sandbox: Sandbox) -> None:
    """Issue 12, item 1: ensure_fields with first_name or city failed with "a field named city already exists"."""
    wanted = [FieldDefinition("first_name"), FieldDefinition("city"), FieldDefinition("last_opened", FieldType.DATE)]
    assert client.ensure_fields(wanted) == [FieldDefinition("first_name"), FieldDefinition("city"), wanted[2]]
    assert client.create_field(FieldDefinition("city")) == FieldDefinition("city")
    assert not [r for r in sandbox.requests if r.method == "POST" and r.path.endswith("/field_definitions")]
    with pytest.raises(UnrepresentableValue, match="already has this field as text"):
        client.ensure_fields([FieldDefinition("city", FieldType.NUMBER)])


@pytest.mark.parametrize("name", ["EMAIL", "Email", "email", "first_name", "created_at", "City"])
def test_a_property_named_as_a_reserved_field_is_one_row_error(client: SendGridProvider, name: str) -> None:
    """Issue 12, item 1: a property named EMAIL (any case) failed the whole import before any row was sent."""
    contacts = [Contact("a@example.com", properties={name: "x"}), Contact("b@example.com", properties={"t": "y"})]
    job = client.wait(client.import_contacts(contacts))
    assert [(e.row, e.field) for e in job.local_errors] == [(1, name)]
    assert (job.accepted, job.errored, job.requested) == (1, 1, 2)


@pytest.mark.parametrize(("policy", "stored"), [("text", "true"), ("number", 1)])
def test_booleans_follow_the_client_policy(sandbox: Sandbox, policy: str, stored: PropertyValue) -> None:
    client = sandbox.connect("sendgrid", booleans=policy)
    client.wait(client.import_contacts([Contact("a@example.com", properties={"vip": True})]))
    assert client.get_contact("a@example.com") == Contact("a@example.com", properties={"vip": stored})


def test_unsubscribe_is_unsupported_unless_configured(client: SendGridProvider, sandbox: Sandbox) -> None:
    assert SubscriptionAction.UNSUBSCRIBE not in client.capabilities.actions
    with pytest.raises(UnsupportedAction, match="unsubscribe_groups"):
        client.manage_subscriptions("a@example.com", [ListSubscription("l", SubscriptionAction.UNSUBSCRIBE)])
    configured = sandbox.connect("sendgrid", global_unsubscribe=True)
    assert SubscriptionAction.UNSUBSCRIBE in configured.capabilities.actions
    assert SubscriptionAction.UNSUBSCRIBE not in SendGridProvider.capabilities.actions


def test_add_remove_and_group_unsubscribe(sandbox: Sandbox, emulator: SendGridEmulator) -> None:
    plain = sandbox.connect("sendgrid")
    news, offers = plain.create_list("News"), plain.create_list("Offers")
    gid = plain.transport.json("POST", "/v3/asm/groups", json={"name": "News"})["id"]
    client = sandbox.connect("sendgrid", unsubscribe_groups={news: gid})
    email = "a@example.com"
    client.manage_subscriptions(email, [ListSubscription(news), ListSubscription(offers)])
    assert {(m.list_id, m.subscribed) for m in client.get_subscriptions(email)} == {(news, True), (offers, True)}
    client.manage_subscriptions(email, [ListSubscription(offers, SubscriptionAction.REMOVE)])
    client.manage_subscriptions(email, [ListSubscription(news, SubscriptionAction.UNSUBSCRIBE)])
    assert [(m.list_id, m.subscribed) for m in client.get_subscriptions(email)] == [(news, False)]
    assert email in emulator.state["group_suppressions"][str(gid)]
    with pytest.raises(UnsupportedAction):  # only the mapped list can be unsubscribed from
        client.manage_subscriptions(email, [ListSubscription(offers, SubscriptionAction.UNSUBSCRIBE)])
    client.manage_subscriptions(email, [ListSubscription(news, SubscriptionAction.ADD_FORCE)])
    assert [(m.list_id, m.subscribed) for m in client.get_subscriptions(email)] == [(news, True)]
    assert email not in emulator.state["group_suppressions"][str(gid)]


def test_global_unsubscribe_and_add_force_on_import(sandbox: Sandbox, emulator: SendGridEmulator) -> None:
    client = sandbox.connect("sendgrid", global_unsubscribe=True)
    news = client.create_list("News")
    client.manage_subscriptions("a@example.com", [ListSubscription(news, SubscriptionAction.UNSUBSCRIBE)])
    assert [(m.list_id, m.subscribed) for m in client.get_subscriptions("a@example.com")] == [(news, False)]
    contacts = [Contact("a@example.com"), Contact("b@example.com")]
    client.wait(client.import_contacts(contacts, [ListSubscription(news, SubscriptionAction.ADD_NO_FORCE)]))
    assert "a@example.com" in emulator.state["global_suppressions"]
    client.wait(client.import_contacts(contacts, [ListSubscription(news, SubscriptionAction.ADD_FORCE)]))
    assert emulator.state["global_suppressions"] == {}
    assert {c["email"] for c in emulator.contacts(news)} == {"a@example.com", "b@example.com"}


def test_remove_on_import_takes_contacts_off_the_list(client: SendGridProvider, emulator: SendGridEmulator) -> None:
    news = client.create_list("News")
    contacts = [Contact(f"c{i}@example.com") for i in range(150)]
    client.wait(client.import_contacts(contacts, [ListSubscription(news)]))
    assert len(emulator.contacts(news)) == 150
    client.wait(client.import_contacts(contacts[:120], [ListSubscription(news, SubscriptionAction.REMOVE)]))
    assert len(emulator.contacts(news)) == 30 and len(emulator.contacts()) == 150


def test_credentials_come_from_the_environment_and_never_show(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = sandbox.credentials("sendgrid")["api_key"]
    monkeypatch.setenv("SENDGRID_API_KEY", key)
    client = contactsync.connect("sendgrid", base_url=sandbox.base_url("sendgrid"))
    assert client.lists() == [] and key not in repr(client)
    monkeypatch.delenv("SENDGRID_API_KEY")
    with pytest.raises(ConfigurationError):
        contactsync.connect("sendgrid")
    wrong = contactsync.connect("sendgrid", api_key="SG.wrong", base_url=sandbox.base_url("sendgrid"))
    with pytest.raises(AuthenticationError, match="authorization required"):
        wrong.lists()


class RateLimitedFirst(SendGridEmulator):
    """Answers SendGrid's 429 to the first ``refusals`` requests."""

    def __init__(self, refusals: int) -> None:
        super().__init__()
        self.refusals = refusals

    def handle(self, request: Request, path: str) -> Response:
        if self.refusals:
            self.refusals -= 1
            return self.rate_limited(0)
        return super().handle(request, path)


def test_rate_limits_are_waited_out() -> None:
    with Sandbox([RateLimitedFirst(2)]) as sandbox:
        assert sandbox.connect("sendgrid").lists() == []
        assert len(sandbox.requests) == 3
    with Sandbox([RateLimitedFirst(10)]) as sandbox:
        client = sandbox.connect("sendgrid", retry=RateLimitRetry(total=1, status_forcelist={429}))
        with pytest.raises(RateLimited, match="too many requests") as raised:
            client.lists()
        assert raised.value.retry_after == 0


@pytest.mark.parametrize("name", ["First Name", "VIP?", "2nd", "", "x" * 101, "é"])
def test_a_name_sendgrid_cannot_take_is_refused_naming_it(name: str) -> None:
    client = contactsync.connect("sendgrid", api_key="SG.key-0001", base_url="http://127.0.0.1:9/sendgrid")
    with pytest.raises(UnrepresentableValue) as caught:
        client.check_property_name(name)
    assert caught.value.field == name


@pytest.mark.parametrize("name", ["city", "_2nd", "vip", "x" * 100])
def test_a_name_sendgrid_takes_passes(name: str) -> None:
    client = contactsync.connect("sendgrid", api_key="SG.key-0001", base_url="http://127.0.0.1:9/sendgrid")
    client.check_property_name(name)
