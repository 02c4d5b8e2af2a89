"""Reading a list's members back: ``members()`` against the loop a user of the official client writes, side by side.

    python benchmarks/members.py --n 1000000

For each provider and for N/10 and N members (1% of them unsubscribed), the sandbox's
account is loaded directly from a state file (filling an emulator with a million contacts
through imports takes long; the emulators keep JSON state, ``Emulator.load``), then served
by ``contactsync sandbox`` in its own process, so its memory is not counted. Each reader
runs in a fresh interpreter and reports its time and peak RSS:

* ``ours``: ``sum(1 for m in client.members(list_id))``, counting the unsubscribed;
* ``peer``: the official client as its documentation shows it, making the same
  information (address, name, properties typed by their definitions, subscribed) but
  no validation and no model. Mailjet (mailjet-rest): page ``contact``, ``contactdata``
  and ``listrecipient`` by ``Limit``/``Offset`` and join them in dicts. SendGrid
  (sendgrid + requests): the export job, its file downloaded with ``requests`` and
  ``gzip.decompress``, read with ``csv.DictReader``, the global unsubscribes paged.
  dotmailer (no official Python client; requests): the book's pages with full data and
  its unsubscribes.
"""

from __future__ import annotations

import argparse
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
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import requests

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from contactsync import connect, registry
from contactsync.sandbox import EMULATORS
from contactsync.sandbox.state import save_state

PROVIDERS = ("mailjet", "sendgrid", "dotmailer")
UNSUBSCRIBED_EVERY = 100
"""One member in a hundred is unsubscribed."""
STAMP = "2026-05-17T08:30:00Z"
SETTINGS: dict[str, dict[str, Any]] = {"sendgrid": {"global_unsubscribe": True}}


def _email(n: int) -> str:
    return f"member{n}@example.com"


_BASE = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _joined(n: int) -> str:
    """A different instant for each member (RFC 3339, UTC), so that no parse is repeated."""
    return (_BASE + timedelta(seconds=n * 37)).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- the accounts, written as emulator state ------------------------------------------------------


def mailjet_state(n: int) -> tuple[dict[str, Any], str]:
    """A Mailjet account with list 1 of ``n`` members and three properties (the emulator's state layout)."""
    contacts, ids, recipients = {}, {}, {}
    for i in range(1, n + 1):
        email = _email(i)
        contacts[email] = {
            "ID": i,
            "Email": email,
            "Name": f"Member {i}",
            "IsExcludedFromCampaigns": False,
            "CreatedAt": STAMP,
            "LastUpdateAt": STAMP,
            "Properties": {"nickname": f"nick {i}", "score": i, "joined": _joined(i)},
        }
        ids[str(i)] = email
        unsub = i % UNSUBSCRIBED_EVERY == 0
        recipients[f"{i}:1"] = {
            "ID": i,
            "ContactID": i,
            "ListID": 1,
            "IsActive": True,
            "IsUnsubscribed": unsub,
            "UnsubscribedAt": STAMP if unsub else "",
            "SubscribedAt": STAMP,
        }
    metadata = {
        name.lower(): {"Datatype": kind, "ID": number, "Name": name, "NameSpace": "static"}
        for number, (name, kind) in enumerate([("nickname", "str"), ("score", "int"), ("joined", "datetime")], 1)
    }
    lists = {"1": {"ID": 1, "Name": "Members", "Address": "a1b2c3", "CreatedAt": STAMP, "IsDeleted": False}}
    state = {
        "next_id": {"contact": n + 1, "list": 2, "job": 1, "data": 1, "metadata": 4, "recipient": n + 1},
        "contacts": contacts,
        "contact_ids": ids,
        "lists": lists,
        "recipients": recipients,
        "metadata": metadata,
        "jobs": {},
        "data": {},
    }
    return state, "1"


