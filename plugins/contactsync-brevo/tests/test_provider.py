"""Our Brevo client against its emulator over real HTTP: imports, row errors, lists, fields, subscriptions, reads."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from conftest import Api
from werkzeug.wrappers import Request, Response

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
    RateLimited,
    RowError,
    SubscriptionAction,
    UnrepresentableValue,
    UnsupportedAction,
)
from contactsync.batching import BatchLimits
from contactsync.http import RateLimitRetry
from contactsync.model import PropertyValue
from contactsync.sandbox import Sandbox
from contactsync.sandbox.faults import Faults
from contactsync_brevo.emulator import BrevoEmulator
from contactsync_brevo.provider import BrevoProvider

FIELDS = [
    FieldDefinition("CITY", FieldType.TEXT),
    FieldDefinition("SCORE", FieldType.NUMBER),
    FieldDefinition("VIP", FieldType.BOOLEAN),
    FieldDefinition("JOINED", FieldType.DATE),
]
LOWER_CASE_EVERY = 31
GIVEN_ERROR_AT = 20


def people(n: int) -> Iterator[Contact | RowError]:
    """Contacts with an attribute of each type; some rows we cannot send, one a reader rejected."""
    for i in range(1, n + 1):
        if i == GIVEN_ERROR_AT:
            yield RowError("broken", None, "email", "the reader rejected it")
            continue
        properties: dict[str, PropertyValue] = {
            "CITY": f"City {i % 7}",
            "SCORE": i if i % 2 else i + 0.5,
            "VIP": i % 3 == 0,
            "JOINED": date(2020, 1, 1) + timedelta(days=i),
        }
        if i % LOWER_CASE_EVERY == 0:
            properties["note"] = "lower-case names are not Brevo attributes"
        name = f"Person {i}" if i % 5 else f"Solo{i}"
        yield Contact(f"Person{i}@Example.com", name=name, properties=properties)


def expected_errors(n: int) -> dict[int, str]:
    rows = dict.fromkeys(range(LOWER_CASE_EVERY, n + 1, LOWER_CASE_EVERY), "note")
    rows[GIVEN_ERROR_AT] = "email"
    return rows


@pytest.fixture
def newsletter(client: BrevoProvider) -> str:
    client.ensure_fields(FIELDS)
    return client.create_list("Newsletter")


class RefusingEmulator(BrevoEmulator):
    """Brevo's own address check is not ours: this account counts addresses at one domain invalid."""

    def job_steps(self, key: str) -> Iterator[None]:
        process = self.state["processes"].get(key)
        if process is not None and process["input"] is not None:
            for item in process["input"]["data"]:
                if item["email"].endswith("@refused.example"):
                    item["email"] = "refused"
        yield from super().job_steps(key)


class RecordingEmulator(BrevoEmulator):
    """Keeps the body of every import request."""

    def __init__(self) -> None:
        super().__init__()
        self.bodies: list[Any] = []

    def import_contacts(self, request: Request) -> Response:
        self.bodies.append(request.get_json())
        return super().import_contacts(request)


class SlowResetEmulator(BrevoEmulator):
    """Its rate limit resets in a second."""

    def rate_limited(self, retry_after: int) -> Response:
        return super().rate_limited(1)


# -- imports ---------------------------------------------------------------------------------------


def test_an_import_reads_back_with_every_attribute_type_and_reports_rows(
    client: BrevoProvider, newsletter: str
) -> None:
    n = 200
    job = client.wait(client.import_contacts(people(n), [ListSubscription(newsletter)]))
    wanted = expected_errors(n)
    assert {e.row: e.field for e in client.import_errors(job)} == wanted
    assert (job.status, job.requested) == (ImportStatus.COMPLETED_WITH_ERRORS, n)
    sent = [c for i, c in enumerate(people(n), start=1) if i not in wanted and isinstance(c, Contact)]
    members = {m.contact.email: m for m in client.members(newsletter)}
    assert [members[c.email].contact for c in sent] == sent
    assert all(m.subscribed for m in members.values())
    assert [client.get_contact(c.email) for c in sent[:5]] == sent[:5]


