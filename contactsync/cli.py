"""The ``contactsync`` command line: import contact files, follow jobs, manage subscriptions, run the sandbox.

Every provider command works the same way for every provider (built-in or plugin):
credentials come from flags, ``--setting KEY=VALUE``, the config file, or the
provider's own environment variables. Exit codes: 0 success, 1 finished with row
errors, 2 usage or configuration error, 3 provider failure, 4 unreadable input.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from importlib import metadata
from importlib.resources import as_file, files
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn, TextIO

import attrs
import click

import contactsync
from contactsync import registry
from contactsync.csvio import ContactReader, ErrorWriter, read_contacts, write_errors
from contactsync.errors import (
    ConfigurationError,
    ContactSyncError,
    InvalidInput,
    UnsupportedAction,
)
from contactsync.model import (
    Contact,
    FieldDefinition,
    FieldType,
    ImportJob,
    ImportStatus,
    ListSubscription,
    RowError,
    SubscriptionAction,
)
from contactsync.provider import Provider, ProviderOptions

__all__ = ["EXIT_FAILED", "EXIT_INPUT", "EXIT_INTERNAL", "EXIT_OK", "EXIT_ROW_ERRORS", "EXIT_USAGE", "cli", "main"]

EXIT_OK = 0
EXIT_ROW_ERRORS = 1
EXIT_USAGE = 2
EXIT_FAILED = 3
EXIT_INPUT = 4
EXIT_INTERNAL = 5

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

_CREDENTIAL_FLAGS = ("api_key", "secret_key", "username", "password", "base_url")
_SHOWN_ERRORS = 10
_JSON_ERRORS = 100


def exit_code_for(error: BaseException) -> int:
    """The documented exit code for an error that ended a command."""
    if not isinstance(error, (ContactSyncError, OSError)):
        return EXIT_INTERNAL
    if isinstance(error, (ConfigurationError, UnsupportedAction)):
        return EXIT_USAGE
    if isinstance(error, (InvalidInput, OSError)):
        return EXIT_INPUT
    return EXIT_FAILED


def _exit_code_for_job(job: ImportJob, errors: int) -> int:
    if not job.status.is_success:
        return EXIT_FAILED if job.status.is_terminal else (EXIT_ROW_ERRORS if errors else EXIT_OK)
    return EXIT_ROW_ERRORS if errors or job.status is ImportStatus.COMPLETED_WITH_ERRORS else EXIT_OK


class _Group(click.Group):
    """Turns our errors into one line on stderr and a documented exit code, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except (ContactSyncError, OSError) as exc:
            _fail(ctx, exc)
        except KeyboardInterrupt:
            click.echo("contactsync: interrupted", err=True)
            raise click.exceptions.Exit(130) from None
        except Exception as exc:
            if os.environ.get("CONTACTSYNC_DEBUG"):
                raise
            _fail(ctx, exc)


def _fail(ctx: click.Context, exc: BaseException) -> NoReturn:
    code = exit_code_for(exc)
    if isinstance(exc, OSError):
        message = f"{exc.strerror or type(exc).__name__}: {exc.filename}" if exc.filename else str(exc)
    elif code == EXIT_INTERNAL:
        message = (
            f"internal error (a bug in contactsync or a provider plugin): {type(exc).__name__}: {exc}; "
            "set CONTACTSYNC_DEBUG=1 to see the traceback"
        )
    else:
        message = str(exc)
    click.echo(f"contactsync: error: {message}", err=True)
    if ctx.meta.get("json"):
        click.echo(json.dumps({"error": message, "type": type(exc).__name__, "exit_code": code}))
    raise click.exceptions.Exit(code)


# -- output ------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, ImportStatus):
        return value.value
    return str(value)


