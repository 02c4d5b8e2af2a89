"""The feature matrix: what each provider can do, read from its declared capabilities."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from contactsync import registry
from contactsync.events.formats import FORMATS
from contactsync.model import EventType, FieldType, SubscriptionAction
from contactsync.provider import Provider

__all__ = ["feature_matrix", "installed", "push_and_poll"]

log = logging.getLogger("contactsync.features")


def installed() -> list[type[Provider]]:
    """Every installed provider class, built-ins and plugins, by name; one that fails to load is logged and left
    out (so the docs' tables show whatever is installed where they are built)."""
    classes, broken = registry.installed()
    for name, why in broken.items():
        log.warning("the feature matrix leaves out %s: %s", name, why)
    return list(classes.values())


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def _pushed(provider: str) -> str:
    """The contact events ``provider``'s webhook pushes, by their raw names, from the parser's own table."""
    fmt = FORMATS.get(provider)
    return ", ".join(fmt.event_types) if fmt is not None else "none: poll ``events_since``"


def _pushed_types(provider: str) -> frozenset[EventType]:
    """The EventTypes ``provider``'s webhook pushes (its parser's table), none where it has no webhook."""
    fmt = FORMATS.get(provider)
    return frozenset(fmt.event_types.values()) if fmt is not None else frozenset()


def _push_poll_rows(classes: Sequence[type[Provider]]) -> list[list[str]]:
    """What only the webhook tells, and what only polling finds: the parser's table against ``event_types``."""
    return [
        ["pushed, not found by ``events_since()``"]
        + [_types(_pushed_types(cls.name) - cls.capabilities.event_types) for cls in classes],
        ["found by ``events_since()``, not pushed"]
        + [_types(cls.capabilities.event_types - _pushed_types(cls.name)) for cls in classes],
    ]


def feature_matrix(classes: Sequence[type[Provider]]) -> list[list[str]]:
    """Rows of (feature, one cell per provider), the header row first."""
    rows = [["feature", *(cls.name for cls in classes)]]
    for action in SubscriptionAction:
        rows.append([f"action ``{action.value}``"] + [_yes_no(action in cls.capabilities.actions) for cls in classes])
    rows.append(
        ["actions in a bulk import"]
        + [
            ", ".join(
                a.value
                for a in SubscriptionAction
                if a in (cls.capabilities.import_actions or cls.capabilities.actions)
            )
            for cls in classes
        ]
    )
    for field_type in FieldType:
        rows.append(
            [f"{field_type.value} fields"] + [_yes_no(field_type in cls.capabilities.field_types) for cls in classes]
        )
    rows.append(["import routes"] + [", ".join(cls.capabilities.routes) for cls in classes])
    rows.append(
        ["contacts per request"]
        + [", ".join(f"{n}: {lim.max_items:,}" for n, lim in cls.capabilities.routes.items()) for cls in classes]
    )
    rows.append(
        ["bytes per request"]
        + [", ".join(f"{n}: {lim.max_bytes:,}" for n, lim in cls.capabilities.routes.items()) for cls in classes]
    )
    rows.append(
        ["file route from"]
        + [
            f"{cls.capabilities.file_route_from:,} contacts" if cls.capabilities.file_route_from else "never by default"
            for cls in classes
        ]
    )
    rows.append(["lists per import"] + [str(cls.capabilities.lists_per_import or "any") for cls in classes])
    rows.append(["contact events pushed by webhook"] + [_pushed(cls.name) for cls in classes])
    rows.append(["a date held as midnight UTC"] + [_yes_no(cls.capabilities.dates_at_midnight) for cls in classes])
    rows.append(
        ["longest text (characters)"]
        + [f"{cls.capabilities.max_text:,}" if cls.capabilities.max_text else "not documented" for cls in classes]
    )
    rows.extend(_readback_rows(classes))
    emulated = registry.emulators()
    rows.append(["emulated by the sandbox"] + [_yes_no(cls.name in emulated) for cls in classes])
    return rows


def _listed(items: list[str]) -> str:
    return ", ".join(items) or "none"


def _types(kinds: frozenset[EventType]) -> str:
    """EventType values in the enum's order, or "none"."""
    return _listed([t.value for t in EventType if t in kinds])


def _readback_rows(classes: Sequence[type[Provider]]) -> list[list[str]]:
    """The read-back rows: ``members()``, its dates, what ``events_since`` finds, deletes."""
    rows = [["``members()``"] + [_yes_no(cls.capabilities.reads_members) for cls in classes]]
    rows.append(
        ["``members()`` dates"]
        + [
            _listed([d for d in ("subscribed_at", "unsubscribed_at") if d in cls.capabilities.member_dates])
            for cls in classes
        ]
    )
    rows.append(["``events_since()`` finds"] + [_types(cls.capabilities.event_types) for cls in classes])
    rows.append(["events of one list"] + [_yes_no(cls.capabilities.events_by_list) for cls in classes])
    rows.extend(_push_poll_rows(classes))
    for what in ("contacts", "lists"):
        rows.append([f"delete {what}"] + [_yes_no(what in cls.capabilities.deletes) for cls in classes])
    return rows


def _by_type(provider: str) -> str:
    """``provider``'s pushed raw events grouped by the EventType each reads as, from its parser's table."""
    fmt = FORMATS.get(provider)
    if fmt is None:
        return "nothing"
    grouped = {kind: [raw for raw, read in fmt.event_types.items() if read is kind] for kind in EventType}
    return "; ".join(
        f"{', '.join(f'``{raw}``' for raw in raws)}: {kind.value}" for kind, raws in grouped.items() if raws
    )


def push_and_poll(classes: Sequence[type[Provider]]) -> list[list[str]]:
    """Rows of (provider, what its webhook pushes, what ``events_since`` finds, what only one of them tells), the
    header row first: the parsers' tables (:data:`~contactsync.events.formats.FORMATS`) against the declared
    ``event_types``."""
    rows = [["provider", "pushed by webhook", "found by ``events_since()``", "only pushed", "only polled"]]
    for cls in classes:
        pushed, polled = _pushed_types(cls.name), cls.capabilities.event_types
        rows.append([cls.name, _by_type(cls.name), _types(polled), _types(pushed - polled), _types(polled - pushed)])
    return rows