def sendgrid_state(n: int) -> tuple[dict[str, Any], str]:
    """A SendGrid account with one list of ``n`` contacts, three custom fields and 1% global unsubscribes."""
    list_id = str(uuid.UUID(int=1))
    contacts = {}
    for i in range(1, n + 1):
        email = _email(i)
        contacts[email] = {
            "id": str(uuid.UUID(int=i + 10)),
            "email": email,
            "first_name": "Member",
            "last_name": str(i),
            "custom": {"e1_T": f"nick {i}", "e2_N": i, "e3_D": _joined(i)},
            "list_ids": [list_id],
            "created_at": STAMP,
            "updated_at": STAMP,
        }
    emulator = registry.load_emulator("sendgrid")()
    state = emulator.initial_state()
    state.update(
        contacts=contacts,
        lists={list_id: {"id": list_id, "name": "Members"}},
        fields=[
            {"id": "e1_T", "name": "nickname", "field_type": "Text"},
            {"id": "e2_N", "name": "score", "field_type": "Number"},
            {"id": "e3_D", "name": "joined", "field_type": "Date"},
        ],
        next_field=4,
        global_suppressions={_email(i): 1_790_000_000 for i in range(UNSUBSCRIBED_EVERY, n + 1, UNSUBSCRIBED_EVERY)},
    )
    return state, list_id


def dotmailer_state(n: int) -> tuple[dict[str, Any], str]:
    """A dotmailer account with book 1 of ``n`` contacts; 1% unsubscribed from the book (and so not in it)."""
    emulator = registry.load_emulator("dotmailer")()
    state = emulator.initial_state()
    contacts, ids, members, unsubscribed = {}, {}, {}, {}
    for i in range(1, n + 1):
        email = _email(i)
        contacts[email] = {
            "id": i,
            "email": email,
            "optInType": "Unknown",
            "emailType": "Html",
            "status": "Subscribed",
            "dataFields": {"FULLNAME": f"Member {i}", "NICKNAME": f"nick {i}", "SCORE": i, "JOINED": _joined(i)[:-1]},
        }
        ids[str(i)] = email
        if i % UNSUBSCRIBED_EVERY == 0:
            unsubscribed[email] = STAMP[:-1]
        else:
            members[email] = True
    fields = {name: {"name": name, "type": kind, "visibility": "Public", "defaultValue": None} for name, kind in
              (("NICKNAME", "String"), ("SCORE", "Numeric"), ("JOINED", "Date"))}  # fmt: skip
    state["fields"].update(fields)
    book = {"id": 1, "name": "Members", "visibility": "Private", "members": members, "unsubscribed": unsubscribed}
    state.update(contacts=contacts, ids=ids, books={"1": book}, next_contact=n + 1, next_book=2)
    return state, "1"


STATES: dict[str, Callable[[int], tuple[dict[str, Any], str]]] = {
    "mailjet": mailjet_state,
    "sendgrid": sendgrid_state,
    "dotmailer": dotmailer_state,
}


@contextlib.contextmanager
def served(provider: str, n: int, folder: Path) -> Iterator[tuple[dict[str, str], str]]:
    """The account of ``n`` members saved to a state file and served from another process; (settings, list id)."""
    state, list_id = STATES[provider](n)
    emulator = registry.load_emulator(provider)()
    emulator.state = state
    path = folder / f"{provider}-{n}.db"
    save_state(path, [emulator])
    del state, emulator
    command = [sys.executable, "-m", "contactsync.cli", "sandbox", "--port", "0", "--json", "-p", provider]
    process = subprocess.Popen([*command, "--state", str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"the {provider} sandbox did not start")
        yield json.loads(line)["providers"][provider], list_id
    finally:
        process.kill()  # not terminate: saving a million contacts back would only cost time
        process.wait(timeout=60)
        path.unlink(missing_ok=True)


# -- the readers, each in its own interpreter --------------------------------------------------------


def ours(provider: str, settings: dict[str, str], list_id: str) -> tuple[int, int]:
    client = connect(provider, poll_interval=0.05, **settings, **SETTINGS.get(provider, {}))
    members = unsubscribed = 0
    for member in client.members(list_id):
        members += 1
        unsubscribed += not member.subscribed
    return members, unsubscribed


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)