def _emit_json(value: Any) -> None:
    click.echo(json.dumps(value, default=_plain, ensure_ascii=False))


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain text table, numbers right-aligned."""
    body = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(headers)]
    numeric = [
        bool(body) and all(r[i].replace(",", "").replace(".", "").isdigit() for r in body) for i in range(len(headers))
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in body:
        cells = [c.rjust(w) if numeric[i] else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if value is None:
        return ""
    return str(_plain(value)) if not isinstance(value, str) else value


def _job_record(job: ImportJob, seconds: float | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "provider": job.provider,
        "job_id": job.id,
        "status": job.status.value,
        "provider_status": job.provider_status,
        "requested": job.requested,
        "created": job.created,
        "updated": job.updated,
        "errored": job.errored,
        "parts": len(job.parts) or 1,
    }
    if seconds is not None:
        record["seconds"] = round(seconds, 3)
    return record


def _error_record(error: RowError) -> dict[str, Any]:
    return attrs.asdict(error)


def _describe_job(job: ImportJob, seconds: float | None = None) -> str:
    took = f" in {seconds:.1f} s" if seconds is not None else ""
    return (
        f"{job.provider} job {job.id}: {job.status.value} ({job.provider_status})\n"
        f"  requested {job.requested:,}  created {job.created:,}  updated {job.updated:,}  "
        f"errored {job.errored:,}{took}"
    )


class Progress:
    """A one-line progress bar on a terminal (rate and ETA); does nothing when disabled."""

    WIDTH = 24

    def __init__(self, label: str, *, enabled: bool, stream: TextIO | None = None) -> None:
        self.label = label
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self._drawn = 0.0
        self._width = 0

    def update(self, fraction: float | None, count: int, note: str = "", *, force: bool = False) -> None:
        """Redraw (at most ten times a second unless ``force``)."""
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._drawn < 0.1:
            return
        self._drawn = now
        elapsed = max(now - self.started, 1e-6)
        rate = count / elapsed
        if fraction is None:
            bar, percent, eta = "-" * self.WIDTH, "   ", ""
        else:
            fraction = min(max(fraction, 0.0), 1.0)
            filled = int(fraction * self.WIDTH)
            bar = "#" * filled + "-" * (self.WIDTH - filled)
            percent = f"{fraction * 100:3.0f}%"
            left = elapsed * (1 - fraction) / fraction if fraction > 0 else None
            eta = f" ETA {_clock(left)}" if left is not None and fraction < 1 else f" {_clock(elapsed)}"
        line = f"{self.label:<10} [{bar}] {percent} {count:,} contacts {rate:,.0f}/s{eta} {note}".rstrip()
        self.stream.write("\r" + line.ljust(self._width))
        self.stream.flush()
        self._width = len(line)

    def finish(self) -> None:
        """End the line."""
        if self.enabled and self._width:
            self.stream.write("\n")
            self.stream.flush()


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"


def _show_progress(ctx: click.Context) -> bool:
    return not ctx.meta.get("json") and not ctx.meta.get("quiet") and sys.stderr.isatty()


def _reading(reader: ContactReader, progress: Progress, batches: list[int]) -> Iterator[Contact | RowError]:
    """Pass the reader's items through, drawing the reading/sending bar."""
    for count, item in enumerate(reader, start=1):
        if count % 256 == 0:
            done, total = reader.progress
            progress.update(done / total if total else None, count, f"{batches[0]} batches sent")
        yield item


def _waiting(progress: Progress) -> Callable[[ImportJob], None]:
    def show(job: ImportJob) -> None:
        processed = job.created + job.updated + job.errored
        parts = job.parts or (job,)
        done_parts = sum(p.status.is_terminal for p in parts) / len(parts)
        fraction = max(done_parts, processed / job.requested if job.requested else 0.0)
        progress.update(fraction, processed, job.provider_status, force=job.status.is_terminal)

    return show


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


