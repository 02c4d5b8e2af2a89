"""The dotmailer (dotdigital) v2 emulator, written from reference/dotmailer.md and seed 003.

Imports take two status reads: the upload and the first ``GET /v2/contacts/import/{id}``
answer ``NotFinished``, the second answers the final status (``Finished`` unless a test
forced another with :meth:`DotmailerEmulator.force_next_import_status`), and only then
are the report and the faults CSV served. The rows themselves are applied in the
background from the upload on, as dotdigital does, so they land whether or not anyone
polls; the second status read applies them itself if the background has not yet.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import itertools
import math
import re
import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from contactsync.sandbox.emulator import Emulator, JobLifecycle, StoredContact, json_response
from contactsync.sandbox.simulation import SimulatedEvent

__all__ = ["DotmailerEmulator"]

STATUSES = (
    "Finished",
    "NotFinished",
    "RejectedByWatchdog",
    "InvalidFileFormat",
    "Unknown",
    "Failed",
    "ExceedsAllowedContactLimit",
    "NotAvailableInThisVersion",
)
REPORT_FIELDS = (
    "newContacts",
    "updatedContacts",
    "globallySuppressed",
    "invalidEntries",
    "duplicateEmails",
    "blocked",
    "unsubscribed",
    "hardBounced",
    "softBounced",
    "ispComplaints",
    "mailBlocked",
    "domainSuppressed",
    "pendingDoubleOptin",
    "failures",
    "suppressedContacts",
)
MERGE_OPTIONS = ("Overwrite", "OnlyOverwriteIfNotEmpty", "OnlyOverwriteIfContactDataNotPopulated")
MAX_FILE_BYTES = 10_000_000  # seed 003: "10MB file upload limit"
MAX_ACTIVE_IMPORTS = 25  # reference §1
JOB_STEP_ROWS = 2_000
IMPORT_LIFECYCLE = JobLifecycle(("NotFinished",), counter="reads")
"""An import reads ``NotFinished`` once, then its outcome (applied by then)."""
"""Rows a background import applies per step; requests are answered between steps."""
FIELD_NAME = re.compile(r"[a-zA-Z0-9_-]{1,20}")
EMAIL = re.compile(r"[^@\s,;<>]+@[^@\s,;<>]+\.[A-Za-z]{2,}")
CANNOT_RESUBSCRIBE = frozenset({"HardBounced", "IspComplained", "DomainSuppression", "Suppressed", "MailBlocked"})
DEFAULT_FIELDS = {
    "FIRSTNAME": "String",
    "LASTNAME": "String",
    "FULLNAME": "String",
    "GENDER": "String",
    "POSTCODE": "String",
    "LASTSUBSCRIBED": "Date",
}
NOT_PROCESSED = "Import is not processed yet or completed with error. ERROR_IMPORT_REPORT_NOT_FOUND"
SIMULATED_STATUS = {
    "unsubscribe": "Unsubscribed",
    "bounce": "HardBounced",
    "spam": "IspComplained",
    "block": "MailBlocked",
}
"""The account-level status a recipient's action leaves (reference §4 ApiContactStatuses)."""


def _now() -> str:
    return datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds")


def _typed(kind: str, value: Any) -> Any:
    """A data field value stored by its field's type; raises ValueError when it does not fit."""
    if kind == "String":
        text = str(value)
        if len(text) > 255:
            raise ValueError("ERROR_DATAFIELD_VALUE_OVERFLOW")
        return text
    if kind == "Numeric":
        if isinstance(value, bool):
            raise ValueError(value)
        if isinstance(value, int | float):
            return value
        text = str(value).strip()
        try:
            return int(text)
        except ValueError:
            number = float(text)
            if not math.isfinite(number):
                raise ValueError(text) from None
            return number
    if kind == "Boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text not in ("true", "false"):
            raise ValueError(value)
        return text == "true"
    text = str(value).strip().replace(" ", "T", 1)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed.replace(microsecond=0).isoformat(timespec="seconds")


