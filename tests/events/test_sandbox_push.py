"""End to end: the sandbox's webhook module builds, signs and POSTs; WebhookApp verifies and parses; the handler
receives the normalised events."""

from __future__ import annotations

import ast
import base64
import json
import pathlib
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

import contactsync.sandbox.webhooks as pushing
from contactsync.events import WebhookApp
from contactsync.model import ContactEvent, EventType
from contactsync.sandbox.webhooks import (
    Delivery,
    Redelivery,
    SigningKey,
    mailjet_body,
    mailjet_event,
    postable,
    push,
    push_mailjet,
    push_sendgrid,
    sendgrid_event,
)
from tests.events import vectors
from tests.events.serving import Receiver, served

PASSWORD = "callback-secret-9"


class Inbox:
    """The application's handler: keeps what it receives, or fails like a broken application."""

    def __init__(self) -> None:
        self.events: list[ContactEvent] = []
        self.broken = False

    def __call__(self, received: list[ContactEvent]) -> None:
        if self.broken:
            raise RuntimeError("cannot record events")
        self.events.extend(received)


@pytest.fixture
def key() -> SigningKey:
    return SigningKey()


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def app_url(key: SigningKey, inbox: Inbox) -> Iterator[str]:
    app = WebhookApp(
        inbox,
        sendgrid={"verification_key": key.public_key, "unsubscribe_groups": {"newsletter": 7}},
        mailjet={"username": "mj", "password": PASSWORD},
    )
    with served(app) as base:
        yield base


def _mailjet_url(base: str, password: str = PASSWORD) -> str:
    return base.replace("http://", f"http://mj:{password}@") + "/mailjet"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("unsubscribe", EventType.UNSUBSCRIBED),
        ("bounce", EventType.BOUNCED),
        ("spamreport", EventType.COMPLAINED),
        ("dropped", EventType.BLOCKED),
        ("delivered", EventType.UNKNOWN),
    ],
)
def test_a_sendgrid_event_pushed_by_the_sandbox_reaches_the_handler_normalised(
    app_url: str, key: SigningKey, inbox: Inbox, raw: str, expected: EventType
) -> None:
    delivery = push_sendgrid(f"{app_url}/sendgrid", [sendgrid_event(raw, "Ann@Example.com")], key)
    assert (delivery.status, delivery.accepted) == (200, True)
    (event,) = inbox.events
    assert (event.provider, event.type, event.email, event.raw["event"]) == (
        "sendgrid",
        expected,
        "ann@example.com",
        raw,
    )


def test_a_sendgrid_group_unsubscribe_reaches_the_handler_with_its_list(
    app_url: str, key: SigningKey, inbox: Inbox
) -> None:
    push_sendgrid(f"{app_url}/sendgrid", [sendgrid_event("group_unsubscribe", "ann@example.com", asm_group_id=7)], key)
    (event,) = inbox.events
    assert (event.type, event.list_id) == (EventType.UNSUBSCRIBED, "newsletter")


def test_a_sendgrid_batch_arrives_whole_and_in_order(app_url: str, key: SigningKey, inbox: Inbox) -> None:
    batch = [sendgrid_event("open", f"u{i}@example.com") for i in range(50)]
    assert push_sendgrid(f"{app_url}/sendgrid", batch, key).accepted
    assert [e.email for e in inbox.events] == [f"u{i}@example.com" for i in range(50)]


def test_a_push_signed_by_another_key_is_refused_and_nothing_handled(app_url: str, inbox: Inbox) -> None:
    delivery = push_sendgrid(f"{app_url}/sendgrid", [sendgrid_event("unsubscribe", "a@example.com")], SigningKey())
    assert (delivery.status, delivery.accepted) == (401, False)
    assert inbox.events == []


def test_an_unsigned_push_is_refused_where_signatures_are_checked(app_url: str, inbox: Inbox) -> None:
    delivery = push_sendgrid(f"{app_url}/sendgrid", [sendgrid_event("unsubscribe", "a@example.com")], None)
    assert delivery.status == 401
    assert inbox.events == []