def _pairs(values: Iterable[str], flag: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, item = value.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {value!r}", param_hint=flag)
        pairs[key.strip()] = item
    return pairs


def _setting_values(values: Iterable[str]) -> dict[str, Any]:
    """``--setting`` pairs, each value read as JSON when it parses (4, true, {"1": 2}), else as text."""
    settings: dict[str, Any] = {}
    for key, text in _pairs(values, "--setting").items():
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
    settings.update(_setting_values(spec.settings))
    settings.update(_numbers(spec))
    return settings


def _numbers(spec: ProviderSpec) -> dict[str, float]:
    numbers = {"timeout": spec.timeout, "poll_interval": spec.poll_interval}
    return {key: value for key, value in numbers.items() if value is not None}


def _check_settings(cls: type[Provider], settings: Mapping[str, Any]) -> None:
    """Refuse settings the provider's constructor does not take, naming the ones it does."""
    parameters = inspect.signature(cls.__init__).parameters
    accepted = [n for n, p in parameters.items() if n != "self" and p.kind is not inspect.Parameter.VAR_KEYWORD]
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        accepted += list(ProviderOptions.__annotations__)  # what a provider passes on to Provider
    unknown = sorted(set(settings) - set(accepted))
    if unknown:
        shown = ", ".join(unknown)
        raise ConfigurationError(f"{cls.name} does not take {shown}; it takes: {', '.join(accepted)}")


@contextlib.contextmanager
def embedded_sandbox(names: Sequence[str], state: str | None = None) -> Iterator[Any]:
    """A Sandbox serving ``names`` for the length of one command; with ``state``, loaded before and saved after."""
    from contactsync.sandbox import EMULATORS, Sandbox
    from contactsync.sandbox.state import load_state, save_state

    for name in names:
        if name not in EMULATORS:
            raise ConfigurationError(f"the sandbox has no emulator for {name!r}; it has: {', '.join(EMULATORS)}")
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
        chosen = {**_setting_values(spec.settings), **_numbers(spec)}  # the sandbox brings the credentials
        _check_settings(registry.load(name), chosen)
        with embedded_sandbox([name], spec.state) as sandbox:
            client: Provider = sandbox.connect(name, **chosen)
            with client:
                yield client
        return
    settings = _settings(name, spec, config)
    _check_settings(registry.load(name), settings)
    try:
        client = contactsync.connect(name, **settings)
    except TypeError as exc:
        raise ConfigurationError(f"{name}: {exc}") from None
    with client:
        yield client


def provider_command(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add the shared provider options to a command; it receives them as one ``spec`` argument."""

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        spec = ProviderSpec(**{key: kwargs.pop(key) for key in _SPEC_FIELDS})
        as_json = kwargs.get("as_json", False)
        click.get_current_context().meta["json"] = as_json
        return func(spec, **kwargs)

    options = [
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
        click.option("--state", type=click.Path(dir_okay=False), help="With --sandbox: SQLite file keeping its state."),
    ]
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


def _json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print one machine-readable JSON result.")(func)


_ACTIONS = click.Choice([a.value for a in SubscriptionAction])


# -- the commands ------------------------------------------------------------------------


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(contactsync.__version__, prog_name="contactsync")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
@click.pass_context
def cli(ctx: click.Context, quiet: bool) -> None:
    """Bulk-manage email contacts and list subscriptions across providers."""
    ctx.meta["quiet"] = quiet


def _field_types(client: Provider) -> dict[str, FieldType]:
    try:
        return {f.name: f.type for f in client.fields()}
    except UnsupportedAction:
        return {}


_WIDER = {FieldType.INTEGER: FieldType.NUMBER, FieldType.DATE: FieldType.DATETIME}
"""A type the provider may lack, and the wider one that holds its values exactly."""


def fit_type(wanted: FieldType, supported: frozenset[FieldType]) -> FieldType:
    """The provider's nearest type that loses nothing: integers as numbers, dates as datetimes, else text."""
    if wanted in supported or not supported:
        return wanted
    wider = _WIDER.get(wanted)
    return wider if wider in supported else FieldType.TEXT


def _ensure_columns(
    client: Provider, columns: Sequence[str], declared: Mapping[str, FieldType]
) -> dict[str, FieldType]:
    """Create the missing fields; return the type to parse each column as.

    A column declared integer and stored as a number is still parsed as an integer,
    so a fraction is a row error rather than a silently different value.
    """
    supported = client.capabilities.field_types
    wanted = [FieldDefinition(c, fit_type(declared.get(c, FieldType.TEXT), supported)) for c in columns]
    parse = {}
    for column, stored in zip(columns, client.ensure_fields(wanted), strict=True):
        kind = declared.get(column)
        parse[column] = kind if kind is FieldType.INTEGER and stored.type is FieldType.NUMBER else stored.type
    return parse


def _report_errors(
    errors: Iterable[RowError], errors_out: str | None, *, quiet: bool
) -> tuple[int, list[dict[str, Any]]]:
    """Write errors to ``errors_out`` (or show the first few); return the count and a sample."""
    sample: list[dict[str, Any]] = []
    count = 0
    writer = ErrorWriter(errors_out) if errors_out else None
    try:
        for error in errors:
            count += 1
            if writer is not None:
                writer.write(error)
            if len(sample) < _JSON_ERRORS:
                sample.append(_error_record(error))
            if writer is None and not quiet and count <= _SHOWN_ERRORS:
                where = f"row {error.row}" if error.row is not None else "row ?"
                field = f" [{error.field}]" if error.field else ""
                click.echo(f"  {where} {error.email or ''}{field}: {error.message}", err=True)
    finally:
        if writer is not None:
            writer.close()
    if not quiet and count:
        if writer is not None:
            click.echo(f"{count:,} row errors written to {errors_out}", err=True)
        elif count > _SHOWN_ERRORS:
            click.echo(f"  ... {count - _SHOWN_ERRORS:,} more; pass --errors-out PATH for all of them", err=True)
    return count, sample


@cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--list", "lists", multiple=True, metavar="ID", help="List to subscribe the contacts to (repeatable).")
@click.option("--action", type=_ACTIONS, default=SubscriptionAction.ADD_NO_FORCE.value, show_default=True)
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
@_json_option
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
    as_json: bool,
) -> None:
    """Import the contacts in FILE (.csv, .csv.gz, .xlsx) into a provider.

    Every batch sent is recorded in a journal; after an interruption, the same command
    with --resume sends only what was not sent yet. The journal is removed once the
    import has been waited to its end.
    """
    columns = _pairs(mapping, "--map")
    declared = {}
    for field, kind in _pairs(types, "--type").items():
        try:
            declared[field] = FieldType(kind.strip().lower())
        except ValueError:
            raise click.BadParameter(
                f"{kind!r} is not one of {', '.join(t.value for t in FieldType)}", param_hint="--type"
            ) from None
    subscriptions = [ListSubscription(list_id, SubscriptionAction(action)) for list_id in lists]
    with read_contacts(file, mapping=columns, encoding=encoding, delimiter=delimiter) as header:
        properties = header.properties
    with open_client(spec) as client:
        client.check_actions(subscriptions)
        if create_fields and not dry_run:
            stored = _ensure_columns(client, properties, declared)
        else:
            stored = _field_types(client) if properties else {}
        field_types = {**stored, **declared}
        reader = read_contacts(file, mapping=columns, field_types=field_types, encoding=encoding, delimiter=delimiter)
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
                journal=_journal_path(file, client.name, journal, resume=resume),
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
            click.echo(f"  batch {number}: {json.dumps(description, default=_plain, ensure_ascii=False)[:400]}")
    count, sample = _report_errors(rejected, errors_out, quiet=as_json)
    if as_json:
        _emit_json(
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


def _journal_path(file: str, provider: str, given: str | None, *, resume: bool) -> Path:
    """The journal for importing ``file`` into ``provider``: kept for --resume, else a fresh one."""
    path = Path(given) if given is not None else Path(f"{file}.{provider}.journal")
    if resume and not path.exists():
        raise click.UsageError(f"--resume: there is no journal at {path} to resume")
    if not resume:
        for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)
    return path


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
) -> NoReturn:
    as_json = bool(ctx.meta.get("json"))
    show = _show_progress(ctx)
    started = time.monotonic()
    sent = [0]
    sending = Progress("sending", enabled=show)

    def on_batch(job: ImportJob) -> None:
        sent[0] = len(job.parts) or 1

    job = client.import_contacts(
        _reading(reader, sending, sent), subscriptions, route=route, on_batch=on_batch, journal=journal
    )
    sending.update(1.0, reader.rows, f"{len(job.parts) or 1} batches sent", force=True)
    sending.finish()
    if no_wait:
        count, sample = _report_errors(job.local_errors, errors_out, quiet=as_json)
        if as_json:
            _emit_json({**_job_record(job), "errors": sample, "error_count": count, "errors_file": errors_out})
        else:
            click.echo(_describe_job(job))
            click.echo(f"  follow it with: contactsync status {job.id} --provider {client.name}")
        ctx.exit(EXIT_ROW_ERRORS if count else EXIT_OK)
    waiting = Progress("waiting", enabled=show)
    try:
        job = client.wait(job, on_progress=_waiting(waiting))
    finally:
        waiting.finish()
    seconds = time.monotonic() - started
    if not as_json:
        click.echo(_describe_job(job, seconds))
    count, sample = _report_errors(client.import_errors(job), errors_out, quiet=as_json)
    for done in (journal, Path(f"{journal}-wal"), Path(f"{journal}-shm")):
        done.unlink(missing_ok=True)
    if as_json:
        _emit_json({**_job_record(job, seconds), "errors": sample, "error_count": count, "errors_file": errors_out})
    ctx.exit(_exit_code_for_job(job, count))