def test_batches_follow_the_routes_limits_and_aggregate(client: BrevoProvider, newsletter: str) -> None:
    limits = BatchLimits(max_items=3, max_bytes=8_000_000)
    client.capabilities = attrs.evolve(client.capabilities, routes={"json": limits})
    job = client.import_contacts((Contact(f"c{i}@example.com") for i in range(7)), [ListSubscription(newsletter)])
    assert [p.requested for p in job.parts] == [3, 3, 1]
    done = client.wait(job)
    assert done.status is ImportStatus.COMPLETED
    assert len(list(client.members(newsletter))) == 7


def test_a_later_row_of_an_address_is_an_error_naming_the_first(client: BrevoProvider, newsletter: str) -> None:
    rows = [Contact("dup@example.com", properties={"CITY": c}) for c in ("Oslo", "Rome", "Kyiv")]
    job = client.wait(client.import_contacts([*rows, Contact("solo@example.com")], [ListSubscription(newsletter)]))
    errors = list(client.import_errors(job))
    assert [(e.row, e.email, e.provider_code) for e in errors] == [
        (2, "dup@example.com", "Duplicate"),
        (3, "dup@example.com", "Duplicate"),
    ]
    assert all("row 1" in e.message for e in errors)
    assert (job.status, job.errored, job.requested) == (ImportStatus.COMPLETED_WITH_ERRORS, 2, 4)
    assert client.get_contact("dup@example.com") == rows[0]


def test_invalid_emails_brevo_counts_are_reported_as_unnamed_rows() -> None:
    emulator = RefusingEmulator()
    with Sandbox([emulator]) as running, running.connect("brevo") as client:
        list_id = client.create_list("L")
        rows = [Contact("a@refused.example"), Contact("b@example.com"), Contact("c@refused.example")]
        job = client.wait(client.import_contacts(rows, [ListSubscription(list_id)]))
        errors = list(client.import_errors(job))
    assert (job.status, job.errored) == (ImportStatus.COMPLETED_WITH_ERRORS, 2)
    assert [(e.row, e.provider_code) for e in errors] == [(None, "invalid_email")] * 2


def test_when_every_row_is_counted_invalid_each_is_traced() -> None:
    with Sandbox([RefusingEmulator()]) as running, running.connect("brevo") as client:
        list_id = client.create_list("L")
        job = client.wait(client.import_contacts([Contact("a@refused.example")], [ListSubscription(list_id)]))
        errors = list(client.import_errors(job))
    assert [(e.row, e.field) for e in errors] == [(1, "email")]


def test_a_failed_process_is_sent_once_more(client: BrevoProvider, emulator: BrevoEmulator, newsletter: str) -> None:
    emulator.fail_next_jobs(1)
    job = client.wait(client.import_contacts([Contact("a@example.com")], [ListSubscription(newsletter)]))
    assert job.status is ImportStatus.COMPLETED
    assert "resubmitted" in job.extra
    assert client.get_contact("a@example.com") == Contact("a@example.com")


def test_a_process_that_fails_twice_reports_every_row_with_brevos_reason(
    client: BrevoProvider, emulator: BrevoEmulator, newsletter: str
) -> None:
    emulator.fail_next_jobs(2)
    job = client.wait(
        client.import_contacts([Contact("a@example.com"), Contact("b@example.com")], [ListSubscription(newsletter)])
    )
    errors = list(client.import_errors(job))
    assert job.status is ImportStatus.FAILED
    assert [e.row for e in errors] == [1, 2]
    assert all("failed" in e.message for e in errors)


def test_addresses_keep_their_form(client: BrevoProvider, newsletter: str) -> None:
    rows = [Contact("  Zoë@Exämple.com "), Contact("ann@xn--exmple-cua.com"), Contact("o'brien+tag@example.com")]
    client.wait(client.import_contacts(rows, [ListSubscription(newsletter)]))
    assert [m.contact for m in client.members(newsletter)] == rows  # as the model normalised them
    assert [client.get_contact(row.email) for row in rows] == rows


def test_refresh_takes_a_job_id(client: BrevoProvider, newsletter: str) -> None:
    job = client.import_contacts([Contact("a@example.com")], [ListSubscription(newsletter)])
    assert client.wait(job.id).status is ImportStatus.COMPLETED
    assert client.refresh(job.id).provider_status == "completed"


