"""An emulator of Brevo's v3 contacts API, written from reference/brevo.md alone.

It imports nothing from the plugin's client modules (wire, translate, provider), so a
misreading of the reference shared by both would have to be made twice. Covered: the
import (``jsonBody`` and semicolon ``fileBody``) as a background process whose status
moves ``queued`` -> ``in_process`` -> ``completed``/``failed`` one step per status read,
processes, contacts, lists and their members, folders, attributes, the blacklist, the
``{"code", "message"}`` errors and the ``x-sib-ratelimit-*`` headers on every answer.
Recipients can unsubscribe and be let back in (:meth:`BrevoEmulator.simulate`). Not emulated:
``fileUrl`` imports, SMS-only contacts, ``{"all": true}`` list removals, campaign statistics,
per-list unsubscription and webhooks.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timezone
from typing import Any, ClassVar

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from contactsync.sandbox import Emulator, SimulatedEvent, StoredContact, json_response

__all__ = ["API_KEY", "BrevoEmulator"]

API_KEY = "xkeysib-sandbox0123456789abcdef-Sandbox01"
"""The sandbox account's key (reference/brevo.md §1: keys start with ``xkeysib-``)."""
ACCOUNT_EMAIL = "owner@brevo-sandbox.example"
"""The account's login address: its contact cannot be deleted (reference/brevo.md §4, 405)."""
MAX_IMPORT_BYTES = 10_000_000  # reference/brevo.md §2: fileBody and jsonBody are capped at 10 MB
MAX_LIST_CHANGE = 150  # reference/brevo.md §5: 1 to 150 entries per add or remove
JOB_STEP_ROWS = 1_000
"""Rows a background import applies per step; requests are answered between steps."""
PAGE_LIMITS = {"contacts": (50, 1000), "list_contacts": (50, 500), "lists": (10, 50), "folders": (10, 50)}
"""(default, maximum) of ``limit`` per listing (reference/brevo.md §3-§5)."""
PROCESS_LIMITS = (10, 50)
IDENTIFIER_TYPES = ("email_id", "phone_id", "contact_id", "ext_id", "whatsapp_id", "landline_number_id")
RESERVED_NAMES = frozenset({"EMAIL", "SMS", "EXT_ID", "WHATSAPP", "LANDLINE_NUMBER"})
"""Attribute names with the roles of identifiers (reference/brevo.md §6)."""
CATEGORIES = ("normal", "category", "transactional", "calculated", "global")
NORMAL_TYPES = ("text", "date", "float", "boolean", "multiple-choice", "user")
INITIAL_ATTRIBUTES = (("FIRSTNAME", "text"), ("LASTNAME", "text"))
"""reference/brevo.md §6: FIRSTNAME and LASTNAME exist in new accounts."""
TERMINAL = ("completed", "failed", "cancelled")

_EMAIL = re.compile(r"[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_CODES = {
    400: "invalid_parameter",
    401: "unauthorized",
    402: "not_enough_credits",
    403: "permission_denied",
    404: "document_not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
}
"""reference/brevo.md §8: the error codes and their usual statuses."""


