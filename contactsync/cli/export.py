"""``export``: a list's members, with their properties and standing, to a CSV or Excel file."""

from __future__ import annotations

import sys

import click

from contactsync.cli.app import cli
from contactsync.cli.connect import ProviderSpec, json_option, open_client, provider_command
from contactsync.cli.output import Progress, emit_json, show_progress
from contactsync.exporting import export_members


@cli.command("export")
@click.option("--list", "list_id", required=True, metavar="ID", help="The list to export.")
@click.option(
    "--output",
    "-o",
    default="-",
    show_default=True,
    type=click.Path(dir_okay=False, allow_dash=True),
    help="File to write: .csv, .csv.gz or .xlsx; - for CSV on standard output.",
)
@json_option
@provider_command
@click.pass_context
def export_command(ctx: click.Context, spec: ProviderSpec, list_id: str, output: str, as_json: bool) -> None:
    """Write every member of a list: email, name, properties, then subscribed, subscribed_at, unsubscribed_at."""
    if as_json and output == "-":
        raise click.UsageError("--json prints the summary on standard output: pass --output FILE as well")
    progress = {stage: Progress(stage, enabled=show_progress(ctx)) for stage in ("reading", "writing")}

    def on_progress(stage: str, count: int) -> None:
        progress[stage].update(None, count)

    with open_client(spec) as client:
        try:
            summary = export_members(
                client.members(list_id), sys.stdout if output == "-" else output, on_progress=on_progress
            )
        finally:
            for bar in progress.values():
                bar.finish()
    record = {
        "provider": client.name,
        "list": list_id,
        "members": summary.members,
        "subscribed": summary.subscribed,
        "unsubscribed": summary.unsubscribed,
        "columns": list(summary.columns),
        "output": output,
    }
    if as_json:
        emit_json(record)
    else:
        where = "standard output" if output == "-" else output
        click.echo(
            f"{summary.members:,} members of {client.name} list {list_id} "
            f"({summary.unsubscribed:,} unsubscribed) written to {where}",
            err=True,
        )
