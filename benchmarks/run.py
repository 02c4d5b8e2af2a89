"""contactsync against the raw floor and the official clients: contacts per second and peak memory, step by step.

    python benchmarks/run.py --n 1000000

Steps (each in a fresh subprocess, so its peak RSS is its own; the sandbox runs in
another process again, so the emulator's memory is not counted):

a. ``read``: a generated CSV file into Contacts (``contactsync.csvio.read_contacts``).
b. ``encode``: rows -> Contact (validation) -> the route's encode -> batches -> the bytes
   the provider gets (JSON bodies; CSV files, gzipped for SendGrid), no network.
d. ``floor``: the same bytes from the same rows with csv / orjson, no model, no validation
   (the floor skips the rows the generator broke, so both write identical bytes: checked).
c. ``import``: ``import_contacts`` + ``wait`` into the sandbox.
e. ``peer``: the same import written with the official clients (mailjet-rest, sendgrid;
   plain requests for dotmailer), as their documentation shows.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import csv
import gzip
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol, cast

import attrs
import orjson
import requests
from email_validator import EmailNotValidError, validate_email

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import generate
from contactsync import ListSubscription, Provider, SubscriptionAction, connect
from contactsync.batching import Batch, BatchLimits, FirstRows, batches
from contactsync.csvio import read_contacts
from contactsync.model import RowError

POLL = 0.05
"""Seconds between status polls, for our client and the peers alike."""
OPTIONS: dict[str, dict[str, Any]] = {"sendgrid": {"booleans": "number"}}
"""Connection options: SendGrid has no boolean type, so booleans are stored as 1/0."""
PROVIDERS = ("mailjet", "sendgrid", "dotmailer")


@attrs.frozen
class Step:
    """One measured step: ``kind`` is read, encode, floor, import or peer."""

    kind: str
    provider: str = ""
    route: str = ""

    @property
    def key(self) -> str:
        return ":".join(p for p in (self.kind, self.provider, self.route) if p)

    @classmethod
    def parse(cls, key: str) -> Step:
        return cls(*key.split(":"))


ENCODED = (("mailjet", "json"), ("sendgrid", "json"), ("sendgrid", "csv"), ("dotmailer", "csv"))
"""(provider, route) pairs measured for steps b and d: each route a large import of these rows can take."""
STEPS = [
    Step("read"),
    *(
        Step(kind, p, r)
        for p, r in ENCODED
        for kind in ("encode", "floor", "stdlib")
        if kind != "stdlib" or r == "json"
    ),
    *(Step(kind, p) for p in PROVIDERS for kind in ("import", "peer")),
]


@attrs.define
class Result:
    """What a step reports: time spent, items, output bytes and their checksum, peak RSS, a note."""

    seconds: float = 0.0
    contacts: int = 0
    rejected: int = 0
    payloads: int = 0
    bytes: int = 0
    crc: int = 0
    rss_mib: float = 0.0
    note: str = ""


class Clock:
    """A stopwatch that leaves out what is done in :meth:`paused` (checksums, set-up)."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.excluded = 0.0

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        mark = time.perf_counter()
        try:
            yield
        finally:
            self.excluded += time.perf_counter() - mark

    def seconds(self) -> float:
        return time.perf_counter() - self.started - self.excluded


class Sink:
    """Where payloads go in steps b and d: counted and checksummed, outside the clock.

    The list id is the sandbox's own (random for SendGrid): its first occurrence is left out of the checksum.
    """

    def __init__(self, result: Result, clock: Clock, list_id: str) -> None:
        self.result = result
        self.clock = clock
        self.list_id = list_id.encode()

    def add(self, payload: bytes) -> None:
        with self.clock.paused():
            self.result.payloads += 1
            self.result.bytes += len(payload)
            self.result.crc = zlib.crc32(payload.replace(self.list_id, b"LIST", 1), self.result.crc)


class PayloadRoute(Protocol):
    """An import route that can say what it would send for a batch (all built-in routes can)."""

    limits: BatchLimits

    def payload(self, batch: Batch) -> bytes: ...


# -- the sandbox, in its own process ----------------------------------------------------------