def test_an_unknown_list_is_not_found_before_anything_is_sent(client: BrevoProvider, sandbox: Sandbox) -> None:
    for unknown in ("424242", "news"):
        with pytest.raises(NotFound):
            client.import_contacts([Contact("a@example.com")], [ListSubscription(unknown)])
    assert not [r for r in sandbox.requests if r.path.endswith("/import")]


def test_an_unknown_job_is_not_found(client: BrevoProvider) -> None:
    with pytest.raises(NotFound):
        client.refresh("4242")


def test_an_import_into_no_list_names_the_setting(client: BrevoProvider) -> None:
    with pytest.raises(UnsupportedAction, match="import_list"):
        client.import_contacts([Contact("a@example.com")])


def test_import_list_takes_imports_without_a_list(sandbox: Sandbox, api: Api, list_id: int) -> None:
    with sandbox.connect("brevo", import_list=list_id) as client:
        client.wait(client.import_contacts([Contact("a@example.com")]))
        assert [m.contact.email for m in client.members(str(list_id))] == ["a@example.com"]


def test_a_dry_run_sends_nothing(client: BrevoProvider, sandbox: Sandbox, newsletter: str) -> None:
    rows = [Contact("a@example.com"), Contact("a@example.com"), Contact("b@example.com", properties={"x": 1})]
    route, batches, rejected = client.plan_import(rows, [ListSubscription(newsletter)])
    assert (route, [b["contacts"] for b in batches], [e.row for e in rejected]) == ("json", [1], [2, 3])
    assert batches[0]["listIds"] == [int(newsletter)]
    assert not [r for r in sandbox.requests if r.path.endswith("/import")]


def test_the_import_body_upserts_into_the_lists_with_extra_merged_last() -> None:
    emulator = RecordingEmulator()
    with Sandbox([emulator]) as sandbox, sandbox.connect("brevo") as client:
        list_id = client.create_list("L")
        extra = {"notifyUrl": "https://example.com/notify", "updateExistingContacts": False}
        client.wait(client.import_contacts([Contact("a@example.com")], [ListSubscription(list_id)], extra=extra))
    (body,) = emulator.bodies
    assert body == {
        "listIds": [int(list_id)],
        "updateExistingContacts": False,
        "emptyContactsAttributes": False,
        "emailBlacklist": False,
        "disableNotification": True,
        "notifyUrl": "https://example.com/notify",
        "jsonBody": [{"email": "a@example.com"}],
    }


# -- credentials, settings, errors, rate limits -----------------------------------------------------


def test_a_wrong_key_is_an_authentication_error_without_the_key(sandbox: Sandbox) -> None:
    with (
        sandbox.connect("brevo", api_key="xkeysib-wrong-key-0000") as client,
        pytest.raises(AuthenticationError) as raised,
    ):
        client.lists()
    assert raised.value.code == "unauthorized"
    assert "xkeysib-wrong-key-0000" not in str(raised.value)
    assert "xkeysib-wrong-key-0000" not in repr(client)


def test_connect_needs_a_key_and_refuses_unknown_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BREVO_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="BREVO_API_KEY"):
        contactsync.connect("brevo")
    with pytest.raises(ConfigurationError, match="colour"):
        contactsync.connect("brevo", api_key="k", colour="blue")
    with pytest.raises(ConfigurationError, match="import_list"):
        contactsync.connect("brevo", api_key="k", import_list="news")


def test_the_key_comes_from_brevo_api_key(monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox) -> None:
    monkeypatch.setenv("BREVO_API_KEY", sandbox.credentials("brevo")["api_key"])
    with contactsync.connect("brevo", base_url=sandbox.base_url("brevo")) as client:
        assert client.lists() == []


def test_a_rate_limited_request_waits_for_brevos_reset_header() -> None:
    with Sandbox([SlowResetEmulator()], faults=Faults(())) as sandbox, sandbox.connect("brevo") as client:
        assert sandbox.faults is not None
        sandbox.faults.queue("429")
        started = time.monotonic()
        assert client.lists() == []
    assert time.monotonic() - started >= 0.9


