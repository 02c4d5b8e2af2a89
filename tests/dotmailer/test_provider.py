"""DotmailerProvider against the sandbox: imports, statuses, row errors, subscriptions, lists, fields, regions."""

from __future__ import annotations

import json
import time
from datetime import date, datetime, timezone

import pytest
from werkzeug.wrappers import Request, Response

import contactsync
from contactsync import (
    AuthenticationError,
    ConfigurationError,
    Contact,
    FieldDefinition,
    FieldType,
    ImportStatus,
    ListSubscription,
    ProviderError,
    RowError,
    SubscriptionAction,
    UnsupportedAction,
)
from contactsync.providers.dotmailer import provider as provider_module
from contactsync.providers.dotmailer.provider import DotmailerProvider
from contactsync.sandbox import Sandbox, json_response
from contactsync.sandbox.dotmailer import DotmailerEmulator


def people(count: int, start: int = 0) -> list[Contact]:
    return [
        Contact(f"person{n}@example.com", name=f"Person {n}", properties={"rank": n})
        for n in range(start, start + count)
    ]


def finish(client: DotmailerProvider, job: contactsync.ImportJob) -> contactsync.ImportJob:
    return client.wait(job, timeout=30, poll_interval=0.01)


def test_import_into_a_list_creates_fields_and_reads_back(
    client: DotmailerProvider, emulator: DotmailerEmulator
) -> None:
    book = client.create_list("Newsletter")
    seen = datetime(2024, 3, 1, 9, 30, tzinfo=timezone.utc)
    contacts = [
        Contact("ada@example.com", name="Ada L", properties={"age": 36, "vip": True, "seen": seen, "city": "London"}),
        Contact("bob@example.com", properties={"age": 41.5, "vip": False, "born": date(1980, 2, 3)}),
    ]
    job = client.import_contacts(contacts, [ListSubscription(book)])
    assert job.status is ImportStatus.RUNNING
    job = finish(client, job)
    assert (job.status, job.created, job.updated, job.errored) == (ImportStatus.COMPLETED, 2, 0, 0)
    assert {c["email"] for c in emulator.contacts(book)} == {"ada@example.com", "bob@example.com"}
    types = {f.name: f.type for f in client.fields()}
    assert (types["age"], types["vip"], types["seen"], types["city"]) == (
        FieldType.NUMBER,
        FieldType.BOOLEAN,
        FieldType.DATETIME,
        FieldType.TEXT,
    )
    assert {f["name"] for f in emulator.state["fields"].values()} >= {"AGE", "VIP", "SEEN", "CITY"}  # as stored
    # Issue 12, item 3: names read back as the application gave them, a date as a date.
    assert client.get_contact("ADA@example.com") == contacts[0]
    assert client.get_contact("bob@example.com") == contacts[1]
    assert client.get_subscriptions("ada@example.com") == [contactsync.Membership(book, True)]


def test_a_naive_datetime_is_refused_before_sending(client: DotmailerProvider, dm_sandbox: Sandbox) -> None:
    """Issue 12, item 3: dotmailer took a naive datetime as UTC where Mailjet and SendGrid refuse it."""
    job = client.import_contacts([Contact("a@example.com", properties={"seen": datetime(2024, 3, 1, 9, 30)})])
    assert [(e.row, e.field) for e in job.local_errors] == [(1, "seen")]
    assert "timezone-aware" in job.local_errors[0].message
    assert not [r for r in dm_sandbox.requests if "/contacts/import" in r.path]


def test_another_spelling_of_a_field_this_client_knows_is_refused(client: DotmailerProvider) -> None:
    finish(client, client.import_contacts([Contact("a@example.com", properties={"company": "Acme"})]))
    job = client.import_contacts([Contact("b@example.com", properties={"Company": "Acme"})])
    assert [(e.row, e.field) for e in job.local_errors] == [(1, "Company")]