@cli.command()
@click.argument("job_id", metavar="JOB")
@click.option("--wait", "wait", is_flag=True, help="Poll until the job finishes.")
@click.option("--timeout-wait", type=float, default=3600, show_default=True, help="Seconds to wait with --wait.")
@_json_option
@provider_command
@click.pass_context
def status(  # noqa: PLR0917 - one parameter per option
    ctx: click.Context, spec: ProviderSpec, job_id: str, wait: bool, timeout_wait: float, as_json: bool
) -> None:
    """Show an import job's status (JOB as printed by `import`: ids joined by commas)."""
    with open_client(spec) as client:
        if wait:
            progress = Progress("waiting", enabled=_show_progress(ctx))
            try:
                job = client.wait(job_id, timeout=timeout_wait, on_progress=_waiting(progress))
            finally:
                progress.finish()
        else:
            job = client.refresh(job_id)
    if as_json:
        _emit_json(_job_record(job))
    else:
        click.echo(_describe_job(job))
    if wait:
        ctx.exit(_exit_code_for_job(job, job.errored))


@cli.command()
@click.argument("job_id", metavar="JOB")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="CSV file to write (default: standard output).")
@provider_command
def errors(spec: ProviderSpec, job_id: str, output: str | None) -> None:
    """Write a finished job's row errors as CSV (rows are unknown when read by id alone)."""
    with open_client(spec) as client:
        target: str | TextIO = output or sys.stdout
        count = write_errors(target, client.import_errors(job_id))
    if output:
        click.echo(f"{count:,} row errors written to {output}", err=True)