@pytest.mark.parametrize("version", [1, 2])
def test_a_mailjet_unsub_pushed_by_the_sandbox_reaches_the_handler_with_its_list(
    app_url: str, inbox: Inbox, version: int
) -> None:
    event_record = mailjet_event("unsub", "bob@example.com", list_id=12)
    delivery = push_mailjet(_mailjet_url(app_url), [event_record], version=version)
    assert (delivery.status, delivery.accepted) == (200, True)
    (event,) = inbox.events
    assert (event.provider, event.type, event.email, event.list_id) == (
        "mailjet",
        EventType.UNSUBSCRIBED,
        "bob@example.com",
        "12",
    )
    assert event.raw["MessageID"] == event_record["MessageID"]


def test_a_grouped_mailjet_push_carries_mixed_events(app_url: str, inbox: Inbox) -> None:
    records = [
        mailjet_event("bounce", "a@example.com"),
        mailjet_event("spam", "b@example.com"),
        mailjet_event("blocked", "c@example.com"),
    ]
    assert push_mailjet(_mailjet_url(app_url), records).accepted
    assert [(e.type, e.reason) for e in inbox.events] == [
        (EventType.BOUNCED, "hard bounce: recipient: user unknown"),
        (EventType.COMPLAINED, "JMRPP"),
        (EventType.BLOCKED, "recipient: user unknown"),
    ]


def test_a_mailjet_push_with_the_wrong_url_credentials_is_refused(app_url: str, inbox: Inbox) -> None:
    delivery = push_mailjet(_mailjet_url(app_url, "guessed"), [mailjet_event("unsub", "a@example.com")])
    assert delivery.status == 401
    assert inbox.events == []


def test_the_delivery_shows_the_url_without_its_credentials(app_url: str) -> None:
    delivery = push_mailjet(_mailjet_url(app_url), [mailjet_event("unsub", "a@example.com")])
    assert PASSWORD not in delivery.url
    assert delivery.url == f"{app_url}/mailjet"


@pytest.mark.parametrize("provider", ["sendgrid", "mailjet"])
def test_a_handler_that_raises_makes_the_sandbox_see_a_5xx(
    app_url: str, key: SigningKey, inbox: Inbox, provider: str
) -> None:
    inbox.broken = True
    if provider == "sendgrid":
        delivery = push_sendgrid(f"{app_url}/sendgrid", [sendgrid_event("unsubscribe", "a@example.com")], key)
    else:
        delivery = push_mailjet(_mailjet_url(app_url), [mailjet_event("unsub", "a@example.com")])
    assert delivery.status is not None and delivery.status >= 500
    assert not delivery.accepted


def test_mailjet_counts_only_a_200_as_delivered_and_sendgrid_any_2xx() -> None:
    receiver = Receiver(status=204)
    with served(receiver) as base:
        mj = push_mailjet(f"{base}/mj", [mailjet_event("unsub", "a@example.com")])
        sg = push_sendgrid(f"{base}/sg", [sendgrid_event("unsubscribe", "a@example.com")], None)
    assert (mj.status, mj.accepted, sg.status, sg.accepted) == (204, False, 204, True)


def test_a_receiver_that_is_not_there_is_a_delivery_without_a_status() -> None:
    with served(Receiver()) as base:
        gone = base
    delivery = push(f"{gone}/hooks", b"[]")
    assert (delivery.status, delivery.accepted, delivery.error) == (None, False, "ConnectionError")


def test_mailjet_url_credentials_travel_as_basic_auth() -> None:
    receiver = Receiver()
    with served(receiver) as base:
        push_mailjet(base.replace("http://", "http://user:pa%3Ass@") + "/cb", [mailjet_event("unsub", "a@example.com")])
    (posted,) = receiver.posted
    assert posted.headers["Authorization"] == "Basic " + base64.b64encode(b"user:pa:ss").decode()
    assert posted.headers["Content-Type"] == "application/json"


