"""Checking a provider's settings before anything is sent: their names, and the type and range of each value.

:func:`~contactsync.connect` and the command line run the same checks, so a
mistake gets the same :class:`~contactsync.errors.ConfigurationError` from Python and
from the shell (where it is exit 2). A message names the setting and what it takes,
never a credential's value.
"""

from __future__ import annotations

import inspect
import json
import math
import re
import types
import typing
from collections.abc import Mapping
from typing import Any, Union

from urllib3.util.retry import Retry

from contactsync.errors import ConfigurationError

__all__ = [
    "MAX_CONCURRENCY",
    "MAX_SECONDS",
    "accepted_settings",
    "check_credentials",
    "check_settings",
    "environment_settings",
    "environment_variable",
    "flag",
    "is_secret",
    "seconds",
    "text",
    "whole_number",
]

MAX_SECONDS = 86_400.0
"""The longest duration any setting takes (a day): beyond it a socket timeout overflows, and it is a typo."""
MAX_CONCURRENCY = 64
"""The most batches a client keeps in flight; more only earns rate limits (and one thread each)."""


def accepted_settings(cls: type[Any]) -> list[str]:
    """The settings a provider class takes: its constructor's keywords, plus the shared ones it passes on."""
    from contactsync.provider import ProviderOptions  # here: the provider module imports this one

    parameters = inspect.signature(cls.__init__).parameters
    accepted = [n for n, p in parameters.items() if n != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        accepted += [name for name in ProviderOptions.__annotations__ if name not in accepted]
    return accepted


def check_settings(cls: type[Any], settings: Mapping[str, Any]) -> None:
    """Refuse a setting the provider does not take (naming those it does) and a bad value of a shared one."""
    name = str(getattr(cls, "name", cls.__name__))
    accepted = accepted_settings(cls)
    unknown = sorted(set(settings) - set(accepted))
    if unknown:
        raise ConfigurationError(f"{name} does not take {', '.join(unknown)}; it takes: {', '.join(accepted)}")
    check_options(name, settings)


def environment_variable(provider: str, setting: str) -> str:
    """The variable that sets ``setting`` of ``provider``: ``CONTACTSYNC_<NAME>_<SETTING>``, upper case, with any
    character other than a letter or digit as ``_`` (``CONTACTSYNC_MY_ESP_POLL_INTERVAL``)."""
    return "_".join(re.sub(r"[^A-Za-z0-9]", "_", part).upper() for part in ("contactsync", provider, setting))


def environment_settings(
    cls: type[Any], provider: str, environ: Mapping[str, str], given: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The settings of ``cls`` that the environment sets and ``given`` does not, converted to their types.

    Each setting ``cls`` takes (:func:`accepted_settings`) is read from
    :func:`environment_variable`. The text is converted by the setting's annotation: a
    boolean from ``true``/``false``/``1``/``0``/``yes``/``no``, a number from its digits, text
    as it is; a setting of another type from JSON. Text that does not convert raises
    :class:`~contactsync.errors.ConfigurationError` naming the variable, and never quoting
    its value when the setting is a credential. Variables naming no setting are ignored.
    """
    hints = _setting_types(cls)
    found: dict[str, Any] = {}
    for setting in accepted_settings(cls):
        variable = environment_variable(provider, setting)
        if setting in (given or {}) or variable not in environ:
            continue
        found[setting] = _from_text(variable, setting, environ[variable], hints.get(setting))
    return found


_SECRET_WORDS = ("key", "secret", "password", "token", "auth")
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


def is_secret(setting: str) -> bool:
    """Whether a setting's name says it holds a credential, whose value no message may show."""
    return any(word in setting.lower() for word in _SECRET_WORDS)


def _setting_types(cls: type[Any]) -> dict[str, Any]:
    """The annotations of the constructor's keywords and of the shared options; empty where they cannot be read."""
    from contactsync.provider import ProviderOptions  # here: the provider module imports this one

    hints: dict[str, Any] = {}
    for source in (ProviderOptions, cls.__init__):
        try:
            hints.update(typing.get_type_hints(source))
        except Exception:  # an annotation naming what is imported only for type checkers: read as text
            continue
    return hints


def _members(hint: Any) -> tuple[Any, ...]:
    """The types a (possibly optional or union) annotation allows."""
    if typing.get_origin(hint) in (Union, types.UnionType):
        return tuple(typing.get_args(hint))
    return (hint,)


def _from_text(variable: str, setting: str, raw: str, hint: Any) -> Any:
    """One variable's text as a value of the setting's type."""
    shown = "its value" if is_secret(setting) else repr(raw)
    members = _members(hint) if hint is not None else (str,)
    text = raw.strip()
    if bool in members:
        if text.lower() in _TRUE + _FALSE:
            return text.lower() in _TRUE
        raise ConfigurationError(f"{variable} must be true or false (or 1/0, yes/no), got {shown}")
    for kind in (int, float):
        if kind in members:
            try:
                return kind(text)
            except ValueError:
                wanted = "a whole number" if kind is int else "a number"
                raise ConfigurationError(f"{variable} must be {wanted}, got {shown}") from None
    if str in members or Any in members:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        raise ConfigurationError(f"{variable} must be JSON for the setting {setting}, got {shown}") from None


def check_options(provider: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The shared settings of :class:`~contactsync.provider.ProviderOptions` among ``options``, checked."""
    checked: dict[str, Any] = {}
    for key in ("timeout", "total_timeout", "poll_interval"):
        if key in options:
            checked[key] = seconds(provider, key, options[key])
    if "max_retry_wait" in options:
        checked["max_retry_wait"] = seconds(provider, "max_retry_wait", options["max_retry_wait"], zero=True)
    if "concurrency" in options:
        checked["concurrency"] = whole_number(provider, "concurrency", options["concurrency"], 1, MAX_CONCURRENCY)
    if "allow_insecure" in options:
        checked["allow_insecure"] = flag(provider, "allow_insecure", options["allow_insecure"])
    if "retry" in options:
        retry = options["retry"]
        if retry is not None and not isinstance(retry, Retry):
            raise ConfigurationError(f"{provider}: retry must be a urllib3 Retry (or None), not {_kind(retry)}")
        checked["retry"] = retry
    return checked


def seconds(provider: str, name: str, value: Any, *, zero: bool = False, maximum: float = MAX_SECONDS) -> float:
    """A duration in seconds: a finite number above zero (or zero itself with ``zero``), at most ``maximum``."""
    number = _number(provider, name, value, "a number of seconds")
    low = "at least 0" if zero else "more than 0"
    if not math.isfinite(number) or number < 0 or (number == 0 and not zero) or number > maximum:
        raise ConfigurationError(f"{provider}: {name} must be {low} and at most {maximum:g} seconds, got {value!r}")
    return number


def whole_number(provider: str, name: str, value: Any, minimum: int, maximum: int | None = None) -> int:
    """A whole number from ``minimum`` to ``maximum``; a float is taken when it is whole (JSON's ``1e7``)."""
    number = _number(provider, name, value, "a whole number")
    if not math.isfinite(number) or number != int(number):
        raise ConfigurationError(f"{provider}: {name} must be a whole number, got {value!r}")
    whole = int(number)
    if whole < minimum or (maximum is not None and whole > maximum):
        top = f" and at most {maximum:,}" if maximum is not None else ""
        raise ConfigurationError(f"{provider}: {name} must be at least {minimum:,}{top}, got {value!r}")
    return whole


def flag(provider: str, name: str, value: Any) -> bool:
    """A boolean: ``True`` or ``False`` only (the text ``"yes"`` is a typo, not a yes)."""
    if not isinstance(value, bool):
        raise ConfigurationError(f"{provider}: {name} must be true or false, not {_kind(value)}")
    return value


def text(provider: str, name: str, value: Any) -> str:
    """A non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{provider}: {name} must be a non-empty string, not {_kind(value)}")
    return value


def check_credentials(provider: str, **credentials: Any) -> None:
    """Refuse a credential an HTTP header cannot carry as given, saying why and never showing the value.

    A line ending (a key file saved with CRLF) or another control character, and
    non-ASCII text, are refused: each is a copy-paste mistake, and each would otherwise
    surface later as an error quoting the header, credential included.
    """
    for name, value in credentials.items():
        if value is None:
            continue
        if not isinstance(value, str):
            raise ConfigurationError(f"{provider}: {name} must be a string, not {type(value).__name__}")
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise ConfigurationError(
                f"{provider}: {name} contains a control character (a line ending from a key file?); remove it"
            )
        if not value.isascii():
            raise ConfigurationError(f"{provider}: {name} contains a character that is not ASCII; check it")


def _number(provider: str, name: str, value: Any, wanted: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigurationError(f"{provider}: {name} must be {wanted}, not {_kind(value)}")
    try:
        return float(value)
    except OverflowError:
        raise ConfigurationError(f"{provider}: {name} is too large: {value!r}") from None


def _kind(value: Any) -> str:
    """How a wrong value is described: its type, and the value itself when it is short and plain."""
    if isinstance(value, (bool, int, float)) or (isinstance(value, str) and len(value) <= 40):
        return f"{type(value).__name__} {value!r}"
    return type(value).__name__
