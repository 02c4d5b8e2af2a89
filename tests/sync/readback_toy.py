"""The toy provider with read-back: list members and contact events, over real HTTP.

A plugin-shaped pair (a Provider subclass and its emulator) small enough that the sync's
reconcile and consent steps can be tested end to end with every state change in view.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import attrs
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from contactsync import Contact, ContactEvent, EventType, ListMember, ListSubscription, SubscriptionAction
from contactsync.sandbox import json_response
from tests.toy import ToyEmulator, ToyProvider

__all__ = ["ReadBackToy", "ReadBackToyEmulator"]


class ReadBackToyEmulator(ToyEmulator):
    """The toy API, plus ``GET /v1/lists/<id>/members`` and ``GET /v1/events?since=``; imports join their lists."""

    def rules(self) -> list[Rule]:
        return [
            *super().rules(),
            Rule("/v1/lists/<list_id>/members", methods=["GET"], endpoint="get_members"),
            Rule("/v1/events", methods=["GET"], endpoint="get_events"),
            Rule("/v1/lists/<list_id>/members/<email>", methods=["DELETE"], endpoint="delete_member"),
        ]

    def initial_state(self) -> dict[str, Any]:
        return {**super().initial_state(), "list_members": {}, "events": []}

    def post_import(self, request: Request) -> Response:
        body = request.get_json()
        response = super().post_import(request)
        if response.status_code < 300:
            for list_id in body.get("lists", []):
                members = self.state["list_members"].setdefault(str(list_id), {})
                for contact in body["contacts"]:
                    members.setdefault(contact["email"], True)
        return response

    def get_members(self, request: Request, list_id: str) -> Response:
        members = self.state["list_members"].get(list_id, {})
        found = [{**self.state["contacts"][email], "subscribed": subscribed} for email, subscribed in members.items()]
        return json_response({"members": found})

    def delete_member(self, request: Request, list_id: str, email: str) -> Response:
        if self.state["list_members"].get(list_id, {}).pop(email, None) is None:
            return self.error(404, "not a member")
        return Response(status=204)

    def get_events(self, request: Request) -> Response:
        since = request.args.get("since", "")
        return json_response({"events": [e for e in self.state["events"] if e["at"] >= since]})

    def recipient_unsubscribes(self, email: str, list_id: str | None) -> None:
        """A recipient unsubscribes (from one list, or from everything): the state changes and an event is kept."""
        with self.lock:
            for key, members in self.state["list_members"].items():
                if (list_id is None or key == list_id) and email in members:
                    members[email] = False
            at = datetime.now(timezone.utc).isoformat()
            self.state["events"].append({"email": email, "type": "unsubscribe", "list": list_id, "at": at})


class ReadBackToy(ToyProvider):
    """The toy client reading list members and events, and taking one contact off a list (not in bulk)."""

    capabilities = attrs.evolve(
        ToyProvider.capabilities,
        actions=frozenset({SubscriptionAction.ADD_NO_FORCE, SubscriptionAction.REMOVE}),
        import_actions=frozenset({SubscriptionAction.ADD_NO_FORCE}),
    )

    def apply_subscriptions(self, email: str, subscriptions: tuple[ListSubscription, ...]) -> None:
        for subscription in subscriptions:  # only REMOVE passes check_actions for one contact
            self.transport.request("DELETE", f"/v1/lists/{subscription.list_id}/members/{email}")

    def members(self, list_id: str) -> Iterator[ListMember]:
        for entry in self.transport.json("GET", f"/v1/lists/{list_id}/members")["members"]:
            contact = Contact(entry["email"], entry.get("name"), dict(entry.get("props") or {}))
            yield ListMember(contact, subscribed=bool(entry["subscribed"]))

    def fetch_events(self, since: datetime, list_id: str | None) -> Iterator[ContactEvent]:
        answer = self.transport.json("GET", "/v1/events", params={"since": since.isoformat()})
        for entry in answer["events"]:
            if list_id is not None and entry["list"] not in (None, list_id):
                continue
            at = datetime.fromisoformat(entry["at"])
            yield ContactEvent("toy", EventType.UNSUBSCRIBED, entry["email"], at, entry["list"], None, entry)
