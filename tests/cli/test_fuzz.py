"""Fuzzing the CLI's flags and settings: every user mistake is a typed error with exit 2, 3 or 4, never 5.

Hypothesis draws hostile values for the shared flags (--timeout, --poll-interval,
--base-url, credentials), for each provider's settings (--setting KEY=VALUE) and for the
import's own flags (--encoding, --delimiter, --limit, --type, --map, --route), runs the
command in-process with click's runner, and checks the exit code and that no traceback
shows. A handful of the same mistakes run as real subprocesses too.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contactsync.cli import EXIT_FAILED, EXIT_INPUT, EXIT_USAGE
from tests.cli.conftest import CliRunnerCall
from tests.sandbox_process import COMMAND

USER_MISTAKES = {EXIT_USAGE, EXIT_FAILED, EXIT_INPUT}

NUMBERS = ["-1", "0", "-0", "nan", "inf", "-inf", "1e400", "abc", "", "1e309", "86401", "1,5"]
"""Hostile values for --timeout and --poll-interval."""

SHARED = {
    "timeout": ['"x"', "[1]", '{"a": 1}', "null", "true", "1e400", "-5", "0", "NaN", "-Infinity", '"60"'],
    "total_timeout": ['"x"', "[]", "false", "-1", "0", "1e400", "Infinity"],
    "max_retry_wait": ['"x"', "[]", "true", "-1", "NaN", "1e400"],
    "poll_interval": ['"fast"', "[0.1]", "0", "-5", "NaN", "1e400", "true"],
    "concurrency": ['"x"', "[2]", "0", "-1", "1000000000", "2.5", "true", "NaN", "1e400", "null"],
    "allow_insecure": ['"yes"', '"true"', "1", "0", "[]", "null", '"no"'],
    "retry": ["5", '"5"', "true", "{}", "[3]"],
}
"""Hostile JSON values for the settings every provider takes."""

OWN = {
    "mailjet": {"region": ['"eu-typo"', "[1]", "5", '{"us": 1}']},
    "sendgrid": {
        "unsubscribe_groups": ["[1]", '{"a": "x"}', '{"a": 0}', '{"a": -3}', '"x"', "5", '{"a": true}', '{"a": 1.5}'],
        "global_unsubscribe": ['"yes"', "1", "[]", "null"],
        "booleans": ['"yes"', "1", "[]", "true"],
    },
    "dotmailer": {
        "max_file_bytes": ['"big"', "1e400", "0", "-1", "1.5", "100000000000", "true", "[]", "NaN"],
        "region": ["[1]", '"r9"', "5", '"r1"'],  # r1 with the sandbox's base URL: not both
    },
}
"""Hostile JSON values for each provider's own settings."""

UNKNOWN = ["region_typo", "bogus", "timeout_seconds", "apikey", "Timeout"]
BASE_URLS = [
    "http://[::1",
    "http://127.0.0.1:99999",
    "http://127.0.0.1:-1",
    "ftp://127.0.0.1/x",
    "http://",
    "not a url",
    "http://user:pw@127.0.0.1/",
    "http://api.example.com",  # plain http to a remote host
    "",
]
KEYS = ["SG.key-0123\r", "SG.key-0123\n", "SG.ké-0123", "\tSG.key", "SG.key\x00"]
IMPORT_FLAGS = {
    "--encoding": ["rot13", "hex", "base64", "no-such-codec", "zlib"],
    "--delimiter": ["", "::", "ab"],
    "--limit": ["max_columns=-1", "nope=1", "max_line_bytes=x", "max_blank_lines=0", "noequals", "max_columns=1.5"],
    "--type": ["age=nope", "=integer", "noequals", "age="],
    "--map": ["noequals", "missing=email", "=x"],
    "--route": ["nope", ""],
    "--action": ["subscribe", ""],
}
PROVIDERS = sorted(OWN)


