"""An application's own code, as the testing page's example tests it: sign-ups go to a newsletter list.

It connects by provider name alone, so its credentials (and, in tests, the sandbox's URL
and quick polling) come from ``CONTACTSYNC_<NAME>_<SETTING>`` in the environment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import contactsync
from contactsync import Contact, FieldDefinition, FieldType, ImportJob, ListSubscription

PLAN = FieldDefinition("plan", FieldType.TEXT)
"""The one property the application keeps on its contacts."""


def subscribe_users(provider: str, list_name: str, users: Iterable[Mapping[str, str]]) -> ImportJob:
    """Put ``users`` (``email``, ``name``, ``plan``) on the list named ``list_name``, created if missing; the job,
    once the provider finished it."""
    with contactsync.connect(provider) as client:
        found = [item.id for item in client.lists() if item.name == list_name]
        list_id = found[0] if found else client.create_list(list_name)
        if client.capabilities.field_definitions:
            client.ensure_fields([PLAN])
        contacts = [Contact(user["email"], user.get("name"), {PLAN.name: user["plan"]}) for user in users]
        return client.wait(client.import_contacts(contacts, [ListSubscription(list_id)]))
