"""Hypothesis strategies for webhook bodies: provider-shaped events, odd values, and bodies that are not events."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

addresses = st.sampled_from(["ann@example.com", "Bob@Example.COM", " carl@example.org ", "dora@sub.example.net"])
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
"""Any JSON value, to put where a field of a known type belongs."""

unix_seconds = st.integers(0, 4_000_000_000)


def _event(names: st.SearchStrategy[str], time_key: str, extra: dict[str, st.SearchStrategy[Any]]) -> Any:
    required = {"event": names, "email": addresses, time_key: unix_seconds}
    return st.fixed_dictionaries(required, optional={**extra, "custom_arg": json_values})


SENDGRID_NAMES = [
    "processed", "dropped", "delivered", "deferred", "bounce", "open", "click",
    "spamreport", "unsubscribe", "group_unsubscribe", "group_resubscribe",
]  # fmt: skip
sendgrid_events = _event(
    st.sampled_from(SENDGRID_NAMES) | st.text(max_size=12),
    "timestamp",
    {
        "sg_event_id": st.text("abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=100),
        "asm_group_id": st.integers(1, 10_000),
        "type": st.sampled_from(["bounce", "blocked"]),
        "bounce_classification": st.sampled_from(["Invalid Address", "Unclassified", "Reputation"]),
        "reason": st.text(max_size=40),
        "status": st.sampled_from(["5.0.0", "5.1.1", "4.0.0"]),
        "category": st.text(max_size=10) | st.lists(st.text(max_size=10), max_size=3),
    },
)

MAILJET_NAMES = ["sent", "open", "click", "bounce", "blocked", "spam", "unsub"]
mailjet_events = _event(
    st.sampled_from(MAILJET_NAMES) | st.text(max_size=12),
    "time",
    {
        "MessageID": st.integers(0, 2**63),
        "mj_list_id": st.integers(0, 10**9),
        "hard_bounce": st.booleans(),
        "blocked": st.booleans(),
        "error_related_to": st.sampled_from(["recipient", "domain", "mailjet"]),
        "error": st.sampled_from(["user unknown", "greylisted", "preblocked"]),
        "source": st.just("JMRPP"),
    },
)


def scrambled(events: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Events whose fields hold any JSON value at all, as a careless or hostile sender would post."""
    return events.flatmap(lambda record: st.fixed_dictionaries(dict.fromkeys(record, json_values)))


def body(records: list[Any]) -> bytes:
    return json.dumps(records).encode("utf-8")
