"""Secrets stay secret: the suite's flows, scanned for the credentials in every log line, repr, error and report."""

from __future__ import annotations

import base64
import contextlib
import logging
import pickle
import socket
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import contactsync
from contactsync import (
    ConfigurationError,
    Contact,
    ContactSyncError,
    ListSubscription,
    RowError,
    SubscriptionAction,
)
from contactsync.cli import cli
from contactsync.csvio import write_errors
from contactsync.http import default_retry
from contactsync.sandbox import Sandbox

PROVIDERS = ["mailjet", "sendgrid", "dotmailer"]


def _secret_forms(credentials: dict[str, str]) -> list[str]:
    """Each credential, and the Basic-auth encodings of every pair of them."""
    values = [v for k, v in credentials.items() if k != "base_url"]
    forms = list(values)
    forms += [base64.b64encode(f"{a}:{b}".encode()).decode() for a in values for b in values]
    return forms


def _contacts() -> list[Contact | RowError]:
    return [
        Contact("ann@example.com", name="Ann Example", properties={"city": "Lyon", "visits": 3}),
        Contact("bob@example.com", properties={"joined": date(2024, 1, 2)}),
        RowError("not-an-email", None, "email", "invalid email"),
        Contact("carl@example.com", properties={"visits": "many"}),  # a type clash with the field made above
    ]


def _exception_texts(error: BaseException) -> list[str]:
    """Everything an error carries that a program may print, log or store: its text, its repr, its attributes,
    its pickle, and the same of every error in its chain (``__cause__`` and ``__context__``)."""
    texts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        texts += [str(current), repr(current), repr(vars(current)), repr(current.args)]
        request = getattr(current, "request", None)
        if request is not None:
            texts.append(repr(dict(getattr(request, "headers", {}) or {})))
        with contextlib.suppress(Exception):  # an error that cannot be pickled carries nothing there
            texts.append(pickle.dumps(current).decode("latin-1"))
        current = current.__cause__ or current.__context__
    return texts


def _failures(sandbox: Sandbox, provider: str) -> list[str]:
    """The text of the errors every failure path raises: wrong credentials, unknown objects, rate limits,
    an answer that is not JSON, a connection dropped and refused."""
    texts = []
    wrong = {k: f"{v}-but-wrong" for k, v in sandbox.credentials(provider).items() if k != "base_url"}
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/{provider}"
    once = default_retry(total=0)
    attempts: list[Any] = [
        lambda: sandbox.connect(provider, **wrong).lists(),
        lambda: sandbox.connect(provider).refresh("0"),
        lambda: sandbox.connect(provider).get_subscriptions("nobody@example.com"),
        lambda: sandbox.connect(provider, retry=once, base_url=closed).lists(),
        lambda: sandbox.connect(provider, retry=once).transport.json("GET", sandbox.url + "/nowhere"),
        lambda: sandbox.connect(provider, retry=once).transport.json("POST", "/v3/x", json={}, timeout=0.000001),
    ]
    for attempt in attempts:
        try:
            attempt()
        except ContactSyncError as exc:
            texts += _exception_texts(exc)
    return texts


