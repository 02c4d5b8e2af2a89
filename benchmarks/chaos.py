"""Chaos run: an import through a sandbox injecting faults at a 10% total rate; nothing may be lost.

python benchmarks/chaos.py --n 100000 --batch 1000

For each provider, every input row must end accepted (stored in the sandbox, with its
values) or reported by ``import_errors``; none stored twice or with other values; the
final job statuses must agree with the state. The same run, smaller, is a CI test
(tests/reliability/test_chaos.py).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import attrs

from contactsync import Contact, FieldDefinition, FieldType, ImportJob, ImportStatus, ListSubscription, RowError
from contactsync.http import default_retry
from contactsync.model import aggregate_status
from contactsync.provider import Provider
from contactsync.sandbox import Sandbox
from contactsync.sandbox.faults import Faults

FAULTS = "429:0.02,500:0.01,503:0.01,reset:0.02,slow:0.01,jobfail:0.03"
"""10% in all: per request 7% (rate limits, server errors, dropped connections, slow answers), per job 3%."""
REJECT_EVERY = 97
"""Every so many rows, one the reader already rejected (a local RowError), as in a real file."""
FIELD = "score"
_PROPERTIES = {"mailjet": "Properties", "sendgrid": "custom_fields", "dotmailer": "dataFields"}
_EMAILS = {"mailjet": "Email", "sendgrid": "email", "dotmailer": "email"}


@attrs.frozen
class ChaosResult:
    """The figures of one provider's chaos run."""

    provider: str
    contacts_in: int
    accepted: int
    row_errors: int
    local_errors: int
    lost: int
    duplicates: int
    changed: int
    applied_and_reported: int
    """Rows reported as not applied that the provider holds all the same (rows of an uncertain batch excepted)."""
    uncertain: int
    """Rows of batches whose requests failed without a clear refusal: reported, and possibly applied all the same."""
    uncertain_applied: int
    """Those of the uncertain rows that were applied all the same (reported and held both)."""
    resubmitted_batches: int
    parts: int
    status: ImportStatus
    statuses_right: bool
    injected: dict[str, int]
    seconds: float

    @property
    def ok(self) -> bool:
        """Nothing lost, nothing applied twice with another result, the statuses right."""
        return self.lost == 0 and self.duplicates == 0 and self.changed == 0 and self.statuses_right


def inputs(count: int) -> Iterator[Contact | RowError]:
    """``count`` rows: unique contacts with a score, and now and then a row the reader rejected."""
    for row in range(1, count + 1):
        if row % REJECT_EVERY == 0:
            yield RowError(f"bad{row}", row, "email", "not an email address")
        else:
            yield Contact(f"c{row:07d}@example.com", properties={FIELD: row % 1000})


def _narrow(client: Provider, provider: str, batch: int) -> None:
    """Batches of about ``batch`` contacts on the first route, so that many jobs meet the faults."""
    if provider == "dotmailer":
        client.max_file_bytes = max(1024, batch * 30)  # type: ignore[attr-defined]  # ~30 bytes a CSV row
        return
    name = next(iter(client.capabilities.routes))
    limits = client.capabilities.routes[name]
    routes = {**client.capabilities.routes, name: attrs.evolve(limits, max_items=batch)}
    client.capabilities = attrs.evolve(client.capabilities, routes=routes, file_route_from=None)


def _rows(part: ImportJob) -> list[int]:
    return [row for row in (part.rows.row_at(i) for i in range(len(part.rows))) if row is not None]


