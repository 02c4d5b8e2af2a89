"""A sync run in a process of its own, for the kill -9 tests: ``python -m tests.sync.killable SETTINGS_JSON``.

It connects to a sandbox served by the test, makes the provider's batches small (so a
run has many of them to be killed between), runs one sync of a CSV file and prints the
run's status and counts as JSON.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import attrs

import contactsync
from contactsync.batching import BatchLimits
from contactsync.sources import read_file
from contactsync.sync import Sync

BATCH = 50
"""Contacts per provider request: JSON routes narrowed to it; dotmailer's files kept about as small."""


def main(settings: dict[str, Any]) -> None:
    provider = settings["provider"]
    options = dict(settings["connect"])
    if provider == "dotmailer":
        options["max_file_bytes"] = 2048  # about fifty rows a file
    client = contactsync.connect(provider, poll_interval=0.02, **options)
    narrowed = {
        name: BatchLimits(BATCH, limits.max_bytes, limits.overhead, limits.separator)
        for name, limits in client.capabilities.routes.items()
    }
    client.capabilities = attrs.evolve(client.capabilities, routes=narrowed, file_route_from=None)
    with client, Sync(client, settings["list_id"], state=settings["state"], journal_dir=settings["journals"]) as sync:
        run = sync.run(read_file(settings["source"]), mode=settings["mode"], max_removals=1.0, events=False)
    print(json.dumps({"status": run.status.value, "counts": attrs.asdict(run.counts), "notes": list(run.notes)}))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
