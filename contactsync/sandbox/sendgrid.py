"""An emulator of SendGrid's v3 Marketing Contacts API, written from reference/sendgrid.md and seed 002.

Contacts, lists, custom fields (written by id, read back by name), import jobs that move
``pending`` -> ``completed``/``errored``/``failed`` one step per status GET, the two-step CSV
import with a stand-in presigned storage URL under ``/sendgrid-storage``, error files,
and suppressions (global and group). Validation of values happens inside the job, as on
SendGrid: an upsert answers 202 and the job reports the rows it rejected.

The Event Webhook's settings (reference §13a) register where recipients' events are posted,
signed with a key pair of the emulator's own when signing is on.

A job is applied in the background as soon as it is ready (an upsert at once, a CSV import
when its file is uploaded), so its contacts land whether or not anyone polls. The status
still moves one step per GET: the counts appear on the second, the final status on the
third, and the second applies the job itself if the background has not yet.
"""

from __future__ import annotations

import csv
import functools
import gzip
import hashlib
import io
import json
import re
import threading
import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from contactsync.sandbox.emulator import Emulator, JobLifecycle, StoredContact, json_response
from contactsync.sandbox.simulation import SimulatedEvent
from contactsync.sandbox.webhooks import Push, Redelivery, SigningKey, postable, push_sendgrid, sendgrid_event

__all__ = ["SendGridEmulator"]

STORAGE = "sendgrid-storage"
"""The stand-in for the presigned S3 host: served outside the API's base URL."""
MAX_UPSERT_CONTACTS = 30_000
MAX_UPSERT_BYTES = 6_000_000  # reference/sendgrid.md §3: "6MB"; the strict reading
MAX_IMPORT_CONTACTS = 1_000_000
MAX_IMPORT_BYTES = 5_000_000_000
MAX_CUSTOM_FIELDS = 500
JOB_STEP_ROWS = 1_000
"""Rows a background job applies per step; requests are answered between steps."""
MAX_TEXT_BYTES = 32_766  # reference/sendgrid.md §4 (DOCS custom-fields.md)
SEARCH_LIMIT = 100
SUPPRESSION_PAGE = 500
"""reference/sendgrid.md §12d: ``limit`` is at most 500 on the /v3/suppression lists (default unstated: 500 here)."""
EXPORT_HOURS = 72
"""How long an export's files are kept (reference §9: ``expires_at``; the retention is UNCONFIRMED)."""
EXPORT_COLUMNS = (
    "email",
    "first_name",
    "last_name",
    "address_line_1",
    "address_line_2",
    "city",
    "state_province_region",
    "postal_code",
    "country",
    "alternate_emails",
    "phone_number",
    "whatsapp",
    "line",
    "facebook",
    "unique_name",
    "created_at",
    "updated_at",
    "contact_id",
    "phone_number_id",
    "external_id",
    "anonymous_id",
)
"""The reserved columns of a CSV export, upper-cased on the wire: ABT's recorded header (reference §9), then the
newer identifiers (their presence is UNCONFIRMED); custom fields follow, one column per field name, upper-cased
(UNCONFIRMED)."""

WEBHOOK_FLAGS = (
    "processed",
    "delivered",
    "deferred",
    "dropped",
    "bounce",
    "open",
    "click",
    "spam_report",
    "unsubscribe",
    "group_unsubscribe",
    "group_resubscribe",
)
"""reference §13a: one boolean per event family in a webhook's settings (false unless set: the default is
UNCONFIRMED, and a webhook posting nothing it was not asked for is the safer reading)."""
EVENT_FLAGS: Mapping[str, str] = {flag.replace("spam_report", "spamreport"): flag for flag in WEBHOOK_FLAGS}
"""Event name -> the settings flag that has it posted (reference §13a: the flag ``spam_report``, the event
``spamreport``)."""
MAX_WEBHOOKS = 5
"""reference §13a: ``max_allowed`` (5 in the example); creating one more is refused as a plan restriction."""
TEST_EMAIL = "example@test.com"
"""The recipient of the events ``POST /event/test`` sends (their content is UNCONFIRMED: one of each family)."""

RESERVED: list[tuple[str, str, str, bool]] = [
    ("_rf0_T", "first_name", "Text", False),
    ("_rf1_T", "last_name", "Text", False),
    ("_rf2_T", "email", "Text", False),
    ("_rf3_T", "alternate_emails", "Text", False),
    ("_rf4_T", "address_line_1", "Text", False),
    ("_rf5_T", "address_line_2", "Text", False),
    ("_rf6_T", "city", "Text", False),
    ("_rf7_T", "state_province_region", "Text", False),
    ("_rf8_T", "postal_code", "Text", False),
    ("_rf9_T", "country", "Text", False),
    ("_rf10_T", "phone_number", "Text", False),
    ("_rf11_T", "whatsapp", "Text", False),
    ("_rf12_T", "line", "Text", False),
    ("_rf13_T", "facebook", "Text", False),
    ("_rf14_T", "unique_name", "Text", False),
    ("_rf15_T", "email_domains", "Text", True),
    ("_rf16_D", "last_clicked", "Date", True),
    ("_rf17_D", "last_opened", "Date", True),
    ("_rf18_D", "last_emailed", "Date", True),
    ("_rf19_T", "singlesend_id", "Text", True),
    ("_rf20_T", "automation_id", "Text", True),
    ("_rf21_D", "created_at", "Date", True),
    ("_rf22_D", "updated_at", "Date", True),
    ("_rf23_T", "contact_id", "Text", True),
]
"""reference/sendgrid.md §4: reserved field ids, identical in the spec and in recorded traffic."""

WRITABLE = {name: fid for fid, name, _, read_only in RESERVED if not read_only and name != "alternate_emails"}
STRING_FIELDS = [name for name in WRITABLE if name != "email"] + ["phone_number_id", "external_id", "anonymous_id"]
_NAME_KEYS = ("email", "first_name", "last_name")
EXPORT_LIFECYCLE = JobLifecycle(("pending",))
"""An export reads ``pending`` once, then ``ready`` with its files (written by then)."""
IDENTIFIERS = ("email", "phone_number_id", "external_id", "anonymous_id")
MAX_LENGTH = {
    "email": 254,
    "first_name": 50,
    "last_name": 50,
    "address_line_1": 100,
    "address_line_2": 100,
    "city": 60,
    "state_province_region": 50,
    "country": 50,
    "external_id": 254,
    "anonymous_id": 254,
}

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[0-9]{6,15}")
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _date(raw: Any) -> str | None:
    """A Date value normalised as SendGrid reads it back (``...T23:03:03Z``), or None when invalid."""
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    us = _US_DATE.fullmatch(text)  # reference/sendgrid.md §4: the CSV (UI) format MM/DD/YYYY
    if us:
        text = f"{us.group(3)}-{int(us.group(1)):02d}-{int(us.group(2)):02d}"
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    # reference/sendgrid.md §2: YYYY-MM-DDTHH:MM:SSZ, the year in four digits (strftime's %Y does not pad it)
    return moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def _errors(*entries: tuple[str | None, str]) -> dict[str, Any]:
    return {"errors": [{"field": field, "message": message} for field, message in entries]}


