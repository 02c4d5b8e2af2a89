"""``sync``, ``sync-runs`` and ``sync-outcomes``: a source kept in step with provider lists, and its history.

``contactsync sync people.csv --provider mailjet --list 123`` sends what changed since
the last run (the state, ``sync.db`` by default, remembers what each provider confirmed);
``--destinations FILE.toml`` sends one source, read once, to several lists. The exit
codes are ``import``'s: 0 done, 1 done with row errors, 2 refused or misused (a MIRROR
guard: check the source, or pass ``--force``), 3 provider failure or another run in
progress, 4 unreadable input.
"""

from __future__ import annotations

import contextlib
import csv
import json
import sys
from collections.abc import Generator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import click

from contactsync.cli.app import EXIT_FAILED, EXIT_OK, EXIT_ROW_ERRORS, EXIT_USAGE, cli, exit_code_for
from contactsync.cli.columns import stored_field_types
from contactsync.cli.connect import ProviderSpec, json_option, open_client, pairs, provider_command
from contactsync.cli.connect import _toml as toml
from contactsync.cli.output import Progress, emit_json, error_record, plain, report_errors, show_progress, table
from contactsync.csvio import ContactReader, escape_cell
from contactsync.errors import ConfigurationError, ContactSyncError
from contactsync.model import FieldType, SubscriptionAction
from contactsync.provider import Provider
from contactsync.sources import read_file, read_sql
from contactsync.sources.rows import Item
from contactsync.sync import RunRecord, Sync, SyncMode, SyncPlan, SyncProgress, SyncRun, SyncStatus, fan_out, open_state

__all__ = ["Destination", "load_destinations", "parse_max_removals"]

STATE_ENV = "CONTACTSYNC_SYNC_STATE"
_MODES = click.Choice([m.value for m in SyncMode])
_REMOVALS = click.Choice([SubscriptionAction.REMOVE.value, SubscriptionAction.UNSUBSCRIBE.value])
_ADDS = click.Choice([SubscriptionAction.ADD_NO_FORCE.value, SubscriptionAction.ADD_FORCE.value])
_COUNTS = ("create", "update", "unchanged", "retry", "remove", "rejected", "accepted", "failed", "removed")


def parse_max_removals(text: str) -> float | int:
    """``10%`` -> 0.1 (a fraction of the list), ``250`` -> 250 (a count)."""
    value = text.strip()
    try:
        if value.endswith("%"):
            fraction = float(value[:-1]) / 100
            if not 0 <= fraction <= 1:
                raise ValueError
            return fraction
        count = int(value)
        if count < 0:
            raise ValueError
        return count
    except ValueError:
        raise click.BadParameter(f"expected a percentage (10%) or a count (250), got {text!r}") from None


@attrs.frozen
class Destination:
    """One list a source is synced to (a ``[[destination]]`` of the destinations file)."""

    provider: str
    list_id: str
    name: str | None = None
    state: str | None = None
    action: str = SubscriptionAction.ADD_NO_FORCE.value
    settings: Mapping[str, Any] = attrs.field(factory=dict)


def load_destinations(path: str) -> tuple[list[Destination], dict[str, Any]]:
    """The destinations of a TOML file, and its top-level defaults (``state``, ``mode``, ``max_removals``...)."""
    try:
        document: dict[str, Any] = toml().loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(f"the destinations file {path} does not exist") from None
    except ValueError as exc:
        raise ConfigurationError(f"the destinations file {path} is not valid TOML: {exc}") from None
    tables = document.pop("destination", None)
    if not isinstance(tables, list) or not tables:
        raise ConfigurationError(f"{path} names no destination: add [[destination]] tables (provider, list)")
    known = {"provider", "list", "name", "state", "action", "settings"}
    destinations = []
    for number, table_ in enumerate(tables, start=1):
        unknown = sorted(set(table_) - known)
        if unknown or "provider" not in table_ or "list" not in table_:
            raise ConfigurationError(
                f"{path}: destination {number} needs provider and list"
                + (f"; it has unknown keys {', '.join(unknown)}" if unknown else "")
            )
        destinations.append(
            Destination(
                str(table_["provider"]),
                str(table_["list"]),
                table_.get("name"),
                table_.get("state"),
                str(table_.get("action", SubscriptionAction.ADD_NO_FORCE.value)),
                dict(table_.get("settings", {})),
            )
        )
    return destinations, document


