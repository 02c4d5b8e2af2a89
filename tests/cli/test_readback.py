"""``export``, ``events`` and ``migrate`` on the command line, against embedded sandboxes keeping a state file."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from contactsync import Contact, ListSubscription, Provider, SubscriptionAction
from contactsync.sandbox import Sandbox
from contactsync.sandbox.state import save_state
from tests.cli.conftest import CliRunnerCall

STAMP = datetime(2026, 5, 17, 8, 30, tzinfo=timezone.utc)
Seed = Callable[[str], str]


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "sandbox.db"


@pytest.fixture
def seed(state: Path) -> Seed:
    """Fill a provider's account in the state file with a list of three members (one unsubscribed); its id."""

    def fill(provider: str) -> str:
        with Sandbox([provider]) as sandbox:
            client: Provider = sandbox.connect(
                provider, **({"global_unsubscribe": True} if provider == "sendgrid" else {})
            )
            list_id = client.create_list("Readers")
            contacts = [
                Contact(
                    f"r{n}@example.com", name=f"Reader {n}", properties={"city": "=1+1", "visits": n, "seen": STAMP}
                )
                for n in range(3)
            ]
            client.wait(client.import_contacts(contacts, [ListSubscription(list_id)]))
            unsub = [ListSubscription(list_id, SubscriptionAction.UNSUBSCRIBE)]
            client.manage_subscriptions("r2@example.com", unsub)
            save_state(state, sandbox.emulators.values())
        return list_id

    return fill


def sandboxed(provider: str, state: Path) -> list[str]:
    return ["--provider", provider, "--sandbox", "--state", str(state)]


def test_export_writes_every_member_to_csv(run: CliRunnerCall, seed: Seed, state: Path, tmp_path: Path) -> None:
    list_id = seed("mailjet")
    out = tmp_path / "members.csv"
    result = run("export", "--list", list_id, "-o", str(out), *sandboxed("mailjet", state))
    assert result.exit_code == 0, result.stderr
    assert "3 members of mailjet list" in result.stderr and "1 unsubscribed" in result.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0]) == [
        "email",
        "name",
        "city",
        "visits",
        "seen",
        "subscribed",
        "subscribed_at",
        "unsubscribed_at",
    ]
    assert [(r["email"], r["city"], r["visits"], r["seen"], r["subscribed"]) for r in rows] == [
        (f"r{n}@example.com", "=1+1", str(n), "2026-05-17T08:30:00Z", "false" if n == 2 else "true") for n in range(3)
    ]
    assert rows[2]["unsubscribed_at"].endswith("Z") and rows[0]["unsubscribed_at"] == ""


def test_export_to_standard_output(run: CliRunnerCall, seed: Seed, state: Path) -> None:
    list_id = seed("sendgrid")
    result = run("export", "--list", list_id, *sandboxed("sendgrid", state), "--setting", "global_unsubscribe=true")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert sorted(r["email"] for r in rows) == [f"r{n}@example.com" for n in range(3)]
    assert {r["email"] for r in rows if r["subscribed"] == "false"} == {"r2@example.com"}