def run(
    provider: str,
    count: int,
    *,
    batch: int = 100,
    seed: int = 7,
    faults: str = FAULTS,
    slow_seconds: float = 0.5,
    timeout: float = 0.25,
) -> ChaosResult:
    """Import ``count`` rows into ``provider``'s emulator under ``faults`` and account for every row."""
    with Sandbox([provider], slow_seconds=slow_seconds) as sandbox:
        client: Provider = sandbox.connect(
            provider, timeout=timeout, retry=default_retry(total=8, backoff_factor=0.005)
        )
        list_id = client.create_list("Chaos")
        kind = FieldType.INTEGER if FieldType.INTEGER in client.capabilities.field_types else FieldType.NUMBER
        client.ensure_fields([FieldDefinition(FIELD, kind)])
        _narrow(client, provider, batch)
        sandbox.faults = Faults.parse(faults, seed)
        started = time.perf_counter()
        job = client.import_contacts(inputs(count), [ListSubscription(list_id)])
        job = client.wait(job, timeout=max(600.0, count / 50))
        errors = list(client.import_errors(job))
        seconds = time.perf_counter() - started
        sandbox.faults = None
        stored = sandbox.contacts(provider, list_id, as_model=False)
        injected = dict(sandbox.injected)
        client.close()
    return account(provider, count, job, errors, stored, injected, seconds)


def account(  # noqa: PLR0917 - the figures of one run, all needed
    provider: str,
    count: int,
    job: ImportJob,
    errors: list[RowError],
    stored: list[dict[str, Any]],
    injected: dict[str, int],
    seconds: float,
) -> ChaosResult:
    """Check every row against the stored state and the error report."""
    wanted = {item.email: (row, item) for row, item in enumerate(inputs(count), start=1) if isinstance(item, Contact)}
    copies = Counter(str(entry[_EMAILS[provider]]).lower() for entry in stored)
    accepted: set[int] = set()
    changed = 0
    for entry in stored:
        email = str(entry[_EMAILS[provider]]).lower()
        found = wanted.get(email)
        values = {str(k).lower(): v for k, v in (entry.get(_PROPERTIES[provider]) or {}).items()}
        if found is None or values.get(FIELD) is None or float(values[FIELD]) != found[1].properties[FIELD]:
            changed += 1
            continue
        accepted.add(found[0])
    reported = {error.row for error in errors if error.row is not None}
    lost = [row for row in range(1, count + 1) if row not in accepted and row not in reported]
    parts = job.parts or (job,)
    uncertain = {row for part in parts if part.extra.get("uncertain") for row in _rows(part)}
    statuses_right = job.status.is_terminal and job.requested == count
    statuses_right &= job.status is aggregate_status([p.status for p in parts], local_errors=bool(job.local_errors))
    for part in parts:
        rows = _rows(part)
        if part.status is ImportStatus.COMPLETED:
            statuses_right &= all(row in accepted for row in rows)
        elif part.status is ImportStatus.FAILED:
            statuses_right &= all(row in reported and (row not in accepted or row in uncertain) for row in rows)
    return ChaosResult(
        provider=provider,
        contacts_in=count,
        accepted=len(accepted),
        row_errors=len(reported),
        local_errors=len(job.local_errors),
        lost=len(lost),
        duplicates=sum(n - 1 for n in copies.values() if n > 1),
        changed=changed,
        applied_and_reported=len((accepted & reported) - uncertain),
        uncertain=len(uncertain),
        uncertain_applied=len(accepted & reported & uncertain),
        resubmitted_batches=sum(1 for part in parts if "resubmitted" in part.extra),
        parts=len(parts),
        status=job.status,
        statuses_right=statuses_right,
        injected=injected,
        seconds=seconds,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="Rows per provider.")
    parser.add_argument("--batch", type=int, default=1000, help="Contacts per batch (many jobs meet the faults).")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--faults", default=FAULTS)
    parser.add_argument("--timeout", type=float, default=1.0, help="Client timeout per request, seconds.")
    parser.add_argument("--provider", action="append", help="Only these providers (default: all three).")
    args = parser.parse_args()
    failed = False
    for provider in args.provider or ["mailjet", "sendgrid", "dotmailer"]:
        result = run(
            provider,
            args.n,
            batch=args.batch,
            seed=args.seed,
            faults=args.faults,
            slow_seconds=args.timeout * 2,
            timeout=args.timeout,
        )
        print(json.dumps({**attrs.asdict(result), "status": result.status.value, "ok": result.ok}), flush=True)
        failed |= not result.ok
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