def test_exhausted_rate_limits_raise_with_the_reset_as_retry_after() -> None:
    with Sandbox([SlowResetEmulator()], faults=Faults(())) as sandbox:
        assert sandbox.faults is not None
        sandbox.faults.queue("429", "429")
        retry = RateLimitRetry(total=1, status_forcelist={429})
        with sandbox.connect("brevo", retry=retry) as client, pytest.raises(RateLimited) as raised:
            client.lists()
    assert raised.value.retry_after == pytest.approx(1)


def test_a_brevo_error_keeps_its_code_and_message(client: BrevoProvider) -> None:
    client.create_field(FieldDefinition("CITY"))
    with pytest.raises(contactsync.ProviderError) as raised:
        client.transport.json("POST", "/v3/contacts/attributes/normal/CITY", json={"type": "text"})
    assert (raised.value.status, raised.value.code) == (400, "duplicate_parameter")


# -- lists and fields ------------------------------------------------------------------------------


def test_new_lists_go_to_a_folder_made_once(client: BrevoProvider, api: Api) -> None:
    first, second = client.create_list("One"), client.create_list("Two")
    folders = api("GET", "/v3/contacts/folders").json()["folders"]
    assert [f["name"] for f in folders] == ["contactsync"]
    assert {api("GET", f"/v3/contacts/lists/{i}").json()["folderId"] for i in (first, second)} == {folders[0]["id"]}


def test_new_lists_go_to_the_given_folder(sandbox: Sandbox, api: Api) -> None:
    folder = api("POST", "/v3/contacts/folders", json={"name": "Mine"}).json()["id"]
    api("POST", "/v3/contacts/folders", json={"name": "Other"})
    with sandbox.connect("brevo", folder_id=folder) as client:
        list_id = client.create_list("In mine")
    assert api("GET", f"/v3/contacts/lists/{list_id}").json()["folderId"] == folder


def test_lists_page_through_all_of_them(client: BrevoProvider) -> None:
    made = [client.create_list(f"List {i}") for i in range(55)]
    assert [(entry.id, entry.name) for entry in client.lists()] == [(m, f"List {i}") for i, m in enumerate(made)]


def test_a_list_needs_a_name(client: BrevoProvider) -> None:
    with pytest.raises(InvalidInput):
        client.create_list(" ")


def test_delete_list_keeps_the_contacts_and_then_the_list_is_not_found(client: BrevoProvider, newsletter: str) -> None:
    client.wait(client.import_contacts([Contact("a@example.com")], [ListSubscription(newsletter)]))
    client.delete_list(newsletter)
    assert client.get_contact("a@example.com") == Contact("a@example.com")
    with pytest.raises(NotFound):
        client.delete_list(newsletter)
    with pytest.raises(NotFound):
        list(client.members(newsletter))


def test_fields_are_the_normal_attributes_with_their_types(client: BrevoProvider) -> None:
    client.ensure_fields(FIELDS)
    assert set(client.fields()) == {FieldDefinition("FIRSTNAME"), FieldDefinition("LASTNAME"), *FIELDS}


def test_creating_an_existing_field_returns_it_and_checks_its_type(client: BrevoProvider) -> None:
    assert client.create_field(FieldDefinition("SCORE", FieldType.NUMBER)) == FieldDefinition("SCORE", FieldType.NUMBER)
    assert client.create_field(FieldDefinition("SCORE", FieldType.INTEGER)) == FieldDefinition(
        "SCORE", FieldType.NUMBER
    )
    assert client.create_field(FieldDefinition("FIRSTNAME")) == FieldDefinition("FIRSTNAME")
    assert client.create_field(FieldDefinition("EMAIL")) == FieldDefinition("EMAIL")
    with pytest.raises(InvalidInput) as raised:
        client.create_field(FieldDefinition("SCORE", FieldType.TEXT))
    assert raised.value.field == "SCORE"


def test_field_names_must_be_capitals_and_datetimes_have_no_attribute(client: BrevoProvider) -> None:
    with pytest.raises(InvalidInput, match="'CITY'"):
        client.create_field(FieldDefinition("city"))
    with pytest.raises(UnrepresentableValue):
        client.create_field(FieldDefinition("WHEN", FieldType.DATETIME))


