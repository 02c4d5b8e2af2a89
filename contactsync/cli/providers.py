"""``providers``: the installed providers, their versions and any that fail to load."""

from __future__ import annotations

import contextlib
from importlib import metadata

import click

import contactsync
from contactsync import registry
from contactsync.cli.app import cli
from contactsync.cli.connect import json_option
from contactsync.cli.output import emit_json, table
from contactsync.errors import ConfigurationError
from contactsync.provider import Provider


def _version_of(cls: type[Provider]) -> str:
    top = cls.__module__.partition(".")[0]
    for dist in metadata.packages_distributions().get(top, []):
        with contextlib.suppress(metadata.PackageNotFoundError):
            return metadata.version(dist)
    return contactsync.__version__ if top == "contactsync" else "?"


@cli.command("providers")
@json_option
@click.pass_context
def providers_command(ctx: click.Context, as_json: bool) -> None:
    """List the providers: built-ins and plugins, their versions, whether the sandbox emulates them, and any
    that fail to load."""
    ctx.meta["json"] = as_json
    problems = registry.problems()
    emulated = _emulators()
    rows = []
    for name in registry.providers():
        kind = "built-in" if name in registry.BUILTINS else "plugin"
        emulator = emulated.get(name, "no")
        try:
            cls = registry.load(name)
        except ConfigurationError:
            status = problems.get(name, "fails to load")
            rows.append({"name": name, "kind": kind, "version": "", "emulator": emulator, "status": status})
            continue
        version, status = _version_of(cls), problems.get(name, "ok")
        rows.append({"name": name, "kind": kind, "version": version, "emulator": emulator, "status": status})
    if as_json:
        emit_json(rows)
    else:
        headers = ["provider", "kind", "version", "emulator", "status"]
        click.echo(table(headers, [list(r.values()) for r in rows]))


def _emulators() -> dict[str, str]:
    """Each emulator's name: ``yes``, or why it is not served (it fails to load, or a built-in shadows it)."""
    problems = registry.emulator_problems()
    return {name: f"broken: {problems[name]}" if name in problems else "yes" for name in registry.emulators()}