class DotmailerEmulator(Emulator):
    """One dotmailer account behind HTTP Basic auth, with address books, data fields and imports."""

    name = "dotmailer"
    username = "apiuser-000000000001@apiconnector.com"
    password = "sandbox-api-password"

    def rules(self) -> list[Rule]:
        get, post = ["GET"], ["POST"]
        return [
            Rule("/v2/account-info", methods=get, endpoint="account_info"),
            Rule("/v2/contacts/import", methods=post, endpoint="upload"),
            Rule("/v2/contacts/import/with-merge-option/<merge>", methods=post, endpoint="upload"),
            Rule("/v2/address-books/<int:book>/contacts/import", methods=post, endpoint="upload"),
            Rule(
                "/v2/address-books/<int:book>/contacts/import/with-merge-option/<merge>",
                methods=post,
                endpoint="upload",
            ),
            Rule("/v2/contacts/import/<import_id>", methods=get, endpoint="import_status"),
            Rule("/v2/contacts/import/<import_id>/report", methods=get, endpoint="import_report"),
            Rule("/v2/contacts/import/<import_id>/report-faults", methods=get, endpoint="import_faults"),
            Rule("/v2/contacts/unsubscribe", methods=post, endpoint="unsubscribe_account"),
            Rule("/v2/contacts/resubscribe-with-no-challenge", methods=post, endpoint="resubscribe_account"),
            Rule("/v2/contacts/<key>", methods=get, endpoint="get_contact"),
            Rule("/v2/contacts/<int:contact_id>/address-books", methods=get, endpoint="contact_books"),
            Rule("/v2/address-books", methods=get, endpoint="list_books"),
            Rule("/v2/address-books", methods=post, endpoint="create_book"),
            Rule("/v2/address-books/<int:book>", methods=get, endpoint="get_book"),
            Rule("/v2/address-books/<int:book>/contacts", methods=post, endpoint="add_to_book"),
            Rule("/v2/address-books/<int:book>/contacts/<int:contact_id>", methods=["DELETE"], endpoint="remove"),
            Rule("/v2/address-books/<int:book>/contacts/unsubscribe", methods=post, endpoint="unsubscribe_book"),
            Rule(
                "/v2/address-books/<int:book>/contacts/resubscribe-with-no-challenge",
                methods=post,
                endpoint="resubscribe_book",
            ),
            Rule("/v2/data-fields", methods=get, endpoint="list_fields"),
            Rule("/v2/data-fields", methods=post, endpoint="create_field"),
            Rule("/v2/address-books/<int:book>/contacts", methods=get, endpoint="book_contacts"),
            Rule(
                "/v2/address-books/<int:book>/contacts/unsubscribed-since/<date>",
                methods=get,
                endpoint="book_unsubscribed_since",
            ),
            Rule("/v2/contacts/unsubscribed-since/<date>", methods=get, endpoint="unsubscribed_since"),
            Rule("/v2/contacts/suppressed-since/<date>", methods=get, endpoint="suppressed_since"),
            Rule("/v2/contacts/<int:contact_id>", methods=["DELETE"], endpoint="delete_contact"),
            Rule("/v2/address-books/<int:book>", methods=["DELETE"], endpoint="delete_book"),
        ]

    def initial_state(self) -> dict[str, Any]:
        return {
            "contacts": {},
            "ids": {},
            "books": {},
            "fields": {
                name: {"name": name, "type": kind, "visibility": "Public", "defaultValue": None}
                for name, kind in DEFAULT_FIELDS.items()
            },
            "imports": {},
            "suppressed": {},
            "forced": [],
            "next_contact": 1,
            "next_book": 1,
        }

    def credentials(self) -> dict[str, str]:
        return {"username": self.username, "password": self.password}

    # -- test controls ---------------------------------------------------------------

    def force_next_import_status(self, status: str) -> None:
        """Make the next upload end in ``status`` (one of the eight raw statuses) instead of ``Finished``."""
        if status not in STATUSES or status == "NotFinished":
            raise ValueError(f"{status!r} is not a final import status")
        with self.lock:
            self.state["forced"].append(status)

    def set_status(self, email: str, status: str) -> None:
        """Give a contact an account-level status (``HardBounced``, ``Unsubscribed``...)."""
        with self.lock:
            self._set_status(self._contact_for(email.lower()), status)

    def _set_status(self, contact: dict[str, Any], status: str) -> None:
        """An account-level status; anything but ``Subscribed`` is a suppression, listed with its time
        by ``suppressed-since`` (reference §10)."""
        contact["status"] = status
        suppressed = self.state.setdefault("suppressed", {})
        if status == "Subscribed":
            suppressed.pop(contact["email"], None)
        else:
            suppressed[contact["email"]] = {"dateRemoved": _now() + "Z", "reason": status}

    def contacts(self, list_id: str | None = None) -> list[dict[str, Any]]:
        """Stored contacts (all, or one address book's members) as plain dicts."""
        with self.lock:
            members = None if list_id is None else self.state["books"][str(list_id)]["members"]
            return [
                {**c, "dataFields": dict(c["dataFields"])}
                for email, c in self.state["contacts"].items()
                if members is None or email in members
            ]

    def contact_of(self, record: Mapping[str, Any]) -> StoredContact:
        """Email; the name as the ``FULLNAME`` data field (contactsync's convention, see :doc:`/providers/dotmailer`);
        the other data fields holding a value."""
        fields = dict(record["dataFields"])
        name = fields.pop("FULLNAME", None)
        properties = {key: value for key, value in fields.items() if value not in ("", None)}
        return record["email"], None if name is None else str(name), properties

    # -- the shape of the API ----------------------------------------------------------

    def authenticate(self, request: Request) -> Response | None:
        auth = request.authorization
        if (
            auth is not None
            and auth.type == "basic"
            and (auth.username, auth.password)
            == (
                self.username,
                self.password,
            )
        ):
            return None
        # reference/dotmailer.md §7: the 401 message carries no ERROR_ code
        return json_response(
            {"message": "Authorization has been denied for this request."},
            401,
            {"WWW-Authenticate": 'Basic realm="sandbox"'},
        )

    def error(self, status: int, message: str) -> Response:
        if status == 404 and "ERROR_" not in message:
            # reference/dotmailer.md §7 (S8): 404 bodies may not be JSON
            return Response(f"<html><body>404 {message}</body></html>", status=404, content_type="text/html")
        return json_response({"message": message}, status)

    def rate_limited(self, retry_after: int) -> Response:
        # reference/dotmailer.md §7: the tiered scheme's 429 headers; the v2 body is UNCONFIRMED.
        headers = {"x-ratelimit-limit": "35", "x-ratelimit-reset": str(retry_after), "x-ratelimit-scope": "Low"}
        return json_response({"message": "Too many requests. ERROR_APIUSAGE_EXCEEDED"}, 429, headers)

    def account_info(self, request: Request) -> Response:
        endpoint = f"{request.host_url}{self.name}/"  # the account's region host, with its trailing slash
        return json_response(
            {
                "id": 1,
                "properties": [
                    {"name": "ApiEndpoint", "type": "String", "value": endpoint},
                    {"name": "MainEmail", "type": "String", "value": "owner@example.com"},
                    {"name": "ApiCallsRemaining", "type": "Int32", "value": 2000},
                ],
            }
        )

    # -- contacts and address books ------------------------------------------------------

    def _contact_for(self, email: str) -> dict[str, Any]:
        contacts = self.state["contacts"]
        if email not in contacts:
            number = self.state["next_contact"]
            self.state["next_contact"] = number + 1
            contacts[email] = {
                "id": number,
                "email": email,
                "optInType": "Unknown",
                "emailType": "Html",
                "status": "Subscribed",
                "dataFields": {},
            }
            self.state["ids"][str(number)] = email
        contact: dict[str, Any] = contacts[email]
        return contact

    def _contact_json(self, contact: dict[str, Any], *, full: bool = True) -> dict[str, Any]:
        fields = None
        if full:
            fields = [{"key": name, "value": contact["dataFields"].get(name)} for name in self.state["fields"]]
        return {**{k: contact[k] for k in ("id", "email", "optInType", "emailType", "status")}, "dataFields": fields}

    def _book(self, book: int) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.state["books"].get(str(book))
        return found

    def _book_json(self, book: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": book["id"],
            "name": book["name"],
            "visibility": book["visibility"],
            "contacts": len(book["members"]),
        }

    def _page(self, request: Request, items: list[Any]) -> Response:
        try:
            select = int(request.args.get("select", "1000"))
            skip = int(request.args.get("skip", "0"))
        except ValueError:
            return self.error(400, "select and skip must be numbers")
        if not 1 <= select <= 1000 or skip < 0:
            return self.error(400, "select must be between 1 and 1000")
        return json_response(items[skip : skip + select])

    def get_contact(self, request: Request, key: str) -> Response:
        email = self.state["ids"].get(key) if key.isdigit() else key.lower()
        contact = self.state["contacts"].get(email or "")
        # reference/dotmailer.md §4 (S5): unsubscribed or suppressed contacts are not retrieved
        if contact is None or contact["status"] != "Subscribed":
            return self.error(404, "Error: ERROR_CONTACT_NOT_FOUND")
        return json_response(self._contact_json(contact))

    def contact_books(self, request: Request, contact_id: int) -> Response:
        email = self.state["ids"].get(str(contact_id))
        if email is None:
            return self.error(404, "Error: ERROR_CONTACT_NOT_FOUND")
        books = [self._book_json(b) for b in self.state["books"].values() if email in b["members"]]
        return self._page(request, books)

    def list_books(self, request: Request) -> Response:
        return self._page(request, [self._book_json(b) for b in self.state["books"].values()])

    def get_book(self, request: Request, book: int) -> Response:
        found = self._book(book)
        return (
            self.error(404, "Error: ERROR_ADDRESSBOOK_NOT_FOUND")
            if found is None
            else json_response(self._book_json(found))
        )

    def create_book(self, request: Request) -> Response:
        body = self.json_object(request)
        name = body.get("name") or body.get("Name")
        if not isinstance(name, str) or not name.strip() or len(name) > 128:
            return self.error(400, "The address book name is not valid. ERROR_ADDRESSBOOK_INVALID")
        if any(b["name"].lower() == name.lower() for b in self.state["books"].values()):
            return self.error(400, "An address book with this name exists. ERROR_ADDRESSBOOK_DUPLICATE")
        number = self.state["next_book"]
        self.state["next_book"] = number + 1
        visibility = body.get("visibility") or body.get("Visibility") or "Private"
        book = {"id": number, "name": name, "visibility": visibility, "members": {}, "unsubscribed": {}}
        self.state["books"][str(number)] = book
        return json_response(self._book_json(book))

    def _set_fields(self, contact: dict[str, Any], pairs: Any) -> Response | None:
        updates = {}
        for pair in pairs or []:
            key = str(pair.get("key", pair.get("Key", ""))).upper()
            value = pair.get("value", pair.get("Value"))
            field = self.state["fields"].get(key)
            if field is None:
                return self.error(400, f"No data field called {key}. ERROR_DATAFIELD_NOTFOUND")
            try:
                updates[key] = None if value is None else _typed(field["type"], value)
            except ValueError:
                return self.error(400, f"The value of {key} does not fit its type. ERROR_CONTACT_INVALID")
        contact["dataFields"].update(updates)
        return None

    def add_to_book(self, request: Request, book: int) -> Response:
        found = self._book(book)
        if found is None:
            return self.error(404, "Error: ERROR_ADDRESSBOOK_NOT_FOUND")
        body = self.json_object(request)
        email = str(body.get("email") or body.get("Email") or "").strip().lower()
        if not EMAIL.fullmatch(email):
            return self.error(400, "The contact is not valid. ERROR_CONTACT_INVALID")
        existing = self.state["contacts"].get(email)
        if existing is not None and existing["status"] != "Subscribed":
            return self.error(400, "Contact is suppressed. ERROR_CONTACT_SUPPRESSED")
        if email in found["unsubscribed"]:
            return self.error(
                400, "Contact is suppressed for this address book. ERROR_CONTACT_SUPPRESSEDFORADDRESSBOOK"
            )
        contact = existing if existing is not None else self._contact_for(email)
        refused = self._set_fields(contact, body.get("dataFields", body.get("DataFields")))
        if refused is not None:
            return refused
        found["members"][email] = True
        return json_response(self._contact_json(contact))

    def remove(self, request: Request, book: int, contact_id: int) -> Response:
        found = self._book(book)
        if found is None:
            return self.error(404, "Error: ERROR_ADDRESSBOOK_NOT_FOUND")
        email = self.state["ids"].get(str(contact_id))
        if email is None or email not in found["members"]:
            return self.error(404, "Error: ERROR_CONTACT_NOT_FOUND")
        del found["members"][email]
        return Response(status=204)

    def _suppression(self, contact: dict[str, Any]) -> Response:
        return json_response(
            {
                "suppressedContact": self._contact_json(contact, full=False),
                "dateRemoved": _now(),
                "reason": "Unsubscribed",
            }
        )

    def unsubscribe_book(self, request: Request, book: int) -> Response:
        found = self._book(book)
        if found is None:
            return self.error(404, "Error: ERROR_ADDRESSBOOK_NOT_FOUND")
        body = self.json_object(request)
        email = str(body.get("email") or body.get("Email") or "").strip().lower()
        if not EMAIL.fullmatch(email):
            return self.error(400, "The contact is not valid. ERROR_CONTACT_INVALID")
        contact = self._contact_for(email)
        found["members"].pop(email, None)
        found["unsubscribed"][email] = _now()
        return self._suppression(contact)

    def unsubscribe_account(self, request: Request) -> Response:
        body = self.json_object(request)
        email = str(body.get("email") or body.get("Email") or "").strip().lower()
        if not EMAIL.fullmatch(email):
            return self.error(400, "The contact is not valid. ERROR_CONTACT_INVALID")
        contact = self._contact_for(email)
        self._set_status(contact, "Unsubscribed")
        for book in self.state["books"].values():
            book["members"].pop(email, None)
        return self._suppression(contact)

    def _resubscribe(self, request: Request, book: dict[str, Any] | None) -> Response:
        body = self.json_object(request)
        inner = body.get("unsubscribedContact") or body.get("UnsubscribedContact") or {}
        email = str(inner.get("email") or inner.get("Email") or "").strip().lower()
        if not EMAIL.fullmatch(email):
            return self.error(400, "The resubscription is not valid. ERROR_CONTACT_RESUBSCRIPTION_INVALID")
        contact = self._contact_for(email)
        if contact["status"] in CANNOT_RESUBSCRIBE:
            return json_response({"contact": self._contact_json(contact), "status": "ContactCannotBeUnsuppressed"})
        self._set_status(contact, "Subscribed")
        if book is not None:
            book["unsubscribed"].pop(email, None)
            book["members"][email] = True
        return json_response({"contact": self._contact_json(contact), "status": "ContactAdded"})

    def resubscribe_book(self, request: Request, book: int) -> Response:
        found = self._book(book)
        if found is None:
            return self.error(404, "Error: ERROR_ADDRESSBOOK_NOT_FOUND")
        return self._resubscribe(request, found)

    def resubscribe_account(self, request: Request) -> Response:
        return self._resubscribe(request, None)

    # -- data fields ------------------------------------------------------------------

    def list_fields(self, request: Request) -> Response:
        return json_response(list(self.state["fields"].values()))

    def create_field(self, request: Request) -> Response:
        body = self.json_object(request)
        name = str(body.get("name") or body.get("Name") or "")
        kind = str(body.get("type") or body.get("Type") or "String")
        if not FIELD_NAME.fullmatch(name) or kind not in ("String", "Numeric", "Date", "Boolean"):
            return self.error(400, "The data field is not valid. ERROR_DATAFIELD_INVALID")
        if name.upper() in self.state["fields"]:
            return self.error(400, "Field already exists. ERROR_NON_UNIQUE_DATAFIELD")
        field = {
            "name": name.upper(),
            "type": kind,
            "visibility": body.get("visibility") or body.get("Visibility") or "Private",
            "defaultValue": body.get("defaultValue", body.get("DefaultValue")),
        }
        self.state["fields"][field["name"]] = field
        return json_response(field, 201)

    # -- imports ------------------------------------------------------------------------

    def _file(self, request: Request) -> tuple[str, bytes] | Response:
        """The uploaded file: a multipart part with a filename, or JSON ``{fileName, data}`` (reference §1)."""
        if request.files:
            if len(request.files) > 1:
                return self.error(400, "Only one file per call. ERROR_MULTI_FILE_UPLOAD_NOT_ALLOWED")
            upload = next(iter(request.files.values()))
            return upload.filename or "", upload.read()
        if request.is_json:
            body = {str(k).lower(): v for k, v in self.json_object(request).items()}
            try:
                return str(body.get("filename") or ""), base64.b64decode(str(body.get("data") or ""), validate=True)
            except binascii.Error:
                pass
        return self.error(400, "file must be valid")

    def _rows(self, filename: str, data: bytes) -> list[list[str]]:
        if filename.lower().endswith(".xlsx"):
            from openpyxl import load_workbook  # type: ignore[import-untyped]

            sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
            return [["" if cell is None else str(cell) for cell in row] for row in sheet.iter_rows(values_only=True)]
        if filename.lower().endswith((".xls",)):
            raise ValueError("legacy Excel")
        return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))

    def upload(self, request: Request, book: int | None = None, merge: str = "Overwrite") -> Response:
        option = MERGE_OPTIONS[int(merge)] if merge.isdigit() and int(merge) < len(MERGE_OPTIONS) else merge
        if option not in MERGE_OPTIONS:
            return self.error(400, f"The merge option {merge} is not valid")
        if book is not None and self._book(book) is None:
            return self.error(404, "Error: ERROR_ADDRESSBOOK_NOT_FOUND")
        found = self._file(request)
        if isinstance(found, Response):
            return found
        filename, data = found
        if len(data) > MAX_FILE_BYTES:
            return self.error(413, f"The file is over the {MAX_FILE_BYTES}-byte upload limit")
        try:
            rows = self._rows(filename, data)
        except (ValueError, UnicodeDecodeError, csv.Error, OSError, KeyError):
            return self.error(400, "The file is not in a supported format. ERROR_IMPORT_UNSUPPORTED_FORMAT")
        header = [name.strip() for name in rows[0]] if rows else []
        if not any(name.lower() == "email" for name in header):
            return self.error(400, "The file has no Email column. ERROR_NO_EMAIL_COLUMN")
        imports = self.state["imports"]
        if sum(1 for job in imports.values() if _running(job)) >= MAX_ACTIVE_IMPORTS:
            return self.error(400, "Too many imports are running. ERROR_IMPORT_TOOMANYACTIVEIMPORTS")
        import_id = str(uuid.uuid4())
        forced = self.state["forced"]
        imports[import_id] = {
            "status": "NotFinished",
            "reads": 0,
            "final": forced.pop(0) if forced else ("Failed" if self.job_fails() else "Finished"),
            "book": book,
            "merge": option,
            "header": header,
            "rows": rows[1:],
            "report": None,
            "faults": None,
        }
        self.queue_job(import_id)
        return json_response({"id": import_id, "status": "NotFinished"}, 202)

    def import_status(self, request: Request, import_id: str) -> Response:
        job = self.state["imports"].get(import_id)
        if job is None:  # reference §2 (S4): Unknown may mean an invalid import id
            return json_response({"id": import_id, "status": "Unknown"})
        if job["status"] == "NotFinished":
            job["status"] = self.read_job(job, IMPORT_LIFECYCLE, job["final"], key=import_id)
        return json_response({"id": import_id, "status": job["status"]})

    def job_steps(self, key: str) -> Iterator[None]:
        """Apply an uploaded import (queued at upload; its second status read applies it if the worker has not yet)."""
        job = self.state["imports"].get(key)
        if job is not None and job["rows"] is not None:
            yield from self._finish(job)

    def _finish(self, job: dict[str, Any]) -> Iterator[None]:
        """Apply the rows of an import ending ``Finished``, ``JOB_STEP_ROWS`` a step; its reads set the status."""
        rows, job["rows"] = job["rows"], None
        if job["final"] != "Finished":
            return
        header = job["header"]
        email_at = next(i for i, name in enumerate(header) if name.lower() == "email")
        fields = self.state["fields"]
        columns = [
            (i, name.upper()) for i, name in enumerate(header) if i != email_at and name.upper() in fields
        ]  # other columns map to data fields when one has their name; the rest are ignored
        book = None if job["book"] is None else self._book(job["book"])
        report = dict.fromkeys(REPORT_FIELDS, 0)
        faults: list[list[str]] = []
        seen: set[str] = set()
        for number, row in enumerate(rows, start=1):
            if number % JOB_STEP_ROWS == 0:
                yield  # the lock is released between steps
            cells = (row + [""] * len(header))[: len(header)]
            reason, count = self._apply_row(cells, email_at, columns, merge=job["merge"], book=book, seen=seen)
            report[count] += 1
            if reason is not None:
                faults.append([reason, *cells])
        report["suppressedContacts"] = report["globallySuppressed"] + report["unsubscribed"]
        job.update(report=report, faults=faults)

    def _apply_row(
        self,
        cells: list[str],
        email_at: int,
        columns: list[tuple[int, str]],
        *,
        merge: str,
        book: dict[str, Any] | None,
        seen: set[str],
    ) -> tuple[str | None, str]:
        """Import one row: (fault reason or None, the report count it adds to)."""
        email = cells[email_at].strip().lower()
        if not EMAIL.fullmatch(email):
            return "Invalid Email", "invalidEntries"
        if email in seen:
            return "Duplicate", "duplicateEmails"
        seen.add(email)
        contact = self.state["contacts"].get(email)
        if contact is not None and contact["status"] != "Subscribed":
            if contact["status"] == "Unsubscribed":
                return "Unsubscribed", "unsubscribed"
            return "Globally Suppressed", "globallySuppressed"
        if book is not None and email in book["unsubscribed"]:
            return "Unsubscribed", "unsubscribed"
        updates: dict[str, Any] = {}
        for at, name in columns:
            cell = cells[at]
            if cell == "":
                if merge == "Overwrite":
                    updates[name] = None
                continue
            try:
                updates[name] = _typed(self.state["fields"][name]["type"], cell)
            except ValueError:
                return "Failures", "failures"
        created = contact is None
        contact = self._contact_for(email)
        stored = contact["dataFields"]
        for name, value in updates.items():
            if merge != "OnlyOverwriteIfContactDataNotPopulated" or stored.get(name) in (None, ""):
                stored[name] = value
        if book is not None:
            book["members"][email] = True
        return None, "newContacts" if created else "updatedContacts"

    def import_report(self, request: Request, import_id: str) -> Response:
        job = self.state["imports"].get(import_id)
        if job is None or job["status"] == "NotFinished" or job["report"] is None:
            return self.error(400, NOT_PROCESSED)
        return json_response(job["report"])

    def import_faults(self, request: Request, import_id: str) -> Response:
        job = self.state["imports"].get(import_id)
        if job is None or job["status"] == "NotFinished" or job["faults"] is None:
            return self.error(400, NOT_PROCESSED)
        out = io.StringIO(newline="")
        writer = csv.writer(out)
        writer.writerow(["Reason", *job["header"]])
        writer.writerows(job["faults"])
        body = b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")  # reference §3 (S5 strips a BOM)
        return Response(body, content_type="application/octet-stream")

    # -- reading back, by page and by time (reference §9, §10) ---------------------------------

    def _paging(self, request: Request) -> tuple[int, int] | Response:
        try:
            select = int(request.args.get("select", "1000"))
            skip = int(request.args.get("skip", "0"))
        except ValueError:
            return self.error(400, "select and skip must be numbers")
        if not 1 <= select <= 1000 or skip < 0:
            return self.error(400, "select must be between 1 and 1000")
        return select, skip

    def book_contacts(self, request: Request, book: int) -> Response:
        """``GET /v2/address-books/{id}/contacts``: members in the order they joined, ``dataFields`` null unless
        ``withFullData=true`` (reference §9); a contact unsubscribed from the book is not listed (UNCONFIRMED)."""
        found = self._book(book)
        if found is None:
            return self.error(404, "Error: ERROR_ADDRESSBOOK_NOT_FOUND")
        paging = self._paging(request)
        if isinstance(paging, Response):
            return paging
        select, skip = paging
        full = request.args.get("withFullData", "false").lower() == "true"
        emails = itertools.islice(found["members"], skip, skip + select)
        contacts = self.state["contacts"]
        return json_response([self._contact_json(contacts[email], full=full) for email in emails])

    def _since(self, date: str) -> datetime | Response:
        """The ``{date}`` path segment: ISO 8601, read as UTC without an offset (reference §9: UNCONFIRMED)."""
        try:
            moment = datetime.fromisoformat(date.strip().replace("Z", "+00:00"))
        except ValueError:
            return self.error(400, f"The date {date!r} is not valid. ERROR_PARAMETER_INVALID")
        return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment

    def _suppressions(self, request: Request, date: str, entries: list[tuple[str, str, str]]) -> Response:
        """``ApiContactSuppression`` records of (email, dateRemoved, reason) removed at or after ``date``, paged."""
        since = self._since(date)
        if isinstance(since, Response):
            return since
        paging = self._paging(request)
        if isinstance(paging, Response):
            return paging
        select, skip = paging
        found = [e for e in entries if _instant(e[1]) >= since]
        contacts = self.state["contacts"]
        page = []
        for email, removed, reason in found[skip : skip + select]:
            contact = contacts.get(email) or {"id": 0, "email": email, "optInType": "Unknown", "emailType": "Html"}
            record = {k: contact.get(k) for k in ("id", "email", "optInType", "emailType", "status")}
            page.append({"suppressedContact": {**record, "dataFields": None}, "dateRemoved": removed, "reason": reason})
        return json_response(page)

    def book_unsubscribed_since(self, request: Request, book: int, date: str) -> Response:
        """The book's own unsubscribes since ``date`` (reference §10), oldest first."""
        found = self._book(book)
        if found is None:
            return self.error(404, "Error: ERROR_ADDRESSBOOK_NOT_FOUND")
        entries = [(email, _stamp(at), "Unsubscribed") for email, at in found["unsubscribed"].items()]
        return self._suppressions(request, date, entries)

    def _account_suppressions(self) -> list[tuple[str, str, str]]:
        return [(email, e["dateRemoved"], e["reason"]) for email, e in self.state.setdefault("suppressed", {}).items()]

    def unsubscribed_since(self, request: Request, date: str) -> Response:
        """Account-level unsubscribes since ``date`` (reference §10: only ``Unsubscribed`` is shown there)."""
        entries = [e for e in self._account_suppressions() if e[2] == "Unsubscribed"]
        return self._suppressions(request, date, entries)

    def suppressed_since(self, request: Request, date: str) -> Response:
        """Account-level suppressions of every reason since ``date`` (reference §10)."""
        return self._suppressions(request, date, self._account_suppressions())

    # -- deleting (reference §11) ----------------------------------------------------------

    def delete_contact(self, request: Request, contact_id: int) -> Response:
        """``DELETE /v2/contacts/{id}``: 204; the contact leaves every book, and its suppression goes with it
        (UNCONFIRMED, §11)."""
        email = self.state["ids"].pop(str(contact_id), None)
        if email is None:
            return self.error(404, "Error: ERROR_CONTACT_NOT_FOUND")
        del self.state["contacts"][email]
        self.state.setdefault("suppressed", {}).pop(email, None)
        for book in self.state["books"].values():
            book["members"].pop(email, None)
            book["unsubscribed"].pop(email, None)
        return Response(status=204)

    def delete_book(self, request: Request, book: int) -> Response:
        """``DELETE /v2/address-books/{id}``: 200 with an empty octet-stream body (S1; S2 says 204), contacts kept."""
        if self.state["books"].pop(str(book), None) is None:
            return self.error(404, "Error: ERROR_ADDRESSBOOK_NOT_FOUND")
        return Response(b"", status=200, content_type="application/octet-stream")

    # -- recipients acting (Sandbox.simulate) ------------------------------------------------

    def simulate(self, email: str, event: str, list_id: str | None) -> SimulatedEvent:
        """What dotdigital records when a recipient acts; the records are its ``ApiContactSuppression``s (it has
        no email webhooks, reference §12).

        ``unsubscribe`` with ``list_id`` is the book's own unsubscribe (the contact leaves the book);
        without it, and ``bounce``, ``spam``, ``block``, an account-level status (``Unsubscribed``,
        ``HardBounced``, ``IspComplained``, ``MailBlocked``) that ``suppressed-since`` lists; an
        account unsubscribe also takes the contact out of every book. ``resubscribe`` undoes either.
        """
        contact = self.state["contacts"].get(email)
        if contact is None:
            raise ValueError(f"the dotmailer sandbox has no contact {email}")
        book = None if list_id is None else self.state["books"].get(str(list_id))
        if list_id is not None and book is None:
            raise ValueError(f"the dotmailer sandbox has no address book {list_id}")
        records: list[dict[str, Any]] = []
        if event == "resubscribe":
            if book is not None:
                book["unsubscribed"].pop(email, None)
                book["members"][email] = True
            else:
                self._set_status(contact, "Subscribed")
        elif event == "unsubscribe" and book is not None:
            book["members"].pop(email, None)
            book["unsubscribed"][email] = _now()
            records.append({**self._suppression_record(contact), "dateRemoved": _now() + "Z"})
        else:
            self._set_status(contact, SIMULATED_STATUS[event])
            if event == "unsubscribe":
                for each in self.state["books"].values():
                    each["members"].pop(email, None)
            records.append({**self._suppression_record(contact), "reason": SIMULATED_STATUS[event]})
        return SimulatedEvent(
            self.name, event, email, list_id, datetime.now(timezone.utc).replace(microsecond=0), tuple(records)
        )

    def _suppression_record(self, contact: dict[str, Any]) -> dict[str, Any]:
        return {
            "suppressedContact": self._contact_json(contact, full=False),
            "dateRemoved": _now() + "Z",
            "reason": "Unsubscribed",
        }


def _running(job: dict[str, Any]) -> bool:
    """Whether an import still counts against the active limit: its rows are not all applied yet.

    An import applied in the background is done, as on dotdigital, though its status reads
    ``NotFinished`` until it is read twice.
    """
    return job["status"] == "NotFinished" and (
        job["rows"] is not None or (job["final"] == "Finished" and job["report"] is None)
    )


def _stamp(naive: str) -> str:
    """A stored UTC time (``YYYY-MM-DDTHH:MM:SS``) as ``dateRemoved`` writes it (reference §10: with ``Z``)."""
    return naive if naive.endswith("Z") else naive + "Z"


def _instant(text: str) -> datetime:
    """A ``dateRemoved`` as an aware datetime."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment
