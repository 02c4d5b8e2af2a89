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
    """List the providers: built-ins and plugins, their versions, and any that fail to load."""
    ctx.meta["json"] = as_json
    problems = registry.problems()
    rows = []
    for name in registry.providers():
        kind = "built-in" if name in registry.BUILTINS else "plugin"
        try:
            cls = registry.load(name)
        except ConfigurationError:
            rows.append({"name": name, "kind": kind, "version": "", "status": problems.get(name, "fails to load")})
            continue
        rows.append({"name": name, "kind": kind, "version": _version_of(cls), "status": problems.get(name, "ok")})
    if as_json:
        emit_json(rows)
    else:
        click.echo(table(["provider", "kind", "version", "status"], [list(r.values()) for r in rows]))
