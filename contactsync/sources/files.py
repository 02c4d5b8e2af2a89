"""Contact files as a sync source: the readers of :mod:`contactsync.csvio`, whose raw rows the sync keys unparsed."""

from __future__ import annotations

import os
from collections.abc import Mapping

from contactsync.csvio import ContactReader, read_contacts
from contactsync.model import FieldType

__all__ = ["read_file"]


def read_file(
    path: str | os.PathLike[str],
    *,
    mapping: Mapping[str, str] | None = None,
    field_types: Mapping[str, FieldType] | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> ContactReader:
    """A ``.csv``, ``.csv.gz`` or ``.xlsx`` file as a stream of contacts and row errors (see
    :func:`~contactsync.csvio.read_contacts`, which takes the same options).

    Given to :meth:`Sync.run <contactsync.sync.Sync.run>`, a row whose cells did not change
    since the last run is known unchanged without being parsed.
    """
    return read_contacts(path, mapping=mapping, field_types=field_types, encoding=encoding, delimiter=delimiter)