@contextlib.contextmanager
def sandbox(provider: str) -> Iterator[dict[str, str]]:
    """``contactsync sandbox --port 0 --json`` for one provider; yields its connection settings."""
    command = [sys.executable, "-m", "contactsync.cli", "sandbox", "--port", "0", "--json", "-p", provider]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"the {provider} sandbox did not start")
        settings: dict[str, str] = json.loads(line)["providers"][provider]
        yield settings
    finally:
        process.terminate()
        process.wait(timeout=120)


def account(provider: str, settings: dict[str, str]) -> tuple[Provider, tuple[ListSubscription, ...]]:
    """Our client, with a list and the benchmark's fields created (set-up, not timed)."""
    client = connect(provider, poll_interval=POLL, **settings, **OPTIONS.get(provider, {}))
    list_id = client.create_list("benchmark")
    client.ensure_fields(generate.FIELDS)
    return client, (ListSubscription(list_id, SubscriptionAction.ADD_NO_FORCE),)


# -- a. reading a file -------------------------------------------------------------------------


def step_read(n: int, source: Path, result: Result) -> None:
    clock = Clock()
    with read_contacts(source, field_types=generate.FIELD_TYPES) as reader:
        for item in reader:
            result.contacts += 1
            result.rejected += isinstance(item, RowError)
    result.seconds = clock.seconds()


# -- b. our encode path --------------------------------------------------------------------------


def step_encode(step: Step, n: int, result: Result) -> None:
    with sandbox(step.provider) as settings:
        client, subscriptions = account(step.provider, settings)
        route = client.import_route(subscriptions, step.route, None)
        payloads = cast(PayloadRoute, route)
        errors: list[RowError] = []
        clock = Clock()
        sink = Sink(result, clock, subscriptions[0].list_id)
        numbered = enumerate(generate.contacts(n), start=1)
        encoded = client.pipeline.encode(numbered, route, errors, first_rows=FirstRows())  # duplicates checked too
        for batch in batches(((row, email, item) for _, row, email, item in encoded), route.limits):
            result.contacts += len(batch)
            sink.add(payloads.payload(batch))
        result.seconds = clock.seconds()
        result.rejected = len(errors)
        result.contacts += len(errors)


# -- d. the raw floor ------------------------------------------------------------------------------


def _utc_z(value: datetime) -> str:
    return value.isoformat()[:-6] + "Z"


def _midnight_z(value: date) -> str:
    return f"{value.isoformat()}T00:00:00Z"


def _chunks(items: Iterable[bytes], limits: BatchLimits) -> Iterator[list[bytes]]:
    """The same cut as :func:`contactsync.batching.batches`, on bare bytes."""
    chunk: list[bytes] = []
    size = 0
    for item in items:
        cost = len(item) + (limits.separator if chunk else 0)
        if chunk and (len(chunk) >= limits.max_items or limits.overhead + size + cost > limits.max_bytes):
            yield chunk
            chunk, size, cost = [], 0, len(item)
        chunk.append(item)
        size += cost
    if chunk:
        yield chunk


def _counted(result: Result, rows: Iterator[generate.Row]) -> Iterator[generate.Row]:
    for row in rows:
        result.contacts += 1
        if row[0]:
            yield row
        else:
            result.rejected += 1


_STDLIB = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _dumps(stdlib: bool) -> Callable[[dict[str, Any]], bytes]:
    """orjson (date-times written natively), or the standard library's encoder (date-times as text first)."""
    if stdlib:
        return lambda record: _STDLIB(record).encode()
    return lambda record: orjson.dumps(record, option=orjson.OPT_UTC_Z)


def floor_mailjet_json(n: int, limits: BatchLimits, sink: Sink, result: Result, *, stdlib: bool) -> None:
    head, tail = b'{"Action":"addnoforce","Contacts":[', b"]}"
    dumps = _dumps(stdlib)

    def items() -> Iterator[bytes]:
        for _, email, name, company, age, score, vip, signup, seen in _counted(result, generate.rows(n)):
            properties: dict[str, Any] = {}
            if company is not None:
                properties["company"] = company
            if age is not None:
                properties["age"] = age
            properties["score"] = score
            properties["vip"] = vip
            properties["signup_date"] = _midnight_z(cast(date, signup))
            properties["last_seen"] = _utc_z(cast(datetime, seen)) if stdlib else seen
            yield dumps({"Email": email, "Name": name, "Properties": properties})

    for chunk in _chunks(items(), limits):
        sink.add(head + b",".join(chunk) + tail)


