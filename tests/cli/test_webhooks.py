"""``contactsync webhooks serve`` run as its own process: events to JSON lines, forwarded, refused; usage errors."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contactsync.cli import EXIT_USAGE
from contactsync.sandbox.webhooks import SigningKey, mailjet_event, push_mailjet, push_sendgrid, sendgrid_event
from tests.cli.conftest import CliRunnerCall
from tests.events.serving import Receiver, served
from tests.sandbox_process import COMMAND

PASSWORD = "cli-hook-password"


@contextlib.contextmanager
def serving(*flags: str) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    """``webhooks serve --port 0 --json FLAGS`` in its own process; yields it and its startup record."""
    process = subprocess.Popen(
        [*COMMAND, "webhooks", "serve", "--port", "0", "--json", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    try:
        line = process.stdout.readline()
        assert line, process.stderr.read() if process.stderr else "nothing printed"
        yield process, json.loads(line)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


@pytest.fixture
def key() -> SigningKey:
    return SigningKey()


def _flags(key: SigningKey) -> list[str]:
    return ["--sendgrid-key", key.public_key, "--mailjet-username", "mj", "--mailjet-password", PASSWORD]


def test_events_are_appended_to_the_jsonl_file(tmp_path: Path, key: SigningKey) -> None:
    out = tmp_path / "events.jsonl"
    with serving(*_flags(key), "--jsonl", str(out)) as (process, started):
        assert started["paths"] == ["/sendgrid", "/mailjet"]
        url = started["url"]
        assert push_sendgrid(f"{url}/sendgrid", [sendgrid_event("unsubscribe", "ann@example.com")], key).accepted
        mailjet_url = url.replace("http://", f"http://mj:{PASSWORD}@") + "/mailjet"
        assert push_mailjet(mailjet_url, [mailjet_event("unsub", "bob@example.com", list_id=3)]).accepted
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["provider"], r["type"], r["email"], r["list_id"]) for r in records] == [
        ("sendgrid", "unsubscribed", "ann@example.com", None),
        ("mailjet", "unsubscribed", "bob@example.com", "3"),
    ]
    assert records[0]["raw"]["event"] == "unsubscribe"
    assert records[1]["at"].endswith("+00:00")


def test_events_go_to_standard_output_by_default(key: SigningKey) -> None:
    with serving("--sendgrid-key", key.public_key) as (process, started):
        assert push_sendgrid(
            f"{started['url']}/sendgrid", [sendgrid_event("spamreport", "c@example.com")], key
        ).accepted
        assert process.stdout is not None
        record = json.loads(process.stdout.readline())
    assert (record["type"], record["email"]) == ("complained", "c@example.com")


def test_a_request_that_fails_verification_is_refused_and_not_written(tmp_path: Path, key: SigningKey) -> None:
    out = tmp_path / "events.jsonl"
    with serving(*_flags(key), "--jsonl", str(out)) as (_, started):
        forged = push_sendgrid(
            f"{started['url']}/sendgrid", [sendgrid_event("unsubscribe", "a@example.com")], SigningKey()
        )
        guessed = push_mailjet(
            started["url"].replace("http://", "http://mj:guess@") + "/mailjet",
            [mailjet_event("unsub", "a@example.com")],
        )
    assert (forged.status, guessed.status) == (401, 401)
    assert out.read_text(encoding="utf-8") == ""


def test_events_are_forwarded_to_the_url_as_a_json_array(key: SigningKey) -> None:
    receiver = Receiver()
    with (
        served(receiver) as app_url,
        serving("--sendgrid-key", key.public_key, "--forward-to", f"{app_url}/events") as (_, started),
    ):
        batch = [sendgrid_event("bounce", "a@example.com", type="blocked"), sendgrid_event("dropped", "b@example.com")]
        assert push_sendgrid(f"{started['url']}/sendgrid", batch, key).accepted
    (posted,) = receiver.posted
    assert (posted.path, posted.headers["Content-Type"]) == ("/events", "application/json")
    forwarded = json.loads(posted.body)
    assert [(r["type"], r["email"], r["reason"]) for r in forwarded] == [
        (
            "blocked",
            "a@example.com",
            "blocked: Invalid Address; 550 5.1.1 The email account that you tried to reach does not exist",
        ),
        ("blocked", "b@example.com", "Bounced Address"),
    ]


def test_a_forward_the_receiver_refuses_makes_the_provider_retry(key: SigningKey) -> None:
    with (
        served(Receiver(status=503)) as app_url,
        serving("--sendgrid-key", key.public_key, "--forward-to", f"{app_url}/events") as (_, started),
    ):
        delivery = push_sendgrid(f"{started['url']}/sendgrid", [sendgrid_event("unsubscribe", "a@example.com")], key)
    assert (delivery.status, delivery.accepted) == (500, False)


def test_the_startup_record_shows_no_password(key: SigningKey) -> None:
    with serving(*_flags(key)) as (_, started):
        assert PASSWORD not in json.dumps(started)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "serve at least one provider"),
        (["--sendgrid-unsigned", "--jsonl", "x.jsonl", "--forward-to", "http://127.0.0.1:1/"], "not both"),
        (["--mailjet-username", "mj"], "both --mailjet-username and --mailjet-password"),
        (["--sendgrid-unsigned", "--sendgrid-key", "abc"], "not both"),
    ],
    ids=["no provider", "two outputs", "half credentials", "key and unsigned"],
)
def test_contradictory_or_missing_flags_are_usage_errors(
    run: CliRunnerCall, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    for variable in ("SENDGRID_WEBHOOK_PUBLIC_KEY", "MAILJET_WEBHOOK_USERNAME", "MAILJET_WEBHOOK_PASSWORD"):
        monkeypatch.delenv(variable, raising=False)
    result = run("webhooks", "serve", "--port", "0", *args)
    assert result.exit_code == EXIT_USAGE
    assert message in result.stderr


def test_a_key_that_is_not_a_public_key_is_a_one_line_configuration_error(run: CliRunnerCall) -> None:
    result = run("webhooks", "serve", "--port", "0", "--sendgrid-key", "not-a-key")
    assert result.exit_code == EXIT_USAGE
    assert result.stderr.startswith("contactsync: error: the SendGrid verification key is not a public key")
    assert "Traceback" not in result.stderr
