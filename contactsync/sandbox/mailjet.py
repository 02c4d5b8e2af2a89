"""A local stand-in for Mailjet's Email API v3 contacts endpoints, written from reference/mailjet.md and seeds 000/001.

Paths, bodies, status codes and error shapes follow the reference; where it marks a fact
UNCONFIRMED the choice made here is commented. Jobs (managemanycontacts, csvimport) move
one status step per status GET and apply their contacts when they reach ``Completed``.
"""

from __future__ import annotations

import base64
import csv
import functools
import hashlib
import io
import json
import re
import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from contactsync.sandbox.emulator import Emulator, MalformedRequest, StoredContact, json_response
from contactsync.sandbox.paging import Views
from contactsync.sandbox.simulation import SimulatedEvent
from contactsync.sandbox.webhooks import Push, Redelivery, mailjet_event, postable, push_mailjet

__all__ = ["MailjetEmulator"]

ACTIONS = frozenset({"addforce", "addnoforce", "remove", "unsub"})
"""The four list actions (reference §1)."""
CSV_METHODS = ACTIONS | {"excludemarketing", "includemarketing"}
"""csvimport ``Method`` values (reference §4: the four actions and the global exclusion pair)."""
DATATYPES = frozenset({"str", "int", "float", "bool", "datetime"})
"""contactmetadata ``Datatype`` values (reference §5)."""
JOB_STEPS = ("Allocated", "Upload", "Prepare", "Importing", "Completed")
"""managemanycontacts statuses in order (reference §2, DOC-BULK)."""
CSV_STEPS = ("Upload", "Prepare", "Importing", "Completed")
"""csvimport statuses in order (reference §4: created as Upload)."""
MAX_CONTACTS_PER_REQUEST = 10_000
"""No documented maximum (reference §1, UNCONFIRMED); 10K worked and 50K failed in node issue #292."""

# Action path segments Mailjet accepts in any case (reference §1b: "ManageManyContacts"); mailjet-rest 1.9
# turns ``contactslist_ManageManyContacts`` into "manage-many-contacts", which we accept likewise.
_ACTION_SEGMENTS = frozenset({"managemanycontacts", "managecontactslists", "getcontactslists", "managecontact"})
# What this stand-in accepts as an address; Mailjet's rule is unpublished, so a conservative ASCII one.
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+")
ANONYMISED_DOMAIN = "@domain.invalid"
"""reference §11 (DOC-DEL): a GDPR-deleted contact keeps its ID with an address ``\\x<40 hex>@domain.invalid``."""
_FILTER_TRUE = ("true", "1")
CALLBACK_EVENTS: Mapping[str, int] = {
    # reference §12a: the EventType values and the numbers the GET filter takes (NODE-W EventTypeValue).
    "click": 1,
    "bounce": 2,
    "spam": 3,
    "blocked": 4,
    "unsub": 5,
    "open": 6,
    "sent": 7,
}
"""The ``/eventcallbackurl`` event types, with the number each has in the ``EventType`` filter."""
CALLBACK_FIELDS = frozenset({"APIKeyID", "EventType", "IsBackup", "Status", "Url", "Version"})
"""The writable fields of an ``/eventcallbackurl`` record (reference §12a; ``ID`` is read-only)."""
API_KEY_ID = 1
"""The sandbox account's API key id, which a callback record carries as ``APIKeyID`` (reference §12a)."""
_AUTH_FAILURE = (
    "API key authentication/authorization failure. "
    "You may be unauthorized to access the API or your API key may be expired."
)  # reference §7 (DOTNET tests)


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _instant(value: Any, fmt: str | None = None, offset_hours: int = 0) -> str | None:
    """A datetime value as stored: RFC3339 UTC with ``Z``. Accepts RFC3339 (zone-less read as UTC) or Unix seconds."""
    if isinstance(value, bool):
        return None
    number = _as_int(value)
    if number is not None:
        moment = datetime.fromtimestamp(number, tz=timezone.utc)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            if fmt is not None:
                moment = datetime.strptime(text, _strptime_format(fmt))
            else:
                moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone(timedelta(hours=offset_hours)))
    else:
        return None
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _strptime_format(fmt: str) -> str:
    """A csvimport ``DateTimeFormat`` (yyyy yy mm dd hh nn ss; reference §4) as a strptime format."""
    out = fmt
    for token, directive in (("yyyy", "%Y"), ("yy", "%y"), ("mm", "%m"), ("dd", "%d"), ("hh", "%H"), ("nn", "%M")):
        out = out.replace(token, directive)
    out = out.replace("ss", "%S")
    return out + "%z" if re.search(r"[+-]\d\d:\d\d$", fmt) else out


def _typed(value: Any, datatype: str, fmt: str | None = None, offset: int = 0) -> tuple[bool, Any]:
    """(fits, stored value) for a property value and its definition's datatype."""
    if value is None:
        return True, None
    if datatype == "str":
        return (True, value) if isinstance(value, str) else (isinstance(value, int | float), str(value))
    if datatype == "int":
        number = _as_int(value)
        return number is not None, number
    if datatype == "float":
        if isinstance(value, bool):
            return False, None
        try:
            return True, float(value)
        except (TypeError, ValueError):
            return False, None
    if datatype == "bool":
        if isinstance(value, bool):
            return True, value
        text = str(value).strip().lower()
        return text in ("true", "false", "1", "0"), text in ("true", "1")
    stored = _instant(value, fmt, offset)
    return stored is not None, stored


def _arg(request: Request, name: str) -> str | None:
    """A query parameter, its name matched case-insensitively (reference §9a: ``limit`` works as ``Limit``)."""
    wanted = name.lower()
    return next((value for key, value in request.args.items() if key.lower() == wanted), None)