def floor_sendgrid_json(n: int, list_id: str, ids: dict[str, str], sink: Sink, result: Result, *, stdlib: bool) -> None:
    head = b'{"list_ids":["' + list_id.encode() + b'"],"contacts":['
    dumps = _dumps(stdlib)
    limits = BatchLimits(30_000, 6_000_000, len(head) + 2, 1)
    company_id, age_id, score_id, vip_id, signup_id, seen_id = (ids[p] for p in generate.PROPERTIES)

    def items() -> Iterator[bytes]:
        for _, email, name, company, age, score, vip, signup, seen in _counted(result, generate.rows(n)):
            first, _, last = name.partition(" ")
            custom: dict[str, Any] = {}
            if company is not None:
                custom[company_id] = company
            if age is not None:
                custom[age_id] = age
            custom[score_id] = score
            custom[vip_id] = int(cast(bool, vip))
            custom[signup_id] = _midnight_z(cast(date, signup))
            custom[seen_id] = _utc_z(cast(datetime, seen)) if stdlib else seen
            yield dumps({"email": email, "first_name": first, "last_name": last, "custom_fields": custom})

    for chunk in _chunks(items(), limits):
        sink.add(head + b",".join(chunk) + b"]}")


def floor_sendgrid_csv(n: int, limits: BatchLimits, sink: Sink, result: Result) -> None:
    header = ",".join(("email", "first_name", "last_name", *generate.PROPERTIES)).encode() + b"\n"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")

    def items() -> Iterator[bytes]:
        for _, email, name, company, age, score, vip, signup, seen in _counted(result, generate.rows(n)):
            first, _, last = name.partition(" ")
            dates = (_midnight_z(cast(date, signup)), _utc_z(cast(datetime, seen)))
            writer.writerow((email, first, last, company, age, repr(score), int(cast(bool, vip)), *dates))
            line = out.getvalue()
            out.seek(0)
            out.truncate()
            yield line.encode()

    for chunk in _chunks(items(), limits):
        sink.add(gzip.compress(header + b"".join(chunk), compresslevel=5, mtime=0))


def floor_dotmailer_csv(n: int, limits: BatchLimits, sink: Sink, result: Result) -> None:
    header = ",".join(("Email", "FULLNAME", *(p.upper() for p in generate.PROPERTIES))).encode() + b"\r\n"
    out = io.StringIO()
    writer = csv.writer(out)

    def items() -> Iterator[bytes]:
        for _, email, name, company, age, score, vip, signup, seen in _counted(result, generate.rows(n)):
            signup_text = f"{cast(date, signup).isoformat()}T00:00:00"
            seen_text = cast(datetime, seen).isoformat()[:-6]
            writer.writerow((email, name, company, age, repr(score), vip, signup_text, seen_text))
            line = out.getvalue()
            out.seek(0)
            out.truncate()
            yield line.encode()

    for chunk in _chunks(items(), limits):
        sink.add(header + b"".join(chunk))


def step_floor(step: Step, n: int, result: Result) -> None:
    with sandbox(step.provider) as settings:
        client, subscriptions = account(step.provider, settings)
        list_id = subscriptions[0].list_id
        limits = client.capabilities.routes[step.route]
        ids = {}
        if step.provider == "sendgrid":
            book = client.field_book()  # type: ignore[attr-defined]
            ids = {name: book.custom(name).id for name in generate.PROPERTIES}
        clock = Clock()
        sink = Sink(result, clock, list_id)
        stdlib = step.kind == "stdlib"
        if step.provider == "mailjet":
            floor_mailjet_json(n, limits, sink, result, stdlib=stdlib)
        elif step.provider == "sendgrid" and step.route == "json":
            floor_sendgrid_json(n, list_id, ids, sink, result, stdlib=stdlib)
        elif step.provider == "sendgrid":
            floor_sendgrid_csv(n, limits, sink, result)
        else:
            floor_dotmailer_csv(n, limits, sink, result)
        result.seconds = clock.seconds()