def test_the_public_key_is_base64_der_of_a_p256_key() -> None:
    loaded = serialization.load_der_public_key(base64.b64decode(SigningKey().public_key, validate=True))
    assert isinstance(loaded, ec.EllipticCurvePublicKey)
    assert loaded.curve.name == "secp256r1"


def test_the_public_key_has_the_form_sendgrid_publishes() -> None:
    private = serialization.load_der_private_key(base64.b64decode(vectors.B_PRIVATE_KEY), password=None)
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    assert SigningKey(private).public_key == vectors.B_PUBLIC_KEY


def test_each_key_pair_is_its_own() -> None:
    assert SigningKey().public_key != SigningKey().public_key


def test_the_signing_key_repr_shows_no_private_material() -> None:
    signer = SigningKey()
    assert "PRIVATE" not in repr(signer) and len(repr(signer)) < 60


def test_sendgrid_bodies_are_compact_json_arrays_ending_in_crlf() -> None:
    body = pushing.sendgrid_body([sendgrid_event("unsubscribe", "a@example.com")])
    assert body.endswith(b"}]\r\n") and b", " not in body
    (record,) = json.loads(body)
    assert {"email", "timestamp", "event", "sg_event_id"} <= set(record)
    assert len(record["sg_event_id"]) <= 100


def test_a_version_1_mailjet_body_is_one_bare_object() -> None:
    assert json.loads(mailjet_body([mailjet_event("unsub", "a@example.com")], version=1))["event"] == "unsub"
    with pytest.raises(ValueError, match="exactly one"):
        mailjet_body([], version=1)


def test_fields_given_override_the_defaults() -> None:
    record = mailjet_event("bounce", "a@example.com", hard_bounce=False, error="greylisted")
    assert (record["hard_bounce"], record["error"], record["error_related_to"]) == (False, "greylisted", "recipient")


def test_the_pushing_module_imports_neither_the_parsers_nor_the_providers() -> None:
    tree = ast.parse(pathlib.Path(pushing.__file__).read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(name.startswith(("contactsync.events", "contactsync.providers")) for name in imported)


def test_an_exported_key_pair_loads_with_the_same_public_key() -> None:
    signer = SigningKey()
    restored = SigningKey.load(signer.export())
    assert restored.public_key == signer.public_key
    assert signer.export() not in repr(restored)


def _answers(*statuses: int) -> list[Delivery]:
    """What a receiver answering ``statuses`` in turn makes of successive sends (2xx accepted)."""
    return [Delivery("http://hooks.example.com/", status, accepted=200 <= status < 300) for status in statuses]


def test_redelivery_stops_at_the_first_accepted_delivery() -> None:
    answers = _answers(500, 200, 200)
    made = Redelivery(attempts=5, pause=0).deliver(lambda: answers.pop(0))
    assert [(d.attempt, d.status) for d in made] == [(1, 500), (2, 200)]


def test_redelivery_gives_up_after_its_attempts() -> None:
    answers = _answers(503, 503, 503, 200)
    made = Redelivery(attempts=3, pause=0).deliver(lambda: answers.pop(0))
    assert [(d.attempt, d.accepted) for d in made] == [(1, False), (2, False), (3, False)]
    assert len(answers) == 1


@pytest.mark.parametrize("options", [{"attempts": 0}, {"pause": -1.0}, {"backoff": 0.5}])
def test_redelivery_refuses_settings_that_never_send_or_shrink(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Redelivery(**options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:pw@hooks.example.com:8443/cb", True),
        ("http://127.0.0.1:9000/hooks", True),
        ("ftp://hooks.example.com/", False),
        ("hooks.example.com/cb", False),
        ("https:///no-host", False),
        ("http://hooks.example.com:port/", False),
        (None, False),
    ],
)
def test_a_webhook_url_is_http_or_https_with_a_host(url: object, expected: bool) -> None:
    assert postable(url) is expected
