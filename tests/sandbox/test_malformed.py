"""Malformed requests at every route of every emulator: the provider's own 4xx error, never a crash or HTML."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contactsync import Contact, ListSubscription
from contactsync.sandbox import Sandbox
from contactsync.sandbox.emulator import MAX_BODY_BYTES, Emulator
from contactsync.sandbox.sendgrid import STORAGE

EMULATORS = ["mailjet", "sendgrid", "dotmailer"]

BODIES: dict[str, tuple[str, bytes]] = {
    "bad json": ("application/json", b'{"Name": "x",'),
    "a json array": ("application/json", b'[{"email": "a@example.com"}]'),
    "a json string": ("application/json", b'"hello"'),
    "a json number": ("application/json", b"42"),
    "json null": ("application/json", b"null"),
    "nan": ("application/json", b'{"Name": NaN, "contacts": [{"email": "a@example.com", "n": Infinity}]}'),
    "deep nesting": ("application/json", b'{"a":' * 100_000 + b"1" + b"}" * 100_000),
    "invalid utf-8": ("application/json", b'{"Name": "\xff\xfe\xc3("}'),
    "invalid utf-8 text": ("text/plain", b"email\n\xff\xfe@example.com\n"),
    "multipart garbage": (
        "multipart/form-data; boundary=xyz",
        b"--xyz\r\nContent-Disposition: form\r\n\r\n\x00garbage",
    ),
    "multipart without a boundary": ("multipart/form-data", b"--\r\n\r\nwhatever"),
    "a body over the cap": ("application/json", b'{"x": "' + b"y" * (MAX_BODY_BYTES + 1) + b'"}'),
    "wrong fields": ("application/json", b'{"contacts": "none", "list_ids": 5, "Email": [], "name": {}}'),
    "empty": ("application/json", b""),
}


VALUES: dict[str, dict[str, str]] = {}
"""Per emulator, what fills each variable of its routes: objects that exist, so the routes read the bodies."""


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """One sandbox for every example, holding a list, a contact and a finished import in each account."""
    with Sandbox(EMULATORS) as running:
        for name in EMULATORS:
            client = running.connect(name)
            list_id = client.create_list("Malformed")
            contact = Contact("ann@example.com", properties={"city": "Lyon"})
            job = client.wait(client.import_contacts([contact], [ListSubscription(list_id)]))
            VALUES[name] = {"list_id": list_id, "job_id": job.id.rsplit(":", 1)[-1], "email": contact.email}
        options = _auth(running.emulators["sendgrid"].credentials())
        group = requests.post(
            running.base_url("sendgrid") + "/v3/asm/groups",
            json={"name": "G", "description": "g"},
            timeout=10,
            **options,
        )
        VALUES["sendgrid"]["gid"] = str(group.json()["id"])
        hook = {"url": "http://127.0.0.1:9/hooks", "enabled": True}
        webhook = requests.post(
            running.base_url("sendgrid") + "/v3/user/webhooks/event/settings", json=hook, timeout=10, **options
        )
        VALUES["sendgrid"]["webhook_id"] = webhook.json()["id"]
        options = _auth(running.emulators["mailjet"].credentials())
        callback = {"EventType": "unsub", "Url": "http://127.0.0.1:9/hooks"}
        made = requests.post(
            running.base_url("mailjet") + "/v3/REST/eventcallbackurl", json=callback, timeout=10, **options
        )
        assert str(made.json()["Data"][0]["ID"]) == VALUES["mailjet"]["list_id"]  # ``ref`` names both
        options = _auth(running.emulators["dotmailer"].credentials())
        found = requests.get(running.base_url("dotmailer") + "/v2/contacts/ann@example.com", timeout=10, **options)
        VALUES["dotmailer"]["contact_id"] = str(found.json()["id"])
        yield running


_ALIASES = {"ref": "list_id", "book": "list_id", "job": "job_id", "import_id": "job_id", "key": "email"}
_FIXED = {"mime": "text:plain", "merge": "OnlyOverwriteIfNotEmpty"}


def _filled(name: str, template: str) -> str:
    """A route's path with each variable set to an existing object of its kind (else "1")."""

    def value(match: re.Match[str]) -> str:
        variable = match.group(1)
        key = _ALIASES.get(variable, variable)
        return _FIXED.get(variable) or VALUES[name].get(key, "1")

    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", value, template)


