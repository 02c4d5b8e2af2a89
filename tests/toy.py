"""A toy provider and its emulator: the smallest plugin, used to test the core pipeline over real HTTP.

It is also what a plugin author would write: a Provider subclass filling the hooks,
and an Emulator subclass the Sandbox can serve.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from contactsync.batching import Batch, BatchLimits
from contactsync.errors import ConfigurationError, UnrepresentableValue
from contactsync.http import BearerAuth
from contactsync.model import Contact, ImportJob, ImportStatus, ListSubscription, SubscriptionAction
from contactsync.provider import Capabilities, ImportRoute, Provider, ReportedError, merge_extra
from contactsync.sandbox import Emulator, json_response

TOKEN = "toy-secret-token-5f2c9a"
REJECTED_DOMAIN = "@reject.example"
REFUSED_BATCH_MARK = "refuse-batch"

_STATES = ["queued", "working"]
_STATUS = {
    "queued": ImportStatus.PENDING,
    "working": ImportStatus.RUNNING,
    "done": ImportStatus.COMPLETED,
    "done-with-errors": ImportStatus.COMPLETED_WITH_ERRORS,
    "broken": ImportStatus.FAILED,
}


class ToyEmulator(Emulator):
    """An API with a JSON import, a CSV import, job polling and a per-row error list."""

    name = "toy"

    def rules(self) -> list[Rule]:
        return [
            Rule("/v1/imports", methods=["POST"], endpoint="post_import"),
            Rule("/v1/files", methods=["POST"], endpoint="post_file"),
            Rule("/v1/imports/<job_id>", methods=["GET"], endpoint="get_import"),
            Rule("/v1/imports/<job_id>/errors", methods=["GET"], endpoint="get_errors"),
        ]

    def initial_state(self) -> dict[str, Any]:
        return {"contacts": {}, "jobs": {}, "bodies": []}

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

    def _run(self, rows: list[dict[str, Any]], fail: bool) -> Response:
        errors, created, updated = [], 0, 0
        for index, row in enumerate(rows):
            email = row["email"]
            if email.endswith(REJECTED_DOMAIN):
                errors.append({"index": index, "email": email, "reason": "domain refused"})
                continue
            created, updated = (created, updated + 1) if email in self.state["contacts"] else (created + 1, updated)
            self.state["contacts"][email] = row
        job_id = str(len(self.state["jobs"]) + 1)
        final = "broken" if fail else ("done-with-errors" if errors else "done")
        self.state["jobs"][job_id] = {
            "polls": 0,
            "final": final,
            "total": len(rows),
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
        return self._run(body["contacts"], bool(body.get("fail")))

    def post_file(self, request: Request) -> Response:
        rows = [
            {"email": line[0], "name": line[1] or None}
            for line in csv.reader(io.StringIO(request.get_data(as_text=True)))
        ]
        return self._run(rows, False)

    def get_import(self, request: Request, job_id: str) -> Response:
        job = self.state["jobs"].get(job_id)
        if job is None:
            return self.error(404, "no such job")
        state = _STATES[job["polls"]] if job["polls"] < len(_STATES) else job["final"]
        job["polls"] += 1
        fields = {k: job[k] for k in ("total", "created", "updated")}
        return json_response({"id": job_id, "state": state, "failed": len(job["errors"]), **fields})

    def get_errors(self, request: Request, job_id: str) -> Response:
        return json_response({"errors": self.state["jobs"][job_id]["errors"]})


class _JsonRoute(ImportRoute):
    name = "json"

    def __init__(self, provider: ToyProvider, limits: BatchLimits, lists: list[str], extra: Mapping[str, Any] | None):
        super().__init__(limits)
        self._provider = provider
        self._lists = lists
        self._extra = extra

    def encode(self, contact: Contact) -> bytes:
        props: dict[str, Any] = {}
        for key, value in contact.properties.items():
            if isinstance(value, date) and not isinstance(value, datetime):
                raise UnrepresentableValue("the toy API has no date type", field=key)
            props[key] = value.isoformat() if isinstance(value, datetime) else value
        return json.dumps({"email": contact.email, "name": contact.name, "props": props}).encode()

    def submit(self, batch: Batch) -> ImportJob:
        body = merge_extra({"contacts": [json.loads(item) for item in batch.items], "lists": self._lists}, self._extra)
        answer = self._provider.transport.json("POST", "/v1/imports", json=body)
        return ImportJob("toy", answer["job"], ImportStatus.PENDING, "submitted")


class _CsvRoute(ImportRoute):
    name = "csv"

    def __init__(self, provider: ToyProvider, limits: BatchLimits):
        super().__init__(limits)
        self._provider = provider

    def encode(self, contact: Contact) -> bytes:
        return f"{contact.email},{contact.name or ''}\n".encode()

    def submit(self, batch: Batch) -> ImportJob:
        answer = self._provider.transport.json("POST", "/v1/files", data=b"".join(batch.items))
        return ImportJob("toy", answer["job"], ImportStatus.PENDING, "submitted")


class ToyProvider(Provider):
    """The toy API's client: three contacts per JSON request, a CSV route from ten contacts on."""

    name = "toy"
    default_base_url = "https://toy.invalid"
    capabilities = Capabilities(
        actions=frozenset({SubscriptionAction.ADD_NO_FORCE}),
        field_types=frozenset(),
        routes={
            "json": BatchLimits(max_items=3, max_bytes=4_000, overhead=40, separator=1),
            "csv": BatchLimits(max_items=25, max_bytes=100_000),
        },
        file_route_from=10,
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
        if route == "csv":
            return _CsvRoute(self, self.capabilities.routes["csv"])
        return _JsonRoute(self, self.capabilities.routes["json"], [s.list_id for s in subscriptions], extra)

    def fetch_status(self, job_id: str) -> ImportJob:
        record = self.transport.json("GET", f"/v1/imports/{job_id}")
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