def test_second_import_updates_and_keeps_values_not_sent(client: DotmailerProvider) -> None:
    finish(client, client.import_contacts([Contact("a@example.com", properties={"city": "Oslo", "age": 3})]))
    job = finish(client, client.import_contacts([Contact("a@example.com", properties={"age": 4})]))
    assert (job.created, job.updated) == (0, 1)
    assert client.get_contact("a@example.com") == Contact("a@example.com", properties={"city": "Oslo", "age": 4})


def test_clearing_needs_the_overwrite_merge_option(client: DotmailerProvider) -> None:
    finish(client, client.import_contacts([Contact("a@example.com", properties={"city": "Oslo"})]))
    job = finish(client, client.import_contacts([Contact("a@example.com", properties={"city": None})]))
    assert [(e.row, e.field) for e in client.import_errors(job)] == [(1, "city")]
    job = client.import_contacts(
        [Contact("a@example.com", properties={"city": None})], extra={"mergeOption": "Overwrite"}
    )
    assert finish(client, job).status is ImportStatus.COMPLETED
    assert client.get_contact("a@example.com") == Contact("a@example.com")


def test_invalid_rows_become_row_errors_with_row_numbers(
    client: DotmailerProvider, emulator: DotmailerEmulator
) -> None:
    book = client.create_list("Rows")
    client.manage_subscriptions("gone@example.com", [ListSubscription(book, SubscriptionAction.UNSUBSCRIBE)])
    rows: list[Contact | RowError] = [
        Contact("ok@example.com"),
        RowError("bad", None, "email", "not an email address"),
        Contact("gone@example.com"),
        Contact("twin@example.com"),
        Contact("ok@example.com", properties={"rank": 2}),
        Contact("twin@example.com"),
        Contact("x@example.com", properties={"n" * 25: 1}),
    ]
    job = finish(client, client.import_contacts(rows, [ListSubscription(book)]))
    assert job.status is ImportStatus.COMPLETED_WITH_ERRORS
    assert (job.requested, job.created, job.errored) == (7, 2, 5)
    errors = sorted(client.import_errors(job), key=lambda e: e.row or 0)
    assert [(e.row, e.provider_code) for e in errors] == [
        (2, None),
        (3, "Unsubscribed"),
        (5, "Duplicate"),
        (6, "Duplicate"),
        (7, None),
    ]
    assert errors[-1].field == "n" * 25


FINAL = [
    ("RejectedByWatchdog", ImportStatus.REJECTED),
    ("ExceedsAllowedContactLimit", ImportStatus.REJECTED),
    ("Failed", ImportStatus.FAILED),
    ("InvalidFileFormat", ImportStatus.FAILED),
    ("NotAvailableInThisVersion", ImportStatus.FAILED),
]


@pytest.mark.parametrize(("raw", "status"), FINAL)
def test_every_forced_final_status_maps(
    client: DotmailerProvider, emulator: DotmailerEmulator, raw: str, status: ImportStatus
) -> None:
    emulator.force_next_import_status(raw)
    job = client.import_contacts(people(3))
    assert (job.status, job.provider_status) == (ImportStatus.RUNNING, "NotFinished")
    job = client.refresh(client.refresh(job))
    assert (job.status, job.provider_status) == (status, raw)
    assert emulator.contacts() == []
    if status.is_terminal:
        errors = list(client.import_errors(job))
        assert [(e.row, e.provider_code) for e in errors] == [(1, raw), (2, raw), (3, raw)]


def test_finished_with_and_without_faults(client: DotmailerProvider, emulator: DotmailerEmulator) -> None:
    clean = finish(client, client.import_contacts(people(2)))
    assert (clean.status, clean.provider_status) == (ImportStatus.COMPLETED, "Finished")
    assert list(client.import_errors(clean)) == []
    emulator.set_status(people(3)[2].email, "HardBounced")
    dirty = finish(client, client.import_contacts(people(3)))
    assert (dirty.status, dirty.provider_status) == (ImportStatus.COMPLETED_WITH_ERRORS, "Finished")
    assert dirty.extra["report"]["globallySuppressed"] == 1
    assert (dirty.accepted, dirty.errored) == (2, 1)


