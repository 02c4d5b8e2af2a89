"""Custom fields for a file's columns: what the account stores, and creating what is missing."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence

from contactsync.errors import InvalidInput, UnrepresentableValue, UnsupportedAction
from contactsync.model import FieldDefinition, FieldType
from contactsync.provider import Provider


def check_header(client: Provider, columns: Sequence[str]) -> None:
    """Refuse, once and before anything is sent, the columns the provider cannot take as property names.

    One error names them all with the provider's reason and a ``--map`` that would do, instead
    of the same error on every row.
    """
    refused: dict[str, str] = {}
    for column in columns:
        try:
            client.check_property_name(column)
        except UnrepresentableValue as exc:
            refused[column] = exc.message
    if not refused:
        return
    maps = []
    for column in refused:
        fixed = _usual_name(column)
        try:
            client.check_property_name(fixed)
        except UnrepresentableValue:
            fixed = "NEW_NAME"
        maps.append(f"--map {shlex.quote(f'{column}={fixed}')}")
    names = ", ".join(repr(c) for c in refused)
    reason = next(iter(refused.values()))
    raise InvalidInput(
        f"{client.name} cannot take the column(s) {names} as fields: {reason}. Rename with {' '.join(maps)}"
    )


def _usual_name(column: str) -> str:
    """A column name in lower case letters, digits and underscores, not starting with a digit (``VIP?`` -> ``vip``)."""
    name = re.sub(r"[^a-z0-9_]+", "_", column.lower()).strip("_") or "field"
    return f"_{name}" if name[0].isdigit() else name


def stored_field_types(client: Provider) -> dict[str, FieldType]:
    try:
        return {f.name: f.type for f in client.fields()}
    except UnsupportedAction:
        return {}


_WIDER = {FieldType.INTEGER: FieldType.NUMBER, FieldType.DATE: FieldType.DATETIME}
"""A type the provider may lack, and the wider one that holds its values exactly."""


def fit_type(wanted: FieldType, supported: frozenset[FieldType]) -> FieldType:
    """The provider's nearest type that loses nothing: integers as numbers, dates as datetimes, else text."""
    if wanted in supported or not supported:
        return wanted
    wider = _WIDER.get(wanted)
    return wider if wider in supported else FieldType.TEXT


def ensure_columns(client: Provider, columns: Sequence[str], declared: Mapping[str, FieldType]) -> dict[str, FieldType]:
    """Create the missing fields; return the type to parse each column as.

    A column declared integer and stored as a number is still parsed as an integer,
    so a fraction is a row error rather than a silently different value; a column
    declared date and stored as a datetime is parsed as dates (held as midnight UTC).
    """
    supported = client.capabilities.field_types
    wanted = [FieldDefinition(c, fit_type(declared.get(c, FieldType.TEXT), supported)) for c in columns]
    parse = {}
    for column, stored in zip(columns, client.ensure_fields(wanted), strict=True):
        kind = declared.get(column)
        parse[column] = kind if kind is not None and _WIDER.get(kind) is stored.type else stored.type
    return parse
