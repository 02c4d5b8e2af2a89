"""Settings are checked at connect: unknown names, and the type and range of each value, as ConfigurationError."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import contactsync
from contactsync import ConfigurationError
from contactsync.settings import (
    MAX_CONCURRENCY,
    accepted_settings,
    environment_settings,
    environment_variable,
    seconds,
    whole_number,
)

CREDENTIALS: dict[str, dict[str, str]] = {
    "mailjet": {"api_key": "mj-public-0001", "secret_key": "mj-private-0002"},
    "sendgrid": {"api_key": "SG.key-0003"},
    "dotmailer": {"username": "apiuser-1@apiconnector.com", "password": "pass-0004"},
}
LOCAL = "http://127.0.0.1:9"  # nothing is sent: every check happens before the first request


def _connect(provider: str, **settings: Any) -> contactsync.Provider:
    return contactsync.connect(provider, **{"base_url": f"{LOCAL}/{provider}", **CREDENTIALS[provider], **settings})


def test_an_unknown_setting_names_itself_and_the_settings_taken() -> None:
    with pytest.raises(ConfigurationError) as caught:
        _connect("mailjet", region_typo="x")
    message = str(caught.value)
    assert "mailjet does not take region_typo" in message
    assert "region" in message.split("it takes:")[1]
    assert "timeout" in message.split("it takes:")[1]  # the shared settings are listed too


def test_the_settings_a_provider_takes_include_the_shared_ones() -> None:
    taken = accepted_settings(contactsync.registry.load("sendgrid"))
    assert {"api_key", "unsubscribe_groups", "timeout", "total_timeout", "max_retry_wait", "concurrency"} <= set(taken)


BAD_VALUES: list[tuple[str, dict[str, Any], str]] = [
    ("mailjet", {"timeout": -1}, "timeout must be more than 0"),
    ("mailjet", {"timeout": 0}, "timeout must be more than 0"),
    ("mailjet", {"timeout": math.nan}, "timeout must be"),
    ("mailjet", {"timeout": [1]}, "timeout must be a number of seconds, not list"),
    ("mailjet", {"timeout": True}, "timeout must be a number of seconds, not bool"),
    ("mailjet", {"poll_interval": -5}, "poll_interval must be"),
    ("mailjet", {"poll_interval": math.nan}, "poll_interval must be"),
    ("mailjet", {"concurrency": "x"}, "concurrency must be a whole number"),
    ("mailjet", {"concurrency": 1_000_000_000}, f"at most {MAX_CONCURRENCY}"),
    ("mailjet", {"concurrency": 0}, "concurrency must be at least 1"),
    ("mailjet", {"allow_insecure": "yes"}, "allow_insecure must be true or false"),
    ("mailjet", {"retry": 5}, "retry must be a urllib3 Retry"),
    ("mailjet", {"region": ["us"]}, "no region"),
    ("mailjet", {"base_url": "http://[::1"}, "is not a valid URL"),
    ("mailjet", {"base_url": "http://127.0.0.1:99999"}, "is not a valid URL"),
    ("mailjet", {"base_url": 42}, "base_url must be a string"),
    ("sendgrid", {"unsubscribe_groups": [1]}, "unsubscribe_groups must map list ids"),
    ("sendgrid", {"unsubscribe_groups": {"a": "x"}}, "unsubscribe_groups['a'] must be a whole number"),
    ("sendgrid", {"unsubscribe_groups": {"a": 0}}, "must be at least 1"),
    ("sendgrid", {"global_unsubscribe": "yes"}, "global_unsubscribe must be true or false"),
    ("dotmailer", {"max_file_bytes": "big"}, "max_file_bytes must be a whole number"),
    ("dotmailer", {"max_file_bytes": math.inf}, "max_file_bytes must be a whole number"),
    ("dotmailer", {"max_file_bytes": 10**12}, "at most 10,000,000"),
    ("dotmailer", {"region": ["r1"], "base_url": None}, "region must be one of"),
]


@pytest.mark.parametrize(("provider", "settings", "says"), BAD_VALUES)
def test_a_bad_value_is_a_configuration_error_naming_the_setting(
    provider: str, settings: dict[str, Any], says: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        _connect(provider, **settings)
    assert says in str(caught.value)


def test_good_values_are_taken_as_given() -> None:
    client = _connect("sendgrid", timeout=5, concurrency=3.0, unsubscribe_groups={"7": 12}, global_unsubscribe=False)
    assert (client.transport.timeout, client.concurrency) == (5.0, 3)
    assert client.list_groups == {"7": 12}  # type: ignore[attr-defined]


@given(st.one_of(st.floats(), st.integers(-(10**6), 10**6), st.text(max_size=5), st.booleans(), st.none()))
def test_a_duration_is_a_finite_positive_number_or_refused(value: Any) -> None:
    good = (
        isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and 0 < value <= 86_400
    )
    if good:
        assert seconds("p", "timeout", value) == float(value)
    else:
        with pytest.raises(ConfigurationError, match="timeout"):
            seconds("p", "timeout", value)


@given(st.one_of(st.floats(), st.integers(), st.text(max_size=5), st.booleans()))
def test_a_count_is_a_whole_number_in_range_or_refused(value: Any) -> None:
    try:
        number = whole_number("p", "concurrency", value, 1, MAX_CONCURRENCY)
    except ConfigurationError as exc:
        assert "concurrency" in str(exc)
        assert isinstance(value, (str, bool)) or not (
            math.isfinite(value) and value == int(value) and 1 <= value <= MAX_CONCURRENCY
        )
    else:
        assert number == value and 1 <= number <= MAX_CONCURRENCY and not isinstance(value, bool)


SECRET = "SG.my-real-secret-key-0123"


@pytest.mark.parametrize(
    ("key", "says"),
    [
        (SECRET + "\r", "control character"),
        (SECRET + "\n", "control character"),
        (SECRET + "\r\n", "control character"),
        ("SG.\tkey-0123", "control character"),
        ("SG.clé-secrète-0123", "not ASCII"),
        ("SG.key-\ud800-0123", "not ASCII"),
    ],
)
def test_a_key_a_header_cannot_carry_is_refused_without_showing_it(key: str, says: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        _connect("sendgrid", api_key=key)
    assert says in str(caught.value) and "api_key" in str(caught.value)
    assert key.strip() not in str(caught.value)
    assert "secret-key" not in repr(caught.value) and "key-0123" not in repr(caught.value)


@pytest.mark.parametrize("provider", ["mailjet", "dotmailer"])
def test_basic_auth_credentials_are_checked_too(provider: str) -> None:
    field = "secret_key" if provider == "mailjet" else "password"
    with pytest.raises(ConfigurationError, match=f"{field} contains a control character"):
        _connect(provider, **{field: "pass-word-0005\n"})


# -- CONTACTSYNC_<NAME>_<SETTING>: text from the environment, converted by each setting's type ---------------


class _Typed(contactsync.Provider):
    """A provider whose constructor takes one setting of each kind the environment converts."""

    name = "typed"

    def __init__(
        self, *, api_key: str | None = None, retries: int = 0, ratio: float = 1.0, strict: bool = False, **options: Any
    ) -> None:
        raise AssertionError("only its settings are read")


def _from_env(**variables: str) -> dict[str, Any]:
    environ = {f"CONTACTSYNC_TYPED_{key.upper()}": value for key, value in variables.items()}
    return environment_settings(_Typed, "typed", environ)


@given(st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.booleans())
def test_numbers_and_flags_read_back_as_written(retries: int, ratio: float, strict: bool) -> None:
    read = _from_env(retries=f" {retries} ", ratio=repr(ratio), strict=str(strict).upper())
    assert read == {"retries": retries, "ratio": ratio, "strict": strict}


@given(st.text(st.characters(codec="utf-8"), min_size=1))
def test_text_that_does_not_convert_names_the_variable(text: str) -> None:
    assert _from_env(api_key=text) == {"api_key": text}  # a credential is text as it is
    for setting, wanted in (("retries", "a whole number"), ("strict", "true or false")):
        try:
            value = _from_env(**{setting: text})[setting]
        except ConfigurationError as exc:
            assert str(exc).startswith(f"CONTACTSYNC_TYPED_{setting.upper()} must be {wanted}")
        else:
            assert isinstance(value, int)  # bool is an int: text that read as one of them


def test_a_variable_naming_no_setting_is_ignored_and_an_argument_wins() -> None:
    assert _from_env(nothing="1") == {}
    environ = {"CONTACTSYNC_TYPED_RETRIES": "3"}
    assert environment_settings(_Typed, "typed", environ, given={"retries": 5}) == {}


def test_the_variable_of_a_setting_is_spelled_in_capitals_and_underscores() -> None:
    assert environment_variable("my-esp", "poll_interval") == "CONTACTSYNC_MY_ESP_POLL_INTERVAL"