def test_an_unknown_import_id_is_not_found_at_once(client: DotmailerProvider) -> None:
    """Issue 12, item 6: dotmailer answers an id it does not know with status Unknown; wait polled it for an hour."""
    started = time.monotonic()
    with pytest.raises(contactsync.NotFound, match="Unknown"):
        client.wait("00000000-0000-0000-0000-000000000000", timeout=30)
    assert time.monotonic() - started < 5


def test_a_part_whose_import_dotmailer_no_longer_knows_fails_with_its_rows(
    client: DotmailerProvider, emulator: DotmailerEmulator
) -> None:
    emulator.force_next_import_status("Unknown")
    job = client.refresh(client.refresh(client.import_contacts(people(3))))
    assert (job.status, job.provider_status) == (ImportStatus.FAILED, "NotFound")
    assert [e.row for e in client.import_errors(job)] == [1, 2, 3]


def test_small_file_limit_splits_one_import_into_many_jobs(dm_sandbox: Sandbox, emulator: DotmailerEmulator) -> None:
    # 2,000 contacts in 2 kB files: about 60 uploads, more than the 25 active imports allowed at once. With
    # jobs applied only when read, uploads past the 25th are refused until the client's polling ends some.
    emulator.apply_in_background = False
    with dm_sandbox.connect("dotmailer", max_file_bytes=2048) as client:
        assert isinstance(client, DotmailerProvider)
        job = client.import_contacts(people(2000))
        assert len(job.parts) > 25
        uploads = [r for r in dm_sandbox.requests if r.method == "POST" and "/contacts/import" in r.path]
        assert len(uploads) > len(job.parts)  # some were refused (too many active imports) and sent again
        job = finish(client, job)
    assert (job.status, job.created, job.errored) == (ImportStatus.COMPLETED, 2000, 0)
    assert len(emulator.contacts()) == 2000
    assert all(len(p.id) == 36 for p in job.parts)


def test_batch_math_of_the_default_limits() -> None:
    limits = DotmailerProvider.capabilities.routes["csv"]
    assert limits.max_bytes == 9_000_000
    assert provider_module.MAX_FILE_BYTES == 10_000_000


def test_xlsx_route(client: DotmailerProvider, emulator: DotmailerEmulator) -> None:
    job = finish(client, client.import_contacts(people(5), route="xlsx"))
    assert (job.status, job.created) == (ImportStatus.COMPLETED, 5)
    assert sorted(c["dataFields"]["RANK"] for c in emulator.contacts()) == [0, 1, 2, 3, 4]


def test_a_bulk_addforce_resubscribes_the_rows_the_import_reports_unsubscribed(
    client: DotmailerProvider, emulator: DotmailerEmulator
) -> None:
    """Issue 12, item 5: the README's bulk ADD_FORCE failed on dotmailer; the client now runs the follow-up."""
    book = client.create_list("Force")
    gone, other = people(2)
    client.manage_subscriptions(gone.email, [ListSubscription(book, SubscriptionAction.UNSUBSCRIBE)])
    client.manage_subscriptions(other.email, [ListSubscription(book)])
    emulator.set_status(other.email, "Unsubscribed")  # an account-level unsubscribe
    contacts = [Contact(c.email, name="Back", properties={"rank": 7}) for c in (gone, other)] + people(3)[2:]
    job = finish(client, client.import_contacts(contacts, [ListSubscription(book, SubscriptionAction.ADD_FORCE)]))
    assert (job.status, job.accepted, job.errored) == (ImportStatus.COMPLETED, 3, 0)
    assert list(client.import_errors(job)) == []
    assert {c["email"] for c in emulator.contacts(book)} == {c.email for c in contacts}
    assert client.get_contact(gone.email) == contacts[0]  # resubscribed with the data the import carried
    assert client.get_subscriptions(other.email) == [contactsync.Membership(book, True)]


