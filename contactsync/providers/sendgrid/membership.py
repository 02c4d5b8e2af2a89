"""SendGrid list membership and suppressions: how our four subscription actions become API calls.

SendGrid lists are membership only; "unsubscribed" is a suppression kept apart from the
contacts (reference/sendgrid.md §5). ADD_NO_FORCE adds through the upsert's ``list_ids``;
REMOVE deletes memberships by contact id; UNSUBSCRIBE adds a group or global suppression
the user configured, before the upsert adds the contact to the list, so that it never
arrives subscribed; ADD_FORCE deletes the suppressions first.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from urllib.parse import quote

from contactsync.errors import NotFound
from contactsync.http import Transport, path_segment
from contactsync.model import ListSubscription, SubscriptionAction
from contactsync.providers.sendgrid.suppressions import suppression_entries
from contactsync.providers.sendgrid.translate import converter
from contactsync.providers.sendgrid.wire import ContactDetails, RecipientEmails, SearchEmails, SearchResponse

__all__ = ["Memberships", "chunks"]

SEARCH_LIMIT = 100
"""Addresses per ``POST /v3/marketing/contacts/search/emails`` (reference/sendgrid.md §5)."""
SUPPRESSION_CHUNK = 1000
"""Addresses per suppression request; SendGrid documents no limit (UNCONFIRMED), so stay modest."""

_ADDS = (SubscriptionAction.ADD_FORCE, SubscriptionAction.ADD_NO_FORCE, SubscriptionAction.UNSUBSCRIBE)


def chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    """Consecutive slices of at most ``size`` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Memberships:
    """Applies subscription actions for a set of emails, with the user's unsubscribe configuration."""

    def __init__(self, transport: Transport, unsubscribe_groups: Mapping[str, int], global_unsubscribe: bool) -> None:
        self.transport = transport
        self.unsubscribe_groups = dict(unsubscribe_groups)
        self.global_unsubscribe = global_unsubscribe
        self._global_set: set[str] | None = None

    @staticmethod
    def list_ids(subscriptions: Sequence[ListSubscription]) -> list[str]:
        """Lists the upsert adds the contacts to: every action but REMOVE keeps them on the list."""
        return list(dict.fromkeys(s.list_id for s in subscriptions if s.action in _ADDS))

    def search(self, emails: Sequence[str]) -> dict[str, ContactDetails]:
        """Stored contacts by lower-cased email; absent addresses are left out."""
        found: dict[str, ContactDetails] = {}
        for chunk in chunks(emails, SEARCH_LIMIT):
            body = converter.unstructure(SearchEmails(list(chunk)))
            try:
                data = self.transport.json("POST", "/v3/marketing/contacts/search/emails", json=body, safe=True)
            except NotFound:  # reference/sendgrid.md §5: 404 when none of the addresses match
                continue
            for hit in converter.structure(data, SearchResponse).result.values():
                if hit.contact is not None and hit.contact.email:
                    found[hit.contact.email.lower()] = hit.contact
        return found

    def before_upsert(self, emails: Sequence[str], subscriptions: Sequence[ListSubscription]) -> None:
        """UNSUBSCRIBE: add the configured suppression (suppressions are keyed by email, so the contact
        need not exist yet). ADD_FORCE: delete the global suppression and the list's mapped group one."""
        for target in dict.fromkeys(self._suppression_paths(subscriptions)):
            for chunk in chunks(emails, SUPPRESSION_CHUNK):
                body = converter.unstructure(RecipientEmails(list(chunk)))
                self.transport.request("POST", target, json=body, safe=True)  # adding a suppression twice is harmless
        forced = [s for s in subscriptions if s.action is SubscriptionAction.ADD_FORCE]
        if not forced:
            return
        for gid in dict.fromkeys(
            self.unsubscribe_groups[s.list_id] for s in forced if s.list_id in self.unsubscribe_groups
        ):
            for chunk in chunks(emails, SUPPRESSION_CHUNK):
                body = converter.unstructure(RecipientEmails(list(chunk)))
                suppressed = self.transport.json(
                    "POST", f"/v3/asm/groups/{path_segment(gid)}/suppressions/search", json=body, safe=True
                )
                for email in suppressed or ():
                    self.transport.request(
                        "DELETE", f"/v3/asm/groups/{path_segment(gid)}/suppressions/{quote(str(email), safe='@')}"
                    )
        for email in self._globally_suppressed(emails):
            self.transport.request("DELETE", f"/v3/asm/suppressions/global/{quote(email, safe='@')}")

    def after_upsert(self, emails: Sequence[str], subscriptions: Sequence[ListSubscription]) -> None:
        """REMOVE: delete memberships by contact id."""
        removed = [s.list_id for s in subscriptions if s.action is SubscriptionAction.REMOVE]
        if removed:
            ids = [c.id for c in self.search(emails).values()]
            for list_id in dict.fromkeys(removed):
                for chunk in chunks(ids, SEARCH_LIMIT):
                    self.transport.request(
                        "DELETE",
                        f"/v3/marketing/lists/{path_segment(list_id)}/contacts",
                        params={"contact_ids": ",".join(chunk)},
                    )

    def _suppression_paths(self, subscriptions: Sequence[ListSubscription]) -> Iterator[str]:
        for sub in subscriptions:
            if sub.action is not SubscriptionAction.UNSUBSCRIBE:
                continue
            gid = self.unsubscribe_groups.get(sub.list_id)
            yield (
                f"/v3/asm/groups/{path_segment(gid)}/suppressions" if gid is not None else "/v3/asm/suppressions/global"
            )

    def _globally_suppressed(self, emails: Sequence[str]) -> list[str]:
        if len(emails) == 1:
            return [e for e in emails if self.is_globally_suppressed(e)]
        if self._global_set is None:
            self._global_set = set(self._all_global_unsubscribes())
        return [e for e in emails if e in self._global_set]

    def _all_global_unsubscribes(self) -> Iterator[str]:
        return (entry.email.lower() for entry, _ in suppression_entries(self.transport, "unsubscribes") if entry.email)

    def is_globally_suppressed(self, email: str) -> bool:
        """``GET /v3/asm/suppressions/global/{email}`` answers ``{}`` when the address is not suppressed."""
        data = self.transport.json("GET", f"/v3/asm/suppressions/global/{quote(email, safe='@')}") or {}
        return bool(data.get("recipient_email"))

    def suppressed_groups(self, email: str) -> set[int]:
        """The unsubscribe groups suppressing ``email`` (``GET /v3/asm/suppressions/{email}``)."""
        data = self.transport.json("GET", f"/v3/asm/suppressions/{quote(email, safe='@')}") or {}
        return {int(g["id"]) for g in data.get("suppressions", ()) if g.get("suppressed")}