# -- one contact's subscriptions --------------------------------------------------------------------


def _blacklisted(api: Api, email: str) -> bool:
    return bool(api("GET", f"/v3/contacts/{email.replace('@', '%40')}").json()["emailBlacklisted"])


def test_addnoforce_creates_the_contact_and_leaves_a_blacklist(
    client: BrevoProvider, api: Api, newsletter: str
) -> None:
    client.manage_subscriptions("New@Example.com", [ListSubscription(newsletter)])
    api("POST", "/v3/contacts", json={"email": "out@example.com", "emailBlacklisted": True})
    client.manage_subscriptions("out@example.com", [ListSubscription(newsletter)])
    assert client.get_subscriptions("new@example.com") == [contactsync.Membership(newsletter, True)]
    assert client.get_subscriptions("out@example.com") == [contactsync.Membership(newsletter, False)]


def test_addforce_lifts_the_blacklist(client: BrevoProvider, api: Api, newsletter: str) -> None:
    api("POST", "/v3/contacts", json={"email": "out@example.com", "emailBlacklisted": True})
    client.manage_subscriptions("out@example.com", [ListSubscription(newsletter, SubscriptionAction.ADD_FORCE)])
    assert client.get_subscriptions("out@example.com") == [contactsync.Membership(newsletter, True)]


def test_remove_takes_the_contact_off_the_list_only(client: BrevoProvider, newsletter: str) -> None:
    other = client.create_list("Other")
    client.manage_subscriptions("a@example.com", [ListSubscription(newsletter), ListSubscription(other)])
    client.manage_subscriptions("a@example.com", [ListSubscription(newsletter, SubscriptionAction.REMOVE)])
    client.manage_subscriptions("nobody@example.com", [ListSubscription(newsletter, SubscriptionAction.REMOVE)])
    assert client.get_subscriptions("a@example.com") == [contactsync.Membership(other, True)]
    assert client.get_contact("nobody@example.com") is None


def test_unsubscribe_names_the_setting_that_enables_it(client: BrevoProvider, newsletter: str) -> None:
    with pytest.raises(UnsupportedAction, match="global_unsubscribe=True"):
        client.manage_subscriptions("a@example.com", [ListSubscription(newsletter, SubscriptionAction.UNSUBSCRIBE)])


def test_a_global_unsubscribe_blacklists_and_keeps_the_contact_on_the_list(
    sandbox: Sandbox, api: Api, list_id: int
) -> None:
    with sandbox.connect("brevo", global_unsubscribe=True) as client:
        client.manage_subscriptions("a@example.com", [ListSubscription(list_id, SubscriptionAction.UNSUBSCRIBE)])
        assert client.get_subscriptions("a@example.com") == [contactsync.Membership(str(list_id), False)]
        with pytest.raises(UnsupportedAction, match="global blacklist"):
            client.manage_subscriptions(
                "a@example.com",
                [ListSubscription(list_id, SubscriptionAction.UNSUBSCRIBE), ListSubscription(list_id)],
            )
    assert _blacklisted(api, "a@example.com")


def test_subscriptions_of_an_unknown_contact_or_list(client: BrevoProvider) -> None:
    assert client.get_subscriptions("nobody@example.com") == []
    assert client.get_contact("nobody@example.com") is None
    with pytest.raises(NotFound):
        client.manage_subscriptions("a@example.com", [ListSubscription("4242")])


# -- every action in bulk ---------------------------------------------------------------------------


def test_a_bulk_addforce_lifts_the_blacklist_of_existing_contacts(
    client: BrevoProvider, api: Api, newsletter: str
) -> None:
    api("POST", "/v3/contacts", json={"email": "out@example.com", "emailBlacklisted": True})
    rows = [Contact("out@example.com"), Contact("new@example.com")]
    client.wait(client.import_contacts(rows, [ListSubscription(newsletter, SubscriptionAction.ADD_FORCE)]))
    assert [(m.contact.email, m.subscribed) for m in client.members(newsletter)] == [
        ("out@example.com", True),
        ("new@example.com", True),
    ]