def test_a_bulk_addforce_reports_a_row_dotmailer_cannot_resubscribe(
    client: DotmailerProvider, emulator: DotmailerEmulator
) -> None:
    book = client.create_list("Bounced")
    emulator.set_status("hb@example.com", "HardBounced")
    job = client.import_contacts([Contact("hb@example.com")], [ListSubscription(book, SubscriptionAction.ADD_FORCE)])
    job = finish(client, job)
    assert (job.status, job.accepted, job.errored) == (ImportStatus.FAILED, 0, 1)
    assert [e.provider_code for e in client.import_errors(job)] == ["GloballySuppressed"]


@pytest.mark.parametrize("action", [SubscriptionAction.REMOVE, SubscriptionAction.UNSUBSCRIBE])
def test_a_bulk_remove_or_unsubscribe_imports_then_takes_each_row_off_the_book(
    client: DotmailerProvider, emulator: DotmailerEmulator, action: SubscriptionAction
) -> None:
    book = client.create_list("Off")
    finish(client, client.import_contacts(people(3), [ListSubscription(book)]))
    changed = [Contact(c.email, properties={"rank": 9}) for c in people(2)]
    job = finish(client, client.import_contacts(changed, [ListSubscription(book, action)]))
    assert (job.status, job.accepted, job.errored) == (ImportStatus.COMPLETED, 2, 0)
    assert {c["email"] for c in emulator.contacts(book)} == {people(3)[2].email}
    assert {c["email"]: c["dataFields"]["RANK"] for c in emulator.contacts()}[changed[0].email] == 9
    assert client.get_subscriptions(changed[0].email) == []


def test_one_list_per_import(client: DotmailerProvider) -> None:
    with pytest.raises(UnsupportedAction, match="at most 1"):
        client.import_contacts(people(1), [ListSubscription("1"), ListSubscription("2")])


def test_subscription_actions(client: DotmailerProvider, emulator: DotmailerEmulator) -> None:
    book = client.create_list("Subs")
    email = "sub@example.com"

    def members() -> set[str]:
        return {c["email"] for c in emulator.contacts(book)}

    client.manage_subscriptions(email, [ListSubscription(book, SubscriptionAction.ADD_NO_FORCE)])
    assert members() == {email}
    client.manage_subscriptions(email, [ListSubscription(book, SubscriptionAction.UNSUBSCRIBE)])
    assert members() == set()
    assert client.get_subscriptions(email) == []
    client.manage_subscriptions(email, [ListSubscription(book, SubscriptionAction.ADD_NO_FORCE)])
    assert members() == set()  # addnoforce leaves an unsubscribed contact alone
    client.manage_subscriptions(email, [ListSubscription(book, SubscriptionAction.ADD_FORCE)])
    assert members() == {email}
    client.manage_subscriptions(email, [ListSubscription(book, SubscriptionAction.REMOVE)])
    assert members() == set()
    client.manage_subscriptions(email, [ListSubscription(book, SubscriptionAction.REMOVE)])  # nothing to remove
    client.manage_subscriptions("never@example.com", [ListSubscription(book, SubscriptionAction.REMOVE)])
    assert members() == set()


def test_addforce_resubscribes_an_account_level_unsubscribe(
    client: DotmailerProvider, emulator: DotmailerEmulator
) -> None:
    book = client.create_list("Force")
    client.manage_subscriptions("u@example.com", [ListSubscription(book)])
    emulator.set_status("u@example.com", "Unsubscribed")
    assert client.get_contact("u@example.com") is None
    client.manage_subscriptions("u@example.com", [ListSubscription(book, SubscriptionAction.ADD_FORCE)])
    assert client.get_subscriptions("u@example.com") == [contactsync.Membership(book, True)]


def test_addforce_reports_a_contact_that_cannot_be_unsuppressed(
    client: DotmailerProvider, emulator: DotmailerEmulator
) -> None:
    book = client.create_list("Bounced")
    emulator.set_status("hb@example.com", "HardBounced")
    with pytest.raises(ProviderError) as raised:
        client.manage_subscriptions("hb@example.com", [ListSubscription(book, SubscriptionAction.ADD_FORCE)])
    assert raised.value.code == "ContactCannotBeUnsuppressed"