# -- c. our import, end to end ------------------------------------------------------------------------


def step_import(step: Step, n: int, result: Result) -> None:
    with sandbox(step.provider) as settings:
        client, subscriptions = account(step.provider, settings)
        clock = Clock()
        job = client.import_contacts(generate.contacts(n), subscriptions)
        job = client.wait(job, timeout=3600)
        result.seconds = clock.seconds()
        result.contacts = job.requested
        result.rejected = job.errored
        result.payloads = len(job.parts) or 1
        result.note = f"{job.status.value}, {job.accepted:,} accepted, {len(job.local_errors):,} rejected locally"
        client.close()


# -- e. the official clients ---------------------------------------------------------------------------


def _rounds(pending: set[str], status: Callable[[str], str], running: tuple[str, ...], result: Result) -> None:
    """Poll every pending job once a round, sleeping POLL between rounds, until none is ``running``."""
    final: collections.Counter[str] = collections.Counter()
    while pending:
        for job in list(pending):
            raw = status(job)
            if raw not in running:
                pending.discard(job)
                final[raw] += 1
        if pending:
            time.sleep(POLL)
    result.note = ", ".join(f"{count} {raw}" for raw, count in final.most_common())


def _batched(rows: Iterator[generate.Row], size: int) -> Iterator[list[generate.Row]]:
    chunk: list[generate.Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def peer_mailjet(n: int, settings: dict[str, str], result: Result) -> None:
    """mailjet-rest: managemanycontacts on the list, 5,000 contacts a request, then job status polls."""
    from mailjet_rest import Client

    mailjet = Client(auth=(settings["api_key"], settings["secret_key"]), api_url=settings["base_url"] + "/")
    list_id = mailjet.contactslist.create(data={"Name": "benchmark"}).json()["Data"][0]["ID"]
    datatypes = ("str", "int", "float", "bool", "datetime", "datetime")
    for name, datatype in zip(generate.PROPERTIES, datatypes, strict=True):
        mailjet.contactmetadata.create(data={"Datatype": datatype, "Name": name, "NameSpace": "static"})
    clock = Clock()
    jobs: set[str] = set()
    for chunk in _batched(generate.rows(n), 5000):
        contacts = []
        for _, email, name, *values in chunk:
            properties: dict[str, Any] = {}
            for key, value in zip(generate.PROPERTIES, values, strict=True):
                if isinstance(value, datetime):
                    properties[key] = _utc_z(value)
                elif isinstance(value, date):
                    properties[key] = _midnight_z(value)
                elif value is not None:
                    properties[key] = value
            contacts.append({"Email": email, "Name": name, "Properties": properties})
        body = {"Action": "addnoforce", "Contacts": contacts}
        answer = mailjet.contactslist_managemanycontacts.create(id=list_id, data=body)
        jobs.add(str(answer.json()["Data"][0]["JobID"]))
        result.payloads += 1
        result.contacts += len(chunk)

    def status(job: str) -> str:
        return str(mailjet.contactslist_managemanycontacts.get(id=list_id, action_id=job).json()["Data"][0]["Status"])

    _rounds(jobs, status, ("Allocated", "Upload", "Prepare", "Importing", "In Progress"), result)
    result.seconds = clock.seconds()


def peer_sendgrid(n: int, settings: dict[str, str], result: Result) -> None:
    """sendgrid: JSON upserts (10,000 a request, under 6 MB) up to 30,000 contacts, else one gzipped CSV import.

    Like our client, the JSON route below 30,001 contacts and the CSV import above; the JSON
    route needs the addresses checked first (email-validator), since one bad one fails the request.
    """
    from sendgrid import SendGridAPIClient

    sg = SendGridAPIClient(settings["api_key"], host=settings["base_url"])
    marketing = sg.client.marketing
    list_id = json.loads(marketing.lists.post(request_body={"name": "benchmark"}).body)["id"]
    kinds = ("Text", "Number", "Number", "Number", "Date", "Date")
    ids = {}
    for name, kind in zip(generate.PROPERTIES, kinds, strict=True):
        answer = marketing.field_definitions.post(request_body={"name": name, "field_type": kind})
        ids[name] = json.loads(answer.body)["id"]
    clock = Clock()
    jobs: set[str] = set()
    for chunk in _batched(generate.rows(n), 10_000 if n <= 30_000 else 1_000_000):
        result.payloads += 1
        result.contacts += len(chunk)
        if n <= 30_000:
            contacts = []
            for _, email, name, *values in chunk:
                if not _deliverable(email):  # one bad address and SendGrid refuses the whole request
                    continue
                first, _, last = name.partition(" ")
                pairs = zip(generate.PROPERTIES, values, strict=True)
                custom = {ids[k]: _sendgrid_value(v) for k, v in pairs if v is not None}
                contacts.append({"email": email, "first_name": first, "last_name": last, "custom_fields": custom})
            answer = marketing.contacts.put(request_body={"list_ids": [list_id], "contacts": contacts})
            jobs.add(json.loads(answer.body)["job_id"])
            continue
        mappings = ["_rf0_T", "_rf1_T", "_rf2_T", *(ids[p] for p in generate.PROPERTIES)]  # reserved ids (seed 002)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("first_name", "last_name", "email", *generate.PROPERTIES))
        for _, email, name, *values in chunk:
            first, _, last = name.partition(" ")
            writer.writerow((first, last, email, *("" if v is None else _sendgrid_value(v) for v in values)))
        body = {"file_type": "csv", "field_mappings": mappings, "list_ids": [list_id]}
        answer = json.loads(marketing.contacts.imports.put(request_body=body).body)
        headers = {pair["header"]: pair["value"] for pair in answer["upload_headers"]}
        payload = gzip.compress(out.getvalue().encode(), compresslevel=5)
        requests.put(answer["upload_uri"], data=payload, headers=headers, timeout=600).raise_for_status()
        jobs.add(answer["job_id"])

    def status(job: str) -> str:
        return str(json.loads(marketing.contacts.imports._(job).get().body)["status"])

    _rounds(jobs, status, ("pending",), result)
    result.seconds = clock.seconds()


def _deliverable(email: str) -> bool:
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def _sendgrid_value(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        return _utc_z(value)
    if isinstance(value, date):
        return _midnight_z(value)
    return value


def peer_dotmailer(n: int, settings: dict[str, str], result: Result) -> None:
    """requests: one CSV file of 50,000 rows per address-book import, then import status polls."""
    session = requests.Session()
    session.auth = (settings["username"], settings["password"])
    base = settings["base_url"]
    book = session.post(f"{base}/v2/address-books", json={"name": "benchmark"}, timeout=60).json()["id"]
    kinds = ("String", "Numeric", "Numeric", "Boolean", "Date", "Date")
    for name, kind in zip(generate.PROPERTIES, kinds, strict=True):
        session.post(f"{base}/v2/data-fields", json={"name": name, "type": kind}, timeout=60).raise_for_status()
    clock = Clock()
    jobs: set[str] = set()
    for chunk in _batched(generate.rows(n), 50_000):
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(("Email", "FULLNAME", *(p.upper() for p in generate.PROPERTIES)))
        for _, email, name, *values in chunk:
            cells = [v.isoformat()[:19] if isinstance(v, datetime) else v for v in values]
            cells = [f"{v.isoformat()}T00:00:00" if type(v) is date else v for v in cells]
            writer.writerow((email, name, *cells))
        files = {"file": ("contacts.csv", out.getvalue().encode(), "text/csv")}
        answer = session.post(f"{base}/v2/address-books/{book}/contacts/import", files=files, timeout=600)
        answer.raise_for_status()
        jobs.add(answer.json()["id"])
        result.payloads += 1
        result.contacts += len(chunk)

    def status(job: str) -> str:
        return str(session.get(f"{base}/v2/contacts/import/{job}", timeout=60).json()["status"])

    _rounds(jobs, status, ("NotFinished",), result)
    result.seconds = clock.seconds()


def step_peer(step: Step, n: int, result: Result) -> None:
    with sandbox(step.provider) as settings:
        {"mailjet": peer_mailjet, "sendgrid": peer_sendgrid, "dotmailer": peer_dotmailer}[step.provider](
            n, settings, result
        )


# -- the driver ----------------------------------------------------------------------------------------


def measure(step: Step, n: int, source: Path) -> Result:
    """Run one step in this process and report it (the child's side of :func:`run_step`)."""
    result = Result()
    generate.prepare()
    if step.kind == "read":
        step_read(n, source, result)
    elif step.kind == "encode":
        step_encode(step, n, result)
    elif step.kind in ("floor", "stdlib"):
        step_floor(step, n, result)
    elif step.kind == "import":
        step_import(step, n, result)
    elif step.kind == "peer":
        step_peer(step, n, result)
    else:
        raise SystemExit(f"unknown step {step.key!r}")
    result.rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def run_step(step: Step, n: int, source: Path) -> Result:
    """One step in a fresh interpreter."""
    command = [sys.executable, __file__, "--n", str(n), "--step", step.key, "--source", str(source)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"step {step.key} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return Result(**json.loads(done.stdout.strip().splitlines()[-1]))


LABELS = {
    "read": "a. read CSV -> Contacts",
    "encode": "b. contactsync encode",
    "floor": "d. raw floor (csv/orjson)",
    "stdlib": "d'. floor, stdlib json",
    "import": "c. contactsync import+wait",
    "peer": "e. official client",
}


def table(n: int, results: dict[Step, Result]) -> str:
    """The report: one line per step, then the ratios b/d and c/e."""
    lines = [
        f"N = {n:,} contacts ({os.cpu_count()} CPUs); rate = contacts/s; RSS = peak MiB of the client process",
        f"{'step':<30}{'provider/route':<17}{'seconds':>9}{'rate':>11}{'RSS':>7}{'payloads':>9}{'MB out':>8}  note",
    ]
    for step, r in results.items():
        where = "/".join(p for p in (step.provider, step.route) if p) or "-"
        rate = r.contacts / r.seconds if r.seconds else 0.0
        mb = f"{r.bytes / 1e6:.1f}" if r.bytes else "-"
        note = r.note or (f"{r.rejected:,} rejected" if r.rejected else "")
        if step.kind in ("floor", "stdlib"):
            twin = results.get(Step("encode", step.provider, step.route))
            if twin is not None:
                note += ", same bytes" if (twin.bytes, twin.crc) == (r.bytes, r.crc) else ", BYTES DIFFER"
        lines.append(
            f"{LABELS[step.kind]:<30}{where:<17}{r.seconds:>9.2f}{rate:>11,.0f}{r.rss_mib:>7.0f}"
            f"{r.payloads:>9}{mb:>8}  {note}"
        )
    lines.append("")
    lines.append(f"{'ratio':<30}{'provider/route':<17}{'x':>9}")
    for step, r in results.items():
        where = "/".join(p for p in (step.provider, step.route) if p)
        pairs = {
            "encode": [
                ("b/d (target <= 2.0)", Step("floor", step.provider, step.route)),
                ("b/d' (stdlib json)", Step("stdlib", step.provider, step.route)),
            ],
            "import": [("c/e (target <= 1.0)", Step("peer", step.provider))],
        }
        for label, other in pairs.get(step.kind, []):
            base = results.get(other)
            if base is not None and base.seconds:
                lines.append(f"{label:<30}{where:<17}{r.seconds / base.seconds:>9.2f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="contacts per step")
    parser.add_argument("--only", action="append", default=[], help="run only steps whose key starts with this")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--source", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(attrs.asdict(measure(Step.parse(args.step), args.n, args.source))))
        return
    chosen = [s for s in STEPS if not args.only or any(s.key.startswith(o) for o in args.only)]
    results: dict[Step, Result] = {}
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "contacts.csv"
        if any(s.kind == "read" for s in chosen):
            generate.write_csv(source, args.n)
        for step in chosen:
            results[step] = run_step(step, args.n, source)
            if not args.json:
                print(f"  {step.key}: {results[step].seconds:.2f} s", file=sys.stderr, flush=True)
    if args.json:
        print(json.dumps({s.key: attrs.asdict(r) for s, r in results.items()}))
    else:
        print(table(args.n, results))


if __name__ == "__main__":
    main()
