"""Reading SendGrid's suppression lists (reference/sendgrid.md §12): who unsubscribed, bounced, was blocked, and when.

The ``/v3/suppression/*`` lists take a time window (``start_time``/``end_time``, Unix
seconds, both inclusive) and ``limit``/``offset`` paging, and answer bare arrays; group
suppressions with their times come from ``GET /v3/asm/suppressions``, which declares no
paging or time parameters.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from contactsync.http import Transport
from contactsync.paging import offset_pages
from contactsync.providers.sendgrid.translate import converter
from contactsync.providers.sendgrid.wire import GroupSuppression, SuppressionEntry

__all__ = ["LISTS", "PAGE", "group_suppressions", "suppression_entries"]

PAGE = 500
"""reference §12d: ``limit`` is at most 500."""
LISTS = ("unsubscribes", "bounces", "spam_reports", "blocks")
"""The /v3/suppression lists read back: global unsubscribes, bounces, spam reports, blocks."""
CLOCK_MARGIN = 300
"""Seconds added to ``end_time`` (inclusive) so that a clock behind SendGrid's misses nothing recent."""


def suppression_entries(
    transport: Transport, kind: str, start: int | None = None
) -> Iterator[tuple[SuppressionEntry, dict[str, Any]]]:
    """Each entry of ``/v3/suppression/{kind}`` created at or after ``start`` (all without it), with its raw record.

    The window is also checked here, in case the server ignores it.
    """
    params: dict[str, Any] = {}
    if start is not None:
        params = {"start_time": start, "end_time": int(time.time()) + CLOCK_MARGIN}
    # reference §12d: the bounces list marks Accept: application/json as required.
    headers = {"Accept": "application/json"}

    def fetch(offset: int) -> list[dict[str, Any]]:
        query = {**params, "limit": PAGE, "offset": offset}
        return transport.json("GET", f"/v3/suppression/{kind}", params=query, headers=headers) or []

    for page in offset_pages(fetch, PAGE, provider=transport.provider):
        for raw in page:
            entry = converter.structure(raw, SuppressionEntry)
            if start is None or entry.created >= start:
                yield entry, raw


def group_suppressions(transport: Transport) -> Iterator[tuple[GroupSuppression, dict[str, Any]]]:
    """Every group suppression with its group and time (``GET /v3/asm/suppressions``, reference §12b)."""
    for raw in transport.json("GET", "/v3/asm/suppressions") or []:
        yield converter.structure(raw, GroupSuppression), raw
