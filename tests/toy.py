"""A toy provider and its emulator: the smallest plugin, used to test the core pipeline over real HTTP.

It is also what a plugin author would write: a Provider subclass filling the hooks,
and an Emulator subclass the Sandbox can serve. It passes the conformance suite
(``tests/conformance/test_toy.py``): lists, contacts read back, one subscription action,
and schemaless properties of four types. Its jobs move one status per read
(:class:`~contactsync.sandbox.JobLifecycle`).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any
from urllib.parse import quote

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from contactsync.batching import Batch, BatchLimits
from contactsync.csvio import csv_row
from contactsync.errors import ConfigurationError, NotFound, RouteCannotCarry, UnrepresentableValue
from contactsync.http import BearerAuth
from contactsync.model import (
    Contact,
    ContactList,
    FieldType,
    ImportJob,
    ImportStatus,
    ListSubscription,
    Membership,
    SubscriptionAction,
)
from contactsync.provider import Capabilities, ImportRoute, Provider, ReportedError, merge_extra
from contactsync.sandbox import Emulator, JobLifecycle, StoredContact, json_response

TOKEN = "toy-secret-token-5f2c9a"
REJECTED_DOMAIN = "@reject.example"
REFUSED_BATCH_MARK = "refuse-batch"
LOST_MARK = "lost-"
"""Rows whose email starts with this are dropped by the toy API without a word: not stored, counted or reported."""

LIFECYCLE = JobLifecycle(("queued", "working"))
"""A job shows ``queued`` at its first read, ``working`` at its second, its outcome from the third."""
_STATUS = {
    "queued": ImportStatus.PENDING,
    "working": ImportStatus.RUNNING,
    "done": ImportStatus.COMPLETED,
    "done-with-errors": ImportStatus.COMPLETED_WITH_ERRORS,
    "broken": ImportStatus.FAILED,
}


class ToyEmulator(Emulator):
    """An API with lists, a JSON import, a CSV import, job polling, a per-row error list and contact reads."""

    name = "toy"

    def rules(self) -> list[Rule]:
        return [
            Rule("/v1/imports", methods=["POST"], endpoint="post_import"),
            Rule("/v1/files", methods=["POST"], endpoint="post_file"),
            Rule("/v1/imports/<job_id>", methods=["GET"], endpoint="get_import"),
            Rule("/v1/imports/<job_id>/errors", methods=["GET"], endpoint="get_errors"),
            Rule("/v1/lists", methods=["GET"], endpoint="get_lists"),
            Rule("/v1/lists", methods=["POST"], endpoint="post_list"),
            Rule("/v1/lists/<list_id>", methods=["GET"], endpoint="get_list"),
            Rule("/v1/contacts/<email>", methods=["GET"], endpoint="get_contact"),
            Rule("/v1/contacts/<email>/lists", methods=["GET"], endpoint="get_memberships"),
            Rule("/v1/contacts/<email>/lists", methods=["POST"], endpoint="post_membership"),
        ]

    def initial_state(self) -> dict[str, Any]:
        return {"contacts": {}, "jobs": {}, "bodies": [], "lists": {}, "members": {}}

    def credentials(self) -> dict[str, str]:
        return {"token": TOKEN}

    def authenticate(self, request: Request) -> Response | None:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self.error(401, "bad token")
        return None

    def error(self, status: int, message: str) -> Response:
        return json_response({"error": message}, status)

    def rate_limited(self, retry_after: int) -> Response:
        return json_response({"error": "slow down"}, 429, {"Retry-After": str(retry_after)})

    def contacts(self, list_id: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            members = self.state["members"]
            return [
                dict(row)
                for email, row in self.state["contacts"].items()
                if list_id is None or list_id in members.get(email, {})
            ]

    def contact_of(self, record: Mapping[str, Any]) -> StoredContact:
        return record["email"], record["name"], {k: v for k, v in record["props"].items() if v is not None}

    def _run(self, rows: list[dict[str, Any]], lists: list[str], fail: bool) -> Response:
        unknown = [list_id for list_id in lists if list_id not in self.state["lists"]]
        if unknown:
            return self.error(404, f"no list {unknown[0]}")
        errors, created, updated, total = [], 0, 0, 0
        for index, row in enumerate(rows):
            email = row["email"]
            if email.startswith(LOST_MARK):
                continue
            total += 1
            if email.endswith(REJECTED_DOMAIN):
                errors.append({"index": index, "email": email, "reason": "domain refused"})
                continue
            created, updated = (created, updated + 1) if email in self.state["contacts"] else (created + 1, updated)
            self.state["contacts"][email] = row
            for list_id in lists:
                self.state["members"].setdefault(email, {})[list_id] = True
        job_id = str(len(self.state["jobs"]) + 1)
        final = "broken" if fail else ("done-with-errors" if errors else "done")
        self.state["jobs"][job_id] = {
            "final": final,
            "total": total,
            "created": created,
            "updated": updated,
            "errors": errors,
        }
        return json_response({"job": job_id}, 201)

    def post_import(self, request: Request) -> Response:
        body = request.get_json()
        if any(c["email"].startswith(REFUSED_BATCH_MARK) for c in body["contacts"]):
            return self.error(400, "this batch is refused")
        self.state["bodies"].append(body)
        return self._run(body["contacts"], list(body.get("lists") or []), bool(body.get("fail")))

    def post_file(self, request: Request) -> Response:
        rows: list[dict[str, Any]] = [
            {"email": line[0], "name": line[1] or None, "props": {}}
            for line in csv.reader(io.StringIO(request.get_data(as_text=True)))
        ]
        return self._run(rows, request.args.getlist("list"), False)

    def get_import(self, request: Request, job_id: str) -> Response:
        job = self.state["jobs"].get(job_id)
        if job is None:
            return self.error(404, "no such job")
        state = self.read_job(job, LIFECYCLE, job["final"])
        fields = {k: job[k] for k in ("total", "created", "updated")}
        return json_response({"id": job_id, "state": state, "failed": len(job["errors"]), **fields})

    def get_errors(self, request: Request, job_id: str) -> Response:
        return json_response({"errors": self.state["jobs"][job_id]["errors"]})

    def get_lists(self, request: Request) -> Response:
        return json_response([{"id": i, "name": n} for i, n in self.state["lists"].items()])

    def post_list(self, request: Request) -> Response:
        list_id = f"L{len(self.state['lists']) + 1}"
        self.state["lists"][list_id] = str(request.get_json()["name"])
        return json_response({"id": list_id}, 201)

    def get_list(self, request: Request, list_id: str) -> Response:
        if list_id not in self.state["lists"]:
            return self.error(404, "no such list")
        return json_response({"id": list_id, "name": self.state["lists"][list_id]})

    def get_contact(self, request: Request, email: str) -> Response:
        row = self.state["contacts"].get(email)
        return self.error(404, "no such contact") if row is None else json_response(row)

    def get_memberships(self, request: Request, email: str) -> Response:
        if email not in self.state["contacts"]:
            return self.error(404, "no such contact")
        lists = self.state["members"].get(email, {})
        return json_response([{"list": list_id, "subscribed": True} for list_id in lists])

    def post_membership(self, request: Request, email: str) -> Response:
        list_id = str(request.get_json()["list"])
        if list_id not in self.state["lists"]:
            return self.error(404, f"no list {list_id}")
        self.state["contacts"].setdefault(email, {"email": email, "name": None, "props": {}})
        self.state["members"].setdefault(email, {})[list_id] = True
        return json_response({"email": email, "list": list_id}, 201)


class _JsonRoute(ImportRoute):
    name = "json"

    def __init__(self, provider: ToyProvider, limits: BatchLimits, lists: list[str], extra: Mapping[str, Any] | None):
        super().__init__(limits)
        self._provider = provider
        self._lists = lists
        self._extra = extra

    def encode(self, contact: Contact) -> bytes:
        for key, value in contact.properties.items():
            if isinstance(value, date):
                raise UnrepresentableValue("the toy API has no date or date-time type", field=key)
        return json.dumps({"email": contact.email, "name": contact.name, "props": dict(contact.properties)}).encode()

    def submit(self, batch: Batch) -> ImportJob:
        body = merge_extra({"contacts": [json.loads(item) for item in batch.items], "lists": self._lists}, self._extra)
        answer = self._provider.transport.json("POST", "/v1/imports", json=body)
        return ImportJob("toy", answer["job"], ImportStatus.PENDING, "submitted")


class _CsvRoute(ImportRoute):
    """Email and name only: a contact with properties, or an empty name, goes by JSON (RouteCannotCarry)."""

    name = "csv"

    def __init__(self, provider: ToyProvider, limits: BatchLimits, lists: list[str]):
        super().__init__(limits)
        self._provider = provider
        self._lists = lists

    def encode(self, contact: Contact) -> bytes:
        if contact.properties:
            raise RouteCannotCarry("the toy CSV route carries no properties", field=next(iter(contact.properties)))
        if contact.name == "":
            raise RouteCannotCarry("the toy CSV route cannot tell an empty name from none", field="name")
        return csv_row([contact.email, contact.name or ""], "\n").encode()

    def submit(self, batch: Batch) -> ImportJob:
        answer = self._provider.transport.json(
            "POST", "/v1/files", data=b"".join(batch.items), params={"list": self._lists}
        )
        return ImportJob("toy", answer["job"], ImportStatus.PENDING, "submitted")


class ToyProvider(Provider):
    """The toy API's client: three contacts per JSON request, a CSV route from ten contacts on."""

    name = "toy"
    default_base_url = "https://toy.invalid"
    capabilities = Capabilities(
        actions=frozenset({SubscriptionAction.ADD_NO_FORCE}),
        field_types=frozenset({FieldType.TEXT, FieldType.INTEGER, FieldType.NUMBER, FieldType.BOOLEAN}),
        routes={
            "json": BatchLimits(max_items=3, max_bytes=4_000, overhead=40, separator=1),
            "csv": BatchLimits(max_items=25, max_bytes=100_000),
        },
        file_route_from=10,
        field_definitions=False,
        notes={"unsub": "The toy API has no unsubscribe; remove the contact instead."},
    )

    def __init__(self, *, token: str | None = None, base_url: str | None = None, **options: Any) -> None:
        if not token:
            raise ConfigurationError("toy: token is required")
        super().__init__(base_url=base_url or self.default_base_url, auth=BearerAuth(token), secrets=[token], **options)

    @staticmethod
    def parse_error(response: Any) -> tuple[str, str | None]:
        return str(response.json()["error"]), None

    def import_route(
        self, subscriptions: tuple[ListSubscription, ...], route: str, extra: Mapping[str, Any] | None
    ) -> ImportRoute:
        lists = [s.list_id for s in subscriptions]
        if route == "csv":
            return _CsvRoute(self, self.capabilities.routes["csv"], lists)
        return _JsonRoute(self, self.capabilities.routes["json"], lists, extra)

    def fetch_status(self, job_id: str) -> ImportJob:
        record = self.transport.json("GET", f"/v1/imports/{quote(job_id, safe='')}")
        state = record["state"]
        return ImportJob(
            "toy",
            job_id,
            _STATUS.get(state, ImportStatus.UNKNOWN),
            state,
            requested=record["total"],
            created=record["created"],
            updated=record["updated"],
            errored=record["failed"],
        )

    def part_errors(self, part: ImportJob) -> Iterator[ReportedError]:
        for item in self.transport.json("GET", f"/v1/imports/{part.id}/errors")["errors"]:
            yield ReportedError(item["email"], item["reason"], position=item["index"])

    def iter_lists(self) -> Iterator[ContactList]:
        for item in self.transport.json("GET", "/v1/lists"):
            yield ContactList(item["id"], item["name"])

    def create_list(self, name: str) -> str:
        return str(self.transport.json("POST", "/v1/lists", json={"name": name})["id"])

    def check_list(self, list_id: str) -> None:
        self.transport.json("GET", f"/v1/lists/{quote(list_id, safe='')}")

    def get_contact(self, email: str) -> Contact | None:
        try:
            row = self.transport.json("GET", f"/v1/contacts/{quote(Contact(email).email, safe='@')}")
        except NotFound:
            return None
        return Contact(row["email"], row["name"], {k: v for k, v in row["props"].items() if v is not None})

    def get_subscriptions(self, email: str) -> list[Membership]:
        try:
            rows = self.transport.json("GET", f"/v1/contacts/{quote(Contact(email).email, safe='@')}/lists")
        except NotFound:
            return []
        return [Membership(row["list"], row["subscribed"]) for row in rows]

    def apply_subscriptions(self, email: str, subscriptions: tuple[ListSubscription, ...]) -> None:
        for sub in subscriptions:  # ADD_NO_FORCE only (check_actions refused the others)
            self.transport.json("POST", f"/v1/contacts/{quote(email, safe='@')}/lists", json={"list": sub.list_id})
