"""``events``: unsubscribes, resubscribes, bounces, complaints and blocks since a time."""

from __future__ import annotations

from datetime import date, datetime, timezone

import attrs
import click

from contactsync.cli.app import cli
from contactsync.cli.connect import ProviderSpec, json_option, open_client, provider_command
from contactsync.cli.output import emit_json, table


def parse_since(text: str) -> datetime:
    """``--since``: an ISO 8601 time with its zone (``Z`` or an offset), or a date meaning its midnight UTC."""
    value = text.strip()
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=timezone.utc)
        moment = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not an ISO 8601 time such as 2026-11-01T00:00:00Z", param_hint="--since"
        ) from None
    if moment.utcoffset() is None:
        raise click.BadParameter(f"{text!r} has no time zone: add Z for UTC, or an offset", param_hint="--since")
    return moment


@cli.command()
@click.option(
    "--since", "since_text", required=True, metavar="TIME", help="ISO 8601 with a zone, e.g. 2026-11-01T00:00:00Z."
)
@click.option("--list", "list_id", metavar="ID", help="Only this list's events (and the account-wide ones).")
@json_option
@provider_command
def events(spec: ProviderSpec, since_text: str, list_id: str | None, as_json: bool) -> None:
    """Show the contact events the provider recorded since a time (--json: one JSON object a line)."""
    since = parse_since(since_text)
    with open_client(spec) as client:
        found = client.events_since(since, list_id)
        if as_json:
            for event in found:
                emit_json({**attrs.asdict(event), "type": event.type.value, "raw": dict(event.raw)})
            return
        rows = [(e.at, e.type.value, e.email, e.list_id or "", e.reason or "") for e in found]
    if not rows:
        click.echo(f"no events since {since.isoformat()}", err=True)
        return
    click.echo(table(["at", "type", "email", "list", "reason"], rows))