def peer_mailjet(settings: dict[str, str], list_id: str) -> tuple[int, int]:
    """mailjet-rest: the three resources paged by Limit/Offset and joined in dicts (reference/mailjet.md §9), the
    values typed by the properties' datatypes."""
    from mailjet_rest import Client

    mailjet = Client(auth=(settings["api_key"], settings["secret_key"]), api_url=settings["base_url"] + "/")

    def pages(resource: Any) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            data = resource.get(filters={"ContactsList": list_id, "Limit": 1000, "Offset": offset}).json()["Data"]
            yield from data
            if len(data) < 1000:
                return
            offset += 1000

    kinds: dict[str, Callable[[str], Any]] = {"int": int, "float": float, "bool": lambda v: v == "true"}
    kinds["datetime"] = _instant
    datatypes = {m["Name"]: kinds.get(m["Datatype"], str) for m in mailjet.contactmetadata.get().json()["Data"]}
    contacts = {c["ID"]: (c["Email"], c["Name"] or None) for c in pages(mailjet.contact)}
    values = {
        d["ContactID"]: {i["Name"]: datatypes.get(i["Name"], str)(i["Value"]) for i in d["Data"]}
        for d in pages(mailjet.contactdata)
    }
    members = unsubscribed = 0
    for row in pages(mailjet.listrecipient):
        _member = (*contacts[row["ContactID"]], values.get(row["ContactID"], {}), not row["IsUnsubscribed"])
        members += 1
        unsubscribed += bool(row["IsUnsubscribed"])
    return members, unsubscribed


def peer_sendgrid(settings: dict[str, str], list_id: str) -> tuple[int, int]:
    """sendgrid + requests: export, poll, download, gunzip, csv.DictReader, the custom fields typed by their
    definitions; the global unsubscribes paged."""
    from sendgrid import SendGridAPIClient

    sg = SendGridAPIClient(settings["api_key"], host=settings["base_url"])
    answer = sg.client.marketing.contacts.exports.post(request_body={"list_ids": [list_id], "file_type": "csv"})
    export_id = json.loads(answer.body)["id"]
    while True:
        status = json.loads(sg.client.marketing.contacts.exports._(export_id).get().body)
        if status["status"] != "pending":
            break
        time.sleep(0.05)
    suppressed: set[str] = set()
    offset = 0
    while True:
        page = json.loads(sg.client.suppression.unsubscribes.get(query_params={"limit": 500, "offset": offset}).body)
        suppressed.update(entry["email"] for entry in page)
        if len(page) < 500:
            break
        offset += 500
    definitions = json.loads(sg.client.marketing.field_definitions.get().body)["custom_fields"]
    kinds: dict[str, Callable[[str], Any]] = {"Number": float, "Date": _instant, "Text": str}
    custom = {f["name"].upper(): (f["name"], kinds[f["field_type"]]) for f in definitions}
    members = unsubscribed = 0
    for url in status["urls"]:
        text = gzip.decompress(requests.get(url, timeout=600).content).decode("utf-8")
        for row in csv.DictReader(io.StringIO(text)):
            name = f"{row['FIRST_NAME']} {row['LAST_NAME']}".strip() or None
            properties = {custom[k][0]: custom[k][1](v) for k, v in row.items() if v and k in custom}
            _member = (row["EMAIL"], name, properties, row["EMAIL"] not in suppressed)
            members += 1
            unsubscribed += row["EMAIL"] in suppressed
    return members, unsubscribed


def _as_is(value: Any) -> Any:
    return value


def peer_dotmailer(settings: dict[str, str], list_id: str) -> tuple[int, int]:
    """requests (dotdigital has no official Python client): the book's pages with full data, typed by the data
    fields' types, then its unsubscribes, each one's data read by id (reference/dotmailer.md §4, §10)."""
    session = requests.Session()
    session.auth = (settings["username"], settings["password"])
    base = f"{settings['base_url']}/v2/address-books/{list_id}/contacts"

    def pages(url: str, params: dict[str, str]) -> Iterator[dict[str, Any]]:
        skip = 0
        while True:
            page = session.get(url, params={**params, "select": "1000", "skip": str(skip)}, timeout=60).json()
            yield from page
            if len(page) < 1000:
                return
            skip += 1000

    kinds: dict[str, Callable[[Any], Any]] = {"Date": _instant, "Boolean": bool}
    fields = session.get(f"{settings['base_url']}/v2/data-fields", timeout=60).json()
    types: dict[str, Callable[[Any], Any]] = {f["name"]: kinds.get(f["type"], _as_is) for f in fields}
    members = 0
    for contact in pages(base, {"withFullData": "true"}):
        values = {f["key"]: types[f["key"]](f["value"]) for f in contact["dataFields"] if f["value"] is not None}
        _member = (contact["email"], values.pop("FULLNAME", None), values, contact["status"] == "Subscribed")
        members += 1
    unsubscribed = 0
    for gone in pages(f"{base}/unsubscribed-since/1970-01-01T00:00:00+00:00", {}):
        contact = session.get(
            f"{settings['base_url']}/v2/contacts/{gone['suppressedContact']['id']}", timeout=60
        ).json()
        values = {f["key"]: types[f["key"]](f["value"]) for f in contact["dataFields"] if f["value"] is not None}
        _member = (contact["email"], values.pop("FULLNAME", None), values, False)
        unsubscribed += 1
    return members + unsubscribed, unsubscribed


