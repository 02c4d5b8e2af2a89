"""Provider discovery: built-ins by dotted path, plugins through the ``contactsync.providers`` entry points.

Built-ins win over a plugin of the same name unless the caller registers the plugin
with ``replace=True``. A plugin that fails to load is reported (``problems()``, and
the error raised by ``connect`` for that name); the others keep working.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from contactsync.errors import ConfigurationError, PluginError
from contactsync.provider import Provider
from contactsync.settings import check_settings

__all__ = ["BUILTINS", "ENTRY_POINT_GROUP", "connect", "load", "problems", "providers", "register"]

ENTRY_POINT_GROUP = "contactsync.providers"

BUILTINS: Mapping[str, str] = {
    "mailjet": "contactsync.providers.mailjet.provider:MailjetProvider",
    "sendgrid": "contactsync.providers.sendgrid.provider:SendGridProvider",
    "dotmailer": "contactsync.providers.dotmailer.provider:DotmailerProvider",
}

_registered: dict[str, str | type[Provider]] = {}
_loaded: dict[str, type[Provider]] = {}


def _plugins() -> dict[str, EntryPoint]:
    """Entry points of other distributions (our own entries for the built-ins are skipped)."""
    found: dict[str, EntryPoint] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        if BUILTINS.get(point.name) == point.value:
            continue
        found.setdefault(point.name, point)
    return found


def _import(target: str) -> type[Provider]:
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    obj: Any = module
    for part in attr.split("."):
        obj = getattr(obj, part)
    return _checked(obj, target)


def _checked(obj: Any, origin: str) -> type[Provider]:
    if not (isinstance(obj, type) and issubclass(obj, Provider)):
        raise TypeError(f"{origin} is not a contactsync.Provider subclass")
    return obj


def register(name: str, target: str | type[Provider], *, replace: bool = False) -> None:
    """Make ``name`` connect to ``target`` (a Provider subclass or ``"module:Class"``).

    Replacing a built-in or an earlier registration needs ``replace=True``.
    """
    if not replace and (name in BUILTINS or name in _registered):
        raise ConfigurationError(f"provider {name!r} exists; pass replace=True to override it")
    _registered[name] = target
    _loaded.pop(name, None)


def providers() -> list[str]:
    """Sorted names of every provider: built-ins, registered ones and installed plugins."""
    return sorted({*BUILTINS, *_registered, *_plugins()})


def load(name: str) -> type[Provider]:
    """The Provider class for ``name``; a plugin that fails to load raises PluginError."""
    if name in _loaded:
        return _loaded[name]
    target: str | type[Provider] | EntryPoint
    if name in _registered:
        target = _registered[name]
    elif name in BUILTINS:
        target = BUILTINS[name]
    else:
        plugins = _plugins()
        if name not in plugins:
            raise ConfigurationError(f"no provider named {name!r}; installed: {', '.join(providers())}")
        target = plugins[name]
    try:
        if isinstance(target, str):
            cls = _import(target)
        elif isinstance(target, type):
            cls = _checked(target, repr(target))
        else:  # an entry point: importlib.metadata's, or importlib_metadata's once a package (dask) installs it
            cls = _checked(target.load(), f"entry point {target.value}")
    except Exception as exc:
        raise PluginError(f"provider {name!r} failed to load: {type(exc).__name__}: {exc}") from exc
    _loaded[name] = cls
    return cls


def problems() -> dict[str, str]:
    """Providers that fail to load or are shadowed by a built-in, with the reason."""
    found: dict[str, str] = {}
    for name, point in _plugins().items():
        if name in BUILTINS and name not in _registered:
            found[name] = f"plugin {point.value} is shadowed by the built-in; register it with replace=True"
    for name in providers():
        try:
            load(name)
        except PluginError as exc:
            found[name] = str(exc)
    return found


def connect(name: str, **settings: Any) -> Provider:
    """A client for provider ``name``; ``settings`` go to its constructor (credentials, base_url...).

    A setting the provider does not take, or a shared setting with a bad value, raises
    :class:`~contactsync.errors.ConfigurationError` naming it (and, for an unknown one,
    every setting the provider takes) before the constructor runs.
    """
    cls = load(name)
    if "base_url" not in settings and (env := os.environ.get(f"CONTACTSYNC_{name.upper()}_BASE_URL")):
        settings["base_url"] = env
    check_settings(cls, settings)
    return cls(**settings)