def _routes(emulator: Emulator) -> list[tuple[str, str]]:
    """(method, path template) of every rule."""
    return [
        (method, rule.rule)
        for rule in emulator.url_map.iter_rules()
        for method in sorted(rule.methods or ())
        if method not in ("HEAD", "OPTIONS")
    ]


def _auth(credentials: dict[str, str]) -> dict[str, Any]:
    if "secret_key" in credentials:
        return {"auth": (credentials["api_key"], credentials["secret_key"])}
    if "api_key" in credentials:
        return {"headers": {"Authorization": f"Bearer {credentials['api_key']}"}}
    return {"auth": (credentials["username"], credentials["password"])}


ROUTES = [(name, method, path) for name in EMULATORS for method, path in _routes(Sandbox([name]).emulators[name])]


def _send(sandbox: Sandbox, name: str, method: str, template: str, body: str) -> requests.Response:
    emulator = sandbox.emulators[name]
    content_type, data = BODIES[body]
    options = _auth(emulator.credentials())
    headers = {"Content-Type": content_type, **options.pop("headers", {})}
    path = _filled(name, template)
    own = any(path.startswith(f"/{prefix}/") for prefix in emulator.prefixes)  # SendGrid's storage host
    return requests.request(
        method, sandbox.url + ("" if own else f"/{name}") + path, data=data, headers=headers, timeout=30, **options
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(ROUTES), body=st.sampled_from(sorted(BODIES)))
def test_a_malformed_request_gets_the_providers_own_error(
    sandbox: Sandbox, route: tuple[str, str, str], body: str
) -> None:
    name, method, template = route
    answer = _send(sandbox, name, method, template, body)
    seen = (name, method, template, body, answer.status_code, answer.text[:300])
    assert answer.status_code < 500, seen
    assert "text/html" not in answer.headers.get("Content-Type", ""), seen
    if answer.status_code in (400, 413) and not template.startswith(f"/{STORAGE}/"):  # storage answers as S3 does
        shape = set(json.loads(sandbox.emulators[name].error(400, "x").get_data()))
        assert set(answer.json()) == shape, seen


@pytest.mark.parametrize("name", EMULATORS)
@pytest.mark.parametrize("body", ["bad json", "a json array", "nan", "deep nesting", "invalid utf-8", "empty"])
def test_a_body_that_is_not_a_json_object_is_the_providers_400(sandbox: Sandbox, name: str, body: str) -> None:
    create = {"mailjet": "/v3/REST/contactslist", "sendgrid": "/v3/marketing/lists", "dotmailer": "/v2/address-books"}
    answer = _send(sandbox, name, "POST", create[name], body)
    assert answer.status_code == 400, answer.text
    assert set(answer.json()) == set(json.loads(sandbox.emulators[name].error(400, "x").get_data()))


@pytest.mark.parametrize("name", EMULATORS)
def test_a_body_over_the_cap_is_the_providers_413(sandbox: Sandbox, name: str) -> None:
    create = {"mailjet": "/v3/REST/contactslist", "sendgrid": "/v3/marketing/lists", "dotmailer": "/v2/address-books"}
    answer = _send(sandbox, name, "POST", create[name], "a body over the cap")
    assert answer.status_code == 413
    assert set(answer.json()) == set(json.loads(sandbox.emulators[name].error(413, "x").get_data()))


@pytest.mark.parametrize("name", EMULATORS)
def test_a_chunked_body_over_the_cap_is_the_providers_413(sandbox: Sandbox, name: str) -> None:
    create = {"mailjet": "/v3/REST/contactslist", "sendgrid": "/v3/marketing/lists", "dotmailer": "/v2/address-books"}

    def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked, so only reading it finds its size
        yield b'{"Name": "'
        for _ in range(MAX_BODY_BYTES // 1_048_576 + 1):
            yield b"y" * 1_048_576
        yield b'"}'

    options = _auth(sandbox.emulators[name].credentials())
    headers = {"Content-Type": "application/json", **options.pop("headers", {})}
    answer = requests.post(sandbox.base_url(name) + create[name], data=chunks(), headers=headers, timeout=30, **options)
    assert answer.status_code == 413
    assert set(answer.json()) == set(json.loads(sandbox.emulators[name].error(413, "x").get_data()))
