"""SendGrid contact exports (reference/sendgrid.md §9): the job, its polling, and its files read as streams.

An export is asynchronous: ``POST /v3/marketing/contacts/exports`` answers an id, its status
becomes ``ready`` with one URL per file, and each file is a gzipped CSV fetched with a plain
GET and no API key (the transport sends credentials only to the API's own URLs). A file is
read as a stream (gzip, then CSV, row by row), never held whole in memory.
"""

from __future__ import annotations

import csv
import gzip
import io
import time
import zlib
from collections.abc import Iterable, Iterator
from typing import IO, Any, cast
from urllib.parse import quote

import requests

from contactsync.errors import NetworkError, ProviderError
from contactsync.http import Transport
from contactsync.provider import poll_delays
from contactsync.providers.sendgrid.translate import converter
from contactsync.providers.sendgrid.wire import ExportCreated, ExportRequest, ExportStatus

__all__ = ["EXPORT_TIMEOUT", "export_rows", "run_export"]

EXPORT_TIMEOUT = 3600.0
"""Seconds an export may stay ``pending`` (its latency is UNCONFIRMED, §9)."""
_CHUNK = 256 * 1024
_GZIP_MAGIC = b"\x1f\x8b"


def run_export(
    transport: Transport, list_ids: list[str], poll_interval: float, *, max_file_size: int | None = None
) -> ExportStatus:
    """Start a CSV export of ``list_ids`` and poll it (backing off) until it is ``ready``.

    ``max_file_size`` (MB, SendGrid's default 5000) splits a large export into several files.

    reference §9: the status is ``pending``, ``ready`` or ``failure`` (ABT also reads
    ``failed``); anything but the first two ends the export, as a ProviderError.
    """
    body = converter.unstructure(ExportRequest(list_ids=list_ids, max_file_size=max_file_size))
    created = converter.structure(transport.json("POST", "/v3/marketing/contacts/exports", json=body), ExportCreated)
    path = f"/v3/marketing/contacts/exports/{quote(created.id, safe='')}"
    deadline = time.monotonic() + EXPORT_TIMEOUT
    for delay in poll_delays(poll_interval):
        status = converter.structure(transport.json("GET", path), ExportStatus)
        if status.status == "ready":
            return status
        if status.status != "pending":
            why = f": {status.message}" if status.message else ""
            raise ProviderError(f"export {created.id} ended {status.status!r}{why}", provider=transport.provider)
        if time.monotonic() + delay > deadline:
            break
        time.sleep(delay)
    raise ProviderError(f"export {created.id} still pending after {EXPORT_TIMEOUT:g} s", provider=transport.provider)


def export_rows(transport: Transport, url: str) -> Iterator[list[str]]:
    """The rows of one export file, its header first, read as the bytes arrive.

    The body is gzip (its magic bytes are sniffed: whether S3 also sets ``Content-Encoding``
    is UNCONFIRMED, so a body already decoded is read as plain CSV).
    """
    response = transport.request("GET", url, stream=True)
    try:
        # iter_content undoes a Content-Encoding, if the storage set one.
        buffered = io.BufferedReader(_Chunks(response.iter_content(_CHUNK)), buffer_size=_CHUNK)
        stream: IO[bytes] = buffered
        if buffered.peek(2)[:2] == _GZIP_MAGIC:
            stream = cast(IO[bytes], gzip.GzipFile(fileobj=buffered, mode="rb"))
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
        try:
            yield from csv.reader(text)
        except (OSError, EOFError, zlib.error, csv.Error, requests.RequestException) as exc:
            raise NetworkError(
                f"the export file broke off or is not gzipped CSV ({type(exc).__name__})", provider=transport.provider
            ) from None
    finally:
        response.close()


class _Chunks(io.RawIOBase):
    """The bytes of an iterable of chunks as a readable raw stream (for a buffered reader and gzip on top)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        super().__init__()
        self._chunks = iter(chunks)
        self._left = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._left:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._left = chunk
        size = min(len(buffer), len(self._left))
        buffer[:size] = self._left[:size]
        self._left = self._left[size:]
        return size
