"""The SendGrid emulator's Event Webhook settings (reference/sendgrid.md §13a), through the official client's call
shapes and plain requests, and where ``Sandbox.simulate`` posts the Event Webhook as a result."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient

from contactsync import events
from contactsync.sandbox import Sandbox
from contactsync.sandbox.sendgrid import MAX_WEBHOOKS, WEBHOOK_FLAGS, SendGridEmulator
from tests.events.serving import Receiver, served

HOOK = "https://hooks.example.com/sendgrid"


def official(sandbox: Sandbox) -> Any:
    """The official client, pointed at the sandbox through its ``host``."""
    return SendGridAPIClient(sandbox.credentials("sendgrid")["api_key"], host=sandbox.base_url("sendgrid"))


@pytest.fixture
def raw(sandbox: Sandbox) -> Any:
    """``raw(method, path, body=None, **params)``: a plain request under ``/v3/user/webhooks/event``."""
    headers = {"Authorization": f"Bearer {sandbox.credentials('sendgrid')['api_key']}"}

    def send(method: str, path: str, body: Any = None, **params: str) -> requests.Response:
        url = f"{sandbox.base_url('sendgrid')}/v3/user/webhooks/event{path}"
        return requests.request(method, url, json=body, params=params, headers=headers, timeout=10)

    return send


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    got = Receiver()
    with served(got) as base:
        yield got, base


def _create(raw: Any, url: str = HOOK, **fields: Any) -> dict[str, Any]:
    answer = raw("POST", "/settings", {"url": url, **fields})
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def _loaded_key(text: str) -> ec.EllipticCurvePublicKey:
    key = serialization.load_der_public_key(base64.b64decode(text, validate=True))
    assert isinstance(key, ec.EllipticCurvePublicKey)
    return key


def test_a_webhook_is_created_with_an_id_and_dates_and_every_flag_off(raw: Any) -> None:
    created = _create(raw, friendly_name="Contacts")
    assert created["url"] == HOOK and created["friendly_name"] == "Contacts"
    assert created["enabled"] is False and all(created[flag] is False for flag in WEBHOOK_FLAGS)
    assert isinstance(created["id"], str) and created["id"]
    assert created["created_date"].endswith("Z") and created["updated_date"].endswith("Z")
    assert "public_key" not in created  # signing cannot be enabled at creation


def test_the_oauth_secret_is_never_returned_and_an_empty_id_turns_oauth_off(raw: Any) -> None:
    oauth = {"oauth_client_id": "client-1", "oauth_client_secret": "s3cret-value", "oauth_token_url": HOOK}
    created = _create(raw, **oauth)
    assert (created["oauth_client_id"], created["oauth_token_url"]) == ("client-1", HOOK)
    assert "s3cret-value" not in json.dumps(raw("GET", "/settings/all").json())
    off = raw("PATCH", f"/settings/{created['id']}", {"oauth_client_id": "", "oauth_token_url": ""}).json()
    assert "oauth_client_id" not in off and "oauth_token_url" not in off


def test_the_list_shows_the_maximum_and_the_key_only_of_signed_webhooks(raw: Any) -> None:
    plain, signed = _create(raw), _create(raw, "https://other.example.com/hook")
    raw("PATCH", f"/settings/signed/{signed['id']}", {"enabled": True})
    listed = raw("GET", "/settings/all").json()
    assert listed["max_allowed"] == MAX_WEBHOOKS
    assert [w["id"] for w in listed["webhooks"]] == [plain["id"], signed["id"]]
    assert ["public_key" in w for w in listed["webhooks"]] == [False, True]


def test_account_status_change_shows_when_included(raw: Any) -> None:
    _create(raw)
    assert "account_status_change" not in raw("GET", "/settings/all").json()["webhooks"][0]
    included = raw("GET", "/settings/all", include="account_status_change").json()["webhooks"][0]
    assert included["account_status_change"] is False


def test_a_webhook_is_read_updated_and_deleted_by_id(raw: Any) -> None:
    created = _create(raw)
    assert raw("GET", f"/settings/{created['id']}").json() == created
    updated = raw("PATCH", f"/settings/{created['id']}", {"enabled": True, "bounce": True}).json()
    assert (updated["enabled"], updated["bounce"], updated["url"]) == (True, True, HOOK)
    assert raw("DELETE", f"/settings/{created['id']}").status_code == 204
    assert raw("GET", "/settings/all").json()["webhooks"] == []


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/settings/x"), ("PATCH", "/settings/x"), ("DELETE", "/settings/x")]
)
def test_an_unknown_id_is_sendgrids_404(raw: Any, method: str, path: str) -> None:
    answer = raw(method, path, {} if method == "PATCH" else None)
    assert (answer.status_code, answer.json()) == (404, {"errors": [{"message": "Invalid id provided."}]})


def test_a_url_another_webhook_has_is_refused_naming_it(raw: Any) -> None:
    first = _create(raw)
    answer = raw("POST", "/settings", {"url": HOOK})
    assert answer.status_code == 400
    (error,) = answer.json()["errors"]
    assert (error["id"], error["url"]) == (first["id"], HOOK)
    assert "already exists" in error["message"]
    second = _create(raw, "https://other.example.com/hook")
    assert raw("PATCH", f"/settings/{second['id']}", {"url": HOOK}).status_code == 400


def test_webhooks_beyond_the_maximum_are_refused(raw: Any) -> None:
    for number in range(MAX_WEBHOOKS):
        _create(raw, f"https://hooks.example.com/{number}")
    answer = raw("POST", "/settings", {"url": "https://hooks.example.com/more"})
    assert answer.status_code == 400
    assert "billing plan" in answer.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "url"),
        ({"url": "hooks.example.com"}, "url"),
        ({"url": HOOK, "enabled": "yes"}, "enabled"),
        ({"url": HOOK, "spam_report": 1}, "spam_report"),
        ({"url": HOOK, "friendly_name": 7}, "friendly_name"),
    ],
)
def test_a_wrong_field_is_sendgrids_400_naming_it(raw: Any, body: dict[str, Any], field: str) -> None:
    answer = raw("POST", "/settings", body)
    assert answer.status_code == 400
    assert [e["field"] for e in answer.json()["errors"]] == [field]


def test_signing_gives_a_p256_public_key_and_turning_it_off_empties_it(raw: Any) -> None:
    created = _create(raw)
    path = f"/settings/signed/{created['id']}"
    assert raw("GET", path).json() == {"id": created["id"], "public_key": ""}
    on = raw("PATCH", path, {"enabled": True}).json()
    assert on["id"] == created["id"] and _loaded_key(on["public_key"]).curve.name == "secp256r1"
    assert raw("GET", path).json() == on
    assert raw("PATCH", path, {"enabled": False}).json()["public_key"] == ""
    assert raw("PATCH", path, {"enabled": True}).json()["public_key"] == on["public_key"]  # the same key pair


def test_each_webhook_signs_with_its_own_key(raw: Any) -> None:
    keys = [
        raw("PATCH", f"/settings/signed/{_create(raw, url)['id']}", {"enabled": True}).json()["public_key"]
        for url in (HOOK, "https://other.example.com/hook")
    ]
    assert keys[0] != keys[1]


@pytest.mark.parametrize("body", [{}, {"enabled": "true"}])
def test_toggling_signing_requires_enabled(raw: Any, body: dict[str, Any]) -> None:
    answer = raw("PATCH", f"/settings/signed/{_create(raw)['id']}", body)
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "enabled"


def test_the_id_less_paths_act_on_the_oldest_webhook(raw: Any) -> None:
    oldest, _ = _create(raw), _create(raw, "https://other.example.com/hook")
    assert raw("GET", "/settings").json()["id"] == oldest["id"]
    assert raw("PATCH", "/settings", {"enabled": True}).json()["id"] == oldest["id"]
    key = raw("PATCH", "/settings/signed", {"enabled": True}).json()["public_key"]
    assert raw("GET", f"/settings/signed/{oldest['id']}").json()["public_key"] == key != ""


def test_an_account_without_webhooks_reads_as_disabled_legacy_settings(raw: Any) -> None:
    legacy = raw("GET", "/settings").json()
    assert (legacy["enabled"], legacy["url"]) == (False, "")
    assert raw("GET", "/settings/signed").json() == {"public_key": ""}
    assert raw("PATCH", "/settings/signed", {"enabled": True}).status_code == 404


def test_the_id_less_patch_makes_the_legacy_webhook(raw: Any) -> None:
    made = raw("PATCH", "/settings", {"url": HOOK, "enabled": True, "unsubscribe": True})
    assert made.status_code == 200
    assert made.json()["created_date"] is None  # reference §13a: null marks the legacy webhook
    assert [w["id"] for w in raw("GET", "/settings/all").json()["webhooks"]] == [made.json()["id"]]


def test_the_official_client_drives_every_settings_call(sandbox: Sandbox) -> None:
    hooks = official(sandbox).client.user.webhooks.event
    created = json.loads(hooks.settings.post(request_body={"url": HOOK, "enabled": True}).body)
    webhook = hooks.settings._(created["id"])
    assert json.loads(webhook.patch(request_body={"bounce": True}).body)["bounce"] is True
    signed = json.loads(hooks.settings.signed._(created["id"]).patch(request_body={"enabled": True}).body)
    assert json.loads(hooks.settings.signed.get().body)["public_key"] == signed["public_key"]
    assert json.loads(hooks.settings.get().body)["id"] == created["id"]
    assert [w["id"] for w in json.loads(hooks.settings.all.get().body)["webhooks"]] == [created["id"]]
    assert webhook.delete().status_code == 204
    with pytest.raises(HTTPError) as missing:
        webhook.get()
    assert missing.value.status_code == 404


def test_the_signing_key_survives_a_saved_state(sandbox: Sandbox, raw: Any) -> None:
    created = _create(raw)
    key = raw("PATCH", f"/settings/signed/{created['id']}", {"enabled": True}).json()["public_key"]
    emulator = sandbox.emulators["sendgrid"]
    fresh = SendGridEmulator()
    fresh.load(emulator.dump())
    with Sandbox([fresh]) as reloaded:
        headers = {"Authorization": f"Bearer {reloaded.credentials('sendgrid')['api_key']}"}
        url = f"{reloaded.base_url('sendgrid')}/v3/user/webhooks/event/settings/signed/{created['id']}"
        assert requests.get(url, headers=headers, timeout=10).json()["public_key"] == key


def test_the_webhook_settings_need_the_api_key(sandbox: Sandbox) -> None:
    answer = requests.get(f"{sandbox.base_url('sendgrid')}/v3/user/webhooks/event/settings/all", timeout=10)
    assert answer.status_code == 401


# -- the test event, and where simulate posts ----------------------------------------------------------------


def test_the_test_call_posts_a_signed_sample_of_every_family(
    sandbox: Sandbox, raw: Any, receiver: tuple[Receiver, str]
) -> None:
    got, base = receiver
    created = _create(raw, f"{base}/sendgrid")
    key = raw("PATCH", f"/settings/signed/{created['id']}", {"enabled": True}).json()["public_key"]
    hooks = official(sandbox).client.user.webhooks.event
    answer = hooks.test.post(request_body={"url": f"{base}/sendgrid", "id": created["id"]})
    assert answer.status_code == 204
    (posted,) = got.posted
    received = events.parse("sendgrid", posted.headers, posted.body, verification_key=key)
    names = {event.raw["event"] for event in received}
    assert names == {flag.replace("spam_report", "spamreport") for flag in WEBHOOK_FLAGS}


def test_the_test_call_needs_a_url_and_a_known_id(raw: Any) -> None:
    assert raw("POST", "/test", {}).status_code == 400
    assert raw("POST", "/test", {"url": HOOK, "id": "nope"}).status_code == 404


def test_simulate_posts_to_each_enabled_webhook_that_asks_for_the_event(
    sandbox: Sandbox, raw: Any, receiver: tuple[Receiver, str]
) -> None:
    got, base = receiver
    _create(raw, f"{base}/asks", enabled=True, spam_report=True)
    _create(raw, f"{base}/also", enabled=True, spam_report=True, bounce=True)
    _create(raw, f"{base}/other-events", enabled=True, bounce=True)
    _create(raw, f"{base}/disabled", enabled=False, spam_report=True)
    done = sandbox.simulate("sendgrid", "ann@example.com", "spam")
    assert sorted(p.path for p in got.posted) == ["/also", "/asks"]
    assert all(d.accepted for d in done.deliveries)
    for posted in got.posted:
        assert [e["event"] for e in json.loads(posted.body)] == ["spamreport"]


def test_an_unsigned_webhook_posts_no_signature(sandbox: Sandbox, raw: Any, receiver: tuple[Receiver, str]) -> None:
    got, base = receiver
    _create(raw, f"{base}/hook", enabled=True, unsubscribe=True)
    sandbox.simulate("sendgrid", "ann@example.com", "unsubscribe")
    (posted,) = got.posted
    assert not any(name.lower().startswith("x-twilio-email-event-webhook") for name in posted.headers)


def test_a_refused_post_is_sent_again_at_growing_pauses(sandbox: Sandbox, raw: Any) -> None:
    emulator = sandbox.emulators["sendgrid"]
    assert isinstance(emulator, SendGridEmulator) and emulator.redelivery.backoff > 1  # "increasing intervals"
    got = Receiver(status=503)
    with served(got) as base:
        _create(raw, f"{base}/hook", enabled=True, bounce=True)
        done = sandbox.simulate("sendgrid", "ann@example.com", "bounce")
    assert [(d.attempt, d.status) for d in done.deliveries] == [
        (n, 503) for n in range(1, emulator.redelivery.attempts + 1)
    ]
    assert len(got.posted) == emulator.redelivery.attempts