@cli.command()
@click.argument("email")
@_json_option
@provider_command
def subscriptions(spec: ProviderSpec, email: str, as_json: bool) -> None:
    """Show the lists EMAIL is on, and whether it is subscribed to each."""
    with open_client(spec) as client:
        memberships = client.get_subscriptions(email)
    if as_json:
        _emit_json([attrs.asdict(m) for m in memberships])
        return
    if not memberships:
        click.echo(f"{email} is on no list")
        return
    click.echo(
        _table(["list", "subscribed", "since"], [(m.list_id, m.subscribed, m.subscribed_at) for m in memberships])
    )


@cli.command()
@click.argument("email")
@click.option("--list", "lists", multiple=True, required=True, metavar="ID", help="List to change (repeatable).")
@click.option("--action", type=_ACTIONS, default=SubscriptionAction.ADD_NO_FORCE.value, show_default=True)
@_json_option
@provider_command
def subscribe(spec: ProviderSpec, email: str, lists: tuple[str, ...], action: str, as_json: bool) -> None:
    """Apply one action to EMAIL's membership of each --list."""
    changes = [ListSubscription(list_id, SubscriptionAction(action)) for list_id in lists]
    with open_client(spec) as client:
        client.manage_subscriptions(email, changes)
    if as_json:
        _emit_json({"email": email, "action": action, "lists": list(lists)})
    else:
        click.echo(f"{action}: {email} on {', '.join(lists)}")


@cli.command("lists")
@_json_option
@provider_command
def lists_command(spec: ProviderSpec, as_json: bool) -> None:
    """Show the account's lists."""
    with open_client(spec) as client:
        found = client.lists()
    if as_json:
        _emit_json([attrs.asdict(item) for item in found])
    else:
        click.echo(_table(["id", "name"], [(item.id, item.name) for item in found]))


@cli.command("create-list")
@click.argument("name")
@_json_option
@provider_command
def create_list(spec: ProviderSpec, name: str, as_json: bool) -> None:
    """Create a list called NAME and print its id."""
    with open_client(spec) as client:
        list_id = client.create_list(name)
    if as_json:
        _emit_json({"id": list_id, "name": name})
    else:
        click.echo(list_id)


@cli.command()
@_json_option
@provider_command
def fields(spec: ProviderSpec, as_json: bool) -> None:
    """Show the account's custom contact fields and their types."""
    with open_client(spec) as client:
        found = client.fields()
    if as_json:
        _emit_json([{"name": f.name, "type": f.type.value} for f in found])
    else:
        click.echo(_table(["name", "type"], [(f.name, f.type.value) for f in found]))


def _version_of(cls: type[Provider]) -> str:
    top = cls.__module__.partition(".")[0]
    for dist in metadata.packages_distributions().get(top, []):
        with contextlib.suppress(metadata.PackageNotFoundError):
            return metadata.version(dist)
    return contactsync.__version__ if top == "contactsync" else "?"