def test_lists_are_paged_with_select_and_skip(
    client: DotmailerProvider, dm_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(provider_module, "PAGE", 2)
    ids = [client.create_list(f"List {n}") for n in range(5)]
    assert [(item.id, item.name) for item in client.lists()] == [(i, f"List {n}") for n, i in enumerate(ids)]
    pages = [r.query for r in dm_sandbox.requests if r.method == "GET" and r.path.endswith("/address-books")]
    assert pages == ["select=2&skip=0", "select=2&skip=2", "select=2&skip=4"]


def test_duplicate_list_name_is_a_provider_error_with_code(client: DotmailerProvider) -> None:
    client.create_list("Twice")
    with pytest.raises(ProviderError) as raised:
        client.create_list("Twice")
    assert (raised.value.status, raised.value.code) == (400, "ERROR_ADDRESSBOOK_DUPLICATE")


def test_fields_and_ensure_fields(client: DotmailerProvider) -> None:
    made = client.ensure_fields([FieldDefinition("score", FieldType.INTEGER), FieldDefinition("since", FieldType.DATE)])
    assert made == [FieldDefinition("score", FieldType.NUMBER), FieldDefinition("since", FieldType.DATETIME)]
    assert client.create_field(FieldDefinition("score", FieldType.NUMBER)) == FieldDefinition("score", FieldType.NUMBER)
    with pytest.raises(contactsync.UnrepresentableValue):
        client.ensure_fields([FieldDefinition("score", FieldType.BOOLEAN)])
    built_in = client.create_field(FieldDefinition("FIRSTNAME"))  # dotmailer's own data field: read back
    assert built_in == FieldDefinition("FIRSTNAME", FieldType.TEXT)


def test_wrong_password_is_an_authentication_error_without_secrets(dm_sandbox: Sandbox) -> None:
    client = dm_sandbox.connect("dotmailer", password="wrong-password-123")
    with pytest.raises(AuthenticationError) as raised:
        client.lists()
    assert raised.value.status == 401
    assert "Authorization has been denied" in str(raised.value)
    assert "wrong-password-123" not in str(raised.value) + repr(client)


def test_non_json_404_is_not_found(client: DotmailerProvider) -> None:
    with pytest.raises(contactsync.NotFound) as raised:
        client.api().json("GET", "/v2/no-such-route")
    assert raised.value.code is None


def test_rate_limits_are_retried(emulator: DotmailerEmulator) -> None:
    with Sandbox([emulator], faults="429:0.5", seed=3) as sb:
        client = sb.connect("dotmailer")
        book = client.create_list("Throttled")
        assert [item.id for item in client.lists()] == [book]
        assert sb.injected["429"] > 0


def test_rate_limited_answer_has_the_tiered_headers(emulator: DotmailerEmulator) -> None:
    response = emulator.rate_limited(7)
    headers = {k.lower(): v for k, v in response.headers.items()}
    assert response.status_code == 429
    assert (headers["x-ratelimit-reset"], "x-ratelimit-limit" in headers, "x-ratelimit-scope" in headers) == (
        "7",
        True,
        True,
    )


def test_discovery_reads_the_api_endpoint(dm_sandbox: Sandbox, emulator: DotmailerEmulator) -> None:
    base = dm_sandbox.base_url("dotmailer")
    client = contactsync.connect("dotmailer", **emulator.credentials(), discovery_url=base + "/v2/account-info")
    assert isinstance(client, DotmailerProvider)
    dm_sandbox.requests.clear()
    assert client.lists() == []
    assert [r.path for r in dm_sandbox.requests] == ["/dotmailer/v2/account-info", "/dotmailer/v2/address-books"]
    assert client.transport.base_url == base


class _PointingEmulator(DotmailerEmulator):
    """A dotmailer account whose account-info names whatever endpoint the test sets."""

    endpoint = ""

    def account_info(self, request: Request) -> Response:
        answer = super().account_info(request)
        body = json.loads(answer.get_data())
        for item in body["properties"]:
            if item["name"] == "ApiEndpoint":
                item["value"] = self.endpoint
        return json_response(body)


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://127.0.0.1:{other}/dotmailer/",  # the same host name on another port
        "http://r1-api.dotdigital.com/",  # a dotdigital host, but plain http
        "https://r1-api.dotdigital.com:8443/",  # a dotdigital host on another port
        "https://api.example.com/",  # another host altogether
        "https://evil.example/#.dotdigital.com",
    ],
)
def test_discovery_sends_no_credentials_to_an_endpoint_outside_dotdigital(endpoint: str) -> None:
    pointing = _PointingEmulator()
    with Sandbox([pointing]) as home, Sandbox(["dotmailer"]) as other:
        pointing.endpoint = endpoint.format(other=other.url.rsplit(":", 1)[1])
        client = contactsync.connect(
            "dotmailer", **pointing.credentials(), discovery_url=home.base_url("dotmailer") + "/v2/account-info"
        )
        with pytest.raises(ProviderError, match="no credentials are sent there"):
            client.lists()
    assert not other.requests
    assert [r.path for r in home.requests] == ["/dotmailer/v2/account-info"]


