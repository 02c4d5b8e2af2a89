"""Where contacts come from: files, records (dicts, DataFrame rows, ORM objects) and SQL queries.

Each source yields a :class:`~contactsync.model.Contact` or a
:class:`~contactsync.model.RowError` per row, numbered from 1, ready for
:meth:`Sync.run <contactsync.sync.Sync.run>` or
:meth:`Provider.import_contacts <contactsync.provider.Provider.import_contacts>`.
"""

from contactsync.sources.files import read_file
from contactsync.sources.records import read_records
from contactsync.sources.rows import Item, RawRows, Source
from contactsync.sources.sql import read_sql

__all__ = ["Item", "RawRows", "Source", "read_file", "read_records", "read_sql"]
