"""``sandbox``: serve the provider emulators until stopped."""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType

import click

from contactsync import registry
from contactsync.cli.app import cli
from contactsync.cli.connect import json_option
from contactsync.cli.output import emit_json


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8025, show_default=True, help="Port (0 picks a free one).")
@click.option("--state", type=click.Path(dir_okay=False), help="SQLite file: loaded at start, saved on exit.")
@click.option("--provider", "-p", "names", multiple=True, help="Serve only these emulators (repeatable).")
@click.option(
    "--faults", metavar="KIND:RATE,...", help="Inject faults, e.g. 429:0.05,500:0.03,reset:0.02,jobfail:0.02."
)
@click.option("--seed", type=int, help="Seed for the injected faults (the same seed, the same faults).")
@json_option
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
    """Serve the provider emulators until stopped (Ctrl-C); print their base URLs and credentials.

    By default every installed emulator: the built-ins and those plugins declare (entry points
    ``contactsync.emulators``); one that fails to load is reported and the others are served.
    """
    from contactsync.sandbox import Sandbox
    from contactsync.sandbox.state import load_state, save_state

    ctx.meta["json"] = as_json
    unknown = sorted(set(names) - set(registry.emulators()))
    if unknown:
        raise click.BadParameter(
            f"no emulator for {', '.join(unknown)}; installed: {', '.join(registry.emulators())}",
            param_hint="--provider",
        )
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
            record = {"url": server.url, "providers": listing, "state": state, "loaded": loaded}
            emit_json({**record, "skipped": server.skipped})
        else:
            click.echo(f"contactsync sandbox serving on {server.url} (Ctrl-C to stop)")
            for name, settings in listing.items():
                credentials = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in settings.items())
                click.echo(f"  {name:<10} {credentials}")
            for name, why in server.skipped.items():
                click.echo(f"  {name:<10} not served: {why}")
            if state:
                click.echo(f"  state: {state} ({'loaded ' + ', '.join(loaded) if loaded else 'new'})")
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        if state and not as_json:
            click.echo(f"saving state to {state}...", err=True)  # at once: stopping and saving take a moment
        server.stop()
        if state:
            save_state(state, server.emulators.values())
            if not as_json:
                click.echo(f"state saved to {state}", err=True)