def _now() -> str:
    """A UTC timestamp as Brevo writes them, with milliseconds (reference/brevo.md §4)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _moment(text: str) -> datetime | None:
    """A ``modifiedSince``/``createdSince`` value (``YYYY-MM-DDTHH:mm:ss.SSSZ``, or with an offset)."""
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


def _stamp(text: str) -> datetime:
    """A timestamp this emulator wrote (see :func:`_now`)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _valid_email(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= 254 and _EMAIL.fullmatch(value.strip()) is not None


class BrevoEmulator(Emulator):
    """Brevo's contacts API in memory; ``state`` holds the whole account."""

    name = "brevo"
    public_endpoints: ClassVar[frozenset[str]] = frozenset({"download_duplicates"})

    def __init__(self, api_key: str = API_KEY) -> None:
        self._api_key = api_key
        super().__init__()

    # -- Emulator -------------------------------------------------------------------------

    def initial_state(self) -> dict[str, Any]:
        return {
            "api_key": self._api_key,
            "contacts": {},
            "next_contact": 1,
            "lists": {},
            "next_list": 1,
            "folders": {},
            "next_folder": 1,
            "attributes": [{"name": name, "category": "normal", "type": kind} for name, kind in INITIAL_ATTRIBUTES],
            "processes": {},
            "next_process": 1,
        }

    def credentials(self) -> dict[str, str]:
        return {"api_key": self.state["api_key"]}

    def rules(self) -> list[Rule]:
        c = "/v3/contacts"
        return [
            Rule(f"{c}/import", methods=["POST"], endpoint="import_contacts"),
            Rule("/v3/processes", methods=["GET"], endpoint="list_processes"),
            Rule("/v3/processes/<process_id>", methods=["GET"], endpoint="get_process"),
            Rule(f"{c}/attributes", methods=["GET"], endpoint="list_attributes"),
            Rule(f"{c}/attributes/<category>/<name>", methods=["POST"], endpoint="create_attribute"),
            Rule(f"{c}/attributes/<category>/<name>", methods=["PUT"], endpoint="update_attribute"),
            Rule(f"{c}/attributes/<category>/<name>", methods=["DELETE"], endpoint="delete_attribute"),
            Rule(f"{c}/folders", methods=["GET"], endpoint="list_folders"),
            Rule(f"{c}/folders", methods=["POST"], endpoint="create_folder"),
            Rule(f"{c}/folders/<folder_id>", methods=["GET"], endpoint="get_folder"),
            Rule(f"{c}/folders/<folder_id>/lists", methods=["GET"], endpoint="folder_lists"),
            Rule(f"{c}/lists", methods=["GET"], endpoint="list_lists"),
            Rule(f"{c}/lists", methods=["POST"], endpoint="create_list"),
            Rule(f"{c}/lists/<list_id>", methods=["GET"], endpoint="get_list"),
            Rule(f"{c}/lists/<list_id>", methods=["PUT"], endpoint="update_list"),
            Rule(f"{c}/lists/<list_id>", methods=["DELETE"], endpoint="delete_list"),
            Rule(f"{c}/lists/<list_id>/contacts", methods=["GET"], endpoint="list_members"),
            Rule(f"{c}/lists/<list_id>/contacts/add", methods=["POST"], endpoint="add_to_list"),
            Rule(f"{c}/lists/<list_id>/contacts/remove", methods=["POST"], endpoint="remove_from_list"),
            Rule(c, methods=["GET"], endpoint="list_contacts"),
            Rule(c, methods=["POST"], endpoint="create_contact"),
            Rule(f"{c}/<identifier>", methods=["GET"], endpoint="get_contact"),
            Rule(f"{c}/<identifier>", methods=["PUT"], endpoint="update_contact"),
            Rule(f"{c}/<identifier>", methods=["DELETE"], endpoint="delete_contact"),
            Rule("/downloads/duplicates/<process_id>.csv", methods=["GET"], endpoint="download_duplicates"),
        ]

    def handle(self, request: Request, path: str) -> Response:
        """Every answer carries the rate-limit headers of its bucket (reference/brevo.md §9)."""
        response = super().handle(request, path)
        limit, reset = ("10", "1") if path.startswith("/v3/contacts") else ("100", "3600")
        response.headers.setdefault("x-sib-ratelimit-limit", limit)
        response.headers.setdefault("x-sib-ratelimit-remaining", str(int(limit) - 1))
        response.headers.setdefault("x-sib-ratelimit-reset", reset)
        return response

    def authenticate(self, request: Request) -> Response | None:
        if request.headers.get("api-key") == self.state["api_key"]:
            return None
        return json_response({"code": "unauthorized", "message": "Key not found"}, 401)

    def error(self, status: int, message: str) -> Response:
        # reference/brevo.md §8: every error is {"code", "message"}; the 5xx code is UNCONFIRMED
        return json_response({"code": _CODES.get(status, "internal_error"), "message": message}, status)

    def rate_limited(self, retry_after: int) -> Response:
        # reference/brevo.md §9: a 429 with the x-sib-ratelimit-* headers; its body is UNCONFIRMED (§8),
        # so the error model's shape is assumed. No Retry-After is documented.
        headers = {
            "x-sib-ratelimit-limit": "10",
            "x-sib-ratelimit-remaining": "0",
            "x-sib-ratelimit-reset": str(retry_after),
        }
        return json_response({"code": "too_many_requests", "message": "Too many requests"}, 429, headers)

    def contacts(self, list_id: str | None = None) -> list[dict[str, Any]]:
        """The stored contacts as ``GET /v3/contacts`` reads them, one list's members when ``list_id`` is given."""
        with self.lock:
            return [
                self._out(c)
                for c in self.state["contacts"].values()
                if list_id is None or (list_id.isdigit() and int(list_id) in c["listIds"])
            ]

    def contact_of(self, record: Mapping[str, Any]) -> StoredContact:
        """Email; the name as FIRSTNAME and LASTNAME joined by a space (the plugin's convention, see
        docs/providers/brevo.rst); every other attribute that has a value, by its stored (capital) name."""
        attributes = dict(record["attributes"])
        first, last = attributes.pop("FIRSTNAME", None) or "", attributes.pop("LASTNAME", None) or ""
        name = f"{first} {last}" if last else (first or None)
        return record["email"], name, {key: value for key, value in attributes.items() if value not in ("", None)}

    def simulate(self, email: str, event: str, list_id: str | None) -> SimulatedEvent:
        """A recipient unsubscribes (the email blacklist, Brevo's global opt-out) or is let back in.

        reference/brevo.md §7: the contact stays in its lists, blacklisted; per-list unsubscription
        is an account option no API sets, so it is not emulated. The record is the marketing
        webhook's ``unsubscribed`` payload (§10). What a bounce, a complaint or a block change in the
        account is not in the reference, so those are not simulated.
        """
        if event not in ("unsubscribe", "resubscribe"):
            raise NotImplementedError(f"the Brevo reference does not say what {event!r} changes in the account")
        stored = self.state["contacts"].get(email)
        if stored is None:
            raise ValueError(f"the brevo sandbox has no contact {email}")
        if list_id is not None and self._list(list_id) is None:
            raise ValueError(f"the brevo sandbox has no list {list_id}")
        at = datetime.now(timezone.utc).replace(microsecond=0)
        stored["emailBlacklisted"] = event == "unsubscribe"
        self._touch(stored)
        records: tuple[dict[str, Any], ...] = ()
        if event == "unsubscribe":
            lists = [int(list_id)] if list_id is not None else list(stored["listIds"])
            stamp = int(at.timestamp())
            records = (
                {
                    "event": "unsubscribed",
                    "email": email,
                    "list_id": lists,
                    "date_event": at.strftime("%Y-%m-%d %H:%M:%S"),
                    "ts_event": stamp,
                    "ts": stamp,
                },
            )
        return SimulatedEvent(self.name, event, email, list_id, at, records)

    # -- helpers ------------------------------------------------------------------------------

    def _fail(self, status: int, code: str, message: str) -> Response:
        return json_response({"code": code, "message": message}, status)

    @staticmethod
    def _body(request: Request) -> Any:
        try:
            return json.loads(request.get_data() or b"null")
        except ValueError:
            return None

    def _page(self, request: Request, limits: tuple[int, int]) -> tuple[int, int] | Response:
        """``limit`` and ``offset`` of a listing, or the 400 for values out of range."""
        default, maximum = limits
        try:
            limit = int(request.args.get("limit", default))
            offset = int(request.args.get("offset", 0))
        except ValueError:
            return self._fail(400, "invalid_parameter", "limit and offset must be integers")
        if not 0 <= limit <= maximum or offset < 0:
            return self._fail(400, "out_of_range", f"limit must be between 0 and {maximum}")
        return limit, offset

    def _out(self, stored: dict[str, Any]) -> dict[str, Any]:
        """A stored contact in the contact object's shape (reference/brevo.md §4)."""
        keys = ("id", "email", "emailBlacklisted", "smsBlacklisted", "createdAt", "modifiedAt")
        out = {key: stored[key] for key in keys}
        out["listIds"] = list(stored["listIds"])
        out["attributes"] = dict(stored["attributes"])
        return out

    def _attribute(self, name: str) -> dict[str, Any] | None:
        return next((a for a in self.state["attributes"] if a["name"] == name), None)

    def _find(self, identifier: str, kind: str | None) -> dict[str, Any] | None:
        """A contact by email or id, as the identifier's type says (or by its look when it says nothing)."""
        contacts: dict[str, dict[str, Any]] = self.state["contacts"]
        if kind == "email_id" or (kind is None and "@" in identifier):
            return contacts.get(identifier.strip().lower())
        if kind in ("contact_id", None) and identifier.isdigit():
            return next((c for c in contacts.values() if c["id"] == int(identifier)), None)
        return None  # SMS, ext_id, WhatsApp and landline identifiers: no such contacts here

    def _list(self, list_id: Any) -> dict[str, Any] | None:
        return self.state["lists"].get(str(list_id)) if str(list_id).isdigit() else None

    def _unknown_lists(self, list_ids: Any) -> Response | None:
        """The answer to a body naming lists that are not ints or do not exist; None when all are fine."""
        if list_ids is None:
            return None
        if not isinstance(list_ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in list_ids):
            return self._fail(400, "invalid_parameter", "listIds must be an array of integers")
        missing = [i for i in list_ids if self._list(i) is None]
        if missing:  # reference/brevo.md §2: the answer for an unknown list is UNCONFIRMED
            return self._fail(404, "document_not_found", f"List ID does not exist: {missing[0]}")
        return None

    def _new_contact(self, email: str) -> dict[str, Any]:
        now = _now()
        stored = {
            "id": self.state["next_contact"],
            "email": email,
            "emailBlacklisted": False,
            "smsBlacklisted": False,
            "createdAt": now,
            "modifiedAt": now,
            "listIds": [],
            "attributes": {},
        }
        self.state["next_contact"] += 1
        self.state["contacts"][email] = stored
        return stored

    def _set_attributes(
        self, stored: dict[str, Any], values: dict[str, Any], *, empty_clears: bool, csv_cells: bool
    ) -> None:
        """Store the values Brevo would keep: unknown attributes and mistyped values are dropped silently (§2, §4)."""
        for name, raw in values.items():
            attribute = self._attribute(name)
            if attribute is None or attribute["category"] != "normal":
                continue
            if raw is None or raw == "":
                if empty_clears:
                    stored["attributes"].pop(name, None)
                continue
            value = self._typed(attribute["type"], raw, csv_cells)
            if value is not None:
                stored["attributes"][name] = value

    @staticmethod
    def _typed(kind: str, raw: Any, csv_cell: bool) -> Any:
        """The value as stored for an attribute of ``kind``, or None when Brevo would ignore it."""
        if kind == "text":
            return raw if isinstance(raw, str) else None
        if kind == "float":
            if isinstance(raw, bool):
                return None
            if isinstance(raw, int | float):
                return raw
            if csv_cell and isinstance(raw, str) and _NUMBER.fullmatch(raw.strip()):
                text = raw.strip()
                return int(text) if text.lstrip("+-").isdigit() else float(text)
            return None
        if kind == "boolean":
            return raw if isinstance(raw, bool) else None
        if kind == "date":
            # reference/brevo.md §4: dates are YYYY-MM-DD; with a time part, and in CSV cells, UNCONFIRMED: ignored
            if csv_cell or not isinstance(raw, str) or not _DAY.fullmatch(raw):
                return None
            try:
                return date.fromisoformat(raw).isoformat()
            except ValueError:
                return None
        if kind == "multiple-choice":
            return raw if isinstance(raw, list) and all(isinstance(v, str) for v in raw) else None
        return raw if isinstance(raw, str | int | float) and not isinstance(raw, bool) else None

    @staticmethod
    def _touch(stored: dict[str, Any]) -> None:
        stored["modifiedAt"] = _now()

    # -- the import ---------------------------------------------------------------------------

    def import_contacts(self, request: Request) -> Response:
        body = self._body(request)
        if not isinstance(body, dict):
            return self._fail(400, "invalid_parameter", "the body must be a JSON object")
        sources = [key for key in ("fileBody", "jsonBody", "fileUrl") if body.get(key) is not None]
        if len(sources) != 1:
            return self._fail(400, "missing_parameter", "give exactly one of fileBody, jsonBody or fileUrl")
        source = sources[0]
        if source == "fileUrl":
            return self._fail(400, "invalid_parameter", "the sandbox does not download fileUrl imports")
        if source == "fileBody":
            if not isinstance(body["fileBody"], str):
                return self._fail(400, "invalid_parameter", "fileBody must be a string")
            size = len(body["fileBody"].encode())
        else:
            if not isinstance(body["jsonBody"], list):
                return self._fail(400, "invalid_parameter", "jsonBody must be an array")
            size = len(json.dumps(body["jsonBody"], separators=(",", ":"), ensure_ascii=False).encode())
        if size > MAX_IMPORT_BYTES:
            return self._fail(400, "out_of_range", f"{source} is over the 10 MB limit; use fileUrl")
        list_ids = body.get("listIds")
        new_list = body.get("newList")
        if not list_ids and new_list is None:
            return self._fail(400, "missing_parameter", "listIds is required unless newList is given")
        refused = self._unknown_lists(list_ids)
        if refused is not None:
            return refused
        targets = list(list_ids or [])
        if new_list is not None:
            created = self._list_from(new_list)
            if isinstance(created, Response):
                return created
            targets.append(created["id"])
        flags = {
            key: body.get(key, default)
            for key, default in (
                ("updateExistingContacts", True),
                ("emptyContactsAttributes", False),
                ("emailBlacklist", False),
                ("smsBlacklist", False),
            )
        }
        if not all(isinstance(flag, bool) for flag in flags.values()):
            return self._fail(400, "invalid_parameter", "the import's flags must be booleans")
        process_id = self._new_process({"source": source, "data": body[source], "listIds": targets, **flags})
        self.queue_job(str(process_id))
        return json_response({"processId": process_id}, 202)

    def _new_process(self, job_input: dict[str, Any]) -> int:
        process_id: int = self.state["next_process"]
        self.state["next_process"] += 1
        self.state["processes"][str(process_id)] = {
            "id": process_id,
            "name": "IMPORTUSER",
            "status": "queued",
            "created_at": _now(),
            "completed_at": None,
            "error": None,
            "input": job_input,
            "outcome": None,
            "counts": None,
            "duplicates": [],
            "polls": 0,
            "fail": self.job_fails(),
        }
        return process_id

    def job_steps(self, key: str) -> Iterator[None]:
        """Apply an import's rows, a step of ``JOB_STEP_ROWS`` at a time (nothing once it has been applied)."""
        process = self.state["processes"].get(key)
        if process is None or process["input"] is None:
            return
        job_input, process["input"] = process["input"], None
        if process["fail"]:  # an injected failure (Emulator.fail_next_jobs): nothing is applied
            process["outcome"], process["counts"] = "failed", {}
            process["error"] = "The import failed: no contact was imported"
            return
        rows = self._rows(job_input)
        if isinstance(rows, str):
            process["outcome"], process["counts"], process["error"] = "failed", {}, rows
            return
        seen: set[str] = set()
        invalid = 0
        for number, (email, values) in enumerate(rows, start=1):
            if number % JOB_STEP_ROWS == 0:
                yield  # the lock is released between steps
            if not _valid_email(email):
                invalid += 1
                continue
            key_email = str(email).strip().lower()
            if key_email in seen:  # within one import the first row of an address is kept (our reading)
                process["duplicates"].append(key_email)
                continue
            seen.add(key_email)
            self._import_row(key_email, values, job_input)
        process["counts"] = {"invalid_emails": invalid}
        process["outcome"] = "completed"

    def _import_row(self, email: str, values: dict[str, Any], job_input: dict[str, Any]) -> None:
        stored = self.state["contacts"].get(email)
        if stored is not None and not job_input["updateExistingContacts"]:
            return  # reference/brevo.md §2: existing contacts are left alone
        if stored is None:
            stored = self._new_contact(email)
        self._set_attributes(
            stored,
            values,
            empty_clears=job_input["emptyContactsAttributes"] and job_input["updateExistingContacts"],
            csv_cells=job_input["source"] == "fileBody",
        )
        stored["listIds"].extend(i for i in job_input["listIds"] if i not in stored["listIds"])
        if job_input["emailBlacklist"]:
            stored["emailBlacklisted"] = True
        if job_input["smsBlacklist"]:
            stored["smsBlacklisted"] = True
        self._touch(stored)

    def _rows(self, job_input: dict[str, Any]) -> Iterator[tuple[Any, dict[str, Any]]] | str:
        """(email, attribute values) of each row, or why the whole import cannot be read."""
        if job_input["source"] == "jsonBody":
            return (
                (item.get("email"), item.get("attributes") or {}) if isinstance(item, dict) else (None, {})
                for item in job_input["data"]
            )
        # reference/brevo.md §2: a header row of attribute names, then the rows; attributes separated by semicolons
        reader = csv.reader(io.StringIO(job_input["data"]), delimiter=";")
        header = [cell.strip().upper() for cell in next(reader, [])]
        if "EMAIL" not in header:
            return "The file has no EMAIL column"
        at = header.index("EMAIL")
        return (
            (
                cells[at] if len(cells) > at else None,
                {n: c for n, c in zip(header, cells, strict=False) if n != "EMAIL"},
            )
            for cells in reader
            if cells
        )

    def get_process(self, request: Request, process_id: str) -> Response:
        process = self.state["processes"].get(process_id)
        if process is None:  # reference/brevo.md §3: the answer for an unknown id
            return self._fail(404, "invalid_parameter", "processId is invalid")
        if process["status"] not in TERMINAL:
            process["polls"] += 1
            if process["polls"] == 2:
                self.settle_job(process_id)
                process["status"] = "in_process"
            elif process["polls"] >= 3:
                self.settle_job(process_id)
                process["status"] = process["outcome"]
                process["completed_at"] = _now()
        return json_response(self._process_out(request, process))

    def _process_out(self, request: Request, process: dict[str, Any]) -> dict[str, Any]:
        out = {key: process[key] for key in ("id", "name", "status", "error", "created_at", "completed_at")}
        out["export_url"] = None
        if process["status"] == "completed":
            duplicates = None
            if process["duplicates"]:
                duplicates = f"{request.host_url}{self.name}/downloads/duplicates/{process['id']}.csv"
            counts = process["counts"] or {}
            out["info"] = {
                "import": {
                    "invalid_emails": counts.get("invalid_emails", 0),
                    "duplicate_contact_id": 0,
                    "duplicate_ext_id": 0,
                    "duplicate_email_id": duplicates,
                    "duplicate_phone_id": 0,
                    "duplicate_whatsapp_id": 0,
                    "duplicate_landline_number_id": 0,
                }
            }
        return out

    def list_processes(self, request: Request) -> Response:
        page = self._page(request, PROCESS_LIMITS)
        if isinstance(page, Response):
            return page
        limit, offset = page
        processes = list(self.state["processes"].values())
        if request.args.get("sort", "desc") != "asc":
            processes.reverse()
        listed = [self._process_out(request, p) for p in processes[offset : offset + limit]]
        for entry in listed:
            entry.pop("info", None)
        return json_response({"count": len(processes), "processes": listed})

    def download_duplicates(self, request: Request, process_id: str) -> Response:
        """The CSV of an import's duplicate emails (its format is UNCONFIRMED: one EMAIL column here)."""
        process = self.state["processes"].get(process_id)
        if process is None or not process["duplicates"]:
            return Response("not found\n", status=404, content_type="text/plain")
        return Response("EMAIL\n" + "".join(f"{e}\n" for e in process["duplicates"]), content_type="text/csv")

    # -- contacts -----------------------------------------------------------------------------

    def _identifier(self, request: Request, identifier: str) -> tuple[dict[str, Any] | None, Response | None]:
        kind = request.args.get("identifierType")
        if kind is not None and kind not in IDENTIFIER_TYPES:
            return None, self._fail(400, "invalid_parameter", f"identifierType must be one of {IDENTIFIER_TYPES}")
        stored = self._find(identifier, kind)
        if stored is None:
            return None, self._fail(404, "document_not_found", "Contact does not exist")
        return stored, None

    def get_contact(self, request: Request, identifier: str) -> Response:
        stored, refused = self._identifier(request, identifier)
        if stored is None:
            return refused or self.error(404, "Contact does not exist")
        return json_response({**self._out(stored), "statistics": {}})

    def create_contact(self, request: Request) -> Response:
        body = self._body(request)
        if not isinstance(body, dict):
            return self._fail(400, "invalid_parameter", "the body must be a JSON object")
        email = body.get("email")
        if email is None:
            return self._fail(400, "missing_parameter", "email is required (SMS-only contacts are not emulated)")
        if not _valid_email(email):
            return self._fail(400, "invalid_parameter", "Invalid email address")
        refused = self._unknown_lists(body.get("listIds"))
        if refused is not None:
            return refused
        attributes = body.get("attributes") or {}
        if not isinstance(attributes, dict):
            return self._fail(400, "invalid_parameter", "attributes must be an object")
        address = email.strip().lower()
        stored = self.state["contacts"].get(address)
        if stored is not None and body.get("updateEnabled") is not True:
            # reference/brevo.md §4: the code for an existing contact is UNCONFIRMED
            return self._fail(400, "duplicate_parameter", "Contact already exist")
        created = stored is None
        if stored is None:
            stored = self._new_contact(address)
        self._apply_update(stored, body, attributes)
        if created:
            return json_response({"id": stored["id"]}, 201)
        return Response(status=204)

    def _apply_update(self, stored: dict[str, Any], body: dict[str, Any], attributes: dict[str, Any]) -> None:
        self._set_attributes(stored, attributes, empty_clears=True, csv_cells=False)
        for flag in ("emailBlacklisted", "smsBlacklisted"):
            if isinstance(body.get(flag), bool):
                stored[flag] = body[flag]
        stored["listIds"].extend(i for i in body.get("listIds") or () if i not in stored["listIds"])
        unlink = set(body.get("unlinkListIds") or ())
        stored["listIds"] = [i for i in stored["listIds"] if i not in unlink]
        self._touch(stored)

    def update_contact(self, request: Request, identifier: str) -> Response:
        stored, refused = self._identifier(request, identifier)
        if stored is None:
            return refused or self.error(404, "Contact does not exist")
        body = self._body(request)
        if not isinstance(body, dict):
            return self._fail(400, "invalid_parameter", "the body must be a JSON object")
        for key in ("listIds", "unlinkListIds"):
            refused = self._unknown_lists(body.get(key))
            if refused is not None:
                return refused
        attributes = dict(body.get("attributes") or {})
        new_email = attributes.pop("EMAIL", None)
        if new_email is not None:
            if not _valid_email(new_email) or str(new_email).strip().lower() in self.state["contacts"]:
                return self._fail(400, "invalid_parameter", "Invalid email address")
            del self.state["contacts"][stored["email"]]
            stored["email"] = str(new_email).strip().lower()
            stored["emailBlacklisted"] = False  # reference/brevo.md §7: a new email clears the blacklist
            self.state["contacts"][stored["email"]] = stored
        self._apply_update(stored, body, attributes)
        return Response(status=204)

    def delete_contact(self, request: Request, identifier: str) -> Response:
        stored, refused = self._identifier(request, identifier)
        if stored is None:
            return refused or self.error(404, "Contact does not exist")
        if stored["email"] == ACCOUNT_EMAIL:
            return self._fail(405, "method_not_allowed", "not allowed to delete registered email contact")
        del self.state["contacts"][stored["email"]]
        return Response(status=204)

    def _listing(self, request: Request, contacts: list[dict[str, Any]], limits: tuple[int, int]) -> Response:
        """One page of contacts, filtered by modifiedSince/createdSince and sorted by creation."""
        page = self._page(request, limits)
        if isinstance(page, Response):
            return page
        limit, offset = page
        for arg, key in (("modifiedSince", "modifiedAt"), ("createdSince", "createdAt")):
            if arg in request.args:
                since = _moment(request.args[arg])
                if since is None:
                    return self._fail(400, "invalid_parameter", f"{arg} must be YYYY-MM-DDTHH:mm:ss.SSSZ")
                contacts = [c for c in contacts if _stamp(c[key]) >= since]
        contacts = sorted(contacts, key=lambda c: c["id"], reverse=request.args.get("sort", "desc") != "asc")
        return json_response(
            {"contacts": [self._out(c) for c in contacts[offset : offset + limit]], "count": len(contacts)}
        )

    def list_contacts(self, request: Request) -> Response:
        return self._listing(request, list(self.state["contacts"].values()), PAGE_LIMITS["contacts"])

    # -- lists and folders ----------------------------------------------------------------------

    def _list_out(self, record: dict[str, Any]) -> dict[str, Any]:
        members = [c for c in self.state["contacts"].values() if record["id"] in c["listIds"]]
        blacklisted = sum(1 for c in members if c["emailBlacklisted"])
        return {
            "id": record["id"],
            "name": record["name"],
            "totalBlacklisted": blacklisted,
            "totalSubscribers": len(members) - blacklisted,
            "uniqueSubscribers": len(members),
            "folderId": record["folderId"],
        }

    def _list_from(self, body: Any, *, name_key: str = "listName") -> dict[str, Any] | Response:
        """A new list from ``{"name"|"listName", "folderId"}``: both are required (reference/brevo.md §2, §5)."""
        if not isinstance(body, dict):
            return self._fail(400, "invalid_parameter", "the body must be a JSON object")
        name, folder = body.get(name_key), body.get("folderId")
        if not isinstance(name, str) or not name.strip():
            return self._fail(400, "missing_parameter", f"{name_key} is required")
        if folder is None:
            return self._fail(400, "missing_parameter", "folderId is required")
        if str(folder) not in self.state["folders"]:
            return self._fail(400, "invalid_parameter", "Folder ID does not exist")  # the code is UNCONFIRMED
        record = {"id": self.state["next_list"], "name": name, "folderId": int(folder), "createdAt": _now()}
        self.state["next_list"] += 1
        self.state["lists"][str(record["id"])] = record
        return record

    def create_list(self, request: Request) -> Response:
        created = self._list_from(self._body(request), name_key="name")
        if isinstance(created, Response):
            return created
        return json_response({"id": created["id"]}, 201)

    def list_lists(self, request: Request) -> Response:
        page = self._page(request, PAGE_LIMITS["lists"])
        if isinstance(page, Response):
            return page
        limit, offset = page
        records = sorted(self.state["lists"].values(), key=lambda r: r["id"], reverse=request.args.get("sort") != "asc")
        return json_response(
            {"count": len(records), "lists": [self._list_out(r) for r in records[offset : offset + limit]]}
        )

    def get_list(self, request: Request, list_id: str) -> Response:
        record = self._list(list_id)
        if record is None:
            return self._fail(404, "document_not_found", "List ID does not exist")
        return json_response({**self._list_out(record), "createdAt": record["createdAt"]})

    def update_list(self, request: Request, list_id: str) -> Response:
        record = self._list(list_id)
        if record is None:
            return self._fail(404, "document_not_found", "List ID does not exist")
        body = self._body(request)
        if not isinstance(body, dict):
            return self._fail(400, "invalid_parameter", "the body must be a JSON object")
        if isinstance(body.get("name"), str) and body["name"].strip():
            record["name"] = body["name"]
        if body.get("folderId") is not None:
            if str(body["folderId"]) not in self.state["folders"]:
                return self._fail(400, "invalid_parameter", "Folder ID does not exist")
            record["folderId"] = int(body["folderId"])
        return Response(status=204)

    def delete_list(self, request: Request, list_id: str) -> Response:
        record = self._list(list_id)
        if record is None:
            return self._fail(404, "document_not_found", "List ID does not exist")
        del self.state["lists"][str(record["id"])]
        for stored in self.state["contacts"].values():
            if record["id"] in stored["listIds"]:
                stored["listIds"].remove(record["id"])
        return Response(status=204)

    def list_members(self, request: Request, list_id: str) -> Response:
        record = self._list(list_id)
        if record is None:
            return self._fail(404, "document_not_found", "List ID does not exist")
        members = [c for c in self.state["contacts"].values() if record["id"] in c["listIds"]]
        return self._listing(request, members, PAGE_LIMITS["list_contacts"])

    def _list_change(self, request: Request, list_id: str, add: bool) -> Response:
        record = self._list(list_id)
        if record is None:
            return self._fail(404, "document_not_found", "List ID does not exist")
        body = self._body(request)
        given = [key for key in ("emails", "ids", "extIds") if isinstance(body, dict) and key in body]
        if len(given) != 1 or not isinstance(body[given[0]], list):
            return self._fail(400, "invalid_parameter", "give exactly one of emails, ids or extIds")
        entries = body[given[0]]
        if not 1 <= len(entries) <= MAX_LIST_CHANGE:
            return self._fail(400, "out_of_range", f"give 1 to {MAX_LIST_CHANGE} entries")
        success, failure = [], []
        for entry in entries:
            stored = None
            if given[0] == "emails" and isinstance(entry, str):
                stored = self._find(entry, "email_id")
            elif given[0] == "ids" and isinstance(entry, int):
                stored = self._find(str(entry), "contact_id")
            member = stored is not None and record["id"] in stored["listIds"]
            if stored is None or member == add:  # not there, or already in (or out of) the list
                failure.append(entry)
                continue
            if add:
                stored["listIds"].append(record["id"])
            else:
                stored["listIds"].remove(record["id"])
            self._touch(stored)
            success.append(entry)
        return json_response({"contacts": {"success": success, "failure": failure}}, 201)

    def add_to_list(self, request: Request, list_id: str) -> Response:
        return self._list_change(request, list_id, add=True)

    def remove_from_list(self, request: Request, list_id: str) -> Response:
        body = self._body(request)
        if isinstance(body, dict) and body.get("all") is True:
            return self._fail(400, "invalid_parameter", "the sandbox does not emulate emptying a list")
        return self._list_change(request, list_id, add=False)

    def _folder_out(self, record: dict[str, Any]) -> dict[str, Any]:
        lists = [self._list_out(r) for r in self.state["lists"].values() if r["folderId"] == record["id"]]
        return {
            "id": record["id"],
            "name": record["name"],
            "totalBlacklisted": sum(entry["totalBlacklisted"] for entry in lists),
            "totalSubscribers": sum(entry["totalSubscribers"] for entry in lists),
            "uniqueSubscribers": sum(entry["uniqueSubscribers"] for entry in lists),
        }

    def list_folders(self, request: Request) -> Response:
        page = self._page(request, PAGE_LIMITS["folders"])
        if isinstance(page, Response):
            return page
        limit, offset = page
        records = sorted(self.state["folders"].values(), key=lambda r: r["id"])
        return json_response(
            {"count": len(records), "folders": [self._folder_out(r) for r in records[offset : offset + limit]]}
        )

    def create_folder(self, request: Request) -> Response:
        body = self._body(request)
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str) or not name.strip():
            return self._fail(400, "missing_parameter", "name is required")
        record = {"id": self.state["next_folder"], "name": name}
        self.state["next_folder"] += 1
        self.state["folders"][str(record["id"])] = record
        return json_response({"id": record["id"]}, 201)

    def get_folder(self, request: Request, folder_id: str) -> Response:
        record = self.state["folders"].get(folder_id)
        if record is None:
            return self._fail(404, "document_not_found", "Folder ID does not exist")
        return json_response(self._folder_out(record))

    def folder_lists(self, request: Request, folder_id: str) -> Response:
        record = self.state["folders"].get(folder_id)
        if record is None:
            return self._fail(404, "document_not_found", "Folder ID does not exist")
        lists = [self._list_out(r) for r in self.state["lists"].values() if r["folderId"] == record["id"]]
        return json_response({"count": len(lists), "lists": lists})

    # -- attributes -----------------------------------------------------------------------------

    def list_attributes(self, request: Request) -> Response:
        return json_response({"attributes": [dict(a) for a in self.state["attributes"]]})

    def create_attribute(self, request: Request, category: str, name: str) -> Response:
        if category not in CATEGORIES:
            return self._fail(400, "invalid_parameter", f"attributeCategory must be one of {CATEGORIES}")
        body = self._body(request)
        body = body if isinstance(body, dict) else {}
        # reference/brevo.md §6: names are written in capitals; that Brevo upper-cases a name given otherwise is
        # our reading (UNCONFIRMED). Reserved names and existing ones: the exact error is UNCONFIRMED.
        upper = name.upper()
        if upper in RESERVED_NAMES:
            return self._fail(400, "invalid_parameter", f"{upper} is a reserved attribute name")
        if self._attribute(upper) is not None:
            return self._fail(400, "duplicate_parameter", "Attribute name must be unique")
        record: dict[str, Any] = {"name": upper, "category": category}
        kind = body.get("type")
        if category == "normal":
            kind = kind or "text"
            if kind not in NORMAL_TYPES:
                return self._fail(400, "invalid_parameter", f"type must be one of {NORMAL_TYPES}")
            record["type"] = kind
        elif category == "category":
            if not isinstance(body.get("enumeration"), list) or not body["enumeration"]:
                return self._fail(400, "missing_parameter", "enumeration is required for a category attribute")
            record.update(type="category", enumeration=body["enumeration"])
        elif category == "transactional":
            record["type"] = kind or "text"
        else:
            if not isinstance(body.get("value"), str):
                return self._fail(400, "missing_parameter", "value (the formula) is required")
            record["calculatedValue"] = body["value"]
        self.state["attributes"].append(record)
        return Response(status=201)

    def update_attribute(self, request: Request, category: str, name: str) -> Response:
        record = self._attribute(name.upper())
        if record is None or record["category"] != category:
            return self._fail(404, "document_not_found", "Attribute not found")
        body = self._body(request)
        if isinstance(body, dict) and isinstance(body.get("enumeration"), list):
            record["enumeration"] = body["enumeration"]
        if isinstance(body, dict) and isinstance(body.get("value"), str):
            record["calculatedValue"] = body["value"]
        return Response(status=204)

    def delete_attribute(self, request: Request, category: str, name: str) -> Response:
        record = self._attribute(name.upper())
        if record is None or record["category"] != category:
            return self._fail(404, "document_not_found", "Attribute not found")
        self.state["attributes"].remove(record)
        for stored in self.state["contacts"].values():
            stored["attributes"].pop(record["name"], None)
        return Response(status=204)