def _setting(provider: str) -> st.SearchStrategy[str]:
    table = {**SHARED, **OWN[provider]}
    known = st.sampled_from(sorted(table)).flatmap(lambda key: st.sampled_from(table[key]).map(f"{key}={{}}".format))
    unknown = st.sampled_from(UNKNOWN).map(lambda key: f"{key}=1")
    return st.one_of(known, unknown)


@st.composite
def lists_commands(draw: st.DrawFn) -> list[str]:
    """`lists` against the embedded sandbox with one or more mistakes among the shared flags and settings."""
    provider = draw(st.sampled_from(PROVIDERS))
    args = ["lists", "--provider", provider, "--sandbox"]
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["setting", "setting", "setting", "number"]))
        if kind == "number":
            args += [draw(st.sampled_from(["--timeout", "--poll-interval"])), draw(st.sampled_from(NUMBERS))]
        else:
            args += ["--setting", draw(_setting(provider))]
    return args


@st.composite
def connect_commands(draw: st.DrawFn) -> list[str]:
    """`lists` against a base URL or with a key that cannot be used."""
    if draw(st.booleans()):
        url = draw(st.sampled_from(BASE_URLS))
        return ["lists", "--provider", "mailjet", "--api-key", "k-0001", "--secret-key", "s-0002", "--base-url", url]
    return [
        "lists",
        "--provider",
        "sendgrid",
        "--api-key",
        draw(st.sampled_from(KEYS)),
        "--base-url",
        "http://127.0.0.1:9",
    ]


@st.composite
def import_commands(draw: st.DrawFn) -> list[str]:
    """`import` of a good file with a mistake among the import's own flags."""
    flag = draw(st.sampled_from(sorted(IMPORT_FLAGS)))
    return [
        "import",
        "{file}",
        "--provider",
        draw(st.sampled_from(PROVIDERS)),
        "--sandbox",
        flag,
        draw(st.sampled_from(IMPORT_FLAGS[flag])),
    ]


@pytest.fixture
def people(tmp_path: Path) -> Path:
    path = tmp_path / "people.csv"
    path.write_text("email,name,age\nann@example.com,Ann,41\n", encoding="utf-8")
    return path


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(args=st.one_of(lists_commands(), connect_commands(), import_commands()))
def test_every_mistake_in_flags_and_settings_is_a_clear_error(
    run: CliRunnerCall, people: Path, args: list[str]
) -> None:
    args = [str(people) if arg == "{file}" else arg for arg in args]
    result = run("-q", *args)
    assert result.exit_code in USER_MISTAKES, (args, result.exit_code, result.output[-500:])
    assert "Traceback" not in result.output and "internal error" not in result.output, (args, result.output)
    assert result.stderr.startswith(("contactsync: error:", "Usage:", "Error:")), (args, result.stderr)


@pytest.mark.parametrize(
    "args",
    [
        ["lists", "--provider", "mailjet", "--sandbox", "--timeout", "nan"],
        ["lists", "--provider", "sendgrid", "--sandbox", "--setting", "unsubscribe_groups=[1]"],
        ["lists", "--provider", "dotmailer", "--sandbox", "--setting", "max_file_bytes=1e400"],
        ["lists", "--provider", "mailjet", "--api-key", "k-1", "--secret-key", "s-2", "--base-url", "http://[::1"],
        ["lists", "--provider", "sendgrid", "--api-key", "SG.key-0123\r", "--base-url", "http://127.0.0.1:9"],
        ["import", "{file}", "--provider", "mailjet", "--sandbox", "--encoding", "rot13"],
        ["sandbox", "--port", "0", "--faults", "429:nan"],
    ],
)
def test_the_same_mistakes_from_a_real_process(people: Path, args: list[str]) -> None:
    args = [str(people) if arg == "{file}" else arg for arg in args]
    done = subprocess.run([*COMMAND, "-q", *args], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == EXIT_USAGE, (args, done.stderr)
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("contactsync: error:")
    assert "SG.key-0123" not in done.stderr
