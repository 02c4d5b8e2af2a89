"""The examples run as written: examples/portable.py gives the same outcomes on every built-in provider, and the
README's example runs unchanged against each one."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from contactsync.sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent
PROVIDERS = ("mailjet", "sendgrid", "dotmailer")


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=600, env=env, check=False
    )


@pytest.fixture(scope="module")
def outcomes() -> dict[str, list[tuple[str, str]]]:
    """Each provider's (label, outcome) lines from examples/portable.py, which must exit 0."""
    found: dict[str, list[tuple[str, str]]] = {}
    for provider in PROVIDERS:
        done = _run("examples/portable.py", "--provider", provider)
        assert done.returncode == 0, f"{provider}: {done.stdout}\n{done.stderr[-3000:]}"
        found[provider] = [
            (label, text) for label, _, text in (line.partition(": ") for line in done.stdout.splitlines())
        ]
    return found


def test_the_portable_example_reports_the_same_outcomes_in_the_same_order(
    outcomes: dict[str, list[tuple[str, str]]],
) -> None:
    labels = {provider: [label for label, _ in lines] for provider, lines in outcomes.items()}
    assert labels["sendgrid"] == labels["mailjet"] == labels["dotmailer"]
    assert len(labels["mailjet"]) == 10


def test_the_portable_example_differs_only_where_a_capability_is_named(
    outcomes: dict[str, list[tuple[str, str]]],
) -> None:
    for at, (label, _) in enumerate(outcomes["mailjet"]):
        texts = {provider: lines[at][1] for provider, lines in outcomes.items()}
        plain = {text for text in texts.values() if not text.startswith("capability: ")}
        assert len(plain) <= 1, (label, texts)
        for text in texts.values():
            if text.startswith("capability: "):
                assert re.match(r"capability: (UnsupportedAction|UnrepresentableValue) before sending: .+", text)


def test_sendgrid_shows_its_two_differences_by_the_error_named_before_sending(
    outcomes: dict[str, list[tuple[str, str]]],
) -> None:
    named = {label: text for label, text in outcomes["sendgrid"] if text.startswith("capability: ")}
    assert sorted(named) == ["a boolean property", "unsubscribe one contact"]
    assert 'booleans="text"' in named["a boolean property"]
    assert "global_unsubscribe=True" in named["unsubscribe one contact"]


def _readme_example() -> str:
    """The first code block of the README's "A short example" section, unindented."""
    section = (ROOT / "README.rst").read_text(encoding="utf-8").split("A short example\n", 1)[1]
    lines = section.split(".. code-block:: python\n", 1)[1].splitlines()
    block = []
    for line in lines:
        if line and not line.startswith("    "):
            break
        block.append(line[4:])
    return "\n".join(block)


@pytest.mark.slow
@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_readme_example_runs_as_written_on_every_provider(provider: str) -> None:
    """The README's example, its provider name swapped, against the sandbox through the environment."""
    code = _readme_example().replace('"mailjet"', f'"{provider}"')
    with Sandbox([provider]) as sandbox:
        settings = sandbox.credentials(provider)
        variables = {
            "mailjet": {"MJ_APIKEY_PUBLIC": "api_key", "MJ_APIKEY_PRIVATE": "secret_key"},
            "sendgrid": {"SENDGRID_API_KEY": "api_key"},
            "dotmailer": {"DOTMAILER_USERNAME": "username", "DOTMAILER_PASSWORD": "password"},
        }[provider]
        env = {**os.environ, **{name: settings[key] for name, key in variables.items()}}
        env[f"CONTACTSYNC_{provider.upper()}_BASE_URL"] = settings["base_url"]
        done = _run("-c", code, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines()[0].startswith("ImportStatus.COMPLETED ")
    assert "Traceback" not in done.stderr