@cli.command("providers")
@_json_option
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
        _emit_json(rows)
    else:
        click.echo(_table(["provider", "kind", "version", "status"], [list(r.values()) for r in rows]))


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8025, show_default=True, help="Port (0 picks a free one).")
@click.option("--state", type=click.Path(dir_okay=False), help="SQLite file: loaded at start, saved on exit.")
@click.option("--provider", "-p", "names", multiple=True, help="Serve only these emulators (repeatable).")
@click.option(
    "--faults", metavar="KIND:RATE,...", help="Inject faults, e.g. 429:0.05,500:0.03,reset:0.02,jobfail:0.02."
)
@click.option("--seed", type=int, help="Seed for the injected faults (the same seed, the same faults).")
@_json_option
@click.pass_context
def sandbox(  # noqa: PLR0917 - one parameter per option
    ctx: click.Context,
    host: str,
    port: int,
    state: str | None,
    names: tuple[str, ...],
    faults: str | None,
    seed: int | None,
    as_json: bool,
) -> None:
    """Serve the provider emulators until stopped (Ctrl-C); print their base URLs and credentials."""
    from contactsync.sandbox import EMULATORS, Sandbox
    from contactsync.sandbox.state import load_state, save_state

    ctx.meta["json"] = as_json
    unknown = sorted(set(names) - set(EMULATORS))
    if unknown:
        raise click.BadParameter(f"no emulator for {', '.join(unknown)}", param_hint="--provider")
    server = Sandbox(list(names) or None, host=host, port=port, faults=faults, seed=seed)
    loaded = load_state(state, server.emulators.values()) if state else []
    server.start()
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_signal)
    try:
        listing = {name: server.credentials(name) for name in server.emulators}
        if as_json:
            _emit_json({"url": server.url, "providers": listing, "state": state, "loaded": loaded})
        else:
            click.echo(f"contactsync sandbox serving on {server.url} (Ctrl-C to stop)")
            for name, settings in listing.items():
                credentials = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in settings.items())
                click.echo(f"  {name:<10} {credentials}")
            if state:
                click.echo(f"  state: {state} ({'loaded ' + ', '.join(loaded) if loaded else 'new'})")
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.stop()
        if state:
            save_state(state, server.emulators.values())
            if not as_json:
                click.echo(f"state saved to {state}", err=True)


def _available_emulators(wanted: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """Which of ``wanted`` have both a provider and an emulator installed; why the others are skipped."""
    from contactsync.sandbox import EMULATORS

    ready, skipped = [], {}
    for name in wanted:
        if name not in EMULATORS:
            skipped[name] = "no emulator"
            continue
        module = EMULATORS[name].partition(":")[0]
        try:
            importlib.import_module(module)
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
@click.option("--provider", "-p", "names", multiple=True, help="Only these providers (default: all three).")
@_json_option
@click.pass_context
def demo(ctx: click.Context, path: str | None, errors_out: str, names: tuple[str, ...], as_json: bool) -> None:
    """Import the demo contacts into every provider's emulator and print a summary table."""
    ctx.meta["json"] = as_json
    ready, skipped = _available_emulators(list(names) or sorted(registry.BUILTINS))
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
        _emit_json({"results": results, "skipped": skipped, "errors_file": errors_out, "error_count": writer.count})
    else:
        headers = ["provider", "status", "requested", "created", "updated", "errored", "seconds"]
        click.echo(_table(headers, [[r.get(h) for h in headers] for r in results]))
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
    show = _show_progress(ctx)
    client: Provider = sandbox_.connect(name)
    with client:
        actions = client.capabilities.actions
        action = next(
            (a for a in (SubscriptionAction.ADD_NO_FORCE, SubscriptionAction.ADD_FORCE) if a in actions), None
        )
        subscriptions = [ListSubscription(client.create_list("contactsync demo"), action)] if action else []
        declared = {d.name: d.type for d in DEMO_FIELDS}
        types = _ensure_columns(client, [d.name for d in DEMO_FIELDS], declared)
        started = time.monotonic()
        sent = [0]
        sending = Progress(name, enabled=show)

        def on_batch(job: ImportJob) -> None:
            sent[0] = len(job.parts) or 1

        with read_contacts(source, field_types=types) as reader:
            job = client.import_contacts(_reading(reader, sending, sent), subscriptions, on_batch=on_batch)
        sending.update(1.0, reader.rows, f"{len(job.parts) or 1} batches sent", force=True)
        sending.finish()
        waiting = Progress(f"{name} wait", enabled=show)
        try:
            job = client.wait(job, on_progress=_waiting(waiting))
        finally:
            waiting.finish()
        seconds = time.monotonic() - started
        for error in client.import_errors(job):
            writer.write(error, provider=name)
    record = _job_record(job, seconds)
    record["seconds"] = round(seconds, 2)
    return record


def main(argv: Sequence[str] | None = None) -> None:
    """The console script."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="contactsync")


if __name__ == "__main__":
    main()
