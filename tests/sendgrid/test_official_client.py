"""Seed 002's Python example, run through the official ``sendgrid`` client against the sandbox."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
import requests
from sendgrid import SendGridAPIClient

from contactsync import Contact, FieldDefinition
from contactsync.providers.sendgrid.provider import SendGridProvider
from contactsync.sandbox import Sandbox
from contactsync.sandbox.sendgrid import STORAGE


def official(sandbox: Sandbox) -> Any:
    """The official client, pointed at the sandbox through its ``host`` (it appends ``/v3`` itself)."""
    return SendGridAPIClient(sandbox.credentials("sendgrid")["api_key"], host=sandbox.base_url("sendgrid"))


def upload_like_curl(answer: dict[str, Any], path: Path) -> requests.Response:
    """``curl --upload-file FILE URL -H HEADER``: a raw PUT carrying every returned header, and no key."""
    headers = {pair["header"]: pair["value"] for pair in answer["upload_headers"]}
    with path.open("rb") as body:
        return requests.put(answer["upload_uri"], data=body, headers=headers, timeout=30)


def poll(sg: Any, job_id: str) -> list[dict[str, Any]]:
    """Status bodies, read through the official client until the job is terminal."""
    seen = []
    for _ in range(20):
        response = sg.client.marketing.contacts.imports._(job_id).get()
        assert response.status_code == 200
        seen.append(json.loads(response.body))
        if seen[-1]["status"] != "pending":
            return seen
    pytest.fail(f"job {job_id} still pending: {seen[-1]}")


@pytest.fixture
def nickname(client: SendGridProvider) -> None:
    """The account's first custom field, which the sandbox numbers ``e1_T`` like the seed's example."""
    client.create_field(FieldDefinition("nickname"))
    assert [f["id"] for f in client.transport.json("GET", "/v3/marketing/field_definitions")["custom_fields"]] == [
        "e1_T"
    ]


@pytest.mark.usefixtures("nickname")
def test_the_seed_example_verbatim_fails_for_want_of_an_identifier(sandbox: Sandbox, tmp_path: Path) -> None:
    sg = official(sandbox)
    data = {"file_type": "csv", "field_mappings": ["e1_T"]}
    response = sg.client.marketing.contacts.imports.put(request_body=data)
    assert response.status_code == 200
    answer = json.loads(response.body)
    assert set(answer) == {"job_id", "upload_uri", "upload_headers"}
    path = tmp_path / "contacts.csv"
    path.write_text("nickname\nAnnie\n")
    assert upload_like_curl(answer, path).status_code == 200
    assert poll(sg, answer["job_id"])[-1]["status"] == "failed"  # seed 002: at least one identifier is required


@pytest.mark.usefixtures("nickname")
def test_official_client_import_then_our_client_reads_it_back(
    sandbox: Sandbox, client: SendGridProvider, tmp_path: Path
) -> None:
    sg = official(sandbox)
    data = {"file_type": "csv", "field_mappings": ["_rf2_T", "e1_T", "_rf0_T"]}
    answer = json.loads(sg.client.marketing.contacts.imports.put(request_body=data).body)
    path = tmp_path / "contacts.csv.gz"
    path.write_bytes(
        gzip.compress(b"email,nickname,first_name\nAnn@Example.com,Annie,Ann\nbob@example.com,Bobby,Bob\n")
    )
    assert upload_like_curl(answer, path).status_code == 200
    bodies = poll(sg, answer["job_id"])
    assert [b["status"] for b in bodies] == ["pending", "pending", "completed"]
    assert "created_count" not in bodies[0]["results"] and bodies[1]["results"]["created_count"] == 2
    assert client.get_contact("ann@example.com") == Contact(
        "ann@example.com", name="Ann", properties={"nickname": "Annie"}
    )
    uploads = [r for r in sandbox.requests if r.path.startswith(f"/{STORAGE}/uploads/")]
    assert len(uploads) == 1 and "Authorization" not in uploads[0].headers


def test_official_client_upsert_and_lists(sandbox: Sandbox, client: SendGridProvider) -> None:
    sg = official(sandbox)
    created = sg.client.marketing.lists.post(request_body={"name": "News"})
    assert created.status_code == 201
    list_id = json.loads(created.body)["id"]
    body = {"list_ids": [list_id], "contacts": [{"email": "Carol@Example.com", "first_name": "Carol"}]}
    response = sg.client.marketing.contacts.put(request_body=body)
    assert response.status_code == 202
    client.wait(json.loads(response.body)["job_id"])
    assert [m.list_id for m in client.get_subscriptions("carol@example.com")] == [list_id]