def test_a_bulk_addforce_into_a_large_account_reads_its_rows_one_by_one(
    client: BrevoProvider, api: Api, sandbox: Sandbox, newsletter: str
) -> None:
    client.wait(
        client.import_contacts((Contact(f"c{i}@example.com") for i in range(1_200)), [ListSubscription(newsletter)])
    )
    api("PUT", "/v3/contacts/c7%40example.com", json={"emailBlacklisted": True})
    sandbox.requests.clear()
    force = [ListSubscription(newsletter, SubscriptionAction.ADD_FORCE)]
    client.wait(client.import_contacts([Contact("c7@example.com")], force))
    listings = [r for r in sandbox.requests if r.method == "GET" and r.path == "/brevo/v3/contacts"]
    assert len(listings) == 1  # the first page tells the account's size; one read of the row costs less than a scan
    assert client.get_subscriptions("c7@example.com") == [contactsync.Membership(newsletter, True)]


def test_a_bulk_addnoforce_leaves_the_blacklist(client: BrevoProvider, api: Api, newsletter: str) -> None:
    api("POST", "/v3/contacts", json={"email": "out@example.com", "emailBlacklisted": True})
    client.wait(client.import_contacts([Contact("out@example.com")], [ListSubscription(newsletter)]))
    assert [(m.contact.email, m.subscribed) for m in client.members(newsletter)] == [("out@example.com", False)]


def test_a_bulk_remove_takes_the_rows_off_the_list(client: BrevoProvider, newsletter: str) -> None:
    other = client.create_list("Other")
    rows = [Contact(f"c{i}@example.com") for i in range(160)]
    client.wait(client.import_contacts(rows, [ListSubscription(newsletter), ListSubscription(other)]))
    removal = [ListSubscription(other, SubscriptionAction.REMOVE), ListSubscription(newsletter)]
    client.wait(client.import_contacts(rows[:155], removal))
    assert [m.contact.email for m in client.members(other)] == [c.email for c in rows[155:]]
    assert len(list(client.members(newsletter))) == 160


def test_a_bulk_global_unsubscribe_blacklists_the_rows(sandbox: Sandbox, api: Api, list_id: int) -> None:
    with sandbox.connect("brevo", global_unsubscribe=True) as client:
        unsub = [ListSubscription(list_id, SubscriptionAction.UNSUBSCRIBE)]
        client.wait(client.import_contacts([Contact("a@example.com")], unsub))
        assert [(m.contact.email, m.subscribed) for m in client.members(str(list_id))] == [("a@example.com", False)]


# -- read-back and deletes --------------------------------------------------------------------------


def test_members_page_through_a_long_list(client: BrevoProvider, newsletter: str) -> None:
    rows = [Contact(f"m{i:04d}@example.com", name=f"M {i}") for i in range(1_050)]
    client.wait(client.import_contacts(rows, [ListSubscription(newsletter)]))
    assert [m.contact for m in client.members(newsletter)] == rows


def test_delete_contacts_erases_them_and_skips_unknown_ones(client: BrevoProvider, newsletter: str) -> None:
    client.wait(
        client.import_contacts([Contact("a@example.com"), Contact("b@example.com")], [ListSubscription(newsletter)])
    )
    client.delete_contacts(["A@example.com", "a@example.com", "nobody@example.com"])
    assert client.get_contact("a@example.com") is None
    assert [m.contact.email for m in client.members(newsletter)] == ["b@example.com"]


def test_events_since_is_unsupported(client: BrevoProvider) -> None:
    with pytest.raises(UnsupportedAction):
        list(client.events_since(datetime.now(timezone.utc)))


def test_capabilities_declare_what_brevo_applies_exactly(sandbox: Sandbox) -> None:
    plain: Any = sandbox.connect("brevo")
    opting_out: Any = sandbox.connect("brevo", global_unsubscribe=True)
    every = set(SubscriptionAction)
    assert every - plain.capabilities.actions == {SubscriptionAction.UNSUBSCRIBE}
    assert opting_out.capabilities.actions == every
    assert BrevoProvider.capabilities.field_types == {
        FieldType.TEXT,
        FieldType.NUMBER,
        FieldType.BOOLEAN,
        FieldType.DATE,
    }
    assert "global_unsubscribe" in BrevoProvider.capabilities.notes["unsub"]