@pytest.mark.parametrize("provider", PROVIDERS)
def test_no_credential_in_logs_reprs_errors_or_reports(
    provider: str, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    texts: list[str] = []
    with caplog.at_level(logging.DEBUG), Sandbox([provider]) as sandbox:
        secrets = _secret_forms(sandbox.credentials(provider))
        client = sandbox.connect(provider, retry=default_retry(total=1, backoff_factor=0))
        list_id = client.create_list("Secrets")
        job = client.wait(
            client.import_contacts(_contacts(), [ListSubscription(list_id, SubscriptionAction.ADD_NO_FORCE)])
        )
        errors = list(client.import_errors(job))
        report = tmp_path / "errors.csv"
        write_errors(report, errors)
        client.manage_subscriptions("ann@example.com", [ListSubscription(list_id, SubscriptionAction.ADD_FORCE)])
        texts += [repr(client), repr(client.transport), repr(job), report.read_text(encoding="utf-8")]
        texts += [repr(e) for e in errors]
        texts += [repr(client.get_contact("ann@example.com")), repr(client.get_subscriptions("ann@example.com"))]
        texts += _failures(sandbox, provider)
        with Sandbox([provider], faults="429:1") as limited:
            try:
                limited.connect(provider, retry=default_retry(total=1, backoff_factor=0)).lists()
            except ContactSyncError as exc:
                texts += [str(exc), repr(exc)]
    texts.append(caplog.text)
    assert len(errors) >= 2  # the flows did produce errors to scan
    assert caplog.records
    for text in texts:
        for secret in secrets:
            assert secret not in text


@pytest.mark.parametrize("provider", PROVIDERS)
def test_credentials_go_to_the_providers_api_only(provider: str) -> None:
    with Sandbox([provider]) as sandbox:
        client = sandbox.connect(provider)
        job = client.wait(client.import_contacts([Contact(f"u{i}@example.com") for i in range(20)], route=None))
        list(client.import_errors(job))
    authenticated = [r for r in sandbox.requests if "Authorization" in r.headers]
    assert authenticated
    assert all(r.path.startswith(f"/{provider}/") for r in authenticated)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_command_line_prints_no_credential(provider: str, tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text("email,name\nann@example.com,Ann\nnot-an-email,Bob\n", encoding="utf-8")
    report = tmp_path / "errors.csv"
    with Sandbox([provider]) as sandbox:
        credentials = sandbox.credentials(provider)
        flags = [f"--{k.replace('_', '-')}={v}" for k, v in credentials.items()] + ["--poll-interval=0.02"]
        runner = CliRunner()
        results = [
            runner.invoke(
                cli, ["-q", "import", str(people), "--provider", provider, *flags, "--errors-out", str(report)]
            ),
            runner.invoke(cli, ["-q", "import", str(people), "--provider", provider, *flags, "--json"]),
            runner.invoke(
                cli, ["-q", "lists", "--provider", provider, *flags, "--password=wrong", "--secret-key=wrong"]
            )
            if provider != "sendgrid"
            else runner.invoke(cli, ["-q", "lists", "--provider", provider, *flags, "--api-key=wrong-key"]),
        ]
    assert [r.exit_code for r in results[:2]] == [1, 1]
    assert results[2].exit_code != 0
    for text in [r.output for r in results] + [report.read_text(encoding="utf-8")]:
        for secret in _secret_forms(credentials):
            assert secret not in text


CONTROL_KEYS = ["{key}\r", "{key}\n", "{key}\r\n", "{key}\t", " {key}\x00", "{key}é", "{key}\u2028"]
"""Credentials as a key file with CRLF endings, a paste with a tab, or a stray non-ASCII character give them."""


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("form", CONTROL_KEYS)
def test_a_credential_holding_a_control_character_shows_in_no_error(provider: str, form: str) -> None:
    with Sandbox([provider]) as sandbox:
        real = sandbox.credentials(provider)
    for field in (k for k in real if k != "base_url"):
        broken = {**real, field: form.format(key=real[field])}
        with pytest.raises(ConfigurationError) as caught:
            contactsync.connect(provider, **broken)
        assert field in str(caught.value)
        for text in _exception_texts(caught.value):
            assert real[field] not in text


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_command_line_shows_no_credential_holding_a_control_character(provider: str) -> None:
    with Sandbox([provider]) as sandbox:
        real = sandbox.credentials(provider)
    runner = CliRunner()
    for form in CONTROL_KEYS:
        flags = [f"--{k.replace('_', '-')}={form.format(key=v) if k != 'base_url' else v}" for k, v in real.items()]
        for output in ("--json", "-q"):
            result = runner.invoke(cli, ["lists", "--provider", provider, *flags, output])
            assert result.exit_code == 2, result.output
            assert "Traceback" not in result.output
            for secret in _secret_forms(real):
                assert secret not in result.output
