"""WebhookApp served over real HTTP (werkzeug's server on a free port), posted to with requests."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.wrappers import Response

from contactsync.errors import ConfigurationError, UnsupportedAction
from contactsync.events import WebhookApp
from contactsync.model import ContactEvent, EventType
from contactsync.sandbox.webhooks import SigningKey, mailjet_body, mailjet_event, sendgrid_body, sendgrid_event
from tests.events.serving import served

PASSWORD = "hook-password-1"


class Handled:
    """A handler that records what it is given, failing when told to."""

    def __init__(self) -> None:
        self.batches: list[list[ContactEvent]] = []
        self.fail = False
        self._lock = threading.Lock()

    def __call__(self, received: list[ContactEvent]) -> None:
        if self.fail:
            raise RuntimeError("the application's database is down")
        with self._lock:
            self.batches.append(received)


@pytest.fixture
def signer() -> SigningKey:
    return SigningKey()


@pytest.fixture
def handled() -> Handled:
    return Handled()


@pytest.fixture
def url(signer: SigningKey, handled: Handled) -> Iterator[str]:
    app = WebhookApp(
        handled,
        max_body_bytes=64 * 1024,
        sendgrid={"verification_key": signer.public_key},
        mailjet={"username": "hooks", "password": PASSWORD},
    )
    with served(app) as base:
        yield base


def _signed(signer: SigningKey, *records: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    body = sendgrid_body(list(records))
    return body, signer.headers(body)


def test_a_signed_sendgrid_post_is_handled_and_answered_200(url: str, signer: SigningKey, handled: Handled) -> None:
    body, headers = _signed(signer, sendgrid_event("unsubscribe", "ann@example.com"))
    response = requests.post(f"{url}/sendgrid", data=body, headers=headers, timeout=10)
    assert (response.status_code, response.json()) == (200, {"received": 1})
    ((event,),) = handled.batches
    assert (event.type, event.email) == (EventType.UNSUBSCRIBED, "ann@example.com")


def test_a_bad_signature_is_401_and_nothing_is_handled(url: str, signer: SigningKey, handled: Handled) -> None:
    body, headers = _signed(signer, sendgrid_event("unsubscribe", "ann@example.com"))
    response = requests.post(f"{url}/sendgrid", data=body.replace(b"ann", b"bob"), headers=headers, timeout=10)
    assert response.status_code == 401
    assert "does not verify" in response.json()["error"]
    assert handled.batches == []


def test_an_unsigned_post_is_401(url: str, handled: Handled) -> None:
    response = requests.post(f"{url}/sendgrid", data=b"[]", timeout=10)
    assert response.status_code == 401
    assert handled.batches == []


def test_mailjet_credentials_in_the_url_are_checked(url: str, handled: Handled) -> None:
    body = mailjet_body([mailjet_event("spam", "carl@example.com")])
    good = requests.post(url.replace("//", f"//hooks:{PASSWORD}@") + "/mailjet", data=body, timeout=10)
    bad = requests.post(url.replace("//", "//hooks:guess@") + "/mailjet", data=body, timeout=10)
    assert (good.status_code, bad.status_code) == (200, 401)
    assert PASSWORD not in bad.text
    assert [[e.type for e in batch] for batch in handled.batches] == [[EventType.COMPLAINED]]


def test_a_malformed_body_is_400(url: str, signer: SigningKey, handled: Handled) -> None:
    body = b"[not json"
    response = requests.post(f"{url}/sendgrid", data=body, headers=signer.headers(body), timeout=10)
    assert response.status_code == 400
    assert "not JSON" in response.json()["error"]
    assert handled.batches == []


def test_a_handler_that_raises_makes_a_500_so_the_provider_retries(
    url: str, signer: SigningKey, handled: Handled
) -> None:
    handled.fail = True
    body, headers = _signed(signer, sendgrid_event("bounce", "ann@example.com"))
    response = requests.post(f"{url}/sendgrid", data=body, headers=headers, timeout=10)
    assert response.status_code == 500
    assert "database" not in response.text


def test_a_body_over_the_cap_is_413(url: str, signer: SigningKey, handled: Handled) -> None:
    body, headers = _signed(signer, *[sendgrid_event("open", f"u{i}@example.com") for i in range(400)])
    assert len(body) > 64 * 1024
    response = requests.post(f"{url}/sendgrid", data=body, headers=headers, timeout=10)
    assert response.status_code == 413
    assert handled.batches == []


def test_a_chunked_body_over_the_cap_is_413(url: str, signer: SigningKey, handled: Handled) -> None:
    body, headers = _signed(signer, *[sendgrid_event("open", f"u{i}@example.com") for i in range(400)])
    chunks = iter([body[i : i + 8192] for i in range(0, len(body), 8192)])
    response = requests.post(f"{url}/sendgrid", data=chunks, headers=headers, timeout=10)
    assert response.status_code == 413
    assert handled.batches == []


def test_an_empty_batch_is_answered_without_calling_the_handler(url: str, signer: SigningKey, handled: Handled) -> None:
    body, headers = _signed(signer)
    response = requests.post(f"{url}/sendgrid", data=body, headers=headers, timeout=10)
    assert (response.status_code, response.json()) == (200, {"received": 0})
    assert handled.batches == []


def test_a_provider_not_configured_is_404(url: str) -> None:
    assert requests.post(f"{url}/dotmailer", data=b"[]", timeout=10).status_code == 404


def test_only_post_is_served(url: str) -> None:
    response = requests.get(f"{url}/sendgrid", timeout=10)
    assert (response.status_code, response.headers["Allow"]) == (405, "POST")


def test_mounted_under_a_prefix_it_serves_the_paths_below_it(signer: SigningKey, handled: Handled) -> None:
    hooks = WebhookApp(handled, sendgrid={"verification_key": signer.public_key})
    site = DispatcherMiddleware(Response("the application", status=200), {"/webhooks": hooks})
    body, headers = _signed(signer, sendgrid_event("spamreport", "dora@example.com"))
    with served(site) as base:
        response = requests.post(f"{base}/webhooks/sendgrid", data=body, headers=headers, timeout=10)
    assert response.status_code == 200
    assert [e.type for e in handled.batches[0]] == [EventType.COMPLAINED]


def test_the_repr_shows_the_paths_and_no_secret(handled: Handled) -> None:
    app = WebhookApp(handled, mailjet={"username": "hooks", "password": PASSWORD})
    assert repr(app) == "WebhookApp(paths=['/mailjet'], max_body_bytes=4194304)"


def test_it_needs_at_least_one_provider(handled: Handled) -> None:
    with pytest.raises(ConfigurationError, match="at least one provider"):
        WebhookApp(handled)


def test_a_missing_verification_setting_fails_at_construction(handled: Handled) -> None:
    with pytest.raises(ConfigurationError, match="verification_key"):
        WebhookApp(handled, sendgrid={})


def test_the_answer_is_json(url: str, signer: SigningKey) -> None:
    body, headers = _signed(signer, sendgrid_event("dropped", "ann@example.com"))
    response = requests.post(f"{url}/sendgrid", data=body, headers=headers, timeout=10)
    assert response.headers["Content-Type"] == "application/json"
    assert json.loads(response.text) == {"received": 1}


def test_a_body_of_exactly_the_cap_is_read(url: str, signer: SigningKey) -> None:
    body = b"[]" + b" " * (64 * 1024 - 2)
    response = requests.post(f"{url}/sendgrid", data=body, headers=signer.headers(body), timeout=10)
    assert (response.status_code, response.json()) == (200, {"received": 0})


def test_refusals_and_handler_failures_log_no_secret(
    url: str, handled: Handled, caplog: pytest.LogCaptureFixture
) -> None:
    body = mailjet_body([mailjet_event("unsub", "a@example.com")])
    requests.post(url.replace("//", f"//hooks:{PASSWORD[:-1]}@") + "/mailjet", data=body, timeout=10)
    handled.fail = True
    requests.post(url.replace("//", f"//hooks:{PASSWORD}@") + "/mailjet", data=body, timeout=10)
    assert "credentials do not match" in caplog.text
    assert "handler failed" in caplog.text
    assert PASSWORD[:-1] not in caplog.text


def test_dotmailer_cannot_be_served_since_it_pushes_nothing(handled: Handled) -> None:
    with pytest.raises(UnsupportedAction, match="events_since"):
        WebhookApp(handled, dotmailer={})
