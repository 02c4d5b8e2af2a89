"""Our Brevo client against its emulator over real HTTP: imports, row errors, lists, fields, subscriptions, reads."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import attrs
import pytest
from conftest import Api
from werkzeug.wrappers import Request, Response

import contactsync
from contactsync import (
    ConfigurationError,
    Contact,
    FieldDefinition,
    FieldType,
    ImportStatus,
    InvalidInput,
    ListSubscription,
    NotFound,
    RateLimited,
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
from contactsync_brevo.provider import HOLDING_LIST, BrevoProvider

FIELDS = [
    FieldDefinition("CITY", FieldType.TEXT),
    FieldDefinition("SCORE", FieldType.NUMBER),
    FieldDefinition("VIP", FieldType.BOOLEAN),
    FieldDefinition("JOINED", FieldType.DATE),
]


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


def test_batches_follow_the_routes_limits_and_aggregate(client: BrevoProvider, newsletter: str) -> None:
    limits = BatchLimits(max_items=3, max_bytes=8_000_000)
    client.capabilities = attrs.evolve(client.capabilities, routes={"json": limits})
    job = client.import_contacts((Contact(f"c{i}@example.com") for i in range(7)), [ListSubscription(newsletter)])
    assert [p.requested for p in job.parts] == [3, 3, 1]
    done = client.wait(job)
    assert done.status is ImportStatus.COMPLETED
    assert len(list(client.members(newsletter))) == 7


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


def test_refresh_takes_a_job_id(client: BrevoProvider, newsletter: str) -> None:
    job = client.import_contacts([Contact("a@example.com")], [ListSubscription(newsletter)])
    assert client.wait(job.id).status is ImportStatus.COMPLETED
    assert client.refresh(job.id).provider_status == "completed"


def test_a_list_id_that_is_not_a_number_is_not_found_before_anything_is_sent(
    client: BrevoProvider, sandbox: Sandbox
) -> None:
    with pytest.raises(NotFound, match="numbers"):
        client.import_contacts([Contact("a@example.com")], [ListSubscription("news")])
    assert not [r for r in sandbox.requests if r.method != "GET"]


def test_an_import_into_no_list_goes_to_one_holding_list(client: BrevoProvider, sandbox: Sandbox) -> None:
    client.wait(client.import_contacts([Contact("a@example.com")]))
    client.wait(client.import_contacts([Contact("b@example.com")]))
    with sandbox.connect("brevo") as other:
        other.wait(other.import_contacts([Contact("c@example.com")]))
    (holding,) = [item for item in client.lists() if item.name == HOLDING_LIST]
    assert [m.contact.email for m in client.members(holding.id)] == ["a@example.com", "b@example.com", "c@example.com"]


def test_import_list_takes_imports_without_a_list(sandbox: Sandbox, api: Api, list_id: int) -> None:
    with sandbox.connect("brevo", import_list=list_id) as client:
        client.wait(client.import_contacts([Contact("a@example.com")]))
        assert [m.contact.email for m in client.members(str(list_id))] == ["a@example.com"]


def test_a_dry_run_sends_nothing(client: BrevoProvider, sandbox: Sandbox, newsletter: str) -> None:
    rows = [Contact("a@example.com"), Contact("a@example.com"), Contact("b@example.com", properties={"X": None})]
    before = len(sandbox.requests)
    route, batches, rejected = client.plan_import(rows, [ListSubscription(newsletter)])
    assert (route, [b["contacts"] for b in batches], [e.row for e in rejected]) == ("json", [1], [2, 3])
    assert batches[0]["listIds"] == [int(newsletter)]
    _, batches, _ = client.plan_import([Contact("c@example.com", properties={"New": 1})])
    assert batches[0]["listIds"] == f"the list {HOLDING_LIST!r}"
    assert not [r for r in list(sandbox.requests)[before:] if r.method != "GET"]
    assert "NEW" not in {a["name"] for a in sandbox.emulators["brevo"].state["attributes"]}


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


def test_connect_needs_a_key_and_numeric_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BREVO_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="BREVO_API_KEY"):
        contactsync.connect("brevo")
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
    with pytest.raises(UnrepresentableValue) as raised:
        client.create_field(FieldDefinition("SCORE", FieldType.TEXT))
    assert raised.value.field == "SCORE"
    with pytest.raises(UnrepresentableValue):
        client.create_field(FieldDefinition("WHEN", FieldType.DATETIME))


# -- attribute names ---------------------------------------------------------------------------------


def _attributes(api: Api) -> dict[str, str]:
    return {a["name"]: a["type"] for a in api("GET", "/v3/contacts/attributes").json()["attributes"]}


def test_a_property_is_stored_in_capitals_and_read_back_as_spelled(client: BrevoProvider, api: Api) -> None:
    client.ensure_fields([FieldDefinition("City")])
    client.wait(client.import_contacts([Contact("a@example.com", properties={"City": "Oslo"})]))
    assert "CITY" in _attributes(api) and "City" not in _attributes(api)
    assert api("GET", "/v3/contacts/a%40example.com").json()["attributes"] == {"CITY": "Oslo"}
    assert client.get_contact("a@example.com") == Contact("a@example.com", properties={"City": "Oslo"})
    assert FieldDefinition("City") in client.fields()


def test_an_attribute_made_elsewhere_matches_a_property_of_any_case(client: BrevoProvider, api: Api) -> None:
    api("POST", "/v3/contacts/attributes/normal/CITY", json={"type": "text"})
    client.wait(client.import_contacts([Contact("a@example.com", properties={"city": "Rome"})]))
    assert list(_attributes(api)).count("CITY") == 1
    assert client.get_contact("a@example.com") == Contact("a@example.com", properties={"city": "Rome"})


def test_a_client_that_never_met_a_spelling_reads_brevos(sandbox: Sandbox, client: BrevoProvider) -> None:
    client.wait(client.import_contacts([Contact("a@example.com", properties={"City": "Oslo"})]))
    with sandbox.connect("brevo") as other:
        assert other.get_contact("a@example.com") == Contact("a@example.com", properties={"CITY": "Oslo"})


def test_a_second_spelling_of_a_known_attribute_is_refused_naming_it(client: BrevoProvider) -> None:
    rows = [Contact("a@example.com", properties={"City": "Oslo"}), Contact("b@example.com", properties={"city": "x"})]
    job = client.wait(client.import_contacts(rows))
    assert [(e.row, e.field, "'City'" in e.message) for e in client.import_errors(job)] == [(2, "city", True)]


def test_an_import_creates_the_attributes_it_needs_with_the_values_types(client: BrevoProvider, api: Api) -> None:
    values: dict[str, PropertyValue] = {"Score": 3, "Ratio": 0.5, "Vip": True, "Born": date(1990, 5, 17), "Note": "n"}
    client.wait(client.import_contacts([Contact("a@example.com", properties=values)]))
    types = _attributes(api)
    assert [types[n] for n in ("SCORE", "RATIO", "VIP", "BORN", "NOTE")] == [
        "float",
        "float",
        "boolean",
        "date",
        "text",
    ]
    assert client.get_contact("a@example.com") == Contact("a@example.com", properties=values)


@pytest.mark.parametrize("name", ["first name", "Ville_é", "_x", "FirstName", "Email", "sms"])
def test_names_that_are_no_attribute_of_ours_are_refused_before_sending(client: BrevoProvider, name: str) -> None:
    job = client.import_contacts([Contact("a@example.com", properties={name: "x"})])
    assert [(e.row, e.field) for e in job.local_errors] == [(1, name)]


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


# -- read-back and deletes --------------------------------------------------------------------------


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
    assert BrevoProvider.capabilities.reads_members and BrevoProvider.capabilities.member_dates == frozenset()
    assert BrevoProvider.capabilities.deletes == {"contacts", "lists"}
    assert BrevoProvider.capabilities.event_types == frozenset()  # the reference documents no event log
