"""An import reuses its HTTP connections: the sandbox keeps them alive, and the client's pool holds them."""

from __future__ import annotations

import logging

import attrs
import pytest

from contactsync import Contact, ListSubscription
from contactsync.batching import BatchLimits
from contactsync.sandbox import Sandbox


def test_an_import_of_many_batches_opens_no_more_connections_than_it_sends_at_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with Sandbox(["sendgrid"]) as sandbox:
        client = sandbox.connect("sendgrid")
        routes = {**client.capabilities.routes, "json": BatchLimits(max_items=50, max_bytes=6_000_000, separator=1)}
        client.capabilities = attrs.evolve(client.capabilities, routes=routes)
        list_id = client.create_list("reuse")
        contacts = [Contact(f"user{i}@example.com", f"User {i}") for i in range(1000)]
        before = len(sandbox.requests)
        with caplog.at_level(logging.DEBUG, logger="urllib3.connectionpool"):
            job = client.wait(client.import_contacts(contacts, [ListSubscription(list_id)], route="json"))
        opened = [r for r in caplog.records if "Starting new HTTP connection" in r.getMessage()]
        assert len(job.parts) == 20 and job.created == 1000
        assert len(sandbox.requests) - before >= 40  # an upsert and at least one status poll per batch
        assert len(opened) <= client.concurrency