def _types(values: Sequence[str] | Mapping[str, str], flag: str) -> dict[str, FieldType]:
    given = pairs(values, flag) if not isinstance(values, Mapping) else dict(values)
    declared = {}
    for field, kind in given.items():
        try:
            declared[field] = FieldType(str(kind).strip().lower())
        except ValueError:
            choices = ", ".join(t.value for t in FieldType)
            raise click.BadParameter(f"{kind!r} is not one of {choices}", param_hint=flag) from None
    return declared


@attrs.frozen
class _Source:
    """How to read SOURCE: a contact file, or a SQL query on a database URL."""

    location: str
    query: str | None
    mapping: Mapping[str, str]
    encoding: str | None
    delimiter: str | None

    def open(self, field_types: Mapping[str, FieldType]) -> ContactReader | Generator[Item, None, None]:
        if self.query is not None:
            return read_sql(self.location, self.query, fields=self.mapping or None, field_types=field_types)
        return read_file(
            self.location,
            mapping=self.mapping,
            field_types=field_types,
            encoding=self.encoding,
            delimiter=self.delimiter,
        )


class _Bars:
    """One progress bar per phase of a run, on standard error."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Progress | None = None

    def __call__(self, progress: SyncProgress) -> None:
        if not self.enabled:
            return
        if self.bar is None or self.bar.label != progress.phase:
            self.finish()
            self.bar = Progress(progress.phase, enabled=True)
        self.bar.update(progress.fraction, progress.rows, force=progress.phase != "reading")

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.finish()
            self.bar = None


def _run_record(run: SyncRun) -> dict[str, Any]:
    return {
        "run": run.id,
        "status": run.status.value,
        "mode": run.mode.value,
        "counts": attrs.asdict(run.counts),
        "job_id": run.job.id if run.job else None,
        "events": [{"type": e.type.value, "email": e.email, "at": e.at, "list_id": e.list_id} for e in run.events],
        "notes": list(run.notes),
    }


def _exit_code(run: SyncRun) -> int:
    return EXIT_ROW_ERRORS if run.status is SyncStatus.COMPLETED_WITH_ERRORS else EXIT_OK


def _describe(run: SyncRun, label: str) -> str:
    c = run.counts
    return (
        f"{label}: run {run.id} {run.status.value} ({run.mode.value})\n"
        f"  create {c.create:,}  update {c.update:,}  unchanged {c.unchanged:,}  retry {c.retry:,}  "
        f"remove {c.remove:,}  rejected {c.rejected:,}\n"
        f"  accepted {c.accepted:,}  failed {c.failed:,}  removed {c.removed:,}"
    )


@cli.command("sync")
@click.argument("source")
@click.option("--list", "list_id", metavar="ID", help="The list to keep in step with SOURCE.")
@click.option(
    "--state",
    "sync_state",
    envvar=STATE_ENV,
    default="sync.db",
    show_default=True,
    help="The sync state: an SQLite file, or a postgresql:// URL.",
)
@click.option("--name", help="The sync's name in the state (default PROVIDER:LIST).")
@click.option("--mode", type=_MODES, default=SyncMode.UPSERT.value, show_default=True)
@click.option("--removal", type=_REMOVALS, default="remove", show_default=True, help="How MIRROR takes contacts off.")
@click.option("--action", type=_ADDS, default="addnoforce", show_default=True, help="How contacts are added.")
@click.option("--max-removals", default="10%", show_default=True, help="MIRROR's limit: a percentage or a count.")
@click.option("--force", is_flag=True, help="Apply a MIRROR run its guards refuse (an empty source, many removals).")
@click.option("--dry-run", is_flag=True, help="Plan only: what would be sent and removed; nothing is sent.")
@click.option("--reconcile/--no-reconcile", default=None, help="Read the list's members first (default: first run).")
@click.option("--events/--no-events", default=None, help="Read the provider's events (default: when it can).")
@click.option("--query", help="SOURCE is a database URL: read the contacts this SQL query selects.")
@click.option("--map", "mapping", multiple=True, metavar="COLUMN=FIELD", help="Rename a column; COLUMN= skips it.")
@click.option("--type", "types", multiple=True, metavar="FIELD=TYPE", help="Parse a field as text/number/integer/...")
@click.option("--encoding", help="The file's text encoding (default UTF-8, with or without BOM).")
@click.option("--delimiter", help="The CSV delimiter (default: sniffed among , ; TAB |).")
@click.option("--errors-out", type=click.Path(dir_okay=False), help="Write every row error to this CSV file.")
@click.option("--journal-dir", type=click.Path(file_okay=False), help="Where unfinished runs keep their journals.")
@click.option("--destinations", type=click.Path(dir_okay=False), help="TOML file naming several lists for SOURCE.")
@json_option
@provider_command(sandbox_state="--sandbox-state")
@click.pass_context
def sync_command(  # noqa: PLR0917 - one parameter per option
    ctx: click.Context,
    spec: ProviderSpec,
    source: str,
    list_id: str | None,
    sync_state: str,
    name: str | None,
    mode: str,
    removal: str,
    action: str,
    max_removals: str,
    force: bool,
    dry_run: bool,
    reconcile: bool | None,
    events: bool | None,
    query: str | None,
    mapping: tuple[str, ...],
    types: tuple[str, ...],
    encoding: str | None,
    delimiter: str | None,
    errors_out: str | None,
    journal_dir: str | None,
    destinations: str | None,
    as_json: bool,
) -> None:
    """Keep a list in step with SOURCE (.csv, .csv.gz, .xlsx, or a database URL with --query): only changes are sent.

    The first run sends every contact; later runs send the new and changed ones and
    retry the ones the provider refused. --mode mirror also takes off the list the
    contacts that left SOURCE, unless that would remove more than --max-removals.
    """
    reader = _Source(source, query, pairs(mapping, "--map"), encoding, delimiter)
    declared = _types(types, "--type")
    options: dict[str, Any] = {
        "mode": mode,
        "removal": removal,
        "max_removals": parse_max_removals(max_removals),
        "force": force,
        "reconcile": reconcile,
        "events": events,
    }
    if destinations is not None:
        if list_id is not None:
            raise click.UsageError("pass --list or --destinations, not both")
        if dry_run:
            raise click.UsageError("--dry-run takes one --list; plan each destination on its own")
        _fan_out(ctx, spec, reader, declared, destinations, sync_state, options, errors_out, journal_dir)
    if list_id is None:
        raise click.UsageError("which list? pass --list ID (or --destinations FILE.toml)")
    with open_client(spec) as client:
        stored = stored_field_types(client) if query is None else {}
        contacts = reader.open({**stored, **declared})
        with (
            contextlib.closing(contacts),
            Sync(client, list_id, name=name, state=sync_state, action=action, journal_dir=journal_dir) as sync,
        ):
            if dry_run:
                plan = sync.plan(contacts, mode=mode, removal=removal, reconcile=reconcile)
                _show_plan(ctx, sync, plan, errors_out)
            bars = _Bars(show_progress(ctx))
            try:
                run = sync.run(contacts, on_progress=bars, **options)
            finally:
                bars.finish()
            count, sample = report_errors(run.errors, errors_out, quiet=as_json)
            if as_json:
                emit_json({**_run_record(run), "errors": sample, "error_count": count, "errors_file": errors_out})
            else:
                click.echo(_describe(run, sync.label))
                for event in run.events:
                    click.echo(f"  event: {event.type.value} {event.email} {plain(event.at) if event.at else ''}")
    ctx.exit(_exit_code(run))


def _show_plan(ctx: click.Context, sync: Sync, plan: SyncPlan, errors_out: str | None) -> None:
    as_json = bool(ctx.meta.get("json"))
    kinds = ("create", "update", "unchanged", "retry", "remove", "rejected")
    if as_json:
        record: dict[str, Any] = {
            "dry_run": True,
            "sync": sync.label,
            "mode": plan.mode.value,
            "notes": list(plan.notes),
        }
        record.update({kind: getattr(plan, kind).count for kind in kinds})
        record["sample"] = {
            kind: [item.email if hasattr(item, "email") else item for item in getattr(plan, kind).sample]
            for kind in kinds
            if kind != "rejected"
        }
        record["errors"] = [error_record(e) for e in plan.rejected.sample]
        emit_json(record)
    else:
        click.echo(f"dry run: nothing was sent ({sync.label}, {plan.mode.value})")
        for kind in kinds:
            planned = getattr(plan, kind)
            shown = ", ".join(getattr(item, "email", None) or str(item) for item in planned.sample[:3])
            more = f": {shown}" + (", ..." if planned.count > 3 else "") if kind != "rejected" and shown else ""
            click.echo(f"  {kind:<10} {planned.count:>10,}{more}")
        for note in plan.notes:
            click.echo(f"  note: {note}")
        report_errors(plan.rejected.sample, errors_out, quiet=False)
    ctx.exit(EXIT_ROW_ERRORS if plan.rejected.count else EXIT_OK)


def _fan_out(  # noqa: PLR0917 - the command's settings, passed on
    ctx: click.Context,
    spec: ProviderSpec,
    reader: _Source,
    declared: Mapping[str, FieldType],
    path: str,
    sync_state: str,
    options: dict[str, Any],
    errors_out: str | None,
    journal_dir: str | None,
) -> None:
    """Every destination of the file from one read of SOURCE; exits with the worst destination's code."""
    destinations, defaults = load_destinations(path)
    for key in ("mode", "removal", "max_removals", "force", "reconcile", "events"):
        if key in defaults and ctx.get_parameter_source(key) is not click.core.ParameterSource.COMMANDLINE:
            value = defaults[key]
            options[key] = parse_max_removals(str(value)) if key == "max_removals" else value
    state = (
        defaults.get("state") if ctx.get_parameter_source("sync_state") is click.core.ParameterSource.DEFAULT else None
    )
    types = {**_types(defaults.get("types", {}), "types"), **declared}
    as_json = bool(ctx.meta.get("json"))
    with contextlib.ExitStack() as stack:
        clients: dict[tuple[str, str], Provider] = {}
        syncs = []
        for destination in destinations:
            client_key = (destination.provider, json.dumps(dict(destination.settings), sort_keys=True, default=str))
            if client_key not in clients:
                extra = tuple(f"{k}={json.dumps(v)}" for k, v in destination.settings.items())
                one = attrs.evolve(spec, provider=destination.provider, settings=spec.settings + extra)
                clients[client_key] = stack.enter_context(open_client(one))
            syncs.append(
                stack.enter_context(
                    Sync(
                        clients[client_key],
                        destination.list_id,
                        name=destination.name,
                        state=destination.state or state or sync_state,
                        action=destination.action,
                        journal_dir=journal_dir,
                    )
                )
            )
        bars = _Bars(show_progress(ctx))
        try:
            results = fan_out(reader.open(types), syncs, on_progress=lambda _, p: bars(p), **options)
        finally:
            bars.finish()
        codes, records, rows = [], [], []
        errors = [error for result in results if isinstance(result, SyncRun) for error in result.errors]
        count, sample = report_errors(errors, errors_out, quiet=as_json)
        for sync, result in zip(syncs, results, strict=True):
            if isinstance(result, ContactSyncError):
                codes.append(exit_code_for(result))
                records.append({"sync": sync.label, "error": str(result), "type": type(result).__name__})
                rows.append([sync.label, "error", *[""] * len(_COUNTS)])
                if not as_json:
                    click.echo(f"contactsync: {sync.label}: {result}", err=True)
                continue
            codes.append(_exit_code(result))
            records.append({"sync": sync.label, **_run_record(result)})
            rows.append([sync.label, result.status.value, *(getattr(result.counts, k) for k in _COUNTS)])
    if as_json:
        emit_json({"destinations": records, "errors": sample, "error_count": count, "errors_file": errors_out})
    else:
        click.echo(table(["destination", "status", *_COUNTS], rows))
    ctx.exit(max(codes, key=_severity))


