"""Custom fields for a file's columns: what the account stores, and creating what is missing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from contactsync.errors import UnsupportedAction
from contactsync.model import FieldDefinition, FieldType
from contactsync.provider import Provider


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
