"""``migrate``: every member of a list, with its properties and subscription state, from one provider to another."""

from __future__ import annotations

import time
from pathlib import Path

import click

from contactsync.cli.app import EXIT_OK, EXIT_ROW_ERRORS, cli
from contactsync.cli.connect import ProviderSpec, json_option, open_client
from contactsync.cli.output import Progress, emit_json, job_record, report_errors, show_progress
from contactsync.migration import Migration, migrate

_STAGES = {"reading": "reading", "subscribed": "sending", "unsubscribed": "sending", "unsubscribing": "unsub"}


def _spec(provider: str, settings: tuple[str, ...], ctx: click.Context) -> ProviderSpec:
    """One side's connection: its settings, the shared config file, sandbox and timing options."""
    options = ctx.params
    return ProviderSpec(
        provider=provider,
        api_key=None,
        secret_key=None,
        username=None,
        password=None,
        base_url=None,
        settings=settings,
        timeout=options["timeout"],
        poll_interval=options["poll_interval"],
        config=options["config"],
        sandbox=options["sandbox"],
        state=options["state"],
    )


def _journal(given: str | None, name: str, resume: bool) -> Path:
    """The migration's journal base: kept for --resume, else started afresh."""
    path = Path(given) if given is not None else Path(f"{name}.journal")
    files = [
        Path(f"{path}.{part}{suffix}")
        for part in ("members", "subscribed", "unsubscribed")
        for suffix in ("", "-wal", "-shm")
    ]
    if resume and not any(f.exists() for f in files):
        raise click.UsageError(f"--resume: there is no migration journal at {path}")
    if not resume:
        for stale in [*files, Path(f"{path}.members.partial")]:
            stale.unlink(missing_ok=True)
    return path


@cli.command("migrate")
@click.option("--from", "source", required=True, metavar="PROVIDER", help="The provider to read the list from.")
@click.option("--from-list", required=True, metavar="ID", help="The list to read.")
@click.option("--to", "target", required=True, metavar="PROVIDER", help="The provider to write to.")
@click.option("--to-list", required=True, metavar="ID", help="The list to write into (it must exist).")
@click.option("--from-setting", multiple=True, metavar="KEY=VALUE", help="A setting of the source (repeatable).")
@click.option("--to-setting", multiple=True, metavar="KEY=VALUE", help="A setting of the target (repeatable).")
@click.option("--timeout", type=float, help="Seconds per HTTP request.")
@click.option("--poll-interval", type=float, help="Seconds between status polls at first.")
@click.option("--config", type=click.Path(dir_okay=False), help="Config file (default ~/.config/contactsync.toml).")
@click.option("--sandbox", is_flag=True, help="Run both sides against embedded sandboxes.")
@click.option("--state", type=click.Path(dir_okay=False), help="With --sandbox: SQLite file keeping their state.")
@click.option("--journal", type=click.Path(dir_okay=False), help="Base path of the files that let it resume.")
@click.option("--resume", is_flag=True, help="Continue the interrupted migration its journal records.")
@click.option("--errors-out", type=click.Path(dir_okay=False), help="Write every row error to this CSV file.")
@json_option
@click.pass_context
def migrate_command(  # noqa: PLR0917 - one parameter per option
    ctx: click.Context,
    source: str,
    from_list: str,
    target: str,
    to_list: str,
    from_setting: tuple[str, ...],
    to_setting: tuple[str, ...],
    timeout: float | None,
    poll_interval: float | None,
    config: str | None,
    sandbox: bool,
    state: str | None,
    journal: str | None,
    resume: bool,
    errors_out: str | None,
    as_json: bool,
) -> None:
    """Move every member of --from-list at --from into --to-list at --to: properties, names and subscription
    state (an unsubscribed member arrives unsubscribed). Credentials come from the config file's tables, the
    providers' environment variables, or --from-setting/--to-setting."""
    ctx.meta["json"] = as_json
    base = _journal(journal, f"contactsync-migrate-{source}-{from_list}-{target}-{to_list}", resume)
    show = show_progress(ctx)
    bars: dict[str, Progress] = {}

    def on_progress(stage: str, count: int) -> None:
        label = _STAGES.get(stage, stage)
        if label not in bars:
            for bar in bars.values():
                bar.finish()
            bars[label] = Progress(label, enabled=show)
        bars[label].update(None, count)

    started = time.monotonic()
    with open_client(_spec(source, from_setting, ctx)) as reader, open_client(_spec(target, to_setting, ctx)) as writer:
        try:
            result = migrate(reader, from_list, writer, to_list, journal=base, on_progress=on_progress)
        finally:
            for bar in bars.values():
                bar.finish()
    seconds = time.monotonic() - started
    count, sample = report_errors(result.errors, errors_out, quiet=as_json)
    if as_json:
        emit_json({**_record(result), "seconds": round(seconds, 3), "errors": sample, "error_count": count})
    else:
        click.echo(_describe(result, seconds))
    ctx.exit(EXIT_ROW_ERRORS if count else EXIT_OK)


def _record(result: Migration) -> dict[str, object]:
    return {
        "source": result.source,
        "source_list": result.source_list,
        "target": result.target,
        "target_list": result.target_list,
        "members": result.members,
        "subscribed": result.subscribed,
        "unsubscribed": result.unsubscribed,
        "accepted": result.accepted,
        "jobs": [job_record(job) for job in result.jobs],
    }


def _describe(result: Migration, seconds: float) -> str:
    return (
        f"{result.source} list {result.source_list} -> {result.target} list {result.target_list}: "
        f"{result.members:,} members ({result.subscribed:,} subscribed, {result.unsubscribed:,} unsubscribed), "
        f"{result.accepted:,} accepted, {len(result.errors):,} errors in {seconds:.1f} s"
    )
