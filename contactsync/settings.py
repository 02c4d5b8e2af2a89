"""Checking a provider's settings before anything is sent: their names, and the type and range of each value.

:func:`~contactsync.connect` and the command line run the same checks, so a
mistake gets the same :class:`~contactsync.errors.ConfigurationError` from Python and
from the shell (where it is exit 2). A message names the setting and what it takes,
never a credential's value.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from typing import Any

from urllib3.util.retry import Retry

from contactsync.errors import ConfigurationError

__all__ = [
    "MAX_CONCURRENCY",
    "MAX_SECONDS",
    "accepted_settings",
    "check_credentials",
    "check_settings",
    "flag",
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
