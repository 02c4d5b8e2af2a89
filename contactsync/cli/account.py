"""Account commands: a contact's subscriptions, lists and fields."""

from __future__ import annotations

import attrs
import click

from contactsync.cli.app import cli
from contactsync.cli.connect import ACTIONS, ProviderSpec, json_option, open_client, provider_command
from contactsync.cli.output import emit_json, table
from contactsync.model import ListSubscription, SubscriptionAction


@cli.command()
@click.argument("email")
@json_option
@provider_command
def subscriptions(spec: ProviderSpec, email: str, as_json: bool) -> None:
    """Show the lists EMAIL is on, and whether it is subscribed to each."""
    with open_client(spec) as client:
        memberships = client.get_subscriptions(email)
    if as_json:
        emit_json([attrs.asdict(m) for m in memberships])
        return
    if not memberships:
        click.echo(f"{email} is on no list")
        return
    click.echo(
        table(["list", "subscribed", "since"], [(m.list_id, m.subscribed, m.subscribed_at) for m in memberships])
    )


@cli.command()
@click.argument("email")
@click.option("--list", "lists", multiple=True, required=True, metavar="ID", help="List to change (repeatable).")
@click.option("--action", type=ACTIONS, default=SubscriptionAction.ADD_NO_FORCE.value, show_default=True)
@json_option
@provider_command
def subscribe(spec: ProviderSpec, email: str, lists: tuple[str, ...], action: str, as_json: bool) -> None:
    """Apply one action to EMAIL's membership of each --list."""
    changes = [ListSubscription(list_id, SubscriptionAction(action)) for list_id in lists]
    with open_client(spec) as client:
        client.manage_subscriptions(email, changes)
    if as_json:
        emit_json({"email": email, "action": action, "lists": list(lists)})
    else:
        click.echo(f"{action}: {email} on {', '.join(lists)}")


@cli.command("lists")
@json_option
@provider_command
def lists_command(spec: ProviderSpec, as_json: bool) -> None:
    """Show the account's lists."""
    with open_client(spec) as client:
        found = client.lists()
    if as_json:
        emit_json([attrs.asdict(item) for item in found])
    else:
        click.echo(table(["id", "name"], [(item.id, item.name) for item in found]))


@cli.command("create-list")
@click.argument("name")
@json_option
@provider_command
def create_list(spec: ProviderSpec, name: str, as_json: bool) -> None:
    """Create a list called NAME and print its id."""
    with open_client(spec) as client:
        list_id = client.create_list(name)
    if as_json:
        emit_json({"id": list_id, "name": name})
    else:
        click.echo(list_id)


@cli.command()
@json_option
@provider_command
def fields(spec: ProviderSpec, as_json: bool) -> None:
    """Show the account's custom contact fields and their types."""
    with open_client(spec) as client:
        found = client.fields()
    if as_json:
        emit_json([{"name": f.name, "type": f.type.value} for f in found])
    else:
        click.echo(table(["name", "type"], [(f.name, f.type.value) for f in found]))
