"""Discovery: built-ins by dotted path, plugins through the ``contactsync.providers`` and ``contactsync.emulators``
entry points.

Providers and their sandbox emulators are found alike. Built-ins win over a plugin of
the same name unless the caller registers the plugin with ``replace=True``. Nothing is
imported until it is asked for. A plugin that fails to load is reported (``problems()``
and ``emulator_problems()``, and the error raised for that name); the others keep working.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from contactsync.errors import ConfigurationError, PluginError
from contactsync.provider import Provider
from contactsync.settings import check_settings, environment_settings

if TYPE_CHECKING:
    from contactsync.sandbox.emulator import Emulator

__all__ = [
    "BUILTINS",
    "BUILTIN_EMULATORS",
    "EMULATOR_GROUP",
    "ENTRY_POINT_GROUP",
    "connect",
    "emulator_problems",
    "emulators",
    "installed",
    "installed_emulators",
    "load",
    "load_emulator",
    "problems",
    "providers",
    "register",
    "register_emulator",
]

ENTRY_POINT_GROUP = "contactsync.providers"
"""The entry-point group a plugin registers its :class:`~contactsync.provider.Provider` subclass under."""
EMULATOR_GROUP = "contactsync.emulators"
"""The entry-point group a plugin registers its :class:`~contactsync.sandbox.Emulator` subclass under."""

BUILTINS: Mapping[str, str] = {
    "mailjet": "contactsync.providers.mailjet.provider:MailjetProvider",
    "sendgrid": "contactsync.providers.sendgrid.provider:SendGridProvider",
    "dotmailer": "contactsync.providers.dotmailer.provider:DotmailerProvider",
}
"""The built-in providers by name, as ``"module:Class"`` (imported when first used)."""
BUILTIN_EMULATORS: Mapping[str, str] = {
    "mailjet": "contactsync.sandbox.mailjet:MailjetEmulator",
    "sendgrid": "contactsync.sandbox.sendgrid:SendGridEmulator",
    "dotmailer": "contactsync.sandbox.dotmailer:DotmailerEmulator",
}
"""The built-in emulators by name, as ``"module:Class"`` (imported when first used)."""

T = TypeVar("T")


def _emulator_base() -> type[Any]:
    """:class:`~contactsync.sandbox.Emulator`, imported when an emulator is loaded (it needs werkzeug)."""
    from contactsync.sandbox.emulator import Emulator

    return Emulator


class _Kind(Generic[T]):
    """One kind of plugin: its built-ins, its entry-point group, explicit registrations and what loaded."""

    def __init__(self, what: str, group: str, builtins: Mapping[str, str], base: Callable[[], type[Any]]) -> None:
        self.what = what
        self.group = group
        self.builtins = builtins
        self._base = base
        self.registered: dict[str, str | type[T]] = {}
        self.loaded: dict[str, type[T]] = {}

    def plugins(self) -> dict[str, EntryPoint]:
        """Entry points of other distributions (our own entries for the built-ins are skipped)."""
        found: dict[str, EntryPoint] = {}
        for point in entry_points(group=self.group):
            if self.builtins.get(point.name) == point.value:
                continue
            found.setdefault(point.name, point)
        return found

    def names(self) -> list[str]:
        return sorted({*self.builtins, *self.registered, *self.plugins()})

    def register(self, name: str, target: str | type[T], replace: bool) -> None:
        if not replace and (name in self.builtins or name in self.registered):
            raise ConfigurationError(f"{self.what} {name!r} exists; pass replace=True to override it")
        self.registered[name] = target
        self.loaded.pop(name, None)

    def load(self, name: str) -> type[T]:
        if name in self.loaded:
            return self.loaded[name]
        target: str | type[T] | EntryPoint
        if name in self.registered:
            target = self.registered[name]
        elif name in self.builtins:
            target = self.builtins[name]
        else:
            plugins = self.plugins()
            if name not in plugins:
                raise ConfigurationError(f"no {self.what} named {name!r}; installed: {', '.join(self.names())}")
            target = plugins[name]
        try:
            if isinstance(target, str):
                cls = self._checked(_import(target), target)
            elif isinstance(target, type):
                cls = self._checked(target, repr(target))
            else:  # an entry point: importlib.metadata's, or importlib_metadata's once a package (dask) installs it
                cls = self._checked(target.load(), f"entry point {target.value}")
        except Exception as exc:
            raise PluginError(f"{self.what} {name!r} failed to load: {type(exc).__name__}: {exc}") from exc
        self.loaded[name] = cls
        return cls

    def _checked(self, obj: Any, origin: str) -> type[T]:
        base = self._base()
        if not (isinstance(obj, type) and issubclass(obj, base)):
            raise TypeError(f"{origin} is not a {base.__module__.partition('.')[0]}.{base.__name__} subclass")
        return obj

    def installed(self) -> tuple[dict[str, type[T]], dict[str, str]]:
        loaded: dict[str, type[T]] = {}
        broken: dict[str, str] = {}
        for name in self.names():
            try:
                loaded[name] = self.load(name)
            except PluginError as exc:
                broken[name] = str(exc)
        return loaded, broken

    def problems(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for name, point in self.plugins().items():
            if name in self.builtins and name not in self.registered:
                found[name] = f"plugin {point.value} is shadowed by the built-in; register it with replace=True"
        found.update(self.installed()[1])
        return found


def _import(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


_providers: _Kind[Provider] = _Kind("provider", ENTRY_POINT_GROUP, BUILTINS, lambda: Provider)
_emulators: _Kind[Emulator] = _Kind("emulator", EMULATOR_GROUP, BUILTIN_EMULATORS, _emulator_base)


def register(name: str, target: str | type[Provider], *, replace: bool = False) -> None:
    """Make ``name`` connect to ``target`` (a Provider subclass or ``"module:Class"``).

    Replacing a built-in or an earlier registration needs ``replace=True``.
    """
    _providers.register(name, target, replace)


def providers() -> list[str]:
    """Sorted names of every provider: built-ins, registered ones and installed plugins."""
    return _providers.names()


def load(name: str) -> type[Provider]:
    """The Provider class for ``name``; a plugin that fails to load raises PluginError."""
    return _providers.load(name)


def problems() -> dict[str, str]:
    """Providers that fail to load or are shadowed by a built-in, with the reason."""
    return _providers.problems()


def installed() -> tuple[dict[str, type[Provider]], dict[str, str]]:
    """Every provider class that loads, by name (sorted); and those that do not, with the reason."""
    return _providers.installed()


def register_emulator(name: str, target: str | type[Emulator], *, replace: bool = False) -> None:
    """Make the sandbox serve ``target`` (an Emulator subclass or ``"module:Class"``) as ``name``.

    Replacing a built-in or an earlier registration needs ``replace=True``.
    """
    _emulators.register(name, target, replace)


def emulators() -> list[str]:
    """Sorted names of every sandbox emulator: built-ins, registered ones and installed plugins' (none imported)."""
    return _emulators.names()


def load_emulator(name: str) -> type[Emulator]:
    """The Emulator class for ``name``; a plugin that fails to load raises PluginError."""
    return _emulators.load(name)


def emulator_problems() -> dict[str, str]:
    """Emulators that fail to load or are shadowed by a built-in, with the reason."""
    return _emulators.problems()


def installed_emulators() -> tuple[dict[str, type[Emulator]], dict[str, str]]:
    """Every emulator class that loads, by name (sorted); and those that do not, with the reason."""
    return _emulators.installed()


def connect(name: str, **settings: Any) -> Provider:
    """A client for provider ``name``; ``settings`` go to its constructor (credentials, base_url...).

    A setting not passed is read from ``CONTACTSYNC_<NAME>_<SETTING>`` in the environment when
    set (see :func:`~contactsync.settings.environment_settings`). A setting the provider does not
    take, or a shared setting with a bad value, raises :class:`~contactsync.errors.ConfigurationError`
    naming it (and, for an unknown one, every setting the provider takes) before the constructor runs.
    """
    cls = load(name)
    settings = {**environment_settings(cls, name, os.environ, given=settings), **settings}
    check_settings(cls, settings)
    return cls(**settings)
