"""``import``, ``status`` and ``errors``: contact files into a provider, and following the jobs."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import NoReturn, TextIO

import click

from contactsync.cli.app import EXIT_OK, EXIT_ROW_ERRORS, cli, exit_code_for_job
from contactsync.cli.columns import check_header, ensure_columns, stored_field_types
from contactsync.cli.connect import (
    ACTIONS,
    ProviderSpec,
    follow_command,
    json_option,
    open_client,
    pairs,
    provider_command,
)
from contactsync.cli.output import (
    Progress,
    describe_job,
    emit_json,
    job_record,
    plain,
    reading,
    report_errors,
    show_progress,
    wait_progress,
)
from contactsync.csvio import ContactReader, ReadLimits, read_contacts, write_errors
from contactsync.errors import ConfigurationError
from contactsync.journal import Journal
from contactsync.model import FieldType, ImportJob, ListSubscription, SubscriptionAction
from contactsync.provider import Provider
from contactsync.settings import MAX_SECONDS


@cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--list", "lists", multiple=True, metavar="ID", help="List to subscribe the contacts to (repeatable).")
@click.option("--action", type=ACTIONS, default=SubscriptionAction.ADD_NO_FORCE.value, show_default=True)
@click.option("--map", "mapping", multiple=True, metavar="COLUMN=FIELD", help="Rename a column; COLUMN= skips it.")
@click.option("--type", "types", multiple=True, metavar="FIELD=TYPE", help="Parse a field as text/number/integer/...")
@click.option("--create-fields", is_flag=True, help="Create missing custom fields for the file's columns first.")
@click.option("--encoding", help="The file's text encoding (default UTF-8, with or without BOM).")
@click.option("--delimiter", help="The CSV delimiter (default: sniffed among , ; TAB |).")
@click.option("--route", help="Force an import route (see the provider's capabilities).")
@click.option("--dry-run", is_flag=True, help="Validate and plan; send nothing.")
@click.option("--no-wait", is_flag=True, help="Submit and print the job id without waiting.")
@click.option("--errors-out", type=click.Path(dir_okay=False), help="Write every row error to this CSV file.")
@click.option(
    "--journal",
    type=click.Path(dir_okay=False),
    help="SQLite file recording the batches sent (default: FILE.PROVIDER.journal beside the file).",
)
@click.option("--resume", is_flag=True, help="Continue the interrupted import its journal records.")
@click.option("--restart", is_flag=True, help="Discard the journal of an unfinished import and send everything again.")
@click.option(
    "--limit",
    "limit_pairs",
    multiple=True,
    metavar="NAME=N",
    help="Raise or lower a read limit, e.g. max_line_bytes=4194304 (see the docs' list).",
)
@json_option
@provider_command
@click.pass_context
def import_command(  # noqa: PLR0917 - one parameter per option
    ctx: click.Context,
    spec: ProviderSpec,
    file: str,
    lists: tuple[str, ...],
    action: str,
    mapping: tuple[str, ...],
    types: tuple[str, ...],
    create_fields: bool,
    encoding: str | None,
    delimiter: str | None,
    route: str | None,
    dry_run: bool,
    no_wait: bool,
    errors_out: str | None,
    journal: str | None,
    resume: bool,
    restart: bool,
    limit_pairs: tuple[str, ...],
    as_json: bool,
) -> None:
    """Import the contacts in FILE (.csv, .csv.gz, .xlsx) into a provider.

    Every batch sent is recorded in a journal (created with the first batch); after an
    interruption, the same command with --resume sends only what was not sent yet, and
    without --resume (or --restart) an unfinished import's journal makes the command
    refuse rather than send everything again. The journal is removed once the import
    has ended: here, or with `status --wait --journal`.
    """
    columns = pairs(mapping, "--map")
    declared = {}
    for field, kind in pairs(types, "--type").items():
        try:
            declared[field] = FieldType(kind.strip().lower())
        except ValueError:
            raise click.BadParameter(
                f"{kind!r} is not one of {', '.join(t.value for t in FieldType)}", param_hint="--type"
            ) from None
    subscriptions = [ListSubscription(list_id, SubscriptionAction(action)) for list_id in lists]
    limits = ReadLimits.from_settings(pairs(limit_pairs, "--limit"))
    with read_contacts(file, mapping=columns, encoding=encoding, delimiter=delimiter, limits=limits) as header:
        properties = header.properties
        if header.encoding_detected:
            click.echo(f"contactsync: reading {file} as {header.encoding} (detected; --encoding chooses)", err=True)
            encoding = header.encoding  # the rows are read as the header was
    with open_client(spec) as client:
        client.check_actions(subscriptions)
        check_header(client, properties)
        if create_fields and not dry_run:
            stored = ensure_columns(client, properties, declared)
        else:
            stored = stored_field_types(client) if properties else {}
        field_types = {**stored, **declared}
        reader = read_contacts(
            file, mapping=columns, field_types=field_types, encoding=encoding, delimiter=delimiter, limits=limits
        )
        with reader:
            if dry_run:
                _dry_run(ctx, client, reader=reader, subscriptions=subscriptions, route=route, errors_out=errors_out)
            _import(
                ctx,
                client,
                reader=reader,
                subscriptions=subscriptions,
                route=route,
                errors_out=errors_out,
                no_wait=no_wait,
                journal=_journal_path(file, client.name, journal, resume=resume, restart=restart),
                spec=spec,
            )


def _dry_run(
    ctx: click.Context,
    client: Provider,
    *,
    reader: ContactReader,
    subscriptions: list[ListSubscription],
    route: str | None,
    errors_out: str | None,
) -> NoReturn:
    chosen, batches, rejected = client.plan_import(reader, subscriptions, route=route)
    rows = reader.rows
    as_json = bool(ctx.meta.get("json"))
    if not as_json:
        click.echo(f"dry run: nothing was sent to {client.name}")
        click.echo(f"  rows {rows:,}: {rows - len(rejected):,} valid, {len(rejected):,} rejected")
        click.echo(f"  route {chosen!r}: {len(batches):,} batch(es)")
        for number, description in enumerate(batches[:3], start=1):
            click.echo(f"  batch {number}: {json.dumps(description, default=plain, ensure_ascii=False)[:400]}")
    count, sample = report_errors(rejected, errors_out, quiet=as_json)
    if as_json:
        emit_json(
            {
                "dry_run": True,
                "provider": client.name,
                "rows": rows,
                "valid": rows - len(rejected),
                "rejected": count,
                "route": chosen,
                "batches": len(batches),
                "first_batches": batches[:3],
                "errors": sample,
                "errors_file": errors_out,
            }
        )
    ctx.exit(EXIT_ROW_ERRORS if count else EXIT_OK)


def _journal_path(file: str, provider: str, given: str | None, *, resume: bool, restart: bool) -> Path:
    """The journal for importing ``file`` into ``provider``: the one to continue with --resume, else none yet.

    A journal left by an unfinished import is refused unless --resume continues it or
    --restart discards it: sending everything again silently would double what was sent.
    """
    path = Path(given) if given is not None else Path(f"{file}.{provider}.journal")
    if resume and restart:
        raise click.UsageError("--resume continues the recorded import and --restart discards it: pass one")
    if resume and not path.exists():
        raise click.UsageError(f"--resume: there is no journal at {path} to resume")
    if not resume and path.exists() and not restart:
        raise click.UsageError(
            f"an unfinished import of {file} into {provider} is recorded in {path}: pass --resume to continue it, "
            "or --restart to discard it and send everything again"
        )
    if restart:
        remove_journal(path)
    return path


def remove_journal(path: Path) -> None:
    """Delete a journal and SQLite's companions to it."""
    for done in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        done.unlink(missing_ok=True)


