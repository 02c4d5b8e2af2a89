"""Configuration and connecting: the config file, settings, the shared provider options, the embedded sandbox."""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import logging
import os
import shlex
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, overload

import attrs
import click

import contactsync
from contactsync import registry
from contactsync.errors import ConfigurationError
from contactsync.model import SubscriptionAction
from contactsync.provider import Provider
from contactsync.settings import check_settings, is_secret

_CREDENTIAL_FLAGS = ("api_key", "secret_key", "username", "password", "base_url")

# -- configuration and connecting ----------------------------------------------------------


def _toml() -> Any:
    """tomllib on Python 3.11+, the tomli package on 3.10."""
    name = "tomllib" if sys.version_info >= (3, 11) else "tomli"
    try:
        return importlib.import_module(name)
    except ImportError:
        raise ConfigurationError("reading the config file on Python 3.10 needs tomli: pip install tomli") from None


def default_config_path() -> Path:
    """``$CONTACTSYNC_CONFIG``, else ``$XDG_CONFIG_HOME/contactsync.toml`` (``~/.config`` by default)."""
    if env := os.environ.get("CONTACTSYNC_CONFIG"):
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "contactsync.toml"


def load_config(path: str | None) -> dict[str, Any]:
    """The config file as a dict; a missing default file is empty, a missing ``--config`` file an error."""
    explicit = path is not None or "CONTACTSYNC_CONFIG" in os.environ
    target = Path(path) if path is not None else default_config_path()
    try:
        text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        if explicit:
            raise ConfigurationError(f"config file {target} does not exist") from None
        return {}
    try:
        config: dict[str, Any] = _toml().loads(text)
    except ValueError as exc:
        raise ConfigurationError(f"config file {target} is not valid TOML: {exc}") from None
    return config


@attrs.frozen
class ProviderSpec:
    """The provider options shared by every provider command."""

    provider: str | None
    api_key: str | None
    secret_key: str | None
    username: str | None
    password: str | None
    base_url: str | None
    settings: tuple[str, ...]
    timeout: float | None
    poll_interval: float | None
    config: str | None
    sandbox: bool
    state: str | None


_SPEC_FIELDS = tuple(f.name for f in attrs.fields(ProviderSpec))


