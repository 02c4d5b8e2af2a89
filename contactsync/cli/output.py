"""What the commands print: tables, JSON, job summaries, row errors and progress bars."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any, TextIO

import attrs
import click

from contactsync.csvio import ContactReader, ErrorWriter
from contactsync.model import Contact, ImportJob, ImportStatus, RowError

_SHOWN_ERRORS = 10
_JSON_ERRORS = 100


# -- output ------------------------------------------------------------------------------


def plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, ImportStatus):
        return value.value
    return str(value)


def emit_json(value: Any) -> None:
    click.echo(json.dumps(value, default=plain, ensure_ascii=False))


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain text table, numbers right-aligned."""
    body = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(headers)]
    numeric = [
        bool(body) and all(r[i].replace(",", "").replace(".", "").isdigit() or r[i] == "?" for r in body)
        for i in range(len(headers))
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
    return str(plain(value)) if not isinstance(value, str) else value


def job_record(job: ImportJob, seconds: float | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "provider": job.provider,
        "job_id": job.id,
        "status": job.status.value,
        "provider_status": job.provider_status,
        "requested": job.requested,
        "accepted": job.accepted,
        "created": job.created,
        "updated": job.updated,
        "errored": job.errored,
        "parts": len(job.parts) or 1,
    }
    reason = failure_reason(job)
    if reason is not None:
        record["reason"] = reason
    if seconds is not None:
        record["seconds"] = round(seconds, 3)
    return record


def error_record(error: RowError) -> dict[str, Any]:
    return attrs.asdict(error)


def _count(value: int | None) -> str:
    """A count, or "?" where the provider does not say."""
    return "?" if value is None else f"{value:,}"


def failure_reason(job: ImportJob) -> str | None:
    """Why a finished job failed: the first failed part's reason, or the first row rejected before sending."""
    if job.status.is_success or not job.status.is_terminal:
        return None
    for part in job.provider_jobs:
        if part.status is job.status or part.status in (ImportStatus.FAILED, ImportStatus.REJECTED):
            error = part.extra.get("error")
            return str(error) if error else f"the {job.provider} job {part.id} ended {part.provider_status}"
    if job.local_errors:
        first = job.local_errors[0]
        return f"no row was sent; the first was refused: {first.message}"
    return None


def describe_job(job: ImportJob, seconds: float | None = None) -> str:
    took = f" in {seconds:.1f} s" if seconds is not None else ""
    text = (
        f"{job.provider} job {job.id or '(nothing sent)'}: {job.status.value} ({job.provider_status})\n"
        f"  requested {job.requested:,}  accepted {job.accepted:,} (created {_count(job.created)}, "
        f"updated {_count(job.updated)})  errored {job.errored:,}{took}"
    )
    reason = failure_reason(job)
    return text if reason is None else f"{text}\n  why: {reason}"


class Progress:
    """A one-line progress bar on a terminal; does nothing when disabled.

    The rate and the ETA are measured from the first update on, so counts already done
    when the bar appears do not inflate them; neither is shown until half a second of
    progress gives them a basis.
    """

    WIDTH = 24
    SETTLE = 0.5
    """Seconds of observed progress before a rate (and an ETA) is shown."""

    def __init__(self, label: str, *, enabled: bool, stream: TextIO | None = None) -> None:
        self.label = label
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self._first: tuple[float, int, float | None] | None = None
        self._drawn = 0.0
        self._width = 0

    def update(self, fraction: float | None, count: int, note: str = "", *, force: bool = False) -> None:
        """Redraw (at most ten times a second unless ``force``)."""
        if not self.enabled:
            return
        now = time.monotonic()
        if self._first is None:
            self._first = (now, count, fraction)
        if not force and now - self._drawn < 0.1:
            return
        self._drawn = now
        since, first_count, first_fraction = self._first
        span = now - since
        rate = (count - first_count) / span if span >= self.SETTLE and count > first_count else None
        shown_rate = f" {rate:,.0f}/s" if rate is not None else ""
        if fraction is None:
            bar, percent, eta = "-" * self.WIDTH, "   ", ""
        else:
            fraction = min(max(fraction, 0.0), 1.0)
            filled = int(fraction * self.WIDTH)
            bar = "#" * filled + "-" * (self.WIDTH - filled)
            percent = f"{fraction * 100:3.0f}%"
            start = first_fraction or 0.0
            if fraction >= 1:
                eta = f" {_clock(now - self.started)}"
            elif rate is not None and fraction > start:
                eta = f" ETA {_clock(span * (1 - fraction) / (fraction - start))}"
            else:
                eta = ""
        line = f"{self.label:<10} [{bar}] {percent} {count:,} contacts{shown_rate}{eta} {note}".rstrip()
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


def show_progress(ctx: click.Context) -> bool:
    return not ctx.meta.get("json") and not ctx.meta.get("quiet") and sys.stderr.isatty()


def reading(reader: ContactReader, progress: Progress, batches: list[int]) -> Iterator[Contact | RowError]:
    """Pass the reader's items through, drawing the reading/sending bar."""
    for count, item in enumerate(reader, start=1):
        if count % 256 == 0:
            done, total = reader.progress
            progress.update(done / total if total else None, count, f"{batches[0]} batches sent")
        yield item


def wait_progress(progress: Progress) -> Callable[[ImportJob], None]:
    """The waiting bar's callback: only the rows the provider reports processed count, until the job ends."""

    def show(job: ImportJob) -> None:
        confirmed = job.accepted + job.errored
        if job.status.is_terminal:
            fraction: float | None = 1.0
        else:
            fraction = min(confirmed / job.requested, 1.0) if job.requested else None
        progress.update(fraction, confirmed, job.provider_status, force=job.status.is_terminal)

    return show


def report_errors(
    errors: Iterable[RowError], errors_out: str | None, *, quiet: bool
) -> tuple[int, list[dict[str, Any]]]:
    """Write errors to ``errors_out`` (or show the first few); return the count and a sample."""
    sample: list[dict[str, Any]] = []
    count = unnamed = 0
    writer = ErrorWriter(errors_out) if errors_out else None
    try:
        for error in errors:
            count += 1
            unnamed += error.row is None
            if writer is not None:
                writer.write(error)
            if len(sample) < _JSON_ERRORS:
                sample.append(error_record(error))
            if writer is None and not quiet and count <= _SHOWN_ERRORS:
                where = f"row {error.row}" if error.row is not None else "row ?"
                field = f" [{error.field}]" if error.field else ""
                who = f" {error.email}" if error.email else ""
                click.echo(f"  {where}{who}{field}: {error.message}", err=True)
    finally:
        if writer is not None:
            writer.close()
    if not quiet and count:
        if writer is not None:
            click.echo(f"{count:,} row errors written to {errors_out}", err=True)
        elif count > _SHOWN_ERRORS:
            click.echo(f"  ... {count - _SHOWN_ERRORS:,} more; pass --errors-out PATH for all of them", err=True)
        if unnamed:
            click.echo(f"{unnamed:,} of them name no row: the provider did not say which rows", err=True)
    return count, sample