def _severity(code: int) -> int:
    """Which exit code wins across destinations: a failure, then a refusal, then row errors."""
    return {EXIT_FAILED: 4, EXIT_USAGE: 3, EXIT_ROW_ERRORS: 1, EXIT_OK: 0}.get(code, 2)


def _state_syncs(state: str, name: str | None) -> tuple[Any, list[int]]:
    store = open_state(state)
    found = store.sync_names()
    if name is None:
        return store, [sync_id for sync_id, _, _ in found]
    chosen = [sync_id for sync_id, sync_name, _ in found if sync_name == name]
    if not chosen:
        names = ", ".join(sorted({n for _, n, _ in found})) or "none"
        store.close()
        raise ConfigurationError(f"the state {store.url} has no sync named {name!r} (it has: {names})")
    return store, chosen


@cli.command("sync-runs")
@click.option("--state", "sync_state", envvar=STATE_ENV, default="sync.db", show_default=True, help="The sync state.")
@click.option("--name", help="Only this sync's runs (default: every sync in the state).")
@click.option("--limit", type=int, default=20, show_default=True, help="How many runs, newest first.")
@json_option
@click.pass_context
def sync_runs(ctx: click.Context, sync_state: str, name: str | None, limit: int, as_json: bool) -> None:
    """Show the runs recorded in a sync state, newest first."""
    ctx.meta["json"] = as_json
    store, sync_ids = _state_syncs(sync_state, name)
    try:
        runs = store.runs(sync_ids, limit)
    finally:
        store.close()
    if as_json:
        emit_json([_history_record(run) for run in runs])
        return
    headers = ["run", "sync", "status", "mode", "started", "create", "update", "unchanged", "remove", "errored"]
    click.echo(table(headers, [_history_row(run) for run in runs]))