def pairs(values: Iterable[str], flag: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, item = value.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {value!r}", param_hint=flag)
        pairs[key.strip()] = item
    return pairs


def setting_values(values: Iterable[str]) -> dict[str, Any]:
    """``--setting`` pairs, each value read as JSON when it parses (4, true, {"1": 2}), else as text."""
    settings: dict[str, Any] = {}
    for key, text in pairs(values, "--setting").items():
        try:
            settings[key] = json.loads(text)
        except ValueError:
            settings[key] = text
    return settings


def _provider_name(spec: ProviderSpec, config: Mapping[str, Any]) -> str:
    name = spec.provider or config.get("provider")
    if not name:
        raise click.UsageError('which provider? pass --provider NAME (or set provider = "NAME" in the config file)')
    return str(name)


def _settings(name: str, spec: ProviderSpec, config: Mapping[str, Any]) -> dict[str, Any]:
    """Constructor keywords for the provider: config table, then flags (flags win)."""
    table = config.get(name, {})
    if not isinstance(table, Mapping):
        raise ConfigurationError(f"config file: [{name}] must be a table of settings")
    settings: dict[str, Any] = dict(table)
    settings.update({key: getattr(spec, key) for key in _CREDENTIAL_FLAGS if getattr(spec, key) is not None})
    settings.update(setting_values(spec.settings))
    settings.update(number_settings(spec))
    return settings


def number_settings(spec: ProviderSpec) -> dict[str, float]:
    numbers = {"timeout": spec.timeout, "poll_interval": spec.poll_interval}
    return {key: value for key, value in numbers.items() if value is not None}


@contextlib.contextmanager
def embedded_sandbox(names: Sequence[str], state: str | None = None) -> Iterator[Any]:
    """A Sandbox serving ``names`` (built-in or plugins' emulators) for the length of one command; with ``state``,
    loaded before and saved after."""
    from contactsync.sandbox import Sandbox
    from contactsync.sandbox.state import load_state, save_state

    installed = registry.emulators()
    for name in names:
        if name not in installed:
            raise ConfigurationError(f"the sandbox has no emulator for {name!r}; it has: {', '.join(installed)}")
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # no request log in the middle of our output
    try:
        sandbox = Sandbox(list(names))
    except ImportError as exc:
        raise ConfigurationError(f"the sandbox cannot load an emulator: {exc}") from None
    if state is not None:
        load_state(state, sandbox.emulators.values())
    with sandbox:
        try:
            yield sandbox
        finally:
            if state is not None:
                save_state(state, sandbox.emulators.values())


@contextlib.contextmanager
def open_client(spec: ProviderSpec) -> Iterator[Provider]:
    """A connected client as the options say: the embedded sandbox, or the real provider."""
    config = load_config(spec.config)
    name = _provider_name(spec, config)
    if spec.state is not None and not spec.sandbox:
        raise click.UsageError("--state only applies with --sandbox (or to `contactsync sandbox`)")
    if spec.sandbox:
        chosen = {**setting_values(spec.settings), **number_settings(spec)}  # the sandbox brings the credentials
        check_settings(registry.load(name), chosen)  # before the sandbox starts; connect checks them again
        with embedded_sandbox([name], spec.state) as sandbox:
            client: Provider = sandbox.connect(name, **chosen)
            with client:
                yield client
        return
    client = contactsync.connect(name, **_settings(name, spec, config))  # settings checked there
    with client:
        yield client


@overload
def provider_command(func: Callable[..., Any]) -> Callable[..., Any]: ...


@overload
def provider_command(*, sandbox_state: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]: ...


def provider_command(func: Callable[..., Any] | None = None, *, sandbox_state: str = "--state") -> Any:
    """Add the shared provider options to a command; it receives them as one ``spec`` argument.

    ``sandbox_state`` renames the sandbox's state flag, for a command whose ``--state`` means another state.
    """
    if func is None:
        return functools.partial(provider_command, sandbox_state=sandbox_state)

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        spec = ProviderSpec(**{key: kwargs.pop(key) for key in _SPEC_FIELDS})
        as_json = kwargs.get("as_json", False)
        click.get_current_context().meta["json"] = as_json
        return func(spec, **kwargs)

    options: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
        click.option("--provider", "-p", envvar="CONTACTSYNC_PROVIDER", help="Provider name (see `providers`)."),
        click.option("--api-key", help="API key (Mailjet public key, SendGrid key)."),
        click.option("--secret-key", help="Secret key (Mailjet)."),
        click.option("--username", help="API user name (dotmailer)."),
        click.option("--password", help="API password (dotmailer)."),
        click.option("--base-url", help="API base URL (a sandbox, a proxy, a region)."),
        click.option(
            "--setting", "settings", multiple=True, metavar="KEY=VALUE", help="Any other constructor setting."
        ),
        click.option("--timeout", type=float, help="Seconds per HTTP request."),
        click.option("--poll-interval", type=float, help="Seconds between status polls at first (then backing off)."),
        click.option(
            "--config", type=click.Path(dir_okay=False), help="Config file (default ~/.config/contactsync.toml)."
        ),
        click.option("--sandbox", is_flag=True, help="Run against an embedded sandbox for this one command."),
        click.option(
            sandbox_state,
            "state",
            type=click.Path(dir_okay=False),
            help="With --sandbox: SQLite file keeping its state.",
        ),
        quiet_option,
    ]
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print one machine-readable JSON result.")(func)


def _set_quiet(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.meta["quiet"] = True  # meta is shared by the group's context and the command's


def quiet_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``-q`` / ``--quiet`` after the command name too (``contactsync import -q ...``)."""
    return click.option(
        "--quiet", "-q", is_flag=True, expose_value=False, callback=_set_quiet, help="No progress bars."
    )(func)


def follow_command(spec: ProviderSpec, name: str, *words: str) -> str:
    """A command to paste that reaches the same account as ``spec`` (credentials left out: they come from
    the environment or the config file), followed by ``words``."""
    parts = ["contactsync", *words, "--provider", name]
    for flag, value in (("--base-url", spec.base_url), ("--config", spec.config)):
        if value is not None:
            parts += [flag, value]
    for setting in spec.settings:
        if not is_secret(setting.partition("=")[0].strip()):
            parts += ["--setting", setting]
    if spec.sandbox:
        parts.append("--sandbox")
        if spec.state is not None:
            parts += ["--state", spec.state]
    return shlex.join(parts)


ACTIONS = click.Choice([a.value for a in SubscriptionAction])
