"""The SendGrid emulator on its own, over raw HTTP: codes, bodies and the presigned upload's rules."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
import requests

from contactsync.sandbox import Sandbox
from contactsync.sandbox.sendgrid import SendGridEmulator


class Api:
    """Raw requests to the emulator with the account's Bearer key."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.base = sandbox.base_url("sendgrid")
        self.headers = {"Authorization": f"Bearer {sandbox.credentials('sendgrid')['api_key']}"}

    def __call__(self, method: str, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return requests.request(method, self.base + path, json=body, headers=self.headers, timeout=30, **kwargs)


@pytest.fixture
def api(sandbox: Sandbox) -> Api:
    return Api(sandbox)


def statuses(api: Api, job_id: str, polls: int = 3) -> list[dict[str, Any]]:
    return [api("GET", f"/v3/marketing/contacts/imports/{job_id}").json() for _ in range(polls)]


def test_wrong_key_gets_401_in_sendgrids_shape(sandbox: Sandbox) -> None:
    response = requests.get(sandbox.base_url("sendgrid") + "/v3/marketing/lists", timeout=30)
    assert response.status_code == 401
    assert response.json() == {"errors": [{"field": None, "message": "authorization required"}]}


def test_upsert_job_counts_appear_while_pending(api: Api) -> None:
    answer = api(
        "PUT", "/v3/marketing/contacts", {"contacts": [{"email": "A@Example.com"}, {"email": "b@example.com"}]}
    )
    assert answer.status_code == 202 and set(answer.json()) == {"job_id"}
    first, second, third = statuses(api, answer.json()["job_id"])
    assert (first["status"], first["results"], first["job_type"]) == (
        "pending",
        {"requested_count": 2},
        "upsert_contacts",
    )
    assert (second["status"], second["results"]["created_count"]) == ("pending", 2)
    assert third["status"] == "completed" and "finished_at" in third and "errors_url" not in third["results"]


def test_invalid_values_are_rejected_inside_the_job(api: Api, emulator: SendGridEmulator) -> None:
    api("POST", "/v3/marketing/field_definitions", {"name": "age", "field_type": "Number"})
    contacts = [
        {"email": "a@example.com", "custom_fields": {"e1_N": 3}},
        {"email": "b@example.com", "custom_fields": {"e1_N": "3"}},
    ]
    job_id = api("PUT", "/v3/marketing/contacts", {"contacts": contacts}).json()["job_id"]
    final = statuses(api, job_id)[-1]
    assert final["status"] == "errored" and final["results"]["errored_count"] == 1
    errors = requests.get(final["results"]["errors_url"], timeout=30)
    assert errors.status_code == 200 and "b@example.com" in errors.text
    assert [(c["email"], c["custom_fields"]) for c in emulator.contacts()] == [("a@example.com", {"age": 3})]
    refused = requests.get(final["results"]["errors_url"], headers=api.headers, timeout=30)
    assert refused.status_code == 400 and b"Only one auth mechanism" in refused.content


def test_an_invalid_email_is_refused_at_once(api: Api) -> None:
    response = api("PUT", "/v3/marketing/contacts", {"contacts": [{"email": "000"}]})
    assert response.status_code == 400
    assert response.json() == {"errors": [{"field": "contacts[0].email", "message": "email '000' is not valid"}]}


def test_size_limits(api: Api) -> None:
    too_many = {"contacts": [{"email": f"c{i}@example.com"} for i in range(30_001)]}
    assert api("PUT", "/v3/marketing/contacts", too_many).status_code == 400
    big = {"contacts": [{"email": "a@example.com", "first_name": "x" * 7_000_000}]}
    assert api("PUT", "/v3/marketing/contacts", big).status_code == 413


def test_unknown_lists_get_404(api: Api) -> None:
    assert (
        api(
            "PUT", "/v3/marketing/contacts", {"list_ids": ["nope"], "contacts": [{"email": "a@example.com"}]}
        ).status_code
        == 404
    )
    body = {"file_type": "csv", "field_mappings": ["_rf2_T"], "list_ids": ["nope"]}
    assert api("PUT", "/v3/marketing/contacts/imports", body).status_code == 404
    assert api("DELETE", "/v3/marketing/lists/nope/contacts", params={"contact_ids": "x"}).status_code == 404
    created = api("POST", "/v3/marketing/lists", {"name": "News"})
    assert created.status_code == 201 and created.json()["name"] == "News"


def test_upload_needs_every_header_and_no_authorization(api: Api, emulator: SendGridEmulator) -> None:
    answer = api("PUT", "/v3/marketing/contacts/imports", {"file_type": "csv", "field_mappings": ["_rf2_T", None]})
    assert answer.status_code == 200
    body = answer.json()
    headers = {h["header"]: h["value"] for h in body["upload_headers"]}
    assert headers["x-amz-server-side-encryption"] == "aws:kms"
    data = gzip.compress(b"email,ignored\nZed@Example.com,x\n")
    assert (
        requests.put(body["upload_uri"], data=data, headers={**headers, **api.headers}, timeout=30).status_code == 400
    )
    partial = {"x-amz-server-side-encryption": "aws:kms"}
    assert requests.put(body["upload_uri"], data=data, headers=partial, timeout=30).status_code == 403
    assert statuses(api, body["job_id"], 1)[0]["results"] == {}  # nothing uploaded, nothing counted
    assert requests.put(body["upload_uri"], data=data, headers=headers, timeout=30).status_code == 200
    assert statuses(api, body["job_id"])[-1]["status"] == "completed"
    assert [c["email"] for c in emulator.contacts()] == ["zed@example.com"]


def test_a_csv_that_does_not_match_its_mapping_fails(api: Api) -> None:
    body = api("PUT", "/v3/marketing/contacts/imports", {"file_type": "csv", "field_mappings": ["_rf2_T"]}).json()
    headers = {h["header"]: h["value"] for h in body["upload_headers"]}
    requests.put(body["upload_uri"], data=b"email,first_name\na@example.com,A\n", headers=headers, timeout=30)
    assert statuses(api, body["job_id"])[-1]["status"] == "failed"


def test_custom_fields_are_written_by_id_and_read_by_name(api: Api) -> None:
    field = api("POST", "/v3/marketing/field_definitions", {"name": "joined", "field_type": "Date"}).json()
    assert field["id"] == "e1_D"
    contacts = [{"email": "a@example.com", "custom_fields": {"e1_D": "2021-02-11T23:03:03.000Z"}}]
    statuses(api, api("PUT", "/v3/marketing/contacts", {"contacts": contacts}).json()["job_id"])
    found = api("POST", "/v3/marketing/contacts/search/emails", {"emails": ["A@example.com", "x@example.com"]}).json()
    assert found["result"]["A@example.com"]["contact"]["custom_fields"] == {"joined": "2021-02-11T23:03:03Z"}
    assert found["result"]["x@example.com"] == {"error": "contact not found"}
    assert found["result"]["A@example.com"]["contact"]["segment_ids"] is None
    assert api("POST", "/v3/marketing/contacts/search/emails", {"emails": ["x@example.com"]}).status_code == 404


def test_rate_limited_answer_is_sendgrids(emulator: SendGridEmulator) -> None:
    response = emulator.rate_limited(7)
    assert response.status_code == 429
    assert json.loads(response.get_data()) == {"errors": [{"field": None, "message": "too many requests"}]}
    assert (response.headers["X-RateLimit-Remaining"], response.headers["X-RateLimit-Reset"]) == ("0", "7")


def test_group_suppressions_for_a_missing_group_go_global(api: Api, emulator: SendGridEmulator) -> None:
    answer = api("POST", "/v3/asm/groups/999/suppressions", {"recipient_emails": ["A@example.com"]})
    assert answer.status_code == 201
    assert api("GET", "/v3/asm/suppressions/global/a@example.com").json() == {"recipient_email": "a@example.com"}
    assert api("DELETE", "/v3/asm/suppressions/global/a@example.com").status_code == 204
    assert api("GET", "/v3/asm/suppressions/global/a@example.com").json() == {}
