"""``demo``: the main job, the shipped contacts into every provider's emulator, with a summary."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Sequence
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

import click

from contactsync import registry
from contactsync.cli.app import EXIT_FAILED, EXIT_OK, cli
from contactsync.cli.columns import ensure_columns
from contactsync.cli.connect import embedded_sandbox, json_option, quiet_option
from contactsync.cli.output import Progress, emit_json, job_record, reading, show_progress, table, wait_progress
from contactsync.csvio import ErrorWriter, read_contacts
from contactsync.errors import ConfigurationError
from contactsync.model import FieldDefinition, FieldType, ImportJob, ImportStatus, ListSubscription, SubscriptionAction
from contactsync.provider import Provider

DEMO_FIELDS = (
    FieldDefinition("company", FieldType.TEXT),
    FieldDefinition("age", FieldType.INTEGER),
    FieldDefinition("score", FieldType.NUMBER),
    FieldDefinition("vip", FieldType.BOOLEAN),
    FieldDefinition("signup_date", FieldType.DATE),
)
"""The typed columns of the shipped demo file."""
DEMO_DATA = "data/contacts.csv"
"""The demo file, as package data of ``contactsync`` (examples/contacts.csv links to it)."""


def _available_emulators(wanted: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """Which of ``wanted`` have both a provider and an emulator installed; why the others are skipped."""
    installed = registry.emulators()
    ready, skipped = [], {}
    for name in wanted:
        if name not in installed:
            skipped[name] = "no emulator"
            continue
        try:
            registry.load_emulator(name)
            registry.load(name)
        except (ImportError, ConfigurationError) as exc:
            skipped[name] = f"not available: {exc}"
            continue
        ready.append(name)
    return ready, skipped


@cli.command()
@click.option("--file", "path", type=click.Path(dir_okay=False), help="Contacts to import (default: the shipped demo).")
@click.option(
    "--errors-out",
    type=click.Path(dir_okay=False),
    default="contactsync-demo-errors.csv",
    show_default=True,
    help="Where to write every provider's row errors.",
)
@click.option(
    "--provider",
    "-p",
    "names",
    multiple=True,
    help="Only these providers (default: every installed provider with an emulator).",
)
@json_option
@quiet_option
@click.pass_context
def demo(ctx: click.Context, path: str | None, errors_out: str, names: tuple[str, ...], as_json: bool) -> None:
    """Import the demo contacts into every provider's emulator and print a summary table.

    Every installed provider that has an emulator takes part, plugins included; one without an
    emulator, or whose provider or emulator fails to load, is reported as skipped.
    """
    ctx.meta["json"] = as_json
    ready, skipped = _available_emulators(list(names) or registry.providers())
    if not ready:
        raise ConfigurationError(f"no provider can run in the sandbox: {skipped}")
    with contextlib.ExitStack() as stack:
        source = Path(path) if path else stack.enter_context(as_file(files("contactsync").joinpath(DEMO_DATA)))
        sandbox_ = stack.enter_context(embedded_sandbox(ready))
        writer = stack.enter_context(ErrorWriter(errors_out, provider_column=True))
        results = []
        for name in ready:
            try:
                results.append(_demo_one(ctx, sandbox_, name, source, writer))
            except Exception as exc:  # one provider's failure must not hide the others' results
                if os.environ.get("CONTACTSYNC_DEBUG"):
                    raise
                results.append({"provider": name, "status": "error", "error": f"{type(exc).__name__}: {exc}"})
    if as_json:
        emit_json({"results": results, "skipped": skipped, "errors_file": errors_out, "error_count": writer.count})
    else:
        headers = ["provider", "status", "requested", "accepted", "created", "updated", "errored", "seconds"]
        unknown = {"created", "updated"}  # null where the provider does not tell them apart: shown as "?"
        rows = [["?" if h in unknown and h in r and r[h] is None else r.get(h) for h in headers] for r in results]
        click.echo(table(headers, rows))
        for result in results:
            if "error" in result:
                click.echo(f"{result['provider']}: {result['error'][:500]}")
        for name, why in skipped.items():
            click.echo(f"{name}: skipped ({why})")
        click.echo(f"{writer.count:,} row errors written to {errors_out}")
    ok = all(r["status"] != "error" and ImportStatus(r["status"]).is_success for r in results)
    ctx.exit(EXIT_OK if ok else EXIT_FAILED)


def _demo_one(ctx: click.Context, sandbox_: Any, name: str, source: Path, writer: ErrorWriter) -> dict[str, Any]:
    """One provider's part of the demo: list, fields, import, wait, errors."""
    show = show_progress(ctx)
    client: Provider = sandbox_.connect(name)
    with client:
        actions = client.capabilities.actions
        action = next(
            (a for a in (SubscriptionAction.ADD_NO_FORCE, SubscriptionAction.ADD_FORCE) if a in actions), None
        )
        subscriptions = [ListSubscription(client.create_list("contactsync demo"), action)] if action else []
        declared = {d.name: d.type for d in DEMO_FIELDS}
        schemaless = not client.capabilities.field_definitions  # it stores properties as they come
        types = declared if schemaless else ensure_columns(client, [d.name for d in DEMO_FIELDS], declared)
        started = time.monotonic()
        sent = [0]
        sending = Progress(name, enabled=show)

        def on_batch(job: ImportJob) -> None:
            sent[0] = len(job.parts) or 1

        with read_contacts(source, field_types=types) as reader:
            job = client.import_contacts(reading(reader, sending, sent), subscriptions, on_batch=on_batch)
        sending.update(1.0, reader.rows, f"{len(job.parts) or 1} batches sent", force=True)
        sending.finish()
        waiting = Progress(f"{name} wait", enabled=show)
        try:
            job = client.wait(job, on_progress=wait_progress(waiting))
        finally:
            waiting.finish()
        seconds = time.monotonic() - started
        for error in client.import_errors(job):
            writer.write(error, provider=name)
    record = job_record(job, seconds)
    record["seconds"] = round(seconds, 2)
    return record