def _import(
    ctx: click.Context,
    client: Provider,
    *,
    reader: ContactReader,
    subscriptions: list[ListSubscription],
    route: str | None,
    errors_out: str | None,
    no_wait: bool,
    journal: Path,
    spec: ProviderSpec,
) -> NoReturn:
    as_json = bool(ctx.meta.get("json"))
    show = show_progress(ctx)
    started = time.monotonic()
    sent = [0]
    sending = Progress("sending", enabled=show)

    def on_batch(job: ImportJob) -> None:
        sent[0] = len(job.parts) or 1

    def on_interrupt() -> str:
        if journal.exists():
            return "run the same command with --resume to continue"
        return "nothing was sent"

    ctx.meta["on_interrupt"] = on_interrupt

    job = client.import_contacts(
        reading(reader, sending, sent), subscriptions, route=route, on_batch=on_batch, journal=journal
    )
    sending.update(1.0, reader.rows, f"{len(job.parts) or 1} batches sent", force=True)
    sending.finish()
    if no_wait:
        count, sample = report_errors(job.local_errors, errors_out, quiet=as_json)
        if as_json:
            emit_json({**job_record(job), "errors": sample, "error_count": count, "errors_file": errors_out})
        else:
            click.echo(describe_job(job))
            words = ["status", job.id, "--wait", *(["--journal", str(journal)] if journal.exists() else [])]
            click.echo(f"  follow it with: {follow_command(spec, client.name, *words)}")
        ctx.exit(EXIT_ROW_ERRORS if count else EXIT_OK)
    waiting = Progress("waiting", enabled=show)
    try:
        job = client.wait(job, on_progress=wait_progress(waiting))
    finally:
        waiting.finish()
    seconds = time.monotonic() - started
    if not as_json:
        click.echo(describe_job(job, seconds))
    count, sample = report_errors(client.import_errors(job), errors_out, quiet=as_json)
    if job.status.is_terminal:
        remove_journal(journal)
    if as_json:
        emit_json({**job_record(job, seconds), "errors": sample, "error_count": count, "errors_file": errors_out})
    ctx.exit(exit_code_for_job(job, count))