def _history_record(run: RunRecord) -> dict[str, Any]:
    record = attrs.asdict(run, recurse=False)
    record.update(status=run.status.value, mode=run.mode.value, counts=attrs.asdict(run.counts), notes=list(run.notes))
    return record


def _history_row(run: RunRecord) -> list[Any]:
    label = f"{run.name} ({run.partition})" if run.partition else run.name
    c = run.counts
    return [
        run.id,
        label,
        run.status.value,
        run.mode.value,
        run.started_at,
        c.create,
        c.update,
        c.unchanged,
        c.remove,
        c.errored,
    ]


@cli.command("sync-outcomes")
@click.argument("run_id", metavar="RUN", type=int)
@click.option("--state", "sync_state", envvar=STATE_ENV, default="sync.db", show_default=True, help="The sync state.")
@click.option("--errors", "only_errors", is_flag=True, help="Only the rows that ended as row errors.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="CSV file to write (default: standard output).")
def sync_outcomes(run_id: int, sync_state: str, only_errors: bool, output: str | None) -> None:
    """Write one run's changelog as CSV: a line per row sent, refused or removed (unchanged rows are only counted)."""
    store = open_state(sync_state)
    try:
        if store.run_sync(run_id) is None:
            raise ConfigurationError(f"the state {store.url} has no run {run_id}; see `contactsync sync-runs`")
        with contextlib.ExitStack() as stack:
            target = stack.enter_context(open(output, "w", newline="", encoding="utf-8")) if output else sys.stdout
            writer = csv.writer(target)
            writer.writerow(["row", "email", "operation", "result", "error", "field", "provider_code"])
            written = 0
            for outcome in store.outcomes(run_id):
                if only_errors and outcome.result.value != "rejected":
                    continue
                cells = [
                    outcome.email,
                    outcome.operation.value,
                    outcome.result.value,
                    outcome.error,
                    outcome.field,
                    outcome.provider_code,
                ]
                writer.writerow(["" if outcome.row is None else outcome.row, *(escape_cell(c or "") for c in cells)])
                written += 1
    finally:
        store.close()
    if output:
        click.echo(f"{written:,} outcomes written to {output}", err=True)
