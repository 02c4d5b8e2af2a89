"""The Brevo emulator over raw HTTP, behaving as reference/brevo.md says Brevo does (no client code involved)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import pytest
from conftest import Api

from contactsync.sandbox import Sandbox
from contactsync.sandbox.faults import Faults
from contactsync_brevo.emulator import ACCOUNT_EMAIL, MAX_IMPORT_BYTES, BrevoEmulator


def _import(api: Api, list_id: int, contacts: list[dict[str, Any]], **flags: Any) -> dict[str, Any]:
    answer = api("POST", "/v3/contacts/import", json={"jsonBody": contacts, "listIds": [list_id], **flags})
    assert answer.status_code == 202, answer.text
    return api.wait(answer.json()["processId"])


def _contact(api: Api, email: str) -> dict[str, Any]:
    answer = api("GET", f"/v3/contacts/{quote(email, safe='')}")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _attribute(api: Api, name: str, kind: str) -> None:
    assert api("POST", f"/v3/contacts/attributes/normal/{name}", json={"type": kind}).status_code == 201


# -- authentication, errors, rate-limit headers ----------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"api-key": "xkeysib-wrong"}])
def test_a_missing_or_wrong_key_gets_401_unauthorized(sandbox: Sandbox, headers: dict[str, str]) -> None:
    api = Api(sandbox.base_url("brevo"), "")
    api.session.headers.clear()
    api.session.headers.update(headers)
    answer = api("GET", "/v3/contacts/lists")
    assert answer.status_code == 401
    assert answer.json()["code"] == "unauthorized"


def test_errors_carry_a_code_and_a_message(api: Api) -> None:
    body = api("GET", "/v3/contacts/lists/999").json()
    assert set(body) == {"code", "message"}
    assert body["code"] == "document_not_found"


def test_every_answer_carries_the_rate_limit_headers_of_its_bucket(api: Api) -> None:
    contacts = api("GET", "/v3/contacts")
    processes = api("GET", "/v3/processes")
    assert contacts.headers["x-sib-ratelimit-limit"] == "10"
    assert processes.headers["x-sib-ratelimit-limit"] == "100"
    assert {"x-sib-ratelimit-remaining", "x-sib-ratelimit-reset"} <= {h.lower() for h in processes.headers}


def test_an_injected_429_says_when_the_limit_resets(sandbox: Sandbox, api: Api) -> None:
    sandbox.faults = Faults(())
    sandbox.faults.queue("429")
    answer = api("GET", "/v3/contacts")
    assert answer.status_code == 429
    assert answer.headers["x-sib-ratelimit-reset"] == "0"
    assert "Retry-After" not in answer.headers
    assert answer.json()["code"] == "too_many_requests"


# -- the import and its process --------------------------------------------------------------------


def test_an_import_is_a_process_moving_through_brevos_statuses(api: Api, list_id: int) -> None:
    answer = api("POST", "/v3/contacts/import", json={"jsonBody": [{"email": "a@example.com"}], "listIds": [list_id]})
    assert answer.status_code == 202
    process_id = answer.json()["processId"]
    statuses = [api("GET", f"/v3/processes/{process_id}").json()["status"] for _ in range(4)]
    assert statuses == ["queued", "in_process", "completed", "completed"]
    assert _contact(api, "a@example.com")["listIds"] == [list_id]


def test_a_finished_import_reports_its_counts_in_snake_case(api: Api, list_id: int) -> None:
    process = _import(api, list_id, [{"email": "a@example.com"}, {"email": "not-an-address"}, {"nothing": 1}])
    assert process["name"] == "IMPORTUSER"
    assert process["info"]["import"]["invalid_emails"] == 2
    assert process["info"]["import"]["duplicate_email_id"] is None
    assert process["completed_at"] and process["created_at"]


def test_an_import_lands_in_the_background_without_status_reads(
    emulator: BrevoEmulator, api: Api, list_id: int
) -> None:
    api("POST", "/v3/contacts/import", json={"jsonBody": [{"email": "bg@example.com"}], "listIds": [list_id]})
    deadline = time.monotonic() + 10
    while not emulator.contacts() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [c["email"] for c in emulator.contacts()] == ["bg@example.com"]


def test_the_first_row_of_an_address_wins_and_the_repeats_are_listed(api: Api, list_id: int) -> None:
    rows = [{"email": "d@example.com", "attributes": {"FIRSTNAME": first}} for first in ("Ann", "Bob")]
    process = _import(api, list_id, rows)
    url = process["info"]["import"]["duplicate_email_id"]
    assert _contact(api, "d@example.com")["attributes"] == {"FIRSTNAME": "Ann"}
    assert api.session.get(url, timeout=10).text == "EMAIL\nd@example.com\n"


def test_unknown_attributes_and_mistyped_values_are_dropped_silently(api: Api, list_id: int) -> None:
    _attribute(api, "AGE", "float")
    _attribute(api, "BORN", "date")
    attributes = {"AGE": "forty", "BORN": "1989-11-23", "NOPE": "x", "FIRSTNAME": 3, "LASTNAME": "Lee"}
    process = _import(api, list_id, [{"email": "a@example.com", "attributes": attributes}])
    assert process["status"] == "completed"
    assert _contact(api, "a@example.com")["attributes"] == {"BORN": "1989-11-23", "LASTNAME": "Lee"}


def test_the_sandbox_reads_stored_contacts_as_portable_contacts(sandbox: Sandbox, api: Api, list_id: int) -> None:
    _attribute(api, "AGE", "float")
    people = [
        {"email": "ann@example.com", "attributes": {"FIRSTNAME": "Ann", "LASTNAME": "Lee Smith", "AGE": 42}},
        {"email": "bo@example.com", "attributes": {"FIRSTNAME": "Bo"}},
    ]
    _import(api, list_id, people)
    found = {c.email: c for c in sandbox.contacts("brevo", str(list_id))}
    assert (found["ann@example.com"].name, dict(found["ann@example.com"].properties)) == ("Ann Lee Smith", {"AGE": 42})
    assert (found["bo@example.com"].name, dict(found["bo@example.com"].properties)) == ("Bo", {})


def test_a_semicolon_file_body_imports_its_rows(api: Api, list_id: int) -> None:
    _attribute(api, "SCORE", "float")
    body = 'EMAIL;FIRSTNAME;SCORE\n"john.smith@example.com";"John";"4.5"\nellie@example.com;Ellie;7\n'
    answer = api("POST", "/v3/contacts/import", json={"fileBody": body, "listIds": [list_id]})
    assert api.wait(answer.json()["processId"])["status"] == "completed"
    assert _contact(api, "john.smith@example.com")["attributes"] == {"FIRSTNAME": "John", "SCORE": 4.5}
    assert _contact(api, "ellie@example.com")["attributes"] == {"FIRSTNAME": "Ellie", "SCORE": 7}


def test_an_import_needs_exactly_one_source_and_a_list(api: Api, list_id: int) -> None:
    both = api("POST", "/v3/contacts/import", json={"jsonBody": [], "fileBody": "EMAIL\n", "listIds": [list_id]})
    no_list = api("POST", "/v3/contacts/import", json={"jsonBody": [{"email": "a@example.com"}]})
    empty = api("POST", "/v3/contacts/import", json={"jsonBody": [{"email": "a@example.com"}], "listIds": []})
    assert (both.status_code, both.json()["code"]) == (400, "missing_parameter")
    assert (no_list.status_code, no_list.json()["code"]) == (400, "missing_parameter")
    assert empty.status_code == 400


def test_an_import_into_an_unknown_list_is_refused(api: Api) -> None:
    answer = api("POST", "/v3/contacts/import", json={"jsonBody": [{"email": "a@example.com"}], "listIds": [77]})
    assert answer.status_code == 404


def test_an_import_over_10_mb_is_refused(api: Api, list_id: int) -> None:
    rows = [{"email": f"c{i}@example.com", "attributes": {"FIRSTNAME": "x" * 200}} for i in range(50_000)]
    answer = api("POST", "/v3/contacts/import", json={"jsonBody": rows, "listIds": [list_id]})
    assert len(answer.request.body or b"") > MAX_IMPORT_BYTES
    assert (answer.status_code, answer.json()["code"]) == (400, "out_of_range")


def test_new_list_creates_a_list_in_its_folder(api: Api, list_id: int) -> None:
    folder = api("GET", f"/v3/contacts/lists/{list_id}").json()["folderId"]
    rows = [{"email": "n@example.com"}]
    refused = api("POST", "/v3/contacts/import", json={"jsonBody": rows, "newList": {"listName": "New"}})
    answer = api(
        "POST", "/v3/contacts/import", json={"jsonBody": rows, "newList": {"listName": "New", "folderId": folder}}
    )
    api.wait(answer.json()["processId"])
    (new,) = [entry for entry in api("GET", "/v3/contacts/lists").json()["lists"] if entry["name"] == "New"]
    assert refused.status_code == 400
    assert _contact(api, "n@example.com")["listIds"] == [new["id"]]


def test_existing_contacts_are_left_alone_unless_updates_are_on(api: Api, list_id: int) -> None:
    _import(api, list_id, [{"email": "a@example.com", "attributes": {"FIRSTNAME": "Ann"}}])
    _import(
        api, list_id, [{"email": "a@example.com", "attributes": {"FIRSTNAME": "Bob"}}], updateExistingContacts=False
    )
    assert _contact(api, "a@example.com")["attributes"] == {"FIRSTNAME": "Ann"}


def test_empty_values_erase_only_with_empty_contacts_attributes(api: Api, list_id: int) -> None:
    _import(api, list_id, [{"email": "a@example.com", "attributes": {"FIRSTNAME": "Ann", "LASTNAME": "Lee"}}])
    _import(api, list_id, [{"email": "a@example.com", "attributes": {"FIRSTNAME": ""}}])
    kept = _contact(api, "a@example.com")["attributes"]
    _import(api, list_id, [{"email": "a@example.com", "attributes": {"FIRSTNAME": ""}}], emptyContactsAttributes=True)
    assert kept == {"FIRSTNAME": "Ann", "LASTNAME": "Lee"}
    assert _contact(api, "a@example.com")["attributes"] == {"LASTNAME": "Lee"}


def test_email_blacklist_blacklists_every_imported_contact(api: Api, list_id: int) -> None:
    _import(api, list_id, [{"email": "a@example.com"}], emailBlacklist=True)
    contact = _contact(api, "a@example.com")
    assert (contact["emailBlacklisted"], contact["listIds"]) == (True, [list_id])


def test_a_failed_import_applies_nothing_and_says_why(emulator: BrevoEmulator, api: Api, list_id: int) -> None:
    emulator.fail_next_jobs()
    process = _import(api, list_id, [{"email": "a@example.com"}])
    assert process["status"] == "failed"
    assert process["error"]
    assert emulator.contacts() == []


def test_an_unknown_process_is_404_invalid_parameter(api: Api) -> None:
    answer = api("GET", "/v3/processes/4242")
    assert answer.status_code == 404
    assert answer.json() == {"code": "invalid_parameter", "message": "processId is invalid"}


def test_processes_list_newest_first_at_most_50(api: Api, list_id: int) -> None:
    for i in range(3):
        api("POST", "/v3/contacts/import", json={"jsonBody": [{"email": f"p{i}@example.com"}], "listIds": [list_id]})
    listed = api("GET", "/v3/processes", params={"limit": 2}).json()
    assert listed["count"] == 3
    assert [p["id"] for p in listed["processes"]] == [3, 2]
    assert api("GET", "/v3/processes", params={"limit": 51}).status_code == 400


# -- contacts --------------------------------------------------------------------------------------


def test_a_contact_is_created_then_updated_only_when_updates_are_enabled(api: Api) -> None:
    created = api("POST", "/v3/contacts", json={"email": "a@example.com", "attributes": {"FIRSTNAME": "Ann"}})
    again = api("POST", "/v3/contacts", json={"email": "a@example.com"})
    updated = api(
        "POST", "/v3/contacts", json={"email": "a@example.com", "updateEnabled": True, "emailBlacklisted": True}
    )
    assert (created.status_code, set(created.json())) == (201, {"id"})
    assert (again.status_code, again.json()["code"]) == (400, "duplicate_parameter")
    assert updated.status_code == 204
    assert _contact(api, "a@example.com")["emailBlacklisted"] is True


def test_a_contact_is_found_by_percent_encoded_email_or_by_id(api: Api) -> None:
    contact_id = api("POST", "/v3/contacts", json={"email": "a+tag@example.com"}).json()["id"]
    by_email = api("GET", f"/v3/contacts/{quote('a+tag@example.com', safe='')}", params={"identifierType": "email_id"})
    by_id = api("GET", f"/v3/contacts/{contact_id}")
    assert by_email.json()["id"] == by_id.json()["id"] == contact_id
    assert {
        "id",
        "email",
        "emailBlacklisted",
        "smsBlacklisted",
        "createdAt",
        "modifiedAt",
        "listIds",
        "attributes",
    } <= set(by_email.json())


def test_an_unknown_contact_is_404(api: Api) -> None:
    assert api("GET", "/v3/contacts/nobody%40example.com").status_code == 404
    assert api("DELETE", "/v3/contacts/nobody%40example.com").status_code == 404


def test_put_links_and_unlinks_lists_and_sets_the_blacklist(api: Api, list_id: int) -> None:
    api("POST", "/v3/contacts", json={"email": "a@example.com", "listIds": [list_id]})
    answer = api("PUT", "/v3/contacts/a%40example.com", json={"unlinkListIds": [list_id], "emailBlacklisted": True})
    contact = _contact(api, "a@example.com")
    assert answer.status_code == 204
    assert (contact["listIds"], contact["emailBlacklisted"]) == ([], True)


def test_changing_the_email_clears_the_blacklist(api: Api) -> None:
    api("POST", "/v3/contacts", json={"email": "old@example.com", "emailBlacklisted": True})
    api("PUT", "/v3/contacts/old%40example.com", json={"attributes": {"EMAIL": "new@example.com"}})
    assert _contact(api, "new@example.com")["emailBlacklisted"] is False
    assert api("GET", "/v3/contacts/old%40example.com").status_code == 404


def test_the_accounts_own_address_cannot_be_deleted(api: Api) -> None:
    api("POST", "/v3/contacts", json={"email": ACCOUNT_EMAIL})
    assert api("DELETE", f"/v3/contacts/{quote(ACCOUNT_EMAIL, safe='')}").status_code == 405
    assert api("POST", "/v3/contacts", json={"email": "a@example.com"}).status_code == 201
    assert api("DELETE", "/v3/contacts/a%40example.com").status_code == 204


def test_contacts_page_by_offset_at_most_1000_and_filter_by_modification(api: Api) -> None:
    for i in range(3):
        api("POST", "/v3/contacts", json={"email": f"c{i}@example.com"})
    since = api("GET", "/v3/contacts/c2%40example.com").json()["modifiedAt"]
    newest_first = api("GET", "/v3/contacts", params={"limit": 2}).json()
    oldest_first = api("GET", "/v3/contacts", params={"limit": 2, "offset": 1, "sort": "asc"}).json()
    recent = api("GET", "/v3/contacts", params={"modifiedSince": since}).json()
    assert [c["email"] for c in newest_first["contacts"]] == ["c2@example.com", "c1@example.com"]
    assert [c["email"] for c in oldest_first["contacts"]] == ["c1@example.com", "c2@example.com"]
    assert newest_first["count"] == 3
    assert "c2@example.com" in [c["email"] for c in recent["contacts"]]
    assert api("GET", "/v3/contacts", params={"limit": 1001}).status_code == 400
    assert api("GET", "/v3/contacts", params={"modifiedSince": "yesterday"}).status_code == 400


# -- lists and folders -----------------------------------------------------------------------------


def test_a_list_needs_a_name_and_an_existing_folder(api: Api) -> None:
    no_folder = api("POST", "/v3/contacts/lists", json={"name": "L"})
    unknown_folder = api("POST", "/v3/contacts/lists", json={"name": "L", "folderId": 9})
    assert (no_folder.status_code, no_folder.json()["code"]) == (400, "missing_parameter")
    assert unknown_folder.status_code == 400


def test_lists_page_at_most_50(api: Api, list_id: int) -> None:
    listed = api("GET", "/v3/contacts/lists").json()
    assert listed["count"] == 1
    assert listed["lists"][0]["id"] == list_id
    assert {"totalBlacklisted", "totalSubscribers", "uniqueSubscribers", "folderId"} <= set(listed["lists"][0])
    assert api("GET", "/v3/contacts/lists", params={"limit": 51}).status_code == 400


def test_list_add_and_remove_report_success_and_failure_with_201(api: Api, list_id: int) -> None:
    api("POST", "/v3/contacts", json={"email": "a@example.com"})
    path = f"/v3/contacts/lists/{list_id}/contacts"
    added = api("POST", f"{path}/add", json={"emails": ["a@example.com", "ghost@example.com"]})
    again = api("POST", f"{path}/add", json={"emails": ["a@example.com"]})
    removed = api("POST", f"{path}/remove", json={"emails": ["a@example.com"]})
    assert added.status_code == again.status_code == removed.status_code == 201
    assert added.json() == {"contacts": {"success": ["a@example.com"], "failure": ["ghost@example.com"]}}
    assert again.json()["contacts"]["failure"] == ["a@example.com"]
    assert removed.json()["contacts"]["success"] == ["a@example.com"]


def test_list_changes_take_1_to_150_entries_of_one_kind(api: Api, list_id: int) -> None:
    path = f"/v3/contacts/lists/{list_id}/contacts/add"
    too_many = api("POST", path, json={"emails": [f"c{i}@example.com" for i in range(151)]})
    mixed = api("POST", path, json={"emails": ["a@example.com"], "ids": [1]})
    assert too_many.status_code == mixed.status_code == 400


def test_a_lists_members_page_at_most_500(api: Api, list_id: int) -> None:
    api("POST", "/v3/contacts", json={"email": "a@example.com", "listIds": [list_id]})
    api("POST", "/v3/contacts", json={"email": "b@example.com"})
    members = api("GET", f"/v3/contacts/lists/{list_id}/contacts").json()
    assert (members["count"], [c["email"] for c in members["contacts"]]) == (1, ["a@example.com"])
    assert api("GET", f"/v3/contacts/lists/{list_id}/contacts", params={"limit": 501}).status_code == 400


def test_deleting_a_list_keeps_its_contacts(api: Api, list_id: int) -> None:
    api("POST", "/v3/contacts", json={"email": "a@example.com", "listIds": [list_id]})
    assert api("DELETE", f"/v3/contacts/lists/{list_id}").status_code == 204
    assert _contact(api, "a@example.com")["listIds"] == []
    assert api("GET", f"/v3/contacts/lists/{list_id}").status_code == 404


# -- attributes ------------------------------------------------------------------------------------


def test_new_accounts_have_firstname_and_lastname(api: Api) -> None:
    names = {(a["name"], a["category"], a["type"]) for a in api("GET", "/v3/contacts/attributes").json()["attributes"]}
    assert names == {("FIRSTNAME", "normal", "text"), ("LASTNAME", "normal", "text")}


def test_an_attribute_name_is_unique_and_reserved_names_are_refused(api: Api) -> None:
    _attribute(api, "CITY", "text")
    again = api("POST", "/v3/contacts/attributes/normal/CITY", json={"type": "float"})
    reserved = api("POST", "/v3/contacts/attributes/normal/EMAIL", json={"type": "text"})
    assert (again.status_code, again.json()["code"]) == (400, "duplicate_parameter")
    assert reserved.status_code == 400


def test_a_category_attribute_needs_its_enumeration(api: Api) -> None:
    refused = api("POST", "/v3/contacts/attributes/category/GENDER", json={"type": "category"})
    enumeration = [{"value": 1, "label": "Women"}]
    created = api("POST", "/v3/contacts/attributes/category/GENDER", json={"enumeration": enumeration})
    assert (refused.status_code, created.status_code) == (400, 201)


def test_deleting_an_attribute_drops_its_values(api: Api, list_id: int) -> None:
    _attribute(api, "CITY", "text")
    _import(api, list_id, [{"email": "a@example.com", "attributes": {"CITY": "Oslo"}}])
    assert api("DELETE", "/v3/contacts/attributes/normal/CITY").status_code == 204
    assert _contact(api, "a@example.com")["attributes"] == {}
    assert api("DELETE", "/v3/contacts/attributes/normal/CITY").status_code == 404