def _job_id(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """JOB as `import` prints it: one or more ids joined by commas, none of them empty."""
    if not value.strip() or not all(part.strip() for part in value.split(",")):
        raise click.BadParameter(f"{value!r} is not a job id (ids joined by commas, as `import` prints them)")
    return value.strip()


@cli.command()
@click.argument("job_id", metavar="JOB", callback=_job_id)
@click.option("--wait", "wait", is_flag=True, help="Poll until the job finishes.")
@click.option(
    "--timeout-wait",
    type=click.FloatRange(min=0, min_open=True, max=MAX_SECONDS),
    default=3600,
    show_default=True,
    help="Seconds to wait with --wait.",
)
@click.option(
    "--journal",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The import's journal (as `import --no-wait` prints it): removed once the job has ended.",
)
@json_option
@provider_command
@click.pass_context
def status(  # noqa: PLR0917 - one parameter per option
    ctx: click.Context,
    spec: ProviderSpec,
    job_id: str,
    wait: bool,
    timeout_wait: float,
    journal: Path | None,
    as_json: bool,
) -> None:
    """Show an import job's status (JOB as printed by `import`: ids joined by commas)."""
    with open_client(spec) as client:
        if wait:
            progress = Progress("waiting", enabled=show_progress(ctx))
            try:
                job = client.wait(job_id, timeout=timeout_wait, on_progress=wait_progress(progress))
            finally:
                progress.finish()
        else:
            job = client.refresh(job_id)
    if journal is not None and job.status.is_terminal:
        _finish_journal(journal, client.name, job)
    if as_json:
        emit_json(job_record(job))
    else:
        click.echo(describe_job(job))
    if wait:
        ctx.exit(exit_code_for_job(job, job.errored))


def _finish_journal(path: Path, provider: str, job: ImportJob) -> None:
    """Remove the journal of an import that has ended, once it is seen to record this job's parts."""
    if not path.exists():
        return
    try:
        record = Journal(path)
        try:
            recorded = {batch.part.id for batch in record.batches(provider) if batch.part is not None}
        finally:
            record.close()
    except ConfigurationError as exc:  # the job's status stands; the journal is left for its owner to judge
        click.echo(f"contactsync: {exc}; it is kept", err=True)
        return
    if {part.id for part in job.provider_jobs} <= recorded:
        remove_journal(path)
    else:
        click.echo(f"contactsync: {path} records another import; it is kept", err=True)


@cli.command()
@click.argument("job_id", metavar="JOB", callback=_job_id)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="CSV file to write (default: standard output).")
@provider_command
def errors(spec: ProviderSpec, job_id: str, output: str | None) -> None:
    """Write a finished job's row errors as CSV (rows are unknown when read by id alone)."""
    with open_client(spec) as client:
        target: str | TextIO = output or sys.stdout
        count = write_errors(target, client.import_errors(job_id))
    if output:
        click.echo(f"{count:,} row errors written to {output}", err=True)
