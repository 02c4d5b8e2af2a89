"""The command group: exit codes, one line per error (never a traceback), and the console script."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any, NoReturn

import click

import contactsync
from contactsync.errors import ConfigurationError, ContactSyncError, InvalidInput, SyncRefused, UnsupportedAction
from contactsync.model import ImportJob, ImportStatus

__all__ = [
    "EXIT_FAILED",
    "EXIT_INPUT",
    "EXIT_INTERNAL",
    "EXIT_OK",
    "EXIT_ROW_ERRORS",
    "EXIT_USAGE",
    "cli",
    "exit_code_for",
    "exit_code_for_job",
    "main",
]

EXIT_OK = 0
EXIT_ROW_ERRORS = 1
EXIT_USAGE = 2
EXIT_FAILED = 3
EXIT_INPUT = 4
EXIT_INTERNAL = 5


def exit_code_for(error: BaseException) -> int:
    """The documented exit code for an error that ended a command."""
    if not isinstance(error, (ContactSyncError, OSError)):
        return EXIT_INTERNAL
    if isinstance(error, (ConfigurationError, UnsupportedAction, SyncRefused)):  # SyncRefused: check, or --force
        return EXIT_USAGE
    if isinstance(error, (InvalidInput, OSError)):
        return EXIT_INPUT
    return EXIT_FAILED


def exit_code_for_job(job: ImportJob, errors: int) -> int:
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
            hint = ctx.meta.get("on_interrupt")
            click.echo(f"contactsync: interrupted; {hint()}" if hint else "contactsync: interrupted", err=True)
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


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(contactsync.__version__, prog_name="contactsync")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
@click.pass_context
def cli(ctx: click.Context, quiet: bool) -> None:
    """Bulk-manage email contacts and list subscriptions across providers."""
    ctx.meta["quiet"] = quiet


def main(argv: Sequence[str] | None = None) -> None:
    """The console script."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="contactsync")