PEERS = {"mailjet": peer_mailjet, "sendgrid": peer_sendgrid, "dotmailer": peer_dotmailer}


def measure(reader: str, provider: str, settings: dict[str, str], list_id: str) -> dict[str, Any]:
    """One read in this process (the child's side of :func:`run`)."""
    started = time.perf_counter()
    if reader == "ours":
        members, unsubscribed = ours(provider, settings, list_id)
    else:
        members, unsubscribed = PEERS[provider](settings, list_id)
    seconds = time.perf_counter() - started
    rss = _peak_rss_mib()
    return {"seconds": seconds, "rss_mib": rss, "members": members, "unsubscribed": unsubscribed}


def _peak_rss_mib() -> float:
    """This process's peak resident memory: VmHWM (getrusage's ru_maxrss keeps the parent's peak across fork)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: the best there is


def run(reader: str, provider: str, settings: dict[str, str], list_id: str) -> dict[str, Any]:
    """One read in a fresh interpreter."""
    payload = json.dumps({"reader": reader, "provider": provider, "settings": settings, "list_id": list_id})
    done = subprocess.run([sys.executable, __file__, "--child", payload], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{reader} {provider} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def table(results: dict[str, dict[str, Any]], sizes: list[int]) -> str:
    lines = [
        f"members() against the official client's loop ({os.cpu_count()} CPUs); RSS = peak MiB of the reader",
        f"{'provider':<11}{'members':>10}{'ours s':>9}{'peer s':>9}{'ours/peer':>10}{'ours RSS':>10}{'peer RSS':>10}",
    ]
    for provider in PROVIDERS:
        for n in sizes:
            mine, theirs = results.get(f"ours:{provider}:{n}"), results.get(f"peer:{provider}:{n}")
            if mine is None or theirs is None:
                continue
            lines.append(
                f"{provider:<11}{n:>10,}{mine['seconds']:>9.2f}{theirs['seconds']:>9.2f}"
                f"{mine['seconds'] / theirs['seconds']:>10.2f}{mine['rss_mib']:>10.0f}{theirs['rss_mib']:>10.0f}"
            )
        if len(sizes) > 1 and all(f"ours:{provider}:{n}" in results for n in sizes):
            growth = (
                results[f"ours:{provider}:{sizes[-1]}"]["rss_mib"] - results[f"ours:{provider}:{sizes[0]}"]["rss_mib"]
            )
            lines.append(f"{'':<11}ours RSS from {sizes[0]:,} to {sizes[-1]:,} members: {growth:+.0f} MiB")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="members of the larger list (the smaller: n/10)")
    parser.add_argument("--provider", action="append", choices=PROVIDERS, help="only these providers (repeatable)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        job = json.loads(args.child)
        print(json.dumps(measure(job["reader"], job["provider"], job["settings"], job["list_id"])))
        return
    sizes = sorted({max(args.n // 10, 1), args.n})
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for provider in args.provider or PROVIDERS:
            assert provider in EMULATORS
            for n in sizes:
                with served(provider, n, Path(folder)) as (settings, list_id):
                    for reader in ("ours", "peer"):
                        key = f"{reader}:{provider}:{n}"
                        results[key] = run(reader, provider, settings, list_id)
                        if not args.json:
                            print(f"  {key}: {results[key]['seconds']:.2f} s", file=sys.stderr, flush=True)
    print(json.dumps(results) if args.json else table(results, sizes))


if __name__ == "__main__":
    main()
