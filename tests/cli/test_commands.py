"""The commands, driven in-process with click's runner against the toy provider's emulator."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pytest

from contactsync import registry
from contactsync.cli import EXIT_FAILED, EXIT_INPUT, EXIT_OK, EXIT_ROW_ERRORS, EXIT_USAGE, fit_type
from contactsync.model import FieldType
from contactsync.sandbox import Sandbox
from tests.cli.conftest import CliRunnerCall
from tests.test_reports import Counting
from tests.toy import REJECTED_DOMAIN, ToyProvider

Toy = tuple[Sandbox, list[str]]


def _file(tmp_path: Path, rows: list[str], name: str = "people.csv") -> str:
    path = tmp_path / name
    path.write_text("email,name,team\n" + "".join(f"{r}\n" for r in rows), encoding="utf-8")
    return str(path)


def _no_traceback(output: str) -> None:
    assert "Traceback" not in output


def test_a_clean_import_exits_zero_and_reports_counts(run: CliRunnerCall, toy: Toy, tmp_path: Path) -> None:
    sandbox, flags = toy
    path = _file(tmp_path, [f"u{i}@example.com,User {i},red" for i in range(5)])
    result = run("import", path, *flags)
    assert result.exit_code == EXIT_OK, result.output
    assert "completed" in result.stdout
    assert "created 5" in result.stdout
    assert len(sandbox.emulators["toy"].state["contacts"]) == 5


def test_row_errors_exit_one_and_go_to_the_errors_file(run: CliRunnerCall, toy: Toy, tmp_path: Path) -> None:
    rows = ["a@example.com,A,x", "not-an-email,B,x", f"c{REJECTED_DOMAIN},C,x", "d@example.com,D,x"]
    out = tmp_path / "errors.csv"
    result = run("import", _file(tmp_path, rows), *toy[1], "--errors-out", str(out))
    assert result.exit_code == EXIT_ROW_ERRORS, result.output
    with out.open(newline="") as handle:
        report = list(csv.DictReader(handle))
    assert [(r["row"], r["email"]) for r in report] == [("2", "not-an-email"), ("3", f"c{REJECTED_DOMAIN}")]
    assert "2 row errors written" in result.stderr


def test_json_prints_one_machine_readable_result(run: CliRunnerCall, toy: Toy, tmp_path: Path) -> None:
    result = run("import", _file(tmp_path, ["a@example.com,A,x", "bad,B,y"]), *toy[1], "--json")
    assert result.exit_code == EXIT_ROW_ERRORS
    record = json.loads(result.stdout)
    assert record["status"] == "completed_with_errors"
    assert record["requested"] == 2 and record["created"] == 1
    assert record["error_count"] == 1 and record["errors"][0]["row"] == 2


def test_dry_run_plans_and_sends_nothing(run: CliRunnerCall, toy: Toy, tmp_path: Path) -> None:
    sandbox, flags = toy
    path = _file(tmp_path, [f"u{i}@example.com,U,x" for i in range(7)] + ["oops,O,x"])
    result = run("import", path, *flags, "--dry-run")
    assert result.exit_code == EXIT_ROW_ERRORS, result.output
    assert "rows 8: 7 valid, 1 rejected" in result.stdout
    assert "route 'json': 3 batch(es)" in result.stdout
    assert "batch 1:" in result.stdout
    assert sandbox.emulators["toy"].state["jobs"] == {}


def test_no_wait_then_status_and_errors_by_job_id(run: CliRunnerCall, toy: Toy, tmp_path: Path) -> None:
    _, flags = toy
    path = _file(tmp_path, ["a@example.com,A,x", f"b{REJECTED_DOMAIN},B,x"])
    submitted = json.loads(run("import", path, *flags, "--no-wait", "--json").stdout)
    assert submitted["status"] == "pending"
    waited = run("status", submitted["job_id"], *flags, "--wait", "--json")
    assert waited.exit_code == EXIT_ROW_ERRORS
    assert json.loads(waited.stdout)["status"] == "completed_with_errors"
    report = run("errors", submitted["job_id"], *flags)
    assert report.exit_code == EXIT_OK
    assert list(csv.reader(report.stdout.splitlines()))[1][1:4] == [f"b{REJECTED_DOMAIN}", "", "domain refused"]


def test_mapping_and_types_reach_the_provider(run: CliRunnerCall, toy: Toy, tmp_path: Path) -> None:
    sandbox, flags = toy
    path = tmp_path / "odd.csv"
    path.write_text("Mail;Who;Years;Drop\na@example.com;Ann;41;x\n", encoding="utf-8")
    result = run("import", str(path), *flags, "--map", "Mail=email", "--map", "Who=name", "--map", "Drop=",
                 "--map", "Years=age", "--type", "age=integer")  # fmt: skip
    assert result.exit_code == EXIT_OK, result.output
    sent = sandbox.emulators["toy"].state["bodies"][0]["contacts"][0]
    assert sent == {"email": "a@example.com", "name": "Ann", "props": {"age": 41}}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"name,phone\nAnn,1\n", "no email column"),
        (b"email\x00,name\n", "NUL bytes"),
        (b"email\n" + b"x" * 2_000_000 + b"\n", "longer than 1,048,576 bytes"),
        (gzip.compress(b"email\na@example.com\n")[:-9], "not a valid gzip file"),  # a .csv that is gzip, cut short
        (b"", "is empty"),
    ],
)
def test_malformed_files_exit_four_with_one_message(
    run: CliRunnerCall, toy: Toy, tmp_path: Path, content: bytes, message: str
) -> None:
    sandbox, flags = toy
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    result = run("import", str(path), *flags)
    assert result.exit_code == EXIT_INPUT
    assert result.stderr.count("\n") == 1 and message in result.stderr
    _no_traceback(result.output)
    assert sandbox.emulators["toy"].state["jobs"] == {}


def test_a_missing_file_exits_four(run: CliRunnerCall, toy: Toy, tmp_path: Path) -> None:
    result = run("import", str(tmp_path / "nope.csv"), *toy[1])
    assert result.exit_code == EXIT_INPUT
    assert "No such file" in result.stderr


def test_wrong_credentials_exit_three(run: CliRunnerCall, toy: Toy, tmp_path: Path) -> None:
    sandbox, _ = toy
    flags = ["--provider", "toy", "--base-url", sandbox.base_url("toy"), "--setting", "token=wrong-token-123",
             "--poll-interval", "0.01"]  # fmt: skip
    result = run("import", _file(tmp_path, ["a@example.com,A,x"]), *flags)
    assert result.exit_code == EXIT_FAILED
    assert "401" in result.stderr and "wrong-token-123" not in result.output
    _no_traceback(result.output)


def test_configuration_mistakes_exit_two(run: CliRunnerCall, toy: Toy, tmp_path: Path) -> None:
    path = _file(tmp_path, ["a@example.com,A,x"])
    assert run("import", path, "--provider", "toy").exit_code == EXIT_USAGE  # no token
    assert run("import", path, "--provider", "nosuch").exit_code == EXIT_USAGE
    assert run("import", path).exit_code == EXIT_USAGE  # which provider?
    assert run("import", path, *toy[1], "--list", "1", "--action", "unsub").exit_code == EXIT_USAGE
    assert run("import", path, *toy[1], "--state", str(tmp_path / "s.db")).exit_code == EXIT_USAGE
    sandboxed = run("import", path, "--provider", "toy", "--sandbox")
    assert sandboxed.exit_code == EXIT_USAGE and "no emulator for 'toy'" in sandboxed.stderr
    unknown = run("import", path, "--provider", "sendgrid", "--username", "u", "--api-key", "k")
    assert unknown.exit_code == EXIT_USAGE and "does not take username" in unknown.stderr


def test_the_config_file_supplies_provider_and_credentials(
    run: CliRunnerCall, toy: Toy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox, _ = toy
    config = tmp_path / "contactsync.toml"
    config.write_text(f'provider = "toy"\n\n[toy]\ntoken = "{sandbox.emulators["toy"].credentials()["token"]}"\n'
                      f'base_url = "{sandbox.base_url("toy")}"\npoll_interval = 0.01\n')  # fmt: skip
    result = run("import", _file(tmp_path, ["a@example.com,A,x"]), "--config", str(config))
    assert result.exit_code == EXIT_OK, result.output
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # the default location is found too
    assert run("import", _file(tmp_path, ["b@example.com,B,x"])).exit_code == EXIT_OK
    config.write_text("provider = [unclosed\n")
    broken = run("import", _file(tmp_path, ["a@example.com,A,x"]), "--config", str(config))
    assert broken.exit_code == EXIT_USAGE and "not valid TOML" in broken.stderr


def test_providers_lists_builtins_and_plugins_with_versions(run: CliRunnerCall, toy: Toy) -> None:
    result = run("providers", "--json")
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert {"mailjet", "sendgrid", "dotmailer", "toy"} <= set(rows)
    assert rows["toy"]["kind"] == "plugin" and rows["toy"]["status"] == "ok"
    assert rows["sendgrid"]["kind"] == "built-in"


def test_help_lists_every_command(run: CliRunnerCall) -> None:
    result = run("--help")
    for command in ("import", "status", "errors", "subscriptions", "subscribe", "lists", "create-list", "fields",
                    "providers", "sandbox", "demo"):  # fmt: skip
        assert command in result.stdout


@pytest.mark.parametrize(
    ("wanted", "supported", "expected"),
    [
        (FieldType.BOOLEAN, {FieldType.TEXT, FieldType.NUMBER, FieldType.DATE}, FieldType.TEXT),
        (FieldType.INTEGER, {FieldType.TEXT, FieldType.NUMBER}, FieldType.NUMBER),
        (FieldType.DATE, {FieldType.TEXT, FieldType.DATE}, FieldType.DATE),
        (FieldType.DATE, {FieldType.TEXT, FieldType.DATETIME}, FieldType.DATETIME),
        (FieldType.DATETIME, {FieldType.TEXT, FieldType.DATE}, FieldType.TEXT),
    ],
)
def test_fields_are_created_with_the_nearest_lossless_type(
    wanted: FieldType, supported: set[FieldType], expected: FieldType
) -> None:
    assert fit_type(wanted, frozenset(supported)) is expected


def test_json_failures_are_machine_readable_too(run: CliRunnerCall, toy: Toy, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"name\nAnn\n")
    result = run("import", str(path), *toy[1], "--json")
    assert result.exit_code == EXIT_INPUT
    record = json.loads(result.stdout)
    assert record["exit_code"] == EXIT_INPUT and record["type"] == "InvalidInput"
    assert "no email column" in record["error"]


def test_a_header_the_provider_cannot_take_is_one_error_with_a_map_suggestion(
    run: CliRunnerCall, tmp_path: Path
) -> None:
    people = tmp_path / "people.csv"
    rows = "".join(f"p{n}@example.com,P {n},yes,x\n" for n in range(2000))
    people.write_text("email,Job Title,VIP?,2nd\n" + rows, encoding="utf-8")
    result = run("-q", "import", str(people), "--provider", "sendgrid", "--sandbox")
    assert result.exit_code == EXIT_INPUT
    (line,) = result.stderr.strip().splitlines()  # one error for the header, not one per row
    assert "sendgrid cannot take the column(s) 'Job Title', 'VIP?', '2nd'" in line
    assert "--map 'Job Title=job_title' --map 'VIP?=vip' --map 2nd=_2nd" in line
    renamed = run(
        "-q", "import", str(people), "--provider", "sendgrid", "--sandbox",
        "--map", "Job Title=job_title", "--map", "VIP?=vip", "--map", "2nd=_2nd",
    )  # fmt: skip
    assert renamed.exit_code == EXIT_OK, renamed.stderr


def test_rows_rejected_without_being_named_are_shown_and_counted(run: CliRunnerCall, toy: Toy, tmp_path: Path) -> None:
    _, flags = toy
    path = _file(tmp_path, ["a@example.com,A,x", f"b{REJECTED_DOMAIN},B,x", f"c{REJECTED_DOMAIN},C,x"])
    registry.register("toy", Counting, replace=True)
    try:
        result = run("import", path, *flags)
    finally:
        registry.register("toy", ToyProvider, replace=True)
    assert result.exit_code == EXIT_ROW_ERRORS, result.output
    assert result.stderr.count("row ? [email]: the toy counted it invalid (one of 2 rows rejected") == 2
    assert "2 of them name no row: the provider did not say which rows" in result.stderr
