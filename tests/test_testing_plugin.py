"""The pytest plugin installed with contactsync: applications' tests get a fresh sandbox, an environment pointing
at it, and clients parametrised over providers, by asking for them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

import contactsync
from contactsync.provider import Provider
from contactsync.registry import BUILTINS
from contactsync.sandbox import Sandbox
from contactsync.testing.plugin import POLL_INTERVAL, sandbox_providers

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "test_newsletter.py"


def _pytest(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def test_the_plugin_serves_a_fresh_sandbox_of_every_built_in(contactsync_sandbox: Sandbox) -> None:
    assert set(BUILTINS) <= set(contactsync_sandbox.emulators)
    for name in BUILTINS:
        with contactsync_sandbox.connect(name) as client:
            assert client.lists() == []
            assert client.poll_interval < 1  # quick polls, for tests


def test_the_environment_points_connect_at_the_sandbox(contactsync_sandbox: Sandbox) -> None:
    for name in BUILTINS:
        with contactsync.connect(name) as client:  # as application code connects: by name alone
            assert client.transport.base_url == contactsync_sandbox.base_url(name)
            assert client.poll_interval == POLL_INTERVAL
            client.create_list("Reached")
        assert [item.name for item in contactsync_sandbox.connect(name).lists()] == ["Reached"]


@pytest.mark.contactsync_providers("sendgrid", "dotmailer")
def test_the_marker_chooses_the_providers_of_the_client(
    contactsync_client: Provider, contactsync_provider: str
) -> None:
    assert contactsync_provider in ("sendgrid", "dotmailer")
    assert contactsync_client.name == contactsync_provider and contactsync_client.lists() == []


def test_without_a_marker_or_option_the_client_runs_on_every_provider_served(tmp_path: Path) -> None:
    (tmp_path / "test_app.py").write_text(
        "def test_it(contactsync_client):\n    assert contactsync_client.lists() == []\n"
    )
    listed = _pytest("--collect-only", "-q", "test_app.py", cwd=tmp_path)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    ids = sorted(line.partition("[")[2].rstrip("]") for line in listed.stdout.splitlines() if "::test_it[" in line)
    assert ids == sandbox_providers() and set(BUILTINS) <= set(ids)
    (tmp_path / "pytest.ini").write_text("[pytest]\ncontactsync_providers = mailjet\n")
    assert "test_app.py::test_it[mailjet]" in _pytest("--collect-only", "-q", "test_app.py", cwd=tmp_path).stdout


def test_the_example_of_the_testing_page_passes_each_test_under_a_second(tmp_path: Path) -> None:
    report = tmp_path / "report.xml"
    done = _pytest(str(EXAMPLE), f"--junitxml={report}", "-o", "junit_duration_report=total")
    assert done.returncode == 0, done.stdout + done.stderr
    cases = {
        case.get("name", ""): float(case.get("time", "nan")) for case in ElementTree.parse(report).iter("testcase")
    }
    assert len(cases) == 6, cases
    slow = {name: seconds for name, seconds in cases.items() if not seconds < 1.0}
    assert slow == {}, f"each test with its set-up and tear-down takes under 1 s: {cases}"