class _RowError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class SendGridEmulator(Emulator):
    """SendGrid's contacts API in memory; ``state`` holds the whole account."""

    name = "sendgrid"
    prefixes: ClassVar[tuple[str, ...]] = (STORAGE,)
    public_endpoints: ClassVar[frozenset[str]] = frozenset({"storage_upload", "storage_errors", "storage_export"})

    def __init__(self, api_key: str = "SG.sandbox-api-key.0123456789") -> None:
        self._api_key = api_key
        self._export_files: dict[str, list[bytes]] = {}
        """Each ready export's gzipped files: kept out of ``state`` (an export made before a reload has expired)."""
        self.redelivery = Redelivery(backoff=2.0)
        """How an Event Webhook POST answered with anything but a 2xx is sent again: at growing pauses, as
        SendGrid retries "at increasing intervals" (reference §13b), a bounded number of times."""
        self._after_response = threading.local()
        """POSTs a request's handler plans (``/event/test``), made by :meth:`handle` once the lock is released."""
        super().__init__()

    # -- Emulator -----------------------------------------------------------------------------

    def initial_state(self) -> dict[str, Any]:
        return {
            "api_key": self._api_key,
            "contacts": {},
            "lists": {},
            "fields": [],
            "next_field": 1,
            "jobs": {},
            "global_suppressions": {},
            "groups": {},
            "group_suppressions": {},
            "next_group": 1,
            "bounces": {},
            "spam_reports": {},
            "blocks": {},
            "exports": {},
            "webhooks": {},
        }

    def credentials(self) -> dict[str, str]:
        return {"api_key": self.state["api_key"]}

    def rules(self) -> list[Rule]:
        mc = "/v3/marketing"
        hooks = "/v3/user/webhooks/event"  # reference §13a: the id-based paths and the legacy id-less ones
        return [
            Rule(f"{mc}/contacts", methods=["PUT"], endpoint="upsert_contacts"),
            Rule(f"{mc}/contacts/imports", methods=["PUT"], endpoint="import_contacts"),
            Rule(f"{mc}/contacts/imports/<job_id>", methods=["GET"], endpoint="import_status"),
            Rule(f"{mc}/contacts/search/emails", methods=["POST"], endpoint="search_emails"),
            Rule(f"{mc}/field_definitions", methods=["GET"], endpoint="list_fields"),
            Rule(f"{mc}/field_definitions", methods=["POST"], endpoint="create_field"),
            Rule(f"{mc}/lists", methods=["GET"], endpoint="list_lists"),
            Rule(f"{mc}/lists", methods=["POST"], endpoint="create_list"),
            Rule(f"{mc}/lists/<list_id>", methods=["GET"], endpoint="get_list"),
            Rule(f"{mc}/lists/<list_id>/contacts", methods=["DELETE"], endpoint="remove_from_list"),
            Rule("/v3/asm/groups", methods=["POST"], endpoint="create_group"),
            Rule("/v3/asm/groups", methods=["GET"], endpoint="list_groups"),
            Rule("/v3/asm/groups/<gid>/suppressions", methods=["POST"], endpoint="add_group_suppressions"),
            Rule("/v3/asm/groups/<gid>/suppressions/search", methods=["POST"], endpoint="search_group_suppressions"),
            Rule("/v3/asm/groups/<gid>/suppressions/<email>", methods=["DELETE"], endpoint="delete_group_suppression"),
            Rule("/v3/asm/suppressions/global", methods=["POST"], endpoint="add_global_suppressions"),
            Rule("/v3/asm/suppressions/global/<email>", methods=["GET"], endpoint="get_global_suppression"),
            Rule("/v3/asm/suppressions/global/<email>", methods=["DELETE"], endpoint="delete_global_suppression"),
            Rule("/v3/asm/suppressions/<email>", methods=["GET"], endpoint="email_suppressions"),
            Rule("/v3/suppression/unsubscribes", methods=["GET"], endpoint="list_unsubscribes"),
            Rule(f"/{STORAGE}/uploads/<job_id>", methods=["PUT"], endpoint="storage_upload"),
            Rule(f"/{STORAGE}/errors/<job_id>", methods=["GET"], endpoint="storage_errors"),
            Rule(f"{mc}/contacts", methods=["DELETE"], endpoint="delete_contacts"),
            Rule(f"{mc}/contacts/exports", methods=["POST"], endpoint="create_export"),
            Rule(f"{mc}/contacts/exports", methods=["GET"], endpoint="list_exports"),
            Rule(f"{mc}/contacts/exports/<export_id>", methods=["GET"], endpoint="export_status"),
            Rule(f"{mc}/lists/<list_id>", methods=["DELETE"], endpoint="delete_list"),
            Rule(f"/{STORAGE}/exports/<export_id>/<int:part>", methods=["GET"], endpoint="storage_export"),
            Rule("/v3/asm/suppressions", methods=["GET"], endpoint="all_group_suppressions"),
            Rule("/v3/asm/groups/<gid>/suppressions", methods=["GET"], endpoint="group_suppressions"),
            Rule("/v3/suppression/bounces", methods=["GET"], endpoint="list_bounces"),
            Rule("/v3/suppression/spam_reports", methods=["GET"], endpoint="list_spam_reports"),
            Rule("/v3/suppression/blocks", methods=["GET"], endpoint="list_blocks"),
            Rule(f"{hooks}/settings", methods=["POST"], endpoint="create_webhook"),
            Rule(f"{hooks}/settings", methods=["GET"], endpoint="get_webhook"),
            Rule(f"{hooks}/settings", methods=["PATCH"], endpoint="update_webhook"),
            Rule(f"{hooks}/settings/all", methods=["GET"], endpoint="list_webhooks"),
            Rule(f"{hooks}/settings/<webhook_id>", methods=["GET"], endpoint="get_webhook"),
            Rule(f"{hooks}/settings/<webhook_id>", methods=["PATCH"], endpoint="update_webhook"),
            Rule(f"{hooks}/settings/<webhook_id>", methods=["DELETE"], endpoint="delete_webhook"),
            Rule(f"{hooks}/settings/signed", methods=["GET"], endpoint="get_signing"),
            Rule(f"{hooks}/settings/signed", methods=["PATCH"], endpoint="toggle_signing"),
            Rule(f"{hooks}/settings/signed/<webhook_id>", methods=["GET"], endpoint="get_signing"),
            Rule(f"{hooks}/settings/signed/<webhook_id>", methods=["PATCH"], endpoint="toggle_signing"),
            Rule(f"{hooks}/test", methods=["POST"], endpoint="test_webhook"),
        ]

    def handle(self, request: Request, path: str) -> Response:
        """Storage routes answer only under their own prefix, API routes only under ``/sendgrid``."""
        storage = request.path.startswith(f"/{STORAGE}/")
        if storage != path.startswith(f"/{STORAGE}/"):
            path = f"/{STORAGE}{path}" if storage else "/not-found"
        self._after_response.pushes = []
        response = super().handle(request, path)
        for push in self._after_response.__dict__.pop("pushes", []):
            push()  # the lock is released: the receiver may call back into the sandbox
        if not storage:  # reference/sendgrid.md §7: every API answer carries the rate-limit headers
            response.headers.setdefault("X-RateLimit-Limit", "600")
            response.headers.setdefault("X-RateLimit-Remaining", "599")
            response.headers.setdefault("X-RateLimit-Reset", "60")
        return response

    def authenticate(self, request: Request) -> Response | None:
        if request.headers.get("Authorization") == f"Bearer {self.state['api_key']}":
            return None
        return self.error(401, "authorization required")

    def error(self, status: int, message: str) -> Response:
        return json_response(_errors((None, message)), status)

    def rate_limited(self, retry_after: int) -> Response:
        # reference/sendgrid.md §7: the documented body; the reset as seconds, as observed (REC-G)
        headers = {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(retry_after)}
        return json_response(_errors((None, "too many requests")), 429, headers)

    # -- helpers ------------------------------------------------------------------------------

    def _api_url(self, request: Request, path: str) -> str:
        return f"{request.host_url}{self.name}{path}"

    def _signature(self, kind: str, job_id: str) -> str:
        return hashlib.sha256(f"{kind}:{job_id}:{self.state['api_key']}".encode()).hexdigest()[:32]

    def _storage_url(self, request: Request, kind: str, job_id: str) -> str:
        return f"{request.host_url}{STORAGE}/{kind}/{job_id}?X-Amz-Signature={self._signature(kind, job_id)}"

    def _field_by_id(self) -> dict[str, dict[str, Any]]:
        fields = {f["id"]: f for f in self.state["fields"]}
        fields.update({fid: {"id": fid, "name": n, "field_type": t} for fid, n, t, _ in RESERVED})
        return fields

    def _missing_lists(self, list_ids: Any) -> Response | None:
        if list_ids is None:
            return None
        if not isinstance(list_ids, list) or not all(isinstance(i, str) for i in list_ids):
            return json_response(_errors(("list_ids", "list_ids must be an array of strings")), 400)
        unknown = [i for i in list_ids if i not in self.state["lists"]]
        if unknown:
            return json_response(_errors(("list_ids", f"list {unknown[0]} does not exist")), 404)
        return None

    @staticmethod
    def _key(contact: dict[str, Any]) -> str | None:
        for kind in IDENTIFIERS:
            value = contact.get(kind)
            if isinstance(value, str) and value:
                return value.lower() if kind == "email" else f"{kind}:{value}"
        return None

    def _details(self, stored: dict[str, Any], request: Request | None = None) -> dict[str, Any]:
        """A stored contact as ``ContactDetails3``: reserved strings "" when unset, custom fields by name."""
        names = {f["id"]: f["name"] for f in self.state["fields"]}
        out: dict[str, Any] = {"id": stored["id"], "email": stored.get("email")}
        out.update({name: stored.get(name, "") for name in STRING_FIELDS})
        out["alternate_emails"] = stored.get("alternate_emails", [])
        out["list_ids"] = list(stored["list_ids"])
        out["segment_ids"] = None  # reference/sendgrid.md §3 (REC-G): null although the spec says array
        out["custom_fields"] = {names[fid]: value for fid, value in stored["custom"].items() if fid in names}
        out["created_at"] = stored["created_at"]
        out["updated_at"] = stored["updated_at"]
        if request is not None:
            out["_metadata"] = {"self": self._api_url(request, f"/v3/marketing/contacts/{stored['id']}")}
        return out

    def contacts(self, list_id: str | None = None) -> list[dict[str, Any]]:
        """Stored contacts as SendGrid reads them back, optionally only the members of ``list_id``."""
        with self.lock:
            return [
                self._details(c) for c in self.state["contacts"].values() if list_id is None or list_id in c["list_ids"]
            ]

    def contact_of(self, record: Mapping[str, Any]) -> StoredContact:
        """Email; the name as ``first_name`` and ``last_name`` joined by a space (contactsync's convention, see
        :doc:`/providers/sendgrid`); the writable reserved fields that are set and the custom fields, by name."""
        first, last = record.get("first_name") or "", record.get("last_name") or ""
        reserved = {key: record[key] for key in WRITABLE if key not in _NAME_KEYS and record.get(key)}
        custom = {key: value for key, value in record["custom_fields"].items() if value not in ("", None)}
        return record["email"], f"{first} {last}" if last else (first or None), {**reserved, **custom}

    # -- values -------------------------------------------------------------------------------

    def _reserved(self, name: str, value: Any) -> str:
        if not isinstance(value, str):
            raise _RowError(name, f"{name} must be a string")
        limit = MAX_LENGTH.get(name)
        if limit is not None and len(value) > limit:
            raise _RowError(name, f"{name} is longer than {limit} characters")
        if name == "phone_number" and value and not _PHONE.fullmatch(re.sub(r"[\s().-]", "", value)):
            raise _RowError(name, f"phone_number '{value}' is not valid")
        return value

    @staticmethod
    def _custom(field: dict[str, Any], value: Any, from_csv: bool) -> Any:
        kind, name = field["field_type"], field["name"]
        if kind == "Number":
            if from_csv and isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
                text = value.strip()
                return int(text) if re.fullmatch(r"-?\d+", text) else float(text)
            if isinstance(value, int | float) and not isinstance(value, bool):
                return value
            # reference/sendgrid.md §3: Number values sent as strings fail in the job
            raise _RowError(name, f"invalid value for Number field {name}")
        if kind == "Date":
            normalised = _date(value)
            if normalised is None:
                raise _RowError(name, f"invalid date for field {name}")
            return normalised
        if not isinstance(value, str):
            raise _RowError(name, f"value for Text field {name} must be a string")
        if len(value.encode()) > MAX_TEXT_BYTES:
            raise _RowError(name, f"value for {name} is longer than {MAX_TEXT_BYTES} bytes")
        return value

    def _apply(self, record: dict[str, Any], custom: dict[str, Any], list_ids: list[str], from_csv: bool) -> bool:
        """Validate one contact and store it (all or nothing). True when it was created."""
        email = record.get("email")
        if isinstance(email, str):
            email = email.strip().lower()  # reference/sendgrid.md §3: emails are stored lower-cased
            if not _EMAIL.fullmatch(email) or len(email) > 254:
                raise _RowError("email", f"email '{record['email']}' is not valid")
            record["email"] = email
        key = self._key(record)
        if key is None:
            raise _RowError("email", "at least one identifier is required")
        fields = self._field_by_id()
        # Unknown keys are ignored, as SendGrid ignores ``listIds`` (reference/sendgrid.md §8)
        reserved: dict[str, Any] = {
            name: self._reserved(name, value) for name, value in record.items() if name in STRING_FIELDS
        }
        alternates = record.get("alternate_emails")
        if alternates is not None:
            if (
                not isinstance(alternates, list)
                or len(alternates) > 5
                or not all(_EMAIL.fullmatch(str(a)) for a in alternates)
            ):
                raise _RowError("alternate_emails", "alternate_emails must be up to 5 valid emails")
            reserved["alternate_emails"] = [str(a).lower() for a in alternates]
        values = {}
        for fid, value in custom.items():
            field = fields.get(fid)
            if field is None or fid.startswith("_rf"):
                raise _RowError(fid, "invalid custom field ids supplied")
            values[fid] = self._custom(field, value, from_csv)
        stored = self.state["contacts"].get(key)
        created = stored is None
        now = _now()
        if stored is None:
            stored = {"id": str(uuid.uuid4()), "custom": {}, "list_ids": [], "created_at": now}
            self.state["contacts"][key] = stored
        if email:
            stored["email"] = email
        stored.update(reserved)
        for fid, value in values.items():
            if value == "":  # our choice (UNCONFIRMED): "" clears a custom Text field
                stored["custom"].pop(fid, None)
            else:
                stored["custom"][fid] = value
        stored["list_ids"].extend(i for i in list_ids if i not in stored["list_ids"])
        stored["updated_at"] = now
        return created

    # -- jobs ---------------------------------------------------------------------------------

    def _new_job(self, job_input: dict[str, Any], requested: int | None) -> str:
        job_id = str(uuid.uuid4())
        results = {} if requested is None else {"requested_count": requested}
        self.state["jobs"][job_id] = {
            "id": job_id,
            "status": "pending",
            "job_type": "upsert_contacts",  # reference/sendgrid.md §2: the value seen on the wire
            "results": results,
            "started_at": _now(),
            "input": job_input,
            "polls": 0,
            "outcome": None,
            "errors": [],
            "fail": self.job_fails(),
        }
        return job_id

    def job_steps(self, key: str) -> Iterator[None]:
        """Apply a ready job (queued when ready; its second status GET applies it if the worker has not yet)."""
        if key.startswith("export:"):
            yield from self._build_export(key.removeprefix("export:"))
            return
        job = self.state["jobs"].get(key)
        if job is not None and job["input"] is not None:
            if job["input"].get("kind") == "delete":
                yield from self._delete(job)
            else:
                yield from self._process(job)

    def _process(self, job: dict[str, Any]) -> Iterator[None]:
        """Apply the job's contacts, a step of ``JOB_STEP_ROWS`` at a time; rows that fail validation are reported.

        The counts wait in ``counts`` until the second status GET shows them as ``results``.
        """
        job_input, job["input"] = job["input"], None
        if job.get("fail"):  # an injected failure (Emulator.fail_next_jobs): nothing is applied
            job["outcome"] = "failed"
            job["counts"] = {}
            return
        list_ids = job_input.get("list_ids") or []
        created = updated = requested = 0
        errors: list[list[str]] = job["errors"]
        rows: Iterator[tuple[int, dict[str, Any], bool]]
        if job_input["kind"] == "json":
            rows = ((i + 1, dict(c), False) for i, c in enumerate(job_input["contacts"]))
        else:
            parsed = self._csv_rows(job_input)
            if isinstance(parsed, str):
                job["outcome"] = "failed"
                job["counts"] = {}
                errors.append(["", "", "", parsed])
                return
            rows = parsed
        for number, record, from_csv in rows:
            requested += 1
            if requested % JOB_STEP_ROWS == 0:
                yield  # the lock is released between steps
            custom = record.pop("custom_fields", None) or {}
            try:
                if not isinstance(custom, dict):
                    raise _RowError("custom_fields", "invalid input")
                if self._apply(record, custom, list_ids, from_csv):
                    created += 1
                else:
                    updated += 1
            except _RowError as exc:
                errors.append([str(number), str(record.get("email") or ""), exc.field, exc.message])
        failed = len(errors)
        job["counts"] = {
            k: v
            for k, v in {
                "requested_count": requested,
                "created_count": created,
                "updated_count": updated,
                "errored_count": failed,
            }.items()
            if v  # reference/sendgrid.md §2: a count that is zero is absent
        }
        job["outcome"] = "completed" if not failed else ("failed" if failed == requested else "errored")

    def _csv_rows(self, job_input: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any], bool]] | str:
        """The uploaded rows as upsert records, read as they are asked for, or why the whole file is unprocessable."""
        mappings: list[str | None] = job_input["field_mappings"]
        if not any(m in (WRITABLE["email"],) for m in mappings):
            return "At least one identifier is required for a successful import"
        reader = csv.reader(io.StringIO(job_input["text"]))
        header = next(reader, None)
        if header is None or len(header) != len(mappings):
            return "Failed to preprocess input csv: the field mapping doesn't match the CSV"
        return self._csv_records(reader, mappings)

    def _csv_records(
        self, reader: Iterator[list[str]], mappings: list[str | None]
    ) -> Iterator[tuple[int, dict[str, Any], bool]]:
        """Each CSV row (after the header) as a numbered upsert record; a row of the wrong width gets no fields."""
        fields = self._field_by_id()
        for number, cells in enumerate(reader, start=1):
            record: dict[str, Any] = {"custom_fields": {}}
            if len(cells) != len(mappings):
                record["custom_fields"] = None  # reported below as an invalid row
            for fid, cell in zip(mappings, cells, strict=False):
                if fid is None or cell == "":
                    continue  # a skipped column; an empty cell leaves the stored value (our reading)
                if fid.startswith("_rf"):
                    record[fields[fid]["name"]] = cell
                else:
                    record["custom_fields"][fid] = cell
            yield number, record, True

    def import_status(self, request: Request, job_id: str) -> Response:
        job = self.state["jobs"].get(job_id)
        if job is None:
            return json_response(_errors((None, "job not found")), 404)
        kind = job["input"].get("kind") if job["input"] is not None else None
        ready = job["input"] is None or kind in ("json", "delete") or job["input"].get("text") is not None
        if job["status"] == "pending" and ready:
            job["polls"] += 1
            if job["polls"] == 2:
                self.settle_job(job_id)
                job["results"] = job.pop("counts")  # counts appear while the status is still pending
            elif job["polls"] >= 3:
                job["status"] = job["outcome"]
                job["finished_at"] = _now()
                if job["errors"]:
                    job["results"]["errors_url"] = self._storage_url(request, "errors", job_id)
        body = {k: job[k] for k in ("id", "status", "job_type", "results", "started_at", "finished_at") if k in job}
        return json_response(body)

    def storage_errors(self, request: Request, job_id: str) -> Response:
        """The errors file (our format, SendGrid's is undocumented): row, email, field, error_message."""
        refused = self._presigned(request, "errors", job_id)
        if refused is not None:
            return refused
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["row", "email", "field", "error_message"])
        writer.writerows(self.state["jobs"][job_id]["errors"])
        return Response(out.getvalue(), content_type="text/csv")

    def _presigned(self, request: Request, kind: str, job_id: str) -> Response | None:
        """S3's answers for a presigned URL: a second auth mechanism, a bad signature, a missing header."""
        if "Authorization" in request.headers:
            return _s3_error(400, "InvalidArgument", "Only one auth mechanism allowed")
        if job_id not in self.state["jobs"] or request.args.get("X-Amz-Signature") != self._signature(kind, job_id):
            return _s3_error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match")
        return None

    # -- contacts -----------------------------------------------------------------------------

    def upsert_contacts(self, request: Request) -> Response:
        raw = request.get_data()
        if len(raw) > MAX_UPSERT_BYTES:
            return json_response(_errors(("", "request body is larger than 6MB")), 413)
        body = self.json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("contacts"), list) or not body["contacts"]:
            return json_response(_errors(("contacts", "contacts is required and must hold at least one contact")), 400)
        contacts = body["contacts"]
        if len(contacts) > MAX_UPSERT_CONTACTS:
            return json_response(_errors(("contacts", f"at most {MAX_UPSERT_CONTACTS} contacts per request")), 400)
        refused = self._missing_lists(body.get("list_ids"))
        if refused is not None:
            return refused
        for index, contact in enumerate(contacts):
            if not isinstance(contact, dict) or not isinstance(contact.get("custom_fields", {}), dict):
                return json_response(_errors(("", "invalid input")), 400)  # reference/sendgrid.md §8 (csharp#1021)
            email = contact.get("email")
            # reference/sendgrid.md §3 (REC-G): an invalid email is refused at once with a 400
            if email is not None and (not isinstance(email, str) or not _EMAIL.fullmatch(email.strip())):
                return json_response(_errors((f"contacts[{index}].email", f"email '{email}' is not valid")), 400)
            if self._key(contact) is None:
                return json_response(_errors((f"contacts[{index}]", "at least one identifier is required")), 400)
        job_input = {"kind": "json", "contacts": contacts, "list_ids": body.get("list_ids") or []}
        job_id = self._new_job(job_input, len(contacts))
        self.queue_job(job_id)
        return json_response({"job_id": job_id}, 202)

    def import_contacts(self, request: Request) -> Response:
        body = self.json_body(request)
        if not isinstance(body, dict) or body.get("file_type") != "csv":
            return json_response(_errors(("file_type", "file_type must be csv")), 400)
        mappings = body.get("field_mappings")
        if not isinstance(mappings, list) or not mappings:
            return json_response(_errors(("field_mappings", "field_mappings needs at least one item")), 400)
        known = self._field_by_id()
        unknown = [m for m in mappings if m is not None and m not in known]
        if unknown:
            return json_response(_errors(("field_mappings", f"invalid field id {unknown[0]!r}")), 400)
        refused = self._missing_lists(body.get("list_ids"))
        if refused is not None:
            return refused
        job_input = {"kind": "csv", "field_mappings": mappings, "list_ids": body.get("list_ids") or [], "text": None}
        job_id = self._new_job(job_input, None)
        headers = [
            {"header": "x-amz-server-side-encryption", "value": "aws:kms"},  # reference/sendgrid.md §1
            {"header": "x-amz-meta-import-job", "value": job_id},  # our own, to prove every pair is sent
        ]
        self.state["jobs"][job_id]["upload_headers"] = headers
        upload_uri = self._storage_url(request, "uploads", job_id)
        return json_response({"job_id": job_id, "upload_uri": upload_uri, "upload_headers": headers})

    def storage_upload(self, request: Request, job_id: str) -> Response:
        """The presigned PUT: raw body (gzip allowed), every returned header, no Authorization."""
        refused = self._presigned(request, "uploads", job_id)
        if refused is not None:
            return refused
        job = self.state["jobs"][job_id]
        for pair in job.get("upload_headers", []):
            if request.headers.get(pair["header"]) != pair["value"]:
                return _s3_error(403, "AccessDenied", f"missing or wrong header {pair['header']}")
        if job["input"] is None or job["input"].get("text") is not None:
            return _s3_error(403, "AccessDenied", "this upload URL was already used")
        data = request.get_data()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        if len(data) > MAX_IMPORT_BYTES:
            return _s3_error(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
        text = data.decode("utf-8-sig", errors="replace")
        if text.count("\n") > MAX_IMPORT_CONTACTS + 1:
            text = "\n"  # processed as unprocessable: the job fails
        job["input"]["text"] = text
        self.queue_job(job_id)
        return Response(b"", status=200, headers={"ETag": f'"{hashlib.md5(data).hexdigest()}"'})

    def search_emails(self, request: Request) -> Response:
        body = self.json_body(request)
        emails = body.get("emails") if isinstance(body, dict) else None
        if not isinstance(emails, list) or not emails or len(emails) > SEARCH_LIMIT:
            return json_response(_errors(("emails", f"emails must hold 1 to {SEARCH_LIMIT} addresses")), 400)
        if not all(isinstance(e, str) and _EMAIL.fullmatch(e.strip()) for e in emails):
            return json_response(_errors(("emails", "one or more emails are not valid")), 400)
        result: dict[str, Any] = {}
        for email in emails:
            stored = self.state["contacts"].get(email.strip().lower())
            result[email] = {"contact": self._details(stored, request)} if stored else {"error": "contact not found"}
        if all("error" in hit for hit in result.values()):
            return json_response(_errors(("emails", "no contacts found")), 404)
        return json_response({"result": result})

    # -- fields -------------------------------------------------------------------------------

    def list_fields(self, request: Request) -> Response:
        reserved = [{"id": i, "name": n, "field_type": t, "read_only": ro} for i, n, t, ro in RESERVED]
        custom = [
            {**f, "_metadata": {"self": self._api_url(request, f"/v3/marketing/field_definitions/{f['id']}")}}
            for f in self.state["fields"]
        ]
        metadata = {"self": self._api_url(request, "/v3/marketing/field_definitions")}
        return json_response({"custom_fields": custom, "reserved_fields": reserved, "_metadata": metadata})

    def create_field(self, request: Request) -> Response:
        body = self.json_body(request)
        name = body.get("name") if isinstance(body, dict) else None
        kind = body.get("field_type") if isinstance(body, dict) else None
        if not isinstance(name, str) or not _FIELD_NAME.fullmatch(name):
            return json_response(
                _errors(("name", "name must be letters, digits and _, starting with a letter or _")), 400
            )
        if kind not in ("Text", "Number", "Date"):
            return json_response(_errors(("field_type", "field_type must be Text, Number or Date")), 400)
        taken = {f["name"].lower() for f in self.state["fields"]} | {n.lower() for _, n, _, _ in RESERVED}
        if name.lower() in taken:
            return json_response(_errors(("name", f"a field named {name} already exists")), 400)
        if len(self.state["fields"]) >= MAX_CUSTOM_FIELDS:
            return json_response(_errors(("", f"at most {MAX_CUSTOM_FIELDS} custom fields")), 400)
        field = {"id": f"e{self.state['next_field']}_{kind[0]}", "name": name, "field_type": kind}
        self.state["next_field"] += 1
        self.state["fields"].append(field)
        url = self._api_url(request, f"/v3/marketing/field_definitions/{field['id']}")
        return json_response({**field, "_metadata": {"self": url}})

    # -- lists --------------------------------------------------------------------------------

    def _list_body(self, request: Request, record: dict[str, Any]) -> dict[str, Any]:
        count = sum(1 for c in self.state["contacts"].values() if record["id"] in c["list_ids"])
        url = self._api_url(request, f"/v3/marketing/lists/{record['id']}")
        return {**record, "contact_count": count, "_metadata": {"self": url}}

    def create_list(self, request: Request) -> Response:
        body = self.json_body(request)
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str) or not name.strip():
            return json_response(_errors(("name", "name is required")), 400)
        record = {"id": str(uuid.uuid4()), "name": name}
        self.state["lists"][record["id"]] = record
        return json_response({**record, "contact_count": 0}, 201)

    def get_list(self, request: Request, list_id: str) -> Response:
        record = self.state["lists"].get(list_id)
        if record is None:
            return json_response(_errors(("list_id", "list not found")), 404)
        return json_response(self._list_body(request, record))

    def list_lists(self, request: Request) -> Response:
        try:
            size = int(request.args.get("page_size", "100"))
            start = int(request.args.get("page_token") or "0")
        except ValueError:
            return json_response(_errors(("page_token", "invalid page_size or page_token")), 400)
        if not 1 <= size <= 1000:
            return json_response(_errors(("page_size", "page_size must be between 1 and 1000")), 400)
        records = list(self.state["lists"].values())
        page = records[start : start + size]
        base = "/v3/marketing/lists"
        metadata: dict[str, Any] = {
            "self": self._api_url(request, f"{base}?page_size={size}&page_token={start}"),
            "count": len(records),
        }
        if start + size < len(records):
            metadata["next"] = self._api_url(request, f"{base}?page_size={size}&page_token={start + size}")
        if start:
            metadata["prev"] = self._api_url(request, f"{base}?page_size={size}&page_token={max(start - size, 0)}")
        result = [{**r, "contact_count": 0} for r in page]
        return json_response({"result": result, "_metadata": metadata})

    def remove_from_list(self, request: Request, list_id: str) -> Response:
        if list_id not in self.state["lists"]:
            return json_response(_errors(("list_id", "list not found")), 404)
        ids = [i for i in request.args.get("contact_ids", "").split(",") if i]
        if not ids:
            return json_response(_errors(("contact_ids", "contact_ids is required")), 400)
        by_id = {c["id"]: c for c in self.state["contacts"].values()}
        if any(i not in by_id for i in ids):
            return json_response(_errors(("contact_ids", "one or more contact IDs do not exist")), 404)
        for contact_id in ids:
            members = by_id[contact_id]["list_ids"]
            if list_id in members:
                members.remove(list_id)
        return json_response({"job_id": str(uuid.uuid4())}, 202)

    # -- suppressions -------------------------------------------------------------------------

    def _recipients(self, request: Request) -> list[str] | None:
        body = self.json_body(request)
        emails = body.get("recipient_emails") if isinstance(body, dict) else None
        if not isinstance(emails, list) or not all(isinstance(e, str) for e in emails):
            return None
        return [e.strip().lower() for e in emails]

    def create_group(self, request: Request) -> Response:
        body = self.json_body(request)
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str) or not 1 <= len(name) <= 30:
            return json_response(_errors(("name", "name is required, at most 30 characters")), 400)
        gid = self.state["next_group"]
        self.state["next_group"] += 1
        group = {"id": gid, "name": name, "description": str(body.get("description", ""))[:100], "is_default": False}
        self.state["groups"][str(gid)] = group
        self.state["group_suppressions"][str(gid)] = {}
        return json_response(group, 201)

    def list_groups(self, request: Request) -> Response:
        """The groups, each with ``unsubscribes``, its count of suppressions (reference §12a)."""
        suppressions = self.state["group_suppressions"]
        groups = [{**g, "unsubscribes": len(suppressions.get(gid, {}))} for gid, g in self.state["groups"].items()]
        return json_response(groups)

    def add_group_suppressions(self, request: Request, gid: str) -> Response:
        emails = self._recipients(request)
        if emails is None:
            return json_response(_errors(("recipient_emails", "recipient_emails is required")), 400)
        # reference/sendgrid.md §5: suppressions for a group that does not exist go to the global list
        target = self.state["group_suppressions"].get(gid, self.state["global_suppressions"])
        stamp = int(datetime.now(timezone.utc).timestamp())
        for email in emails:
            target.setdefault(email, stamp)
        return json_response({"recipient_emails": emails}, 201)

    def search_group_suppressions(self, request: Request, gid: str) -> Response:
        emails = self._recipients(request)
        if emails is None:
            return json_response(_errors(("recipient_emails", "recipient_emails is required")), 400)
        suppressed = self.state["group_suppressions"].get(gid, {})
        return json_response([e for e in emails if e in suppressed])

    def delete_group_suppression(self, request: Request, gid: str, email: str) -> Response:
        self.state["group_suppressions"].get(gid, {}).pop(email.lower(), None)
        return Response(status=204)

    def add_global_suppressions(self, request: Request) -> Response:
        emails = self._recipients(request)
        if emails is None:
            return json_response(_errors(("recipient_emails", "recipient_emails is required")), 400)
        stamp = int(datetime.now(timezone.utc).timestamp())
        for email in emails:
            self.state["global_suppressions"].setdefault(email, stamp)
        return json_response({"recipient_emails": emails}, 201)

    def get_global_suppression(self, request: Request, email: str) -> Response:
        address = email.lower()
        return json_response({"recipient_email": address} if address in self.state["global_suppressions"] else {})

    def delete_global_suppression(self, request: Request, email: str) -> Response:
        self.state["global_suppressions"].pop(email.lower(), None)
        return Response(status=204)

    def email_suppressions(self, request: Request, email: str) -> Response:
        address = email.lower()
        groups = [
            {**group, "suppressed": address in self.state["group_suppressions"].get(gid, {})}
            for gid, group in self.state["groups"].items()
        ]
        return json_response({"suppressions": groups})

    def list_unsubscribes(self, request: Request) -> Response:
        entries = [{"created": t, "email": e} for e, t in self.state["global_suppressions"].items()]
        return _suppression_page(request, entries)

    # -- deletes ------------------------------------------------------------------------------

    def delete_contacts(self, request: Request) -> Response:
        """``DELETE /v3/marketing/contacts?ids=`` or ``?delete_all_contacts=true`` (exactly one): 202 and a job."""
        ids = [i for i in request.args.get("ids", "").split(",") if i]
        everything = request.args.get("delete_all_contacts") == "true"
        if bool(ids) == everything:
            return json_response(_errors(("ids", "set exactly one of ids and delete_all_contacts")), 400)
        job_id = self._new_job({"kind": "delete", "ids": ids, "all": everything}, None)
        self.state["jobs"][job_id]["job_type"] = "delete_contacts"  # reference §11: "delete"-like, UNCONFIRMED
        self.queue_job(job_id)
        return json_response({"job_id": job_id}, 202)

    def _delete(self, job: dict[str, Any]) -> Iterator[None]:
        """Delete the job's contacts; an id that is not there counts as errored (UNCONFIRMED, §10c)."""
        job_input, job["input"] = job["input"], None
        if job.get("fail"):  # an injected failure (Emulator.fail_next_jobs): nothing is deleted
            job["outcome"] = "failed"
            job["counts"] = {}
            return
        contacts = self.state["contacts"]
        by_id = {c["id"]: key for key, c in contacts.items()}
        ids = list(by_id) if job_input["all"] else job_input["ids"]
        deleted = 0
        for number, contact_id in enumerate(ids, start=1):
            if number % JOB_STEP_ROWS == 0:
                yield
            key = by_id.get(contact_id)
            if key is not None and contacts.pop(key, None) is not None:
                deleted += 1
        counts = {"requested_count": len(ids), "deleted_count": deleted, "errored_count": len(ids) - deleted}
        job["counts"] = {k: v for k, v in counts.items() if v}
        job["outcome"] = "completed" if deleted == len(ids) else ("failed" if not deleted else "errored")

    def delete_list(self, request: Request, list_id: str) -> Response:
        """``DELETE /v3/marketing/lists/{id}``: 204, contacts kept; ``?delete_contacts=true``: 200 and a delete job."""
        if list_id not in self.state["lists"]:
            return json_response(_errors(("list_id", "list not found")), 404)
        del self.state["lists"][list_id]
        members = []
        for contact in self.state["contacts"].values():
            if list_id in contact["list_ids"]:
                contact["list_ids"].remove(list_id)
                members.append(contact["id"])
        if request.args.get("delete_contacts") != "true":
            return Response(status=204)
        job_id = self._new_job({"kind": "delete", "ids": members, "all": False}, None)
        self.state["jobs"][job_id]["job_type"] = "delete_contacts"
        self.queue_job(job_id)
        return json_response({"job_id": job_id}, 200)

    # -- exports (reference §9) ---------------------------------------------------------------

    def create_export(self, request: Request) -> Response:
        """``POST /v3/marketing/contacts/exports``: 202 ``{"id", "_metadata"}``; files are made in the background."""
        body = self.json_object(request)
        list_ids = body.get("list_ids") or []
        refused = self._missing_lists(list_ids)
        if refused is not None:
            return refused
        file_type = body.get("file_type", "csv")
        size = body.get("max_file_size", 5000)
        if file_type not in ("csv", "json"):
            return json_response(_errors(("file_type", "file_type must be csv or json")), 400)
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            return json_response(_errors(("max_file_size", "max_file_size is a number of megabytes")), 400)
        export_id = str(uuid.uuid4())
        now = datetime.now(timezone.utc)
        self.state["exports"][export_id] = {
            "id": export_id,
            "status": "pending",
            "created_at": _now(),
            "updated_at": _now(),
            "expires_at": (now + timedelta(hours=EXPORT_HOURS)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "export_type": "list_export" if list_ids else "contacts_export",
            "list_ids": list_ids,
            "file_type": file_type,
            "max_file_size": size,
            "polls": 0,
            "parts": None,
            "contact_count": None,
        }
        self.queue_job(f"export:{export_id}")
        metadata = {"self": self._api_url(request, f"/v3/marketing/contacts/exports/{export_id}")}
        return json_response({"id": export_id, "_metadata": metadata}, 202)

    def _build_export(self, export_id: str) -> Iterator[None]:
        """Write the export's files: gzipped, split at ``max_file_size`` MB of text, each with its header (CSV)."""
        export = self.state["exports"].get(export_id)
        if export is None or export["parts"] is not None:
            return
        wanted = set(export["list_ids"])
        names = [f["name"] for f in self.state["fields"]]
        by_name = {f["id"]: f["name"] for f in self.state["fields"]}
        csv_file = export["file_type"] == "csv"
        header = ",".join(_quoted(name.upper()) for name in (*EXPORT_COLUMNS, *names)) + "\n" if csv_file else ""
        limit = export["max_file_size"] * 1_000_000
        files: list[bytes] = []
        out, size, count = io.BytesIO(), 0, 0
        writer = gzip.GzipFile(fileobj=out, mode="wb", compresslevel=5, mtime=0)
        writer.write(header.encode())
        for number, stored in enumerate(list(self.state["contacts"].values()), start=1):
            if number % JOB_STEP_ROWS == 0:
                yield
            if wanted and not wanted & set(stored["list_ids"]):
                continue
            line = self._export_line(stored, names, by_name) if csv_file else self._export_json(stored, by_name)
            data = line.encode()
            if size and size + len(data) > limit:
                writer.close()
                files.append(out.getvalue())
                out, size = io.BytesIO(), 0
                writer = gzip.GzipFile(fileobj=out, mode="wb", compresslevel=5, mtime=0)
                writer.write(header.encode())
            writer.write(data)
            size += len(data)
            count += 1
        writer.close()
        files.append(out.getvalue())
        self._export_files[export_id] = files
        export.update(parts=len(files), contact_count=count, updated_at=_now())

    @staticmethod
    def _export_line(stored: dict[str, Any], names: list[str], by_name: dict[str, str]) -> str:
        """One CSV row: every non-empty value quoted, empty ones blank (ABT's fixture, reference §9)."""
        values = {name: stored.get(name, "") for name in EXPORT_COLUMNS}
        values["alternate_emails"] = ",".join(stored.get("alternate_emails", []))  # cell format UNCONFIRMED
        values["contact_id"] = stored["id"]
        custom = {by_name[fid]: value for fid, value in stored["custom"].items() if fid in by_name}
        cells = [*(values[name] for name in EXPORT_COLUMNS), *(custom.get(name, "") for name in names)]
        return ",".join(_quoted(_cell(value)) for value in cells) + "\n"

    @staticmethod
    def _export_json(stored: dict[str, Any], by_name: dict[str, str]) -> str:
        """One line of a JSON export: ``contact_id``, set reserved fields, ``custom_fields`` by name (§9)."""
        record: dict[str, Any] = {"contact_id": stored["id"], "created_at": stored["created_at"]}
        record.update({name: stored[name] for name in EXPORT_COLUMNS if stored.get(name) and name != "created_at"})
        record["custom_fields"] = {by_name[fid]: value for fid, value in stored["custom"].items() if fid in by_name}
        return json.dumps(record) + "\n"

    def _export_record(self, request: Request, export: dict[str, Any]) -> dict[str, Any]:
        record = {k: export[k] for k in ("id", "status", "created_at", "updated_at", "expires_at")}
        if export["status"] == "ready":
            record["completed_at"] = export["updated_at"]
            record["contact_count"] = export["contact_count"]
            record["urls"] = [
                self._storage_url(request, "exports", f"{export['id']}/{part}") for part in range(export["parts"])
            ]
        record["_metadata"] = {"self": self._api_url(request, f"/v3/marketing/contacts/exports/{export['id']}")}
        return record

    def export_status(self, request: Request, export_id: str) -> Response:
        """``pending`` on the first read, ``ready`` with its ``urls`` from the second (which finishes the files)."""
        export = self.state["exports"].get(export_id)
        if export is None:
            return json_response(_errors((None, "export not found")), 404)
        if export["status"] == "pending":
            export["status"] = self.read_job(export, EXPORT_LIFECYCLE, "ready", key=f"export:{export_id}")
        return json_response(self._export_record(request, export))

    def list_exports(self, request: Request) -> Response:
        """Every export (reference §9: ``{"result": [...], "_metadata"}``; lists as capitalised ``ID``/``Name``)."""
        result = []
        for export in self.state["exports"].values():
            record = self._export_record(request, export)
            record["export_type"] = export["export_type"]
            lists = [self.state["lists"].get(i, {"id": i, "name": ""}) for i in export["list_ids"]]
            record["lists"] = [{"ID": item["id"], "Name": item["name"]} for item in lists]
            record["segments"] = []
            result.append(record)
        metadata = {"self": self._api_url(request, "/v3/marketing/contacts/exports")}
        return json_response({"result": result, "_metadata": metadata})

    def storage_export(self, request: Request, export_id: str, part: int) -> Response:
        """One export file at its presigned URL: no Authorization header accepted, gzip body (reference §9)."""
        if "Authorization" in request.headers:
            return _s3_error(400, "InvalidArgument", "Only one auth mechanism allowed")
        if request.args.get("X-Amz-Signature") != self._signature("exports", f"{export_id}/{part}"):
            return _s3_error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match")
        files = self._export_files.get(export_id)
        if files is None or not 0 <= part < len(files):
            return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
        return Response(files[part], content_type="application/gzip")

    # -- suppressions by time (reference §12) --------------------------------------------------

    def all_group_suppressions(self, request: Request) -> Response:
        """``GET /v3/asm/suppressions``: every group suppression with its group and ``created_at`` (§12b)."""
        entries = [
            {"email": email, "group_id": int(gid), "group_name": self.state["groups"][gid]["name"], "created_at": t}
            for gid, members in self.state["group_suppressions"].items()
            if gid in self.state["groups"]
            for email, t in members.items()
        ]
        return json_response(entries)

    def group_suppressions(self, request: Request, gid: str) -> Response:
        """``GET /v3/asm/groups/{id}/suppressions``: the group's addresses, a bare array of strings (§12b)."""
        if gid not in self.state["groups"]:
            return json_response(_errors((None, "group not found")), 404)
        return json_response(list(self.state["group_suppressions"].get(gid, {})))

    def list_bounces(self, request: Request) -> Response:
        return _suppression_page(request, list(self.state.setdefault("bounces", {}).values()))

    def list_spam_reports(self, request: Request) -> Response:
        return _suppression_page(request, list(self.state.setdefault("spam_reports", {}).values()))

    def list_blocks(self, request: Request) -> Response:
        return _suppression_page(request, list(self.state.setdefault("blocks", {}).values()))

    # -- the Event Webhook's settings (reference §13a) ---------------------------------------

    def _webhooks(self) -> dict[str, dict[str, Any]]:
        """The webhooks by id, oldest first (a state saved before they existed has none)."""
        webhooks: dict[str, dict[str, Any]] = self.state.setdefault("webhooks", {})
        return webhooks

    def _webhook(self, webhook_id: str | None) -> dict[str, Any] | None:
        """The webhook ``webhook_id`` names; without one, the oldest (reference §13a: id-less calls act on it)."""
        webhooks = self._webhooks()
        if webhook_id is None:
            return next(iter(webhooks.values()), None)
        return webhooks.get(webhook_id)

    @staticmethod
    def _invalid_id() -> Response:
        return json_response({"errors": [{"message": "Invalid id provided."}]}, 404)  # reference §13a

    @staticmethod
    def _public_key(webhook: dict[str, Any]) -> str:
        """reference §13a: the signed webhook's public key, ``""`` while signing is off."""
        key = webhook.get("signing_key")
        return SigningKey.load(key).public_key if webhook.get("signed") and key else ""

    def _render_webhook(self, request: Request, webhook: dict[str, Any]) -> dict[str, Any]:
        """A webhook as SendGrid shows it: OAuth ids only when set, ``public_key`` only when signed, no secret
        (reference §13a); ``account_status_change`` only when ``include=account_status_change`` asks for it."""
        shown = {"enabled": webhook["enabled"], "url": webhook["url"]}
        shown.update({flag: webhook[flag] for flag in WEBHOOK_FLAGS})
        shown.update(friendly_name=webhook["friendly_name"], id=webhook["id"])
        shown.update(created_date=webhook["created_date"], updated_date=webhook["updated_date"])
        shown.update({k: webhook[k] for k in ("oauth_client_id", "oauth_token_url") if webhook[k] is not None})
        if "account_status_change" in request.args.getlist("include"):
            shown["account_status_change"] = webhook["account_status_change"]
        if webhook["signed"]:
            shown["public_key"] = self._public_key(webhook)
        return shown

    def _webhook_values(self, body: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any] | Response:
        """The webhook ``body`` makes of ``current`` (a new one when None), or SendGrid's 400 naming the field."""
        webhook: dict[str, Any] = dict(current or {"url": None, "enabled": False, "friendly_name": None})
        if current is None:
            webhook.update(dict.fromkeys((*WEBHOOK_FLAGS, "account_status_change"), False))
            webhook.update(oauth_client_id=None, oauth_token_url=None, signed=False, signing_key=None)
        url = body.get("url", webhook["url"])
        if not postable(url):
            return json_response(_errors(("url", f"{url!r} is not a valid url")), 400)
        for flag in ("enabled", *WEBHOOK_FLAGS, "account_status_change"):
            value = body.get(flag, webhook[flag])
            if not isinstance(value, bool):
                return json_response(_errors((flag, f"{flag} must be a boolean")), 400)
            webhook[flag] = value
        for name in ("friendly_name", "oauth_client_id", "oauth_token_url", "oauth_client_secret"):
            text = body.get(name)
            if text is not None and not isinstance(text, str):
                return json_response(_errors((name, f"{name} must be a string")), 400)
        webhook["url"] = url
        webhook["friendly_name"] = body.get("friendly_name", webhook["friendly_name"])
        for name in ("oauth_client_id", "oauth_token_url"):
            if name in body:
                webhook[name] = body[name] or None  # reference §13a: "" turns OAuth off
        # reference §13a: the OAuth secret is never returned; the sandbox neither keeps it nor fetches tokens.
        return webhook

    def _url_taken(self, webhook: dict[str, Any]) -> Response | None:
        """reference §13a: one URL per webhook; another one's URL is SendGrid's 400 naming it."""
        other = next((w for w in self._webhooks().values() if w["url"] == webhook["url"]), None)
        if other is None or other["id"] == webhook.get("id"):
            return None
        message = f"Webhook at '{webhook['url']}' already exists. Please provide a unique URL."
        return json_response({"errors": [{"id": other["id"], "message": message, "url": webhook["url"]}]}, 400)

    def _stored_webhook(self, request: Request, webhook: dict[str, Any], status: int) -> Response:
        taken = self._url_taken(webhook)
        if taken is not None:
            return taken
        webhook["updated_date"] = _now()
        self._webhooks()[webhook["id"]] = webhook
        return json_response(self._render_webhook(request, webhook), status)

    def create_webhook(self, request: Request) -> Response:
        """``POST /settings``: 201 and the webhook with its new id (reference §13a); signing is off at creation."""
        if len(self._webhooks()) >= MAX_WEBHOOKS:
            # reference §13a: the plan's max_allowed reached is a plan restriction
            message = "This webhook cannot be modified based on your current billing plan."
            return json_response({"errors": [{"message": message}]}, 400)
        webhook = self._webhook_values(self.json_object(request), None)
        if isinstance(webhook, Response):
            return webhook
        webhook.update(id=str(uuid.uuid4()), created_date=_now())  # reference §13a: a uuid-like id, ISO 8601 UTC
        return self._stored_webhook(request, webhook, 201)

    def list_webhooks(self, request: Request) -> Response:
        """``GET /settings/all``: ``max_allowed`` and every webhook (reference §13a)."""
        webhooks = [self._render_webhook(request, w) for w in self._webhooks().values()]
        return json_response({"max_allowed": MAX_WEBHOOKS, "webhooks": webhooks})

    def get_webhook(self, request: Request, webhook_id: str | None = None) -> Response:
        webhook = self._webhook(webhook_id)
        if webhook is not None:
            return json_response(self._render_webhook(request, webhook))
        if webhook_id is not None:
            return self._invalid_id()
        # reference §13a (OAI-WH-old): the legacy settings of an account with no webhook, a disabled one
        # (what the id-less path answers today is UNCONFIRMED).
        return json_response({"enabled": False, "url": "", **dict.fromkeys(WEBHOOK_FLAGS, False)})

    def update_webhook(self, request: Request, webhook_id: str | None = None) -> Response:
        """``PATCH /settings/{id}``, or without an id the oldest webhook; on an account with none, the id-less
        PATCH makes the legacy webhook, whose ``created_date`` is null (reference §13a)."""
        current = self._webhook(webhook_id)
        if current is None and webhook_id is not None:
            return self._invalid_id()
        webhook = self._webhook_values(self.json_object(request), current)
        if isinstance(webhook, Response):
            return webhook
        if current is None:
            webhook.update(id=str(uuid.uuid4()), created_date=None)
        return self._stored_webhook(request, webhook, 200)

    def delete_webhook(self, request: Request, webhook_id: str) -> Response:
        if self._webhooks().pop(webhook_id, None) is None:
            return self._invalid_id()
        return Response(status=204)

    def get_signing(self, request: Request, webhook_id: str | None = None) -> Response:
        """``GET /settings/signed/{id}``: ``{"id", "public_key"}``, the key ``""`` while signing is off."""
        webhook = self._webhook(webhook_id)
        if webhook is None:
            return self._invalid_id() if webhook_id is not None else json_response({"public_key": ""})
        return json_response({"id": webhook["id"], "public_key": self._public_key(webhook)})

    def toggle_signing(self, request: Request, webhook_id: str | None = None) -> Response:
        """``PATCH /settings/signed/{id}`` with ``{"enabled": bool}`` (required): signing on or off (reference §13a).

        The webhook's key pair is made the first time signing is turned on and kept after, so its public key
        stays the same through a toggle (whether SendGrid makes a new one is UNCONFIRMED).
        """
        webhook = self._webhook(webhook_id)
        if webhook is None:
            return self._invalid_id()
        enabled = self.json_object(request).get("enabled")
        if not isinstance(enabled, bool):
            return json_response(_errors(("enabled", "enabled is required, a boolean")), 400)
        if enabled and webhook.get("signing_key") is None:
            webhook["signing_key"] = SigningKey().export()
        webhook.update(signed=enabled, updated_date=_now())
        return json_response({"id": webhook["id"], "public_key": self._public_key(webhook)})

    def test_webhook(self, request: Request) -> Response:
        """``POST /event/test`` with ``url`` (required) and ``id``: a sample of every event family posted to ``url``,
        signed when the webhook ``id`` (or the one at ``url``) signs; 204 (reference §13a). Tried once (its retry
        logic differs from the events', reference §13b); the POST is made after the lock is released."""
        body = self.json_object(request)
        url = body.get("url")
        if not postable(url):
            return json_response(_errors(("url", "url is required, an http or https URL")), 400)
        webhook_id = body.get("id")
        if webhook_id is not None and (not isinstance(webhook_id, str) or webhook_id not in self._webhooks()):
            return self._invalid_id()
        webhook = self._webhook(webhook_id) if webhook_id is not None else None
        webhook = webhook or next((w for w in self._webhooks().values() if w["url"] == url), None)
        key = self._signing_key(webhook)
        events = [sendgrid_event(name, TEST_EMAIL) for name in EVENT_FLAGS]
        self._after_response.pushes.append(functools.partial(push_sendgrid, url, events, key))
        return Response(status=204)

    def _signing_key(self, webhook: dict[str, Any] | None) -> SigningKey | None:
        """The key ``webhook`` signs with; None when it does not sign."""
        if webhook is None or not webhook.get("signed") or not webhook.get("signing_key"):
            return None
        return SigningKey.load(webhook["signing_key"])

    def webhook_pushes(self, simulated: SimulatedEvent) -> list[Push]:
        """One POST per enabled webhook, of the events its flags ask for, signed when its signing is on (§13)."""
        pushes: list[Push] = []
        for webhook in self._webhooks().values():
            if not webhook["enabled"]:
                continue
            events = [r for r in simulated.records if webhook.get(EVENT_FLAGS.get(str(r["event"]), "")) is True]
            if events:
                send = functools.partial(push_sendgrid, webhook["url"], events, self._signing_key(webhook))
                pushes.append(functools.partial(self.redelivery.deliver, send))
        return pushes

    # -- recipients acting (Sandbox.simulate) ---------------------------------------------------

    def simulate(self, email: str, event: str, list_id: str | None) -> SimulatedEvent:
        """What SendGrid records when a recipient acts, and the Event Webhook objects it would post (§13c).

        SendGrid has no per-list unsubscribe: ``list_id`` is read as an unsubscribe group id,
        and an id that is no group means the global list, as for an API call (reference §5).
        ``unsubscribe``/``resubscribe`` add or delete that suppression (a global resubscribe
        posts no event); ``bounce``, ``spam`` and ``block`` add to the bounces, spam reports
        and blocks lists.
        """
        now = datetime.now(timezone.utc).replace(microsecond=0)
        stamp = int(now.timestamp())
        record = functools.partial(sendgrid_event, email=email, at=now)  # reference §13c: the webhook's objects
        group = list_id if list_id is not None and list_id in self.state["groups"] else None
        records: list[dict[str, Any]] = []
        if event == "unsubscribe":
            if group is not None:
                self.state["group_suppressions"].setdefault(group, {}).setdefault(email, stamp)
                records.append(record("group_unsubscribe", asm_group_id=int(group)))
            else:
                self.state["global_suppressions"].setdefault(email, stamp)
                records.append(record("unsubscribe"))
        elif event == "resubscribe":
            if group is not None:
                self.state["group_suppressions"].get(group, {}).pop(email, None)
                records.append(record("group_resubscribe", asm_group_id=int(group)))
            else:
                self.state["global_suppressions"].pop(email, None)
        elif event == "bounce":
            reason = "550 5.1.1 The email account that you tried to reach does not exist."
            entry = {"created": stamp, "email": email, "reason": reason, "status": "5.1.1"}
            self.state.setdefault("bounces", {})[email] = entry
            records.append(record("bounce", type="bounce", reason=reason, status="5.1.1"))
        elif event == "spam":
            self.state.setdefault("spam_reports", {})[email] = {"created": stamp, "email": email, "ip": "127.0.0.1"}
            records.append(record("spamreport"))
        else:
            reason = "554 5.7.1 Service unavailable; client host blocked"
            entry = {"created": stamp, "email": email, "reason": reason, "status": "4.0.0"}
            self.state.setdefault("blocks", {})[email] = entry
            # reference §13c: a block is a bounce of type "blocked" (a captured one is "Unclassified")
            details: dict[str, Any] = {"bounce_classification": "Unclassified", "reason": reason, "status": "4.0.0"}
            records.append(record("bounce", type="blocked", **details))
        return SimulatedEvent(self.name, event, email, list_id, now, tuple(records))


def _s3_error(status: int, code: str, message: str) -> Response:
    body = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
    return Response(body, status=status, content_type="application/xml")


def _quoted(text: str) -> str:
    """A CSV cell as SendGrid's exports write it: quoted when not empty (reference §9, ABT fixture)."""
    return '"' + text.replace('"', '""') + '"' if text else ""


def _cell(value: Any) -> str:
    """A stored value as export text: numbers as JSON writes them, the rest as text."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return json.dumps(value)


def _suppression_page(request: Request, entries: list[dict[str, Any]]) -> Response:
    """A /v3/suppression list: ``start_time``/``end_time`` (Unix seconds, inclusive) on ``created``, then
    ``limit`` (1 to 500) and ``offset``; a bare array, oldest first (reference §12d; the order is UNCONFIRMED)."""
    try:
        limit = int(request.args.get("limit", str(SUPPRESSION_PAGE)))
        offset = int(request.args.get("offset", "0"))
        start = int(request.args["start_time"]) if "start_time" in request.args else None
        end = int(request.args["end_time"]) if "end_time" in request.args else None
    except ValueError:
        return json_response(_errors(("limit", "limit, offset, start_time and end_time are whole numbers")), 400)
    if not 1 <= limit <= SUPPRESSION_PAGE or offset < 0:
        return json_response(_errors(("limit", f"limit must be between 1 and {SUPPRESSION_PAGE}")), 400)
    found = [e for e in entries if (start is None or e["created"] >= start) and (end is None or e["created"] <= end)]
    return json_response(found[offset : offset + limit])
