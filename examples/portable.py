"""One application, written once, run unchanged against any provider: the portable contract at work.

    python examples/portable.py --provider mailjet      # against the sandbox (the default)
    python examples/portable.py --provider dotmailer --live   # credentials from the environment

It makes a list; imports 1,000 contacts with a name and text, number, date and boolean
properties (ADD_FORCE); reads them back; unsubscribes, removes and re-adds one contact;
imports into a list that does not exist; and imports an address twice. It prints one line
per outcome, ``label: outcome``, the same on every provider, except where a provider
cannot do something: that line reads ``label: capability: ...``, naming the error raised
before anything was sent. The exit status is 1 when an outcome differs from what the
contract says.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import sys
from collections.abc import Iterator
from datetime import date, timedelta

import contactsync
from contactsync import (
    Contact,
    ImportJob,
    ListSubscription,
    NotFound,
    Provider,
    SubscriptionAction,
    UnrepresentableValue,
    UnsupportedAction,
)
from contactsync.model import PropertyValue
from contactsync.sandbox import Sandbox

COUNT = 1_000


class Report:
    """The outcome lines, and whether each is what the contract says."""

    def __init__(self) -> None:
        self.failures = 0

    def outcome(self, label: str, text: str, *, holds: bool = True) -> None:
        """One outcome, the same on every provider; ``holds`` False marks a breach of the contract."""
        print(f"{label}: {text}" if holds else f"{label}: {text}  <-- NOT WHAT THE CONTRACT SAYS")
        self.failures += not holds

    def capability(self, label: str, error: Exception) -> None:
        """Something this provider cannot do, shown by the error it raised before sending anything."""
        print(f"{label}: capability: {type(error).__name__} before sending: {error}")


def people(boolean: bool) -> list[Contact]:
    """The 1,000 contacts: a name, a company (text), a score (number), a joining date and, where held, a flag."""
    rng = random.Random(12)
    contacts = []
    for number in range(COUNT):
        properties: dict[str, PropertyValue] = {
            "company": rng.choice(["Acme", "Globex", "Initech", "Müller & Söhne"]),
            "score": round(rng.uniform(0, 100), 2),
            "joined": date(2020, 1, 1) + timedelta(days=rng.randrange(1500)),
        }
        if boolean:
            properties["vip"] = number % 7 == 0
        contacts.append(Contact(f"person{number}@example.com", name=f"Person {number}", properties=properties))
    return contacts


def finished(client: Provider, job: ImportJob) -> ImportJob:
    return client.wait(job, timeout=600)


def subscribed(client: Provider, email: str, list_id: str) -> bool:
    return any(m.list_id == list_id and m.subscribed for m in client.get_subscriptions(email))


def run(client: Provider, report: Report) -> None:
    """The application itself: the same calls whatever ``client`` is."""
    list_id = client.create_list("Portable newsletter")
    report.outcome("create a list", "done", holds=bool(list_id))

    # Ask before sending: a dry run says which rows a provider would refuse, and why.
    _, _, refused = client.plan_import([Contact("probe@example.com", properties={"vip": True})])
    boolean = not refused
    if refused:
        report.capability("a boolean property", UnrepresentableValue(refused[0].message, field=refused[0].field))
    else:
        report.outcome("a boolean property", "held")

    contacts = people(boolean)
    job = finished(client, client.import_contacts(contacts, [ListSubscription(list_id, SubscriptionAction.ADD_FORCE)]))
    errors = list(client.import_errors(job))
    report.outcome(
        f"import {COUNT:,} contacts with ADD_FORCE",
        f"{job.status.value}, {job.accepted:,} accepted, {job.errored:,} errored",
        holds=job.status.is_success and job.accepted == COUNT and not errors,
    )
    report.outcome(
        "counts",
        "accepted + errored == requested" if job.accepted + job.errored == job.requested else "do not add up",
        holds=job.accepted + job.errored == job.requested,
    )

    same = sum(client.get_contact(contact.email) == contact for contact in contacts)
    report.outcome("read them back", f"{same:,} equal to what was sent", holds=same == COUNT)

    one = contacts[0].email
    try:
        client.manage_subscriptions(one, [ListSubscription(list_id, SubscriptionAction.UNSUBSCRIBE)])
    except UnsupportedAction as exc:
        report.capability("unsubscribe one contact", exc)
    else:
        report.outcome("unsubscribe one contact", "not subscribed", holds=not subscribed(client, one, list_id))
    client.manage_subscriptions(one, [ListSubscription(list_id, SubscriptionAction.REMOVE)])
    gone = all(m.list_id != list_id for m in client.get_subscriptions(one))
    report.outcome("remove it from the list", "not on the list" if gone else "still on the list", holds=gone)
    client.manage_subscriptions(one, [ListSubscription(list_id, SubscriptionAction.ADD_FORCE)])
    back = subscribed(client, one, list_id)
    report.outcome("re-add it with ADD_FORCE", "subscribed" if back else "not subscribed", holds=back)

    try:
        client.import_contacts(contacts[:5], [ListSubscription("404404", SubscriptionAction.ADD_FORCE)])
    except NotFound:
        report.outcome("import into an unknown list", "NotFound, nothing sent")
    else:
        report.outcome("import into an unknown list", "no error", holds=False)

    twice = [Contact("twin@example.com", name="First"), Contact("TWIN@example.com", name="Second")]
    job = finished(client, client.import_contacts(twice, [ListSubscription(list_id)]))
    rows = [(error.row, error.provider_code) for error in client.import_errors(job)]
    kept = client.get_contact("twin@example.com")
    report.outcome(
        "an address given twice",
        f"row errors {rows}; stored name {kept.name if kept else None!r}",
        holds=rows == [(2, "Duplicate")] and kept is not None and kept.name == "First",
    )


@contextlib.contextmanager
def connected(provider: str, live: bool) -> Iterator[Provider]:
    """A client of the sandbox (the default), or of the provider itself with credentials from the environment."""
    if live:
        with contactsync.connect(provider) as client:
            yield client
        return
    with Sandbox([provider]) as sandbox, sandbox.connect(provider) as client:
        yield client


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--provider", required=True, choices=contactsync.providers())
    parser.add_argument("--live", action="store_true", help="talk to the provider itself, not the sandbox")
    args = parser.parse_args(argv)
    report = Report()
    with connected(args.provider, args.live) as client:
        run(client, report)
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
