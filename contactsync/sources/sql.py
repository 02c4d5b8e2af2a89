"""SQL as a source: a query through SQLAlchemy, streamed with a server-side cursor, its rows read as records.

``read_sql("postgresql://...", "SELECT email, first_name AS name, plan FROM users")``
yields one :class:`~contactsync.model.Contact` or :class:`~contactsync.model.RowError`
per result row (see :func:`~contactsync.sources.read_records`), fetched
``chunk`` rows at a time: the result is never held whole.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from contactsync.errors import ConfigurationError, InvalidInput
from contactsync.model import Contact, FieldType, RowError
from contactsync.sources.records import read_records

__all__ = ["read_sql"]


def _sqlalchemy() -> Any:
    try:
        import sqlalchemy
    except ImportError:
        raise ConfigurationError("reading SQL needs SQLAlchemy: pip install 'contactsync[sql]'") from None
    return sqlalchemy


def _engine(sqlalchemy: Any, url: Any) -> Any:
    """An engine for a URL; a bare ``postgresql://`` takes psycopg 3 (this library's PostgreSQL driver)."""
    if not isinstance(url, str):
        return url
    try:
        parsed = sqlalchemy.engine.make_url(url)
    except sqlalchemy.exc.ArgumentError as exc:
        raise ConfigurationError(f"not a database URL: {exc}") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        return sqlalchemy.create_engine(parsed)
    except (sqlalchemy.exc.ArgumentError, ImportError) as exc:
        raise ConfigurationError(f"cannot open {parsed.render_as_string()}: {exc}") from None


def read_sql(
    url: Any,
    query: str,
    *,
    params: Mapping[str, Any] | None = None,
    fields: Mapping[str, str] | None = None,
    field_types: Mapping[str, FieldType] | None = None,
    chunk: int = 1000,
) -> Generator[Contact | RowError, None, None]:
    """The rows of ``query`` (with ``:name`` ``params``) on the database at ``url`` (or an SQLAlchemy engine).

    Rows are streamed (``stream_results``, ``yield_per=chunk``); ``fields`` and
    ``field_types`` are :func:`~contactsync.sources.read_records`'s, the
    columns named as the query names them. The connection closes when the rows run out
    or the iterator is closed.
    """
    sqlalchemy = _sqlalchemy()
    engine = _engine(sqlalchemy, url)
    owned = isinstance(url, str)
    try:
        with engine.connect() as connection:
            try:
                result = connection.execution_options(stream_results=True, yield_per=chunk).execute(
                    sqlalchemy.text(query), dict(params or {})
                )
            except sqlalchemy.exc.SQLAlchemyError as exc:
                raise InvalidInput(f"the query failed: {str(exc).splitlines()[0]}", field="query") from None
            yield from read_records(result, fields=fields, field_types=field_types)
    except sqlalchemy.exc.OperationalError as exc:
        raise ConfigurationError(f"cannot read from the database: {str(exc).splitlines()[0]}") from None
    finally:
        if owned:
            engine.dispose()