def test_export_to_excel_keeps_text_as_text(run: CliRunnerCall, seed: Seed, state: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    list_id = seed("dotmailer")
    out = tmp_path / "members.xlsx"
    assert run("export", "--list", list_id, "-o", str(out), *sandboxed("dotmailer", state)).exit_code == 0
    sheet = load_workbook(out).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert [str(h).lower() for h in rows[0][:5]] == ["email", "name", "city", "visits", "seen"]
    assert rows[1][2] == "=1+1" and sheet.cell(2, 3).data_type == "s"  # data, not a formula
    assert len(rows) == 4


def test_an_export_file_imports_back(run: CliRunnerCall, seed: Seed, state: Path, tmp_path: Path) -> None:
    list_id = seed("mailjet")
    out = tmp_path / "members.csv"
    assert run("export", "--list", list_id, "-o", str(out), *sandboxed("mailjet", state)).exit_code == 0
    copy = run("create-list", "Copy", *sandboxed("mailjet", state)).stdout.strip()
    skip = [item for column in ("subscribed", "subscribed_at", "unsubscribed_at") for item in ("--map", f"{column}=")]
    result = run("import", str(out), "--list", copy, *skip, *sandboxed("mailjet", state))
    assert result.exit_code == 0, result.stderr
    again = tmp_path / "again.csv"
    assert run("export", "--list", copy, "-o", str(again), *sandboxed("mailjet", state)).exit_code == 0
    first, second = (list(csv.DictReader(p.open(encoding="utf-8"))) for p in (out, again))
    columns = ("email", "name", "city", "visits", "seen")
    assert [[r[c] for c in columns] for r in second] == [[r[c] for c in columns] for r in first]


def test_export_json_needs_an_output_file(run: CliRunnerCall, seed: Seed, state: Path) -> None:
    result = run("export", "--list", seed("mailjet"), "--json", *sandboxed("mailjet", state))
    assert result.exit_code == 2 and "--output" in result.stderr


def test_export_of_an_unknown_list_fails_in_one_line(run: CliRunnerCall, state: Path) -> None:
    result = run("export", "--list", "424242", *sandboxed("mailjet", state))
    assert result.exit_code == 3 and "Traceback" not in result.stderr
    assert result.stderr.startswith("contactsync: error:") and "404" in result.stderr


def test_events_since_a_time_as_json_lines(run: CliRunnerCall, seed: Seed, state: Path) -> None:
    list_id = seed("dotmailer")
    since = (datetime.now(timezone.utc) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    result = run("events", "--since", since, "--list", list_id, "--json", *sandboxed("dotmailer", state))
    assert result.exit_code == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(e["type"], e["email"], e["list_id"]) for e in events] == [("unsubscribed", "r2@example.com", list_id)]


def test_events_as_a_table(run: CliRunnerCall, seed: Seed, state: Path) -> None:
    seed("sendgrid")
    result = run("events", "--since", "2020-01-01", *sandboxed("sendgrid", state))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0].split() == ["at", "type", "email", "list", "reason"]
    assert "unsubscribed  r2@example.com" in result.stdout


def test_events_refuse_a_time_without_a_zone(run: CliRunnerCall, state: Path) -> None:
    result = run("events", "--since", "2026-11-01T00:00:00", *sandboxed("mailjet", state))
    assert result.exit_code == 2 and "no time zone" in result.stderr


def _seed_both(state: Path) -> tuple[str, str]:
    with Sandbox(["mailjet", "sendgrid"]) as sandbox:
        source = sandbox.connect("mailjet")
        origin = source.create_list("Readers")
        contacts = [Contact(f"m{n}@example.com", name=f"M {n}", properties={"visits": n}) for n in range(5)]
        source.wait(source.import_contacts(contacts, [ListSubscription(origin)]))
        source.manage_subscriptions("m0@example.com", [ListSubscription(origin, SubscriptionAction.UNSUBSCRIBE)])
        destination = sandbox.connect("sendgrid").create_list("Moved")
        save_state(state, sandbox.emulators.values())
    return origin, destination


def test_migrate_moves_members_with_their_standing(run: CliRunnerCall, state: Path, tmp_path: Path) -> None:
    origin, destination = _seed_both(state)
    journal = tmp_path / "move"
    command = ["migrate", "--from", "mailjet", "--from-list", origin, "--to", "sendgrid", "--to-list", destination]
    result = run(*command, "--to-setting", "global_unsubscribe=true", "--sandbox", "--state", str(state),
                 "--journal", str(journal), "--json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["members"], summary["subscribed"], summary["unsubscribed"], summary["error_count"]) == (5, 4, 1, 0)
    assert list(tmp_path.glob("move*")) == []
    exported = run(
        "export", "--list", destination, "--setting", "global_unsubscribe=true", *sandboxed("sendgrid", state)
    )
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert {r["email"]: r["subscribed"] for r in rows} == {f"m{n}@example.com": str(n != 0).lower() for n in range(5)}


def test_migrate_refuses_a_target_without_an_unsubscribe_setting(run: CliRunnerCall, state: Path) -> None:
    origin, destination = _seed_both(state)
    command = ["migrate", "--from", "mailjet", "--from-list", origin, "--to", "sendgrid", "--to-list", destination]
    result = run(*command, "--sandbox", "--state", str(state))
    assert result.exit_code == 2
    assert "unsubscribe_groups" in result.stderr and "global_unsubscribe" in result.stderr


def test_migrate_resume_needs_a_journal(run: CliRunnerCall, state: Path, tmp_path: Path) -> None:
    command = ["migrate", "--from", "mailjet", "--from-list", "1", "--to", "dotmailer", "--to-list", "1"]
    result = run(*command, "--sandbox", "--state", str(state), "--resume", "--journal", str(tmp_path / "none"))
    assert result.exit_code == 2 and "no migration journal" in result.stderr
