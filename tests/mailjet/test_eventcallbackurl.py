"""The Mailjet emulator's ``/v3/REST/eventcallbackurl`` (reference/mailjet.md §12a), through mailjet-rest's own
call shapes and plain requests, and where ``Sandbox.simulate`` posts the Event API as a result."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from mailjet_rest import Client

from contactsync import Contact, ListSubscription
from contactsync.providers.mailjet.provider import MailjetProvider
from contactsync.sandbox import Sandbox
from contactsync.sandbox.mailjet import MailjetEmulator
from tests.events.serving import Receiver, served

HOOK = "https://hooks:pw@hooks.example.com/mailjet"


def _raw(sandbox: Sandbox, emulator: MailjetEmulator, method: str, path: str, body: Any = None) -> requests.Response:
    return requests.request(
        method,
        f"{sandbox.base_url('mailjet')}/v3/REST/eventcallbackurl{path}",
        json=body,
        auth=(emulator.API_KEY, emulator.SECRET_KEY),
        timeout=10,
    )


@pytest.fixture
def raw(mj_sandbox: Sandbox, emulator: MailjetEmulator) -> Any:
    """``raw(method, path="", body=None)``: a plain request under ``/v3/REST/eventcallbackurl``."""
    return lambda method, path="", body=None: _raw(mj_sandbox, emulator, method, path, body)


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    """A receiver recording what it is posted, and its base URL."""
    got = Receiver()
    with served(got) as base:
        yield got, base


def test_a_callback_is_created_with_its_id_status_and_api_key(official: Client) -> None:
    answer = official.eventcallbackurl.create(data={"EventType": "unsub", "Url": HOOK, "Version": 2})
    assert answer.status_code == 201
    body = answer.json()
    assert (body["Count"], body["Total"]) == (1, 1)
    (record,) = body["Data"]
    assert list(record) == ["APIKeyID", "EventType", "ID", "IsBackup", "Status", "Url", "Version"]
    assert (record["EventType"], record["Url"], record["Version"]) == ("unsub", HOOK, 2)
    assert (record["IsBackup"], record["Status"]) == (False, "alive")
    assert isinstance(record["ID"], int) and isinstance(record["APIKeyID"], int)


def test_version_defaults_to_1(raw: Any) -> None:
    assert raw("POST", body={"EventType": "open", "Url": HOOK}).json()["Data"][0]["Version"] == 1


def test_one_url_per_event_type_and_a_backup_beside_it(raw: Any) -> None:
    assert raw("POST", body={"EventType": "bounce", "Url": HOOK}).status_code == 201
    again = raw("POST", body={"EventType": "bounce", "Url": "https://other.example.com/"})
    assert again.status_code == 400
    assert "bounce|false" in again.json()["ErrorMessage"]
    assert raw("POST", body={"EventType": "bounce", "Url": HOOK, "IsBackup": True}).status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"EventType": "opened", "Url": HOOK}, "EventType"),
        ({"Url": HOOK}, "EventType"),
        ({"EventType": "open"}, "Url"),
        ({"EventType": "open", "Url": "ftp://hooks.example.com/"}, "Url"),
        ({"EventType": "open", "Url": HOOK, "Version": 3}, "Version"),
        ({"EventType": "open", "Url": HOOK, "Version": True}, "Version"),
        ({"EventType": "open", "Url": HOOK, "IsBackup": "yes"}, "IsBackup"),
        ({"EventType": "open", "Url": HOOK, "Status": "sleeping"}, "Status"),
    ],
)
def test_a_wrong_field_is_mailjets_400_naming_it(raw: Any, body: dict[str, Any], field: str) -> None:
    answer = raw("POST", body=body)
    assert answer.status_code == 400
    assert set(answer.json()) == {"ErrorInfo", "ErrorMessage", "StatusCode"}
    assert field in answer.json()["ErrorInfo"]


def test_a_field_the_resource_does_not_have_is_refused(raw: Any) -> None:
    answer = raw("POST", body={"EventType": "open", "Url": HOOK, "Secret": "x"})
    assert answer.status_code == 400
    assert 'has no property "Secret"' in answer.json()["ErrorMessage"]


def test_a_callback_reads_by_id_and_by_its_unique_key(official: Client) -> None:
    made = official.eventcallbackurl.create(data={"EventType": "spam", "Url": HOOK}).json()["Data"][0]
    by_id = official.eventcallbackurl.get(id=made["ID"]).json()["Data"]
    by_key = official.eventcallbackurl.get(id="spam|false").json()["Data"]
    assert by_id == by_key == [made]


def test_an_unknown_callback_is_not_found(raw: Any) -> None:
    for path in ("/99", "/open|false", "/open|maybe"):
        answer = raw("GET", path)
        assert (answer.status_code, answer.json()["ErrorMessage"]) == (404, "Object not found")


def test_an_update_changes_the_fields_given(official: Client) -> None:
    made = official.eventcallbackurl.create(data={"EventType": "click", "Url": HOOK}).json()["Data"][0]
    answer = official.eventcallbackurl.update(id=made["ID"], data={"Version": 2})
    assert answer.status_code == 200
    assert answer.json()["Data"] == [{**made, "Version": 2}]


def test_an_update_that_changes_nothing_is_304(raw: Any) -> None:
    made = raw("POST", body={"EventType": "click", "Url": HOOK}).json()["Data"][0]
    assert raw("PUT", f"/{made['ID']}", {"Url": HOOK}).status_code == 304


def test_a_new_url_revives_a_dead_callback(raw: Any) -> None:
    made = raw("POST", body={"EventType": "click", "Url": HOOK, "Status": "dead"}).json()["Data"][0]
    assert made["Status"] == "dead"
    revived = raw("PUT", f"/{made['ID']}", {"Url": "https://new.example.com/hook"}).json()["Data"][0]
    assert (revived["Url"], revived["Status"]) == ("https://new.example.com/hook", "alive")


def test_an_update_may_not_take_another_callbacks_key(raw: Any) -> None:
    raw("POST", body={"EventType": "open", "Url": HOOK})
    other = raw("POST", body={"EventType": "click", "Url": HOOK}).json()["Data"][0]
    assert raw("PUT", f"/{other['ID']}", {"EventType": "open"}).status_code == 400


def test_a_deleted_callback_is_gone(official: Client, raw: Any) -> None:
    made = official.eventcallbackurl.create(data={"EventType": "sent", "Url": HOOK}).json()["Data"][0]
    assert official.eventcallbackurl.delete(id=made["ID"]).status_code == 204
    assert raw("GET", f"/{made['ID']}").status_code == 404
    assert raw("DELETE", f"/{made['ID']}").status_code == 404


def test_the_list_filters_by_event_type_number_or_name_backup_and_status(official: Client) -> None:
    for event in ("click", "bounce", "unsub"):
        official.eventcallbackurl.create(data={"EventType": event, "Url": HOOK})
    official.eventcallbackurl.create(data={"EventType": "unsub", "Url": HOOK, "IsBackup": True, "Status": "dead"})

    def types(**filters: Any) -> list[tuple[str, bool]]:
        data = official.eventcallbackurl.get(filters=filters).json()["Data"]
        return [(record["EventType"], record["IsBackup"]) for record in data]

    assert types() == [("click", False), ("bounce", False), ("unsub", False), ("unsub", True)]
    assert types(EventType=5) == types(EventType="unsub") == [("unsub", False), ("unsub", True)]
    assert types(Backup="true") == types(Status="dead") == [("unsub", True)]
    assert types(Limit=2, Offset=1) == [("bounce", False), ("unsub", False)]


def test_callbacks_survive_a_saved_state(emulator: MailjetEmulator, raw: Any) -> None:
    raw("POST", body={"EventType": "unsub", "Url": HOOK})
    fresh = MailjetEmulator()
    fresh.load(emulator.dump())
    assert fresh.state["callbacks"] == emulator.state["callbacks"]


# -- where simulate posts --------------------------------------------------------------------------------


@pytest.fixture
def member(client: MailjetProvider) -> str:
    """A list holding ann@example.com; its id."""
    list_id = client.create_list("Newsletter")
    client.wait(client.import_contacts([Contact("ann@example.com")], [ListSubscription(list_id)]))
    return list_id


def test_simulate_posts_only_the_event_types_registered(
    mj_sandbox: Sandbox, raw: Any, member: str, receiver: tuple[Receiver, str]
) -> None:
    got, base = receiver
    raw("POST", body={"EventType": "unsub", "Url": f"{base}/unsub", "Version": 2})
    assert mj_sandbox.simulate("mailjet", "ann@example.com", "bounce").deliveries == ()
    done = mj_sandbox.simulate("mailjet", "ann@example.com", "unsubscribe", member)
    assert [(d.url, d.status, d.accepted) for d in done.deliveries] == [(f"{base}/unsub", 200, True)]
    (posted,) = got.posted
    assert json.loads(posted.body) == [dict(record) for record in done.records]


def test_version_1_posts_each_event_alone_as_a_bare_object(
    mj_sandbox: Sandbox, client: MailjetProvider, raw: Any, member: str, receiver: tuple[Receiver, str]
) -> None:
    got, base = receiver
    client.manage_subscriptions("ann@example.com", [ListSubscription(client.create_list("Offers"))])
    raw("POST", body={"EventType": "unsub", "Url": f"{base}/v1", "Version": 1})
    done = mj_sandbox.simulate("mailjet", "ann@example.com", "unsubscribe")  # from both lists
    assert len(done.records) == len(done.deliveries) == 2
    assert [json.loads(p.body)["event"] for p in got.posted] == ["unsub", "unsub"]


def test_a_dead_primary_leaves_the_events_to_the_backup(
    mj_sandbox: Sandbox, raw: Any, member: str, receiver: tuple[Receiver, str]
) -> None:
    got, base = receiver
    raw("POST", body={"EventType": "spam", "Url": f"{base}/primary", "Status": "dead"})
    raw("POST", body={"EventType": "spam", "Url": f"{base}/backup", "IsBackup": True})
    mj_sandbox.simulate("mailjet", "ann@example.com", "spam")
    assert [p.path for p in got.posted] == ["/backup"]


def test_only_a_200_acknowledges_anything_else_is_sent_again(
    mj_sandbox: Sandbox, emulator: MailjetEmulator, raw: Any, member: str
) -> None:
    got = Receiver(status=201)
    with served(got) as base:
        raw("POST", body={"EventType": "blocked", "Url": f"{base}/hook", "Version": 2})
        done = mj_sandbox.simulate("mailjet", "ann@example.com", "block")
    assert [(d.attempt, d.status, d.accepted) for d in done.deliveries] == [
        (n, 201, False) for n in range(1, emulator.redelivery.attempts + 1)
    ]
    assert len(got.posted) == emulator.redelivery.attempts