def _text_value(value: Any) -> str:
    """How /contactdata shows a stored value: as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


class MailjetEmulator(Emulator):
    """Mailjet's contacts API: lists, contacts, properties, bulk jobs, CSV imports and their error files."""

    name = "mailjet"
    API_KEY: ClassVar[str] = "mj-sandbox-public-key"
    SECRET_KEY: ClassVar[str] = "mj-sandbox-private-key"

    def rules(self) -> list[Rule]:
        rest = "/v3/REST"
        routes = [
            (f"{rest}/contactslist", "list_lists", ["GET"]),
            (f"{rest}/contactslist", "create_list", ["POST"]),
            (f"{rest}/contactslist/<ref>", "get_list", ["GET"]),
            (f"{rest}/contactslist/<ref>", "update_list", ["PUT"]),
            (f"{rest}/contactslist/<ref>", "delete_list", ["DELETE"]),
            (f"{rest}/contactslist/<ref>/managemanycontacts", "list_bulk", ["POST"]),
            (f"{rest}/contactslist/<ref>/managemanycontacts", "list_jobs", ["GET"]),
            (f"{rest}/contactslist/<ref>/managemanycontacts/<job>", "list_job", ["GET"]),
            (f"{rest}/contactslist/<ref>/managecontact", "manage_contact", ["POST"]),
            (f"{rest}/contact", "list_contacts", ["GET"]),
            (f"{rest}/contact", "create_contact", ["POST"]),
            (f"{rest}/contact/managemanycontacts", "contact_bulk", ["POST"]),
            (f"{rest}/contact/managemanycontacts/<job>", "contact_job", ["GET"]),
            (f"{rest}/contact/<ref>", "get_contact", ["GET"]),
            (f"{rest}/contact/<ref>", "update_contact", ["PUT"]),
            (f"{rest}/contact/<ref>/managecontactslists", "manage_lists", ["POST"]),
            (f"{rest}/contact/<ref>/getcontactslists", "get_lists", ["GET"]),
            (f"{rest}/listrecipient", "list_recipients", ["GET"]),
            (f"{rest}/listrecipient", "create_recipient", ["POST"]),
            (f"{rest}/listrecipient/<ref>", "get_recipient", ["GET"]),
            (f"{rest}/listrecipient/<ref>", "update_recipient", ["PUT"]),
            (f"{rest}/listrecipient/<ref>", "delete_recipient", ["DELETE"]),
            (f"{rest}/contactmetadata", "list_metadata", ["GET"]),
            (f"{rest}/contactmetadata", "create_metadata", ["POST"]),
            (f"{rest}/contactmetadata/<ref>", "get_metadata", ["GET"]),
            (f"{rest}/contactmetadata/<ref>", "update_metadata", ["PUT"]),
            (f"{rest}/contactmetadata/<ref>", "delete_metadata", ["DELETE"]),
            (f"{rest}/contactdata/<ref>", "get_data", ["GET"]),
            (f"{rest}/contactdata/<ref>", "update_data", ["PUT"]),
            (f"{rest}/csvimport", "create_import", ["POST"]),
            (f"{rest}/csvimport/<ref>", "get_import", ["GET"]),
            (f"{rest}/csvimport/<ref>", "update_import", ["PUT"]),
            ("/v3/DATA/contactslist/<ref>/csvdata/<mime>", "upload_csv", ["POST"]),
            ("/v3/DATA/batchjob/<ref>/csverror/text:csv", "csv_errors", ["GET"]),
            ("/v3/DATA/batchjob/<ref>/jsonerror/application:json/last", "json_errors", ["GET"]),
            ("/v4/contacts/<ref>", "gdpr_delete", ["DELETE"]),
            (f"{rest}/contactdata", "list_data", ["GET"]),
            (f"{rest}/eventcallbackurl", "list_callbacks", ["GET"]),
            (f"{rest}/eventcallbackurl", "create_callback", ["POST"]),
            (f"{rest}/eventcallbackurl/<ref>", "get_callback", ["GET"]),
            (f"{rest}/eventcallbackurl/<ref>", "update_callback", ["PUT"]),
            (f"{rest}/eventcallbackurl/<ref>", "delete_callback", ["DELETE"]),
        ]
        # Paths are matched lower-cased (see handle).
        return [Rule(path.lower(), endpoint=endpoint, methods=methods) for path, endpoint, methods in routes]

    def __init__(self) -> None:
        self.views = Views()
        """The ordered key lists of the paged GETs (reference §9: a list read is many pages)."""
        self.redelivery = Redelivery()
        """How an Event API POST that is not answered 200 is sent again: at a fixed pause, as Mailjet retries
        every 30 s (reference §12b), a bounded number of times."""
        super().__init__()

    def load(self, text: str) -> None:
        with self.lock:
            super().load(text)
            self.views.changed()

    def initial_state(self) -> dict[str, Any]:
        return {
            "next_id": {"contact": 1, "list": 1, "job": 1, "data": 1, "metadata": 1, "recipient": 1, "callback": 1},
            "contacts": {},
            "contact_ids": {},
            "lists": {},
            "recipients": {},
            "metadata": {},
            "jobs": {},
            "data": {},
            "callbacks": {},
        }

    def credentials(self) -> dict[str, str]:
        return {"api_key": self.API_KEY, "secret_key": self.SECRET_KEY}

    # -- the protocol -------------------------------------------------------------------------

    def handle(self, request: Request, path: str) -> Response:
        """Route with Mailjet's case-insensitive action paths."""
        segments = [s.lower() for s in path.split("/")]
        segments = [s.replace("-", "") if s.replace("-", "") in _ACTION_SEGMENTS else s for s in segments]
        return super().handle(request, "/".join(segments))

    def authenticate(self, request: Request) -> Response | None:
        header = request.headers.get("Authorization", "")
        expected = base64.b64encode(f"{self.API_KEY}:{self.SECRET_KEY}".encode()).decode()
        if header == f"Basic {expected}":
            return None
        body = {"ErrorIdentifier": str(uuid.uuid4()), "StatusCode": 401, "ErrorMessage": _AUTH_FAILURE}
        return json_response(body, 401, {"WWW-Authenticate": 'Basic realm="Provide an apikey and secretkey"'})

    def error(self, status: int, message: Any, info: Any = "") -> Response:
        """Mailjet's v3 error body (reference §7)."""
        return json_response({"ErrorInfo": info, "ErrorMessage": message, "StatusCode": status}, status)

    def rate_limited(self, retry_after: int) -> Response:
        # reference §7: 429 documented; its body and any Retry-After are UNCONFIRMED; the v3 error shape is used.
        body = {"ErrorInfo": "", "ErrorMessage": "Too many requests", "StatusCode": 429}
        return json_response(body, 429, {"Retry-After": str(retry_after)})

    def fail_jobs(self, jobs: int = 1) -> None:
        """Make the next ``jobs`` bulk jobs end in ``Error`` (:meth:`Emulator.fail_next_jobs`)."""
        self.fail_next_jobs(jobs)

    def contacts(self, list_id: str | None = None) -> list[dict[str, Any]]:
        """Stored contacts (on one list, with their standing, when ``list_id`` is given)."""
        with self.lock:
            found = []
            for contact in self.state["contacts"].values():
                if contact["Email"].endswith(ANONYMISED_DOMAIN):
                    continue  # GDPR-deleted: anonymised until purged
                entry = {key: contact[key] for key in ("ID", "Email", "Name", "IsExcludedFromCampaigns")}
                entry["Properties"] = dict(contact["Properties"])
                if list_id is not None:
                    member = self.state["recipients"].get(f"{contact['ID']}:{list_id}")
                    if member is None:
                        continue
                    entry["IsUnsubscribed"] = member["IsUnsubscribed"]
                found.append(entry)
            return found

    def contact_of(self, record: Mapping[str, Any]) -> StoredContact:
        """Email, ``Name`` (empty: none) and the ``Properties`` holding a value."""
        properties = {key: value for key, value in record["Properties"].items() if value is not None}
        return record["Email"], record["Name"] or None, properties

    # -- helpers ---------------------------------------------------------------------------------

    def _next(self, kind: str) -> int:
        number: int = self.state["next_id"].setdefault(kind, 1)  # a kind newer than a loaded state starts at 1
        self.state["next_id"][kind] = number + 1
        return number

    @staticmethod
    def _envelope(items: list[Any], status: int = 200) -> Response:
        return json_response({"Count": len(items), "Data": items, "Total": len(items)}, status)

    def _page(self, request: Request, items: list[Any], render: Any = None) -> Response:
        """One page: ``Limit`` default 10, max 1000, 0 the maximum; ``Offset``; ``countOnly`` (reference §7, §9a).

        ``render`` makes the records of the page's items when ``items`` are keys.
        """
        if _arg(request, "countOnly") in _FILTER_TRUE:
            return json_response({"Count": len(items), "Data": [], "Total": len(items)})
        limit = _as_int(_arg(request, "Limit") or "10")
        offset = _as_int(_arg(request, "Offset") or "0") or 0
        limit = 1000 if limit is None or limit <= 0 or limit > 1000 else limit
        page = items[offset : offset + limit]
        return self._envelope(page if render is None else [render(item) for item in page])

    def _body(self, request: Request, resource: str, allowed: frozenset[str]) -> dict[str, Any] | Response:
        """The JSON body, or Mailjet's 400 for bad JSON or a key the resource does not have (reference §7)."""
        try:
            body = self.json_body(request)
        except MalformedRequest as exc:
            return self.error(exc.status, f"Invalid json input: {exc.message}" if exc.status == 400 else exc.message)
        body = {} if body is None else body
        if not isinstance(body, dict):
            return self.error(400, f'Invalid json input: expected an object for "{resource}"')
        lowered = {name.lower() for name in allowed}
        for key in body:
            if key.lower() not in lowered:
                return self.error(400, f'Invalid json input: object ""->"{resource}" has no property "{key}"')
        return body

    @staticmethod
    def _get(body: dict[str, Any], name: str, default: Any = None) -> Any:
        """A body field, its name matched case-insensitively (seed 000 writes "action" too)."""
        for key, value in body.items():
            if key.lower() == name.lower():
                return value
        return default

    def _contact(self, ref: str) -> dict[str, Any] | None:
        if "@" in ref:
            found: dict[str, Any] | None = self.state["contacts"].get(ref.strip().lower())
            return found
        email = self.state["contact_ids"].get(ref)
        return None if email is None else self.state["contacts"][email]

    def _list(self, ref: str) -> dict[str, Any] | None:
        """A live list by id or by address (reference §1b: the list address works in its place)."""
        found = self.state["lists"].get(str(ref))
        if found is None:
            found = next((lst for lst in self.state["lists"].values() if lst["Address"] == str(ref).lower()), None)
        return None if found is None or found["IsDeleted"] else found

    def _metadata(self, name: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.state["metadata"].get(name.lower())
        return found

    def _upsert(self, email: str, name: Any = None, excluded: Any = None) -> dict[str, Any]:
        """The contact stored under ``email`` (lower-cased), created if new; Name/exclusion updated when given."""
        key = email.strip().lower()
        contact: dict[str, Any] | None = self.state["contacts"].get(key)
        now = _now()
        if contact is None:
            contact = {
                "ID": self._next("contact"),
                "Email": key,
                "Name": "",
                "IsExcludedFromCampaigns": False,
                "CreatedAt": now,
                "LastUpdateAt": now,
                "Properties": {},
            }
            self.state["contacts"][key] = contact
            self.state["contact_ids"][str(contact["ID"])] = key
            self.views.changed()
        if isinstance(name, str):
            contact["Name"] = name
        if excluded is not None:
            contact["IsExcludedFromCampaigns"] = excluded in (True, "true", "True", 1, "1")
        contact["LastUpdateAt"] = now
        return contact

    def _apply_action(self, contact: dict[str, Any], lst: dict[str, Any], action: str) -> None:
        """One action's effect on one membership (reference §1 action table)."""
        key = f"{contact['ID']}:{lst['ID']}"
        member = self.state["recipients"].get(key)
        now = _now()
        if action == "remove":
            if self.state["recipients"].pop(key, None) is not None:
                self.views.changed()
            return
        if member is None:
            self.views.changed()
            member = {
                "ID": self._next("recipient"),
                "ContactID": contact["ID"],
                "ListID": lst["ID"],
                "IsActive": True,
                "IsUnsubscribed": False,
                "UnsubscribedAt": "",
                "SubscribedAt": now,
            }
            self.state["recipients"][key] = member
        if action == "addforce" and member["IsUnsubscribed"]:
            member.update(IsUnsubscribed=False, UnsubscribedAt="", SubscribedAt=now)
        elif action == "unsub" and not member["IsUnsubscribed"]:
            member.update(IsUnsubscribed=True, UnsubscribedAt=now)

    def _check_properties(
        self, properties: Any, fmt: str | None = None, offset: int = 0
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """(typed values, [(name, problem)]): properties must be defined, static, and of the right type."""
        typed: dict[str, Any] = {}
        problems: list[tuple[str, str]] = []
        if not isinstance(properties, dict):
            return typed, [("Properties", "property not defined")]  # reference §2 (php #245)
        for name, value in properties.items():
            meta = self._metadata(str(name))
            if meta is None or meta["NameSpace"] != "static":
                problems.append((str(name), "Property not defined"))
                continue
            fits, stored = _typed(value, meta["Datatype"], fmt, offset)
            if not fits:
                problems.append((str(name), "Property type does not match definition"))  # reference §3 (DOC-NL)
            else:
                typed[meta["Name"]] = stored
        return typed, problems

    @staticmethod
    def _set_properties(contact: dict[str, Any], typed: dict[str, Any]) -> None:
        for name, value in typed.items():
            if value is None:
                contact["Properties"].pop(name, None)  # reference §1: null unassigns the property
            else:
                contact["Properties"][name] = value

    def _recipient_record(self, member: dict[str, Any]) -> dict[str, Any]:
        lst = self.state["lists"].get(str(member["ListID"]), {})
        return {**member, "ListName": lst.get("Name", "")}

    # -- /contactslist ------------------------------------------------------------------------------

    def _list_record(self, lst: dict[str, Any]) -> dict[str, Any]:
        count = sum(
            1 for m in self.state["recipients"].values() if m["ListID"] == lst["ID"] and not m["IsUnsubscribed"]
        )
        return {**lst, "SubscriberCount": count}

    def list_lists(self, request: Request) -> Response:
        lists = [self._list_record(lst) for lst in self.state["lists"].values() if not lst["IsDeleted"]]
        return self._page(request, lists)

    def create_list(self, request: Request) -> Response:
        body = self._body(request, "TContactsList", frozenset({"Name", "IsDeleted"}))
        if isinstance(body, Response):
            return body
        name = self._get(body, "Name")
        if not isinstance(name, str) or not name.strip():
            return self.error(400, "Object properties invalid", {"Name": "Name is required"})
        if any(lst["Name"] == name and not lst["IsDeleted"] for lst in self.state["lists"].values()):
            # reference §6: Name is unique; the exact message is UNCONFIRMED.
            return self.error(400, f'MJ18 A ContactsList resource with value "{name}" for Name already exists.')
        number = self._next("list")
        lst = {
            "ID": number,
            "Name": name,
            "Address": uuid.uuid4().hex[:10],
            "CreatedAt": _now(),
            "IsDeleted": False,
            "SubscriberCount": 0,
        }
        self.state["lists"][str(number)] = lst
        return self._envelope([lst], 201)

    def get_list(self, request: Request, ref: str) -> Response:
        lst = self._list(ref)
        return self.error(404, "Object not found") if lst is None else self._envelope([self._list_record(lst)])

    def update_list(self, request: Request, ref: str) -> Response:
        lst = self._list(ref)
        if lst is None:
            return self.error(404, "Object not found")
        body = self._body(request, "TContactsList", frozenset({"Name", "IsDeleted"}))
        if isinstance(body, Response):
            return body
        name = self._get(body, "Name", lst["Name"])
        if name == lst["Name"] and self._get(body, "IsDeleted") in (None, lst["IsDeleted"]):
            return Response(status=304)  # reference §6: a PUT that changes nothing answers 304
        lst["Name"] = name
        return self._envelope([self._list_record(lst)])

    def delete_list(self, request: Request, ref: str) -> Response:
        lst = self._list(ref)
        if lst is None:
            return self.error(404, "Object not found")
        lst["IsDeleted"] = True
        return Response(status=204)

    # -- bulk jobs -------------------------------------------------------------------------------------

    def _new_job(self, kind: str, list_id: int | None, contacts: list[Any], lists: list[dict[str, Any]]) -> int:
        number = self._next("job")
        fail = self.job_fails()
        self.state["jobs"][str(number)] = {
            "Kind": kind,
            "ListID": list_id,
            "Step": 0,
            "ContactsLists": lists,
            "Contacts": contacts,
            "Count": 0,
            "Error": "",
            "Errors": [],
            "JobStart": "",
            "JobEnd": "",
            "Fail": fail,
        }
        return number

    def _bulk_contacts(self, body: dict[str, Any]) -> list[Any] | Response:
        contacts = self._get(body, "Contacts")
        if not isinstance(contacts, list):
            return self.error(400, "Object properties invalid", {"Contacts": "Contacts is mandatory"})
        if len(contacts) > MAX_CONTACTS_PER_REQUEST:
            return self.error(400, f"Too many contacts in one request: {len(contacts)} > {MAX_CONTACTS_PER_REQUEST}")
        return contacts

    def contact_bulk(self, request: Request) -> Response:
        body = self._body(request, "TContactManageManyContacts", frozenset({"Contacts", "ContactsLists"}))
        if isinstance(body, Response):
            return body
        contacts = self._bulk_contacts(body)
        if isinstance(contacts, Response):
            return contacts
        lists = self._get(body, "ContactsLists", []) or []
        items, problems = self._list_actions(lists)
        if problems:
            return self.error(400, {"ContactsLists": problems}, "")
        return self._envelope([{"JobID": self._new_job("contacts", None, contacts, items)}], 201)

    def list_bulk(self, request: Request, ref: str) -> Response:
        lst = self._list(ref)
        if lst is None:
            return self.error(404, "Object not found")
        body = self._body(request, "TContactsListManageManyContacts", frozenset({"Contacts", "Action"}))
        if isinstance(body, Response):
            return body
        action = self._get(body, "Action")
        if action not in ACTIONS:
            return self.error(400, "Object properties invalid", {"Action": "action missing or not valid"})
        contacts = self._bulk_contacts(body)
        if isinstance(contacts, Response):
            return contacts
        number = self._new_job("contacts", lst["ID"], contacts, [{"ListID": lst["ID"], "Action": action}])
        return self._envelope([{"JobID": number}], 201)

    def _list_actions(self, items: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(valid ``ContactsLists`` items, error items in seed 000's shape)."""
        if not isinstance(items, list):
            return [], [{"ListID": "", "Action": "", "Error": "listID missing or not valid"}]
        good, bad = [], []
        for given in items:
            item = given if isinstance(given, dict) else {}
            list_id, action = self._get(item, "ListID"), self._get(item, "Action")
            lst = self._list(str(list_id)) if list_id is not None else None
            if lst is None:
                bad.append({"ListID": list_id, "Action": action, "Error": "listID missing or not valid"})
            elif action not in ACTIONS:
                bad.append({"ListID": list_id, "Action": action, "Error": "action missing or not valid"})
            else:
                good.append({"ListID": lst["ID"], "Action": action})
        return good, bad

    def _advance(self, job: dict[str, Any], number: str) -> None:
        """One status step; the contacts are applied on reaching Completed (or the job fails)."""
        steps = CSV_STEPS if job["Kind"] == "csv" else JOB_STEPS
        if job["Step"] >= len(steps) - 1 or job.get("Final"):
            return
        job["Step"] += 1
        if not job["JobStart"] and steps[job["Step"]] in ("Prepare", "Importing"):
            job["JobStart"] = _now()
        if steps[job["Step"]] == "Importing":
            job["Count"] = len(job["Contacts"]) // 2 if job["Kind"] == "contacts" else 0
        if steps[job["Step"]] != "Completed":
            return
        if job["Fail"]:
            job["Final"] = "Error"
            job["Error"] = "The job was stopped by an injected fault"
        elif job["Kind"] == "csv":
            self._run_csv(job)
        else:
            self._run_contacts(job, number)
        job["JobEnd"] = _now()

    def _run_contacts(self, job: dict[str, Any], number: str) -> None:
        lists = []
        for item in job["ContactsLists"]:
            lst = self._list(str(item["ListID"]))
            if lst is None:
                job["Final"] = "Error"
                job["Error"] = f"Contacts list {item['ListID']} not found"
                return
            lists.append((lst, item["Action"]))
        for given in job["Contacts"]:
            raw = given if isinstance(given, dict) else {}
            email = self._get(raw, "Email")
            if not isinstance(email, str) or _EMAIL.fullmatch(email.strip()) is None or len(email) > 254:
                job["Errors"].append({"Email": email, "Error": "Invalid email address", "Field": "Email"})
                continue
            typed, problems = self._check_properties(self._get(raw, "Properties", {}) or {})
            if problems:
                name, problem = problems[0]
                job["Errors"].append({"Email": email, "Error": f"{problem}: {name}", "Field": name})
                continue
            contact = self._upsert(email, self._get(raw, "Name"), self._get(raw, "IsExcludedFromCampaigns"))
            self._set_properties(contact, typed)
            for lst, action in lists:
                self._apply_action(contact, lst, action)
        job["Count"] = len(job["Contacts"])

    def _job_record(self, job: dict[str, Any], number: str) -> dict[str, Any]:
        status = job.get("Final") or JOB_STEPS[job["Step"]]
        error_file = f"DATA/batchjob/{number}/JSONError/application:json/LAST" if job["Errors"] else ""
        # reference §2: ErrorFile is a path under /v3/ (php #73); its exact form is UNCONFIRMED.
        return {
            "ContactsLists": job["ContactsLists"],
            "Count": job["Count"],
            "Error": job["Error"],
            "ErrorFile": error_file,
            "JobEnd": job["JobEnd"],
            "JobStart": job["JobStart"],
            "Status": status,
        }

    def contact_job(self, request: Request, job: str) -> Response:
        found = self.state["jobs"].get(job)
        if found is None or found["Kind"] != "contacts":
            return self.error(404, "Object not found")
        self._advance(found, job)
        return self._envelope([self._job_record(found, job)])

    def list_job(self, request: Request, ref: str, job: str) -> Response:
        lst = self._list(ref)
        found = self.state["jobs"].get(job)
        if lst is None or found is None or found["Kind"] != "contacts" or found["ListID"] != lst["ID"]:
            return self.error(404, "Object not found")
        self._advance(found, job)
        return self._envelope([self._job_record(found, job)])

    def list_jobs(self, request: Request, ref: str) -> Response:
        """The list's jobs, newest first (a GET without a job id; what mailjet-rest sends for seed 001's
        ``get(id=..., actionid=...)`` typo, reference §7). Listing does not advance them."""
        lst = self._list(ref)
        if lst is None:
            return self.error(404, "Object not found")
        jobs = [
            {"JobID": int(number), **self._job_record(job, number)}
            for number, job in reversed(self.state["jobs"].items())
            if job["Kind"] == "contacts" and job["ListID"] == lst["ID"]
        ]
        return self._page(request, jobs)

    def json_errors(self, request: Request, ref: str) -> Response:
        """The job's error file: a JSON list of {"Email", "Error", "Field"} (its real schema is UNCONFIRMED, §2)."""
        job = self.state["jobs"].get(ref)
        if job is None:
            return self.error(404, "Object not found")
        return json_response(job["Errors"])

    # -- single contact ↔ lists -----------------------------------------------------------------------

    def manage_lists(self, request: Request, ref: str) -> Response:
        contact = self._contact(ref)
        if contact is None:
            return self.error(404, "Object not found")
        body = self._body(request, "TContactManageContactsLists", frozenset({"ContactsLists"}))
        if isinstance(body, Response):
            return body
        given = self._get(body, "ContactsLists")
        good, bad = self._list_actions(given)
        if bad:
            return self.error(400, {"ContactsLists": bad}, "")  # seed 000: ErrorMessage is an object here
        for item in good:
            lst = self._list(str(item["ListID"]))
            if lst is not None:
                self._apply_action(contact, lst, item["Action"])
        return self._envelope([{"ContactsLists": given}], 201)

    def get_lists(self, request: Request, ref: str) -> Response:
        contact = self._contact(ref)
        if contact is None:
            return self.error(404, "Object not found")
        found = [
            {
                "IsActive": m["IsActive"],
                "IsUnsub": m["IsUnsubscribed"],
                "ListID": m["ListID"],
                "SubscribedAt": m["SubscribedAt"],
            }
            for m in self.state["recipients"].values()
            if m["ContactID"] == contact["ID"] and self._list(str(m["ListID"])) is not None
        ]
        return self._envelope(found)

    def manage_contact(self, request: Request, ref: str) -> Response:
        lst = self._list(ref)
        if lst is None:
            return self.error(404, "Object not found")
        body = self._body(request, "TContactsListManageContact", frozenset({"Email", "Name", "Action", "Properties"}))
        if isinstance(body, Response):
            return body
        email, action = self._get(body, "Email"), self._get(body, "Action")
        if not isinstance(email, str) or _EMAIL.fullmatch(email.strip()) is None:
            return self.error(400, "Object properties invalid", {"Email": "Invalid email address"})
        if action not in ACTIONS:
            return self.error(400, "Object properties invalid", {"Action": "action missing or not valid"})
        typed, problems = self._check_properties(self._get(body, "Properties", {}) or {})
        if problems:
            # reference §3 (DOC-NL): ErrorInfo is an object here.
            return self.error(400, "Object properties invalid", {"Properties": [{n: p} for n, p in problems]})
        contact = self._upsert(email, self._get(body, "Name"))
        self._set_properties(contact, typed)
        self._apply_action(contact, lst, action)
        record = {
            "ContactID": contact["ID"],
            "Email": contact["Email"],
            "Action": action,
            "Name": contact["Name"],
            "Properties": self._get(body, "Properties", {}) or {},
        }
        return self._envelope([record], 201)

    # -- /contact ---------------------------------------------------------------------------------------

    @staticmethod
    def _contact_record(contact: dict[str, Any]) -> dict[str, Any]:
        # reference §6: these fields are on every /contact record; "" until set.
        defaults = {"IsSpamComplaining": False, "UnsubscribedAt": "", "UnsubscribedBy": ""}
        return {**defaults, **{key: value for key, value in contact.items() if key != "Properties"}}

    def _contact_ids(self, list_ref: str | None) -> list[str]:
        """The ids of the contacts of a list (every contact when None), in ID order: the view paged GETs share."""

        def build() -> list[str]:
            if list_ref is None:
                ids = [contact["ID"] for contact in self.state["contacts"].values()]
            else:
                ids = [m["ContactID"] for m in self.state["recipients"].values() if str(m["ListID"]) == list_ref]
            return [str(number) for number in sorted(ids)]

        return self.views.get(("contacts", list_ref), build)

    def _listed_contacts(self, request: Request) -> list[str]:
        """The contact ids a ``/contact`` or ``/contactdata`` GET lists (filters of reference §9b, §9d)."""
        ids = self._contact_ids(_arg(request, "ContactsList"))
        email = _arg(request, "ContactEmail")
        if email is not None:
            contact = self._contact(email)
            ids = [i for i in ids if contact is not None and str(contact["ID"]) == i]
        excluded = _arg(request, "IsExcludedFromCampaigns")
        if excluded is not None:
            wanted = excluded.lower() in _FILTER_TRUE
            ids = [i for i in ids if self._by_id(i)["IsExcludedFromCampaigns"] == wanted]
        return ids

    def _by_id(self, contact_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self.state["contacts"][self.state["contact_ids"][contact_id]]
        return found

    def list_contacts(self, request: Request) -> Response:
        ids = self._listed_contacts(request)
        return self._page(request, ids, lambda i: self._contact_record(self._by_id(i)))

    def list_data(self, request: Request) -> Response:
        """``GET /contactdata?ContactsList=``: one record per contact, ``Data`` as Name/Value pairs (reference §9d)."""
        ids = self._listed_contacts(request)
        return self._page(request, ids, lambda i: self._data_record(self._by_id(i)))

    def create_contact(self, request: Request) -> Response:
        body = self._body(request, "TContact", frozenset({"Email", "Name", "IsExcludedFromCampaigns"}))
        if isinstance(body, Response):
            return body
        email = self._get(body, "Email")
        if not isinstance(email, str) or _EMAIL.fullmatch(email.strip()) is None:
            return self.error(400, "Object properties invalid", {"Email": "Invalid email address"})
        if self._contact(email) is not None:
            return self.error(400, f'MJ18 A Contact resource with value "{email.lower()}" for Email already exists.')
        contact = self._upsert(email, self._get(body, "Name"), self._get(body, "IsExcludedFromCampaigns"))
        return self._envelope([self._contact_record(contact)], 201)

    def get_contact(self, request: Request, ref: str) -> Response:
        contact = self._contact(ref)
        return (
            self.error(404, "Object not found") if contact is None else self._envelope([self._contact_record(contact)])
        )

    def update_contact(self, request: Request, ref: str) -> Response:
        contact = self._contact(ref)
        if contact is None:
            return self.error(404, "Object not found")
        body = self._body(request, "TContact", frozenset({"Name", "IsExcludedFromCampaigns"}))
        if isinstance(body, Response):
            return body
        name, excluded = self._get(body, "Name"), self._get(body, "IsExcludedFromCampaigns")
        before = (contact["Name"], contact["IsExcludedFromCampaigns"])
        self._upsert(contact["Email"], name, excluded)
        if (contact["Name"], contact["IsExcludedFromCampaigns"]) == before:
            return Response(status=304)  # reference §6 (DOC-2015): a PUT that changes nothing
        return self._envelope([self._contact_record(contact)])

    def gdpr_delete(self, request: Request, ref: str) -> Response:
        """``DELETE /v4/contacts/{id}``: the contact is anonymised at once, keeping its ID, until it is purged
        (reference §11, DOC-DEL). Its address is free again; a second delete answers 404 (UNCONFIRMED, §11)."""
        contact = self._contact(ref)
        if contact is None or contact["Email"].endswith(ANONYMISED_DOMAIN):
            return self.error(404, "Object not found")
        anonymised = "\\x" + hashlib.sha1(contact["Email"].encode()).hexdigest() + ANONYMISED_DOMAIN
        del self.state["contacts"][contact["Email"]]
        contact.update(Email=anonymised, Name="Anonymized", Properties={}, UnsubscribedAt="", UnsubscribedBy="")
        self.state["contacts"][anonymised] = contact
        self.state["contact_ids"][str(contact["ID"])] = anonymised
        self.views.changed()
        return json_response({}, 200)

    # -- /listrecipient ------------------------------------------------------------------------------------

    def _recipient(self, ref: str) -> tuple[str, dict[str, Any]] | None:
        return next(((k, m) for k, m in self.state["recipients"].items() if str(m["ID"]) == ref), None)

    def _recipient_keys(self, list_ref: str | None) -> list[str]:
        """The membership keys of a list (all when None), in membership ID order (the order rows were added)."""

        def build() -> list[str]:
            rows = self.state["recipients"].items()
            return [key for key, m in rows if list_ref is None or str(m["ListID"]) == list_ref]

        return self.views.get(("recipients", list_ref), build)

    def list_recipients(self, request: Request) -> Response:
        """``GET /listrecipient`` with the filters of reference §9c, in membership ID order (default UNCONFIRMED)."""
        keys = self._recipient_keys(_arg(request, "ContactsList"))
        recipients = self.state["recipients"]
        contact_ref = _arg(request, "Contact")
        email = _arg(request, "ContactEmail")
        if email is not None:
            contact = self._contact(email)
            contact_ref = "" if contact is None else str(contact["ID"])
        if contact_ref is not None:
            keys = [k for k in keys if str(recipients[k]["ContactID"]) == contact_ref]
        blocked = self.state.setdefault("blocked", {})
        for name, test in (
            ("Unsub", lambda m: m["IsUnsubscribed"]),
            ("Active", lambda m: m["IsActive"]),
            ("Blocked", lambda m: str(m["ContactID"]) in blocked),
        ):
            value = _arg(request, name)
            if value is not None:
                wanted = value.lower() in _FILTER_TRUE
                keys = [k for k in keys if bool(test(recipients[k])) == wanted]
        return self._page(request, keys, lambda k: self._recipient_record(recipients[k]))

    def create_recipient(self, request: Request) -> Response:
        fields = frozenset({"ContactID", "ContactAlt", "ListID", "ListAlt", "IsUnsubscribed", "IsActive"})
        body = self._body(request, "TListRecipient", fields)
        if isinstance(body, Response):
            return body
        contact = self._contact(str(self._get(body, "ContactID", self._get(body, "ContactAlt", ""))))
        lst = self._list(str(self._get(body, "ListID", self._get(body, "ListAlt", ""))))
        if contact is None or lst is None:
            return self.error(400, "Object properties invalid", {"ContactID": "contact or list not found"})
        key = f"{contact['ID']}:{lst['ID']}"
        if key in self.state["recipients"]:
            return self.error(400, "MJ18 A ListRecipient resource with these ContactID and ListID already exists.")
        self._apply_action(contact, lst, "unsub" if self._get(body, "IsUnsubscribed") in (True, "true") else "addforce")
        return self._envelope([self._recipient_record(self.state["recipients"][key])], 201)

    def get_recipient(self, request: Request, ref: str) -> Response:
        found = self._recipient(ref)
        return (
            self.error(404, "Object not found") if found is None else self._envelope([self._recipient_record(found[1])])
        )

    def update_recipient(self, request: Request, ref: str) -> Response:
        found = self._recipient(ref)
        if found is None:
            return self.error(404, "Object not found")
        body = self._body(request, "TListRecipient", frozenset({"IsUnsubscribed"}))
        if isinstance(body, Response):
            return body
        member = found[1]
        unsub = self._get(body, "IsUnsubscribed") in (True, "true", "True", 1)
        if unsub == member["IsUnsubscribed"]:
            return Response(status=304)
        member.update(IsUnsubscribed=unsub, UnsubscribedAt=_now() if unsub else "")
        return self._envelope([self._recipient_record(member)])

    def delete_recipient(self, request: Request, ref: str) -> Response:
        found = self._recipient(ref)
        if found is None:
            return self.error(404, "Object not found")
        del self.state["recipients"][found[0]]
        self.views.changed()
        return Response(status=204)

    # -- /contactmetadata and /contactdata -------------------------------------------------------------

    def list_metadata(self, request: Request) -> Response:
        return self._page(request, list(self.state["metadata"].values()))

    def create_metadata(self, request: Request) -> Response:
        body = self._body(request, "TContactMetaData", frozenset({"Name", "Datatype", "NameSpace"}))
        if isinstance(body, Response):
            return body
        name = self._get(body, "Name")
        datatype = self._get(body, "Datatype", "str")
        namespace = self._get(body, "NameSpace", "static")
        if not isinstance(name, str) or not name.strip():
            return self.error(400, "Object properties invalid", {"Name": "Name is required"})
        if datatype not in DATATYPES or namespace not in ("static", "historic"):
            return self.error(400, "Object properties invalid", {"Datatype": f"{datatype!r} is not a datatype"})
        if self._metadata(name) is not None:
            return self.error(400, f'MJ18 A ContactMetaData resource with value "{name}" for Name already exists.')
        meta = {"Datatype": datatype, "ID": self._next("metadata"), "Name": name, "NameSpace": namespace}
        self.state["metadata"][name.lower()] = meta
        return self._envelope([meta], 201)

    def _metadata_ref(self, ref: str) -> dict[str, Any] | None:
        found = self._metadata(ref)
        if found is None:
            found = next((m for m in self.state["metadata"].values() if str(m["ID"]) == ref), None)
        return found

    def get_metadata(self, request: Request, ref: str) -> Response:
        meta = self._metadata_ref(ref)
        return self.error(404, "Object not found") if meta is None else self._envelope([meta])

    def update_metadata(self, request: Request, ref: str) -> Response:
        meta = self._metadata_ref(ref)
        if meta is None:
            return self.error(404, "Object not found")
        body = self._body(request, "TContactMetaData", frozenset({"Name", "Datatype"}))
        if isinstance(body, Response):
            return body
        datatype = self._get(body, "Datatype", meta["Datatype"])
        if datatype not in DATATYPES:
            return self.error(400, "Object properties invalid", {"Datatype": f"{datatype!r} is not a datatype"})
        del self.state["metadata"][meta["Name"].lower()]
        meta.update(Name=self._get(body, "Name", meta["Name"]), Datatype=datatype)
        self.state["metadata"][meta["Name"].lower()] = meta
        return self._envelope([meta])

    def delete_metadata(self, request: Request, ref: str) -> Response:
        meta = self._metadata_ref(ref)
        if meta is None:
            return self.error(404, "Object not found")
        del self.state["metadata"][meta["Name"].lower()]
        for contact in self.state["contacts"].values():
            contact["Properties"].pop(meta["Name"], None)
        return Response(status=204)

    def _data_record(self, contact: dict[str, Any]) -> dict[str, Any]:
        items = [{"Name": name, "Value": _text_value(value)} for name, value in contact["Properties"].items()]
        return {"ContactID": contact["ID"], "Data": items, "ID": contact["ID"]}

    def get_data(self, request: Request, ref: str) -> Response:
        contact = self._contact(ref)
        return self.error(404, "Object not found") if contact is None else self._envelope([self._data_record(contact)])

    def update_data(self, request: Request, ref: str) -> Response:
        contact = self._contact(ref)
        if contact is None:
            return self.error(404, "Object not found")
        body = self._body(request, "TContactData", frozenset({"Data"}))
        if isinstance(body, Response):
            return body
        items = self._get(body, "Data", [])
        if not isinstance(items, list):
            return self.error(400, "Object properties invalid", {"Data": "Data must be a list"})
        values = {str(self._get(i, "Name")): self._get(i, "Value") for i in items if isinstance(i, dict)}
        typed, problems = self._check_properties(values)
        if problems:
            return self.error(400, "Object properties invalid", {"Properties": [{n: p} for n, p in problems]})
        self._set_properties(contact, typed)
        return self._envelope([self._data_record(contact)])

    # -- the CSV route ---------------------------------------------------------------------------------------

    def upload_csv(self, request: Request, ref: str, mime: str) -> Response:
        """``POST /v3/DATA/contactslist/{id}/CSVData/text:plain``: 200 ``{"ID": DataID}`` (seed 000)."""
        content_type = request.mimetype or ""
        if mime != "text:plain" or content_type != "text/plain":
            # reference §8 (php #86): the body's type must match the URL's.
            return self.error(400, f'Data Content type "{content_type}" does not match URL content type "text/plain"')
        lst = self._list(ref)
        if lst is None:
            return self.error(404, "Object not found")  # reference §4 (python #112)
        number = self._next("data")
        self.state["data"][str(number)] = {"ListID": lst["ID"], "Text": request.get_data(as_text=True)}
        return json_response({"ID": number}, 200)

    def create_import(self, request: Request) -> Response:
        fields = frozenset({"ContactsListID", "DataID", "Method", "ImportOptions", "ErrTreshold", "Status"})
        body = self._body(request, "TCSVImport", fields)
        if isinstance(body, Response):
            return body
        method = self._get(body, "Method")
        list_ref = self._get(body, "ContactsListID")
        data = self.state["data"].get(str(self._get(body, "DataID")))
        if method not in CSV_METHODS:
            return self.error(400, "Object properties invalid", {"Method": "Method missing or not valid"})
        if method in ("excludemarketing", "includemarketing") and list_ref not in (None, ""):
            # reference §4 (DOC-EXCL): the global exclusion takes no list.
            return self.error(
                400,
                "MJ08 Property ContactsList is invalid: Exclusion of contacts from marketing campaign is a global "
                "status and can not be applied to a list",
            )
        lst = None if method in ("excludemarketing", "includemarketing") else self._list(str(list_ref))
        if data is None or (lst is None and method in ACTIONS):
            return self.error(400, "Object properties invalid", {"DataID": "DataID or ContactsListID not valid"})
        options = self._get(body, "ImportOptions", "") or ""
        if options:
            try:
                parsed = json.loads(options) if isinstance(options, str) else None
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict):
                # reference §4: ImportOptions is a JSON-encoded *string*.
                return self.error(400, "Object properties invalid", {"ImportOptions": "must be a JSON string"})
        number = self._next("job")
        fail = self.job_fails()
        job = {
            "Kind": "csv",
            "ListID": None if lst is None else lst["ID"],
            "DataID": int(self._get(body, "DataID")),
            "Method": method,
            "ImportOptions": options,
            "ErrTreshold": self._get(body, "ErrTreshold", 0) or 0,
            "Step": 0,
            "Contacts": [],
            "Count": 0,
            "Current": 0,
            "Error": "",
            "Errors": [],
            "ErrorRows": [],
            "Header": [],
            "RequestAt": _now(),
            "AliveAt": _now(),
            "JobStart": "",
            "JobEnd": "",
            "Fail": fail,
        }
        self.state["jobs"][str(number)] = job
        return self._envelope([self._import_record(job, str(number))], 201)

    def _import_record(self, job: dict[str, Any], number: str) -> dict[str, Any]:
        # seed 000 shows Count and Errcount as strings; we send them so.
        return {
            "AliveAt": job["AliveAt"],
            "ContactsListID": job["ListID"] if job["ListID"] is not None else "",
            "Count": str(job["Count"]),
            "Current": job["Current"],
            "DataID": job["DataID"],
            "Errcount": str(len(job["Errors"])),
            "ErrTreshold": job["ErrTreshold"],
            "ID": int(number),
            "ImportOptions": job["ImportOptions"],
            "JobEnd": job["JobEnd"],
            "JobStart": job["JobStart"],
            "Method": job["Method"],
            "RequestAt": job["RequestAt"],
            "Status": job.get("Final") or CSV_STEPS[job["Step"]],
        }

    def get_import(self, request: Request, ref: str) -> Response:
        job = self.state["jobs"].get(ref)
        if job is None or job["Kind"] != "csv":
            return self.error(404, "Object not found")
        self._advance(job, ref)
        job["AliveAt"] = _now()
        return self._envelope([self._import_record(job, ref)])

    def update_import(self, request: Request, ref: str) -> Response:
        """Only ``{"Status": "Abort"}`` is accepted on PUT (reference §4, META-2015)."""
        job = self.state["jobs"].get(ref)
        if job is None or job["Kind"] != "csv":
            return self.error(404, "Object not found")
        body = self._body(request, "TCSVImport", frozenset({"Status"}))
        if isinstance(body, Response):
            return body
        if self._get(body, "Status") != "Abort":
            return self.error(400, "Object properties invalid", {"Status": "only Abort is allowed"})
        if CSV_STEPS[job["Step"]] != "Completed" and not job.get("Final"):
            job["Final"] = "Abort"
            job["JobEnd"] = _now()
        return self._envelope([self._import_record(job, ref)])

    def _rows(self, job: dict[str, Any]) -> tuple[list[str], Iterator[list[str]]]:
        text = self.state["data"][str(job["DataID"])]["Text"]
        rows = csv.reader(io.StringIO(text), skipinitialspace=True)
        options = json.loads(job["ImportOptions"]) if job["ImportOptions"] else {}
        names = options.get("FieldNames")
        if isinstance(names, list) and names:
            return [str(n) for n in names], rows
        return next(rows, []), rows

    def _run_csv(self, job: dict[str, Any]) -> None:
        """Apply a CSV: first row (or ``FieldNames``) names the columns, ``email`` is the key (reference §4)."""
        options = json.loads(job["ImportOptions"]) if job["ImportOptions"] else {}
        fmt = options.get("DateTimeFormat")
        offset = _as_int(options.get("TimezoneOffset", 0)) or 0
        try:
            self._apply_csv(job, fmt, offset)
        except csv.Error as exc:  # reference §4: CSV limits UNCONFIRMED; a file Python's csv cannot read fails the job
            job["Final"] = "Error"
            job["Error"] = f"The CSV could not be read: {exc}"

    def _apply_csv(self, job: dict[str, Any], fmt: str | None, offset: int) -> None:
        names, rows = self._rows(job)
        job["Header"] = [*names, "error"]
        lowered = [n.strip().lower() for n in names]
        if "email" not in lowered:
            job["Final"] = "Error"
            job["Error"] = "The CSV has no email column"
            return
        at = lowered.index("email")
        for name in names:
            if name.strip().lower() != "email" and self._metadata(name.strip()) is None:
                # reference §4: unknown columns become str properties.
                meta = {"Datatype": "str", "ID": self._next("metadata"), "Name": name.strip(), "NameSpace": "static"}
                self.state["metadata"][name.strip().lower()] = meta
        lst = None if job["ListID"] is None else self._list(str(job["ListID"]))
        seen: set[str] = set()
        count = 0
        for row in rows:
            if not row:
                continue
            count += 1
            problem = self._csv_row(job, row, names=names, at=at, lst=lst, seen=seen, fmt=fmt, offset=offset)
            if problem is not None:
                job["Errors"].append(
                    {"Email": row[at] if len(row) > at else row[0], "Error": problem[0], "Field": problem[1]}
                )
                job["ErrorRows"].append([*row, f" ###{problem[0]}" + (f"###{problem[1]}" if problem[1] else "")])
        job["Count"] = count
        job["Current"] = count

    def _csv_row(
        self,
        job: dict[str, Any],
        row: list[str],
        *,
        names: list[str],
        at: int,
        lst: dict[str, Any] | None,
        seen: set[str],
        fmt: str | None,
        offset: int,
    ) -> tuple[str, str] | None:
        """Apply one data row; return (message, field) when it fails (seed 000, php-simple #67 formats)."""
        if len(row) < len(names):
            return "Too few columns at line", ""
        email = row[at].strip()
        if _EMAIL.fullmatch(email) is None or len(email) > 254:
            return "Invalid email address", "email"
        if email.lower() in seen:
            return "Duplicated email", "email"
        seen.add(email.lower())
        values = {names[i].strip(): cell for i, cell in enumerate(row[: len(names)]) if i != at and cell != ""}
        typed, problems = self._check_properties(values, fmt, offset)
        if problems:
            return problems[0][1], problems[0][0]
        contact = self._upsert(email)
        self._set_properties(contact, typed)
        method = job["Method"]
        if method in ("excludemarketing", "includemarketing"):
            contact["IsExcludedFromCampaigns"] = method == "excludemarketing"
        elif lst is not None:
            self._apply_action(contact, lst, method)
        return None

    def csv_errors(self, request: Request, ref: str) -> Response:
        """The CSV error file: the failed rows as sent, plus an ``error`` column (seed 000)."""
        job = self.state["jobs"].get(ref)
        if job is None or job["Kind"] != "csv":
            return self.error(404, "Object not found")
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        if job["Header"]:
            writer.writerow(job["Header"])
        writer.writerows(job["ErrorRows"])
        return Response(out.getvalue(), status=200, content_type="text/csv")

    # -- /eventcallbackurl: where the Event API posts (reference §12a) ----------------------------------

    def _callbacks(self) -> dict[str, dict[str, Any]]:
        callbacks: dict[str, dict[str, Any]] = self.state.setdefault("callbacks", {})  # absent from older states
        return callbacks

    def _callback(self, ref: str) -> dict[str, Any] | None:
        """A callback record by ``ID`` or by its unique key ``EventType|IsBackup`` (reference §12a, DOC-FILTER)."""
        callbacks = self._callbacks()
        if ref in callbacks:
            return callbacks[ref]
        event, bar, backup = ref.partition("|")
        if not bar or backup not in ("true", "false"):
            return None
        return next(
            (c for c in callbacks.values() if c["EventType"] == event and c["IsBackup"] == (backup == "true")), None
        )

    def _callback_values(self, body: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any] | Response:
        """The record ``body`` makes of ``current`` (a new one when None), or Mailjet's 400 for a wrong field."""
        # reference §12a: IsBackup false and Version 1 by default (META-2015F), Status alive or dead (NODE-W).
        record = dict(current or {"EventType": None, "IsBackup": False, "Status": "alive", "Url": None, "Version": 1})
        event = self._get(body, "EventType", record["EventType"])
        if not isinstance(event, str) or event.lower() not in CALLBACK_EVENTS:
            # reference §12a: the seven documented types (META-2015F's older four are not accepted here); required,
            # since whether Mailjet defaults it is UNCONFIRMED and every documented example sends it.
            known = ", ".join(CALLBACK_EVENTS)
            return self.error(400, "Object properties invalid", {"EventType": f"EventType must be one of {known}"})
        url = self._get(body, "Url", record["Url"])
        if not postable(url):
            return self.error(400, "Object properties invalid", {"Url": "Url must be an http or https URL"})
        version = self._get(body, "Version", record["Version"])
        if version not in (1, 2) or isinstance(version, bool):
            return self.error(400, "Object properties invalid", {"Version": "Version is 1 or 2"})
        backup = self._get(body, "IsBackup", record["IsBackup"])
        status = self._get(body, "Status", record["Status"])
        if not isinstance(backup, bool):
            return self.error(400, "Object properties invalid", {"IsBackup": "IsBackup is true or false"})
        if status not in ("alive", "dead"):
            return self.error(400, "Object properties invalid", {"Status": "Status is alive or dead"})
        if current is not None and url != current["Url"] and self._get(body, "Status") is None:
            status = "alive"  # reference §12a (DOC-EVT l.207): a suspended URL is reactivated by a new URL
        record.update(EventType=event.lower(), Url=url, Version=version, IsBackup=backup, Status=status)
        return record

    def _taken(self, record: dict[str, Any], number: int | None) -> Response | None:
        """Mailjet's 400 when another record has this one's ``EventType|IsBackup`` (one URL per event type)."""
        key = f"{record['EventType']}|{str(record['IsBackup']).lower()}"
        other = self._callback(key)
        if other is None or other["ID"] == number:
            return None
        # reference §12a: the unique key; the message follows the MJ18 duplicates of §6 (its wording UNCONFIRMED).
        message = f'MJ18 A EventCallbackUrl resource with value "{key}" for EventType|IsBackup already exists.'
        return self.error(400, message)

    def list_callbacks(self, request: Request) -> Response:
        """``GET /eventcallbackurl`` with the filters of reference §12a: ``EventType`` (its number, or its name),
        ``Backup``, ``Status``, ``Version``, ``APIKey``."""
        found = sorted(self._callbacks().values(), key=lambda c: c["ID"])
        event = _arg(request, "EventType")
        if event is not None:
            found = [c for c in found if event.lower() in (c["EventType"], str(CALLBACK_EVENTS[c["EventType"]]))]
        backup = _arg(request, "Backup")
        if backup is not None:
            found = [c for c in found if c["IsBackup"] == (backup.lower() in _FILTER_TRUE)]
        for name, key in (("Status", "Status"), ("Version", "Version"), ("APIKey", "APIKeyID")):
            value = _arg(request, name)
            if value is not None:
                found = [c for c in found if str(c[key]).lower() == value.lower()]
        return self._page(request, found)

    def create_callback(self, request: Request) -> Response:
        body = self._body(request, "TEventCallbackUrl", CALLBACK_FIELDS)
        if isinstance(body, Response):
            return body
        record = self._callback_values(body, None)
        if isinstance(record, Response):
            return record
        taken = self._taken(record, None)
        if taken is not None:
            return taken
        # reference §12a: APIKeyID is filled from the credentials (the examples never send it).
        record.update(ID=self._next("callback"), APIKeyID=API_KEY_ID)
        record = dict(sorted(record.items()))  # reference §12a (NODE-W): the fields in alphabetical order
        self._callbacks()[str(record["ID"])] = record
        return self._envelope([record], 201)  # reference §12a: 201 (WEB-CODES)

    def get_callback(self, request: Request, ref: str) -> Response:
        record = self._callback(ref)
        return self.error(404, "Object not found") if record is None else self._envelope([record])

    def update_callback(self, request: Request, ref: str) -> Response:
        """``PUT /eventcallbackurl/{id}``: any subset of the POST fields (reference §12a); 304 when nothing changes."""
        current = self._callback(ref)
        if current is None:
            return self.error(404, "Object not found")
        body = self._body(request, "TEventCallbackUrl", CALLBACK_FIELDS)
        if isinstance(body, Response):
            return body
        record = self._callback_values(body, current)
        if isinstance(record, Response):
            return record
        taken = self._taken(record, current["ID"])
        if taken is not None:
            return taken
        if record == current:
            return Response(status=304)  # reference §7: a PUT that changes nothing
        current.update(record)
        return self._envelope([current])

    def delete_callback(self, request: Request, ref: str) -> Response:
        record = self._callback(ref)
        if record is None:
            return self.error(404, "Object not found")
        del self._callbacks()[str(record["ID"])]
        return Response(status=204)

    def _callback_for(self, event: str) -> dict[str, Any] | None:
        """Where Mailjet posts ``event``: the primary URL while it is alive, else the backup (reference §12a)."""
        for backup in ("false", "true"):
            record = self._callback(f"{event}|{backup}")
            if record is not None and record["Status"] == "alive":
                return record
        return None

    def webhook_pushes(self, simulated: SimulatedEvent) -> list[Push]:
        """One POST per callback URL: Version 2 groups the events, Version 1 posts each alone (reference §12b)."""
        grouped: dict[tuple[str, int], list[Mapping[str, Any]]] = {}
        for record in simulated.records:
            callback = self._callback_for(record["event"])
            if callback is not None:
                grouped.setdefault((callback["Url"], callback["Version"]), []).append(record)
        batches = [
            (url, version, batch)
            for (url, version), records in grouped.items()
            for batch in ([records] if version == 2 else [[record] for record in records])
        ]
        return [
            functools.partial(self.redelivery.deliver, functools.partial(push_mailjet, url, batch, version=version))
            for url, version, batch in batches
        ]

    # -- recipients acting (Sandbox.simulate) ----------------------------------------------------------

    def simulate(self, email: str, event: str, list_id: str | None) -> SimulatedEvent:
        """What Mailjet records when a recipient acts, and the Event API objects it would push (reference §12c).

        ``unsubscribe`` marks the membership of ``list_id`` unsubscribed (every list of the contact without
        it, as the unsubscribe-from-all page does, stamping the contact's ``UnsubscribedAt``);
        ``resubscribe`` clears it (Mailjet sends no event for that); ``bounce`` and ``block`` mark the
        contact blocked (the listrecipient ``Blocked`` filter), ``spam`` sets ``IsSpamComplaining``.
        """
        contact = self._contact(email)
        if contact is None:
            raise ValueError(f"the Mailjet sandbox has no contact {email}")
        target = None if list_id is None else self._list(list_id)
        if list_id is not None and target is None:
            raise ValueError(f"the Mailjet sandbox has no list {list_id}")
        at = datetime.now(timezone.utc).replace(microsecond=0)
        now = at.isoformat().replace("+00:00", "Z")
        # reference §12c: the Event API's objects; mj_contact_id names the contact.
        record = functools.partial(mailjet_event, email=contact["Email"], at=at, mj_contact_id=contact["ID"])
        records: list[dict[str, Any]] = []
        if event in ("unsubscribe", "resubscribe"):
            members = [
                m
                for m in self.state["recipients"].values()
                if m["ContactID"] == contact["ID"]
                and self._list(str(m["ListID"])) is not None
                and (target is None or m["ListID"] == target["ID"])
            ]
            for member in members:
                if event == "unsubscribe":
                    member.update(IsUnsubscribed=True, UnsubscribedAt=now)
                    records.append(record("unsub", list_id=member["ListID"], agent="contactsync sandbox"))
                else:
                    member.update(IsUnsubscribed=False, UnsubscribedAt="", SubscribedAt=now)
            if target is None:
                contact.update(UnsubscribedAt=now if event == "unsubscribe" else "", UnsubscribedBy="")
        elif event == "spam":
            contact["IsSpamComplaining"] = True
            records.append(record("spam", source="JMRPP"))
        else:
            self.state.setdefault("blocked", {})[str(contact["ID"])] = now
            if event == "bounce":
                smtp = "550 5.1.1 The email account that you tried to reach does not exist"
                records.append(record("bounce", blocked=True, hard_bounce=True, error="user unknown", comment=smtp))
            else:
                records.append(record("blocked", error_related_to="recipient", error="blacklisted"))
        return SimulatedEvent(
            provider=self.name, event=event, email=contact["Email"], list_id=list_id, at=at, records=tuple(records)
        )