def test_discovery_takes_a_dotdigital_https_endpoint() -> None:
    pointing = _PointingEmulator()
    pointing.endpoint = "https://r3-api.dotdigital.com/"
    with Sandbox([pointing]) as home:
        client = contactsync.connect(
            "dotmailer", **pointing.credentials(), discovery_url=home.base_url("dotmailer") + "/v2/account-info"
        )
        client.api()  # type: ignore[attr-defined]
    assert client.transport.base_url == "https://r3-api.dotdigital.com"


def test_regions_and_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    client = DotmailerProvider("user@apiconnector.com", "secret-pass", region="r2")
    assert client.transport.base_url == "https://r2-api.dotdigital.com"
    monkeypatch.setenv("DOTMAILER_USERNAME", "env-user")
    monkeypatch.setenv("DOTMAILER_PASSWORD", "env-pass")
    assert DotmailerProvider(base_url="https://r3-api.dotdigital.com").transport.base_url.startswith("https://r3")
    with pytest.raises(ConfigurationError):
        DotmailerProvider(region="r9")
    with pytest.raises(ConfigurationError):
        DotmailerProvider(region="r1", base_url="https://r1-api.dotdigital.com")
    monkeypatch.delenv("DOTMAILER_PASSWORD")
    with pytest.raises(ConfigurationError):
        DotmailerProvider()


@pytest.mark.slow
def test_150k_contacts_become_one_aggregated_job(client: DotmailerProvider, emulator: DotmailerEmulator) -> None:
    book = client.create_list("Big")
    contacts = (
        Contact(
            f"someone.with.a.longer.address{n}@example-domain.com", name=f"Person Number {n}", properties={"rank": n}
        )
        for n in range(150_000)
    )
    job = client.import_contacts(contacts, [ListSubscription(book)])
    assert len(job.parts) >= 2
    job = client.wait(job, timeout=600, poll_interval=0.05)
    assert (job.status, job.created, job.errored, job.requested) == (ImportStatus.COMPLETED, 150_000, 0, 150_000)
    assert len(emulator.contacts(book)) == 150_000


def test_a_control_character_on_the_xlsx_route_is_that_rows_error(
    client: DotmailerProvider, emulator: DotmailerEmulator
) -> None:
    book = client.create_list("Excel")
    contacts = [
        Contact("ann@example.com", properties={"city": "Lyon"}),
        Contact("bob@example.com", properties={"city": "A\x01B"}),
        Contact("cat@example.com", name="C\x1bat"),
    ]
    job = finish(client, client.import_contacts(contacts, [ListSubscription(book)], route="xlsx"))
    errors = list(client.import_errors(job))
    assert [(e.row, e.field) for e in errors] == [(2, "city"), (3, "name")]
    assert "control characters" in errors[0].message
    assert {c["email"] for c in emulator.contacts(book)} == {"ann@example.com"}
