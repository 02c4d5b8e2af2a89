"""Mailjet's two import routes: JSON bulk jobs (managemanycontacts) and CSV imports (CSVData + csvimport).

Both make sure the properties they use exist first (reference §1: managemanycontacts
demands them defined in /contactmetadata). A property the account lacks is created
with the type of the first value met for it; the account's definitions win otherwise.
"""

from __future__ import annotations

import csv
import io
import json
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from contactsync import jsonplan
from contactsync.batching import Batch, BatchLimits
from contactsync.errors import RouteCannotCarry, UnrepresentableValue, UnsupportedAction
from contactsync.http import path_segment
from contactsync.model import Contact, FieldDefinition, ImportJob, ImportStatus, ListSubscription
from contactsync.provider import ImportRoute, merge_extra
from contactsync.providers.mailjet import translate, wire

if TYPE_CHECKING:
    from contactsync.providers.mailjet.provider import MailjetProvider

__all__ = ["CsvRoute", "JsonRoute", "PropertyTypes"]


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


class PropertyTypes:
    """The account's property datatypes, plus those an import will create before its next request.

    Contacts are encoded in the caller's thread while batches are submitted from worker
    threads; creating definitions is serialised by a lock, so each is created once.
    """

    def __init__(self, known: Mapping[str, str]) -> None:
        self.types = dict(known)
        self._by_lower = {name.lower(): name for name in known}
        self._settled: dict[str, str] = {}
        """Property names as contacts spell them -> datatype, once defined (the common case, one lookup)."""
        self.pending: dict[str, str] = {}
        self._lock = threading.Lock()

    def datatype(self, name: str) -> str | None:
        """The datatype of a property spelled as the account spells it, when the account has it or will."""
        settled = self._settled.get(name)
        if settled is not None:
            return settled
        stored = self._by_lower.get(name.lower())
        return None if stored != name else self.types[stored]

    def resolve(self, contact: Contact) -> tuple[Mapping[str, str], dict[str, str]]:
        """(datatype of each property the contact sets, new definitions it needs).

        Mailjet matches property names without regard to case and keeps the first spelling
        (reference §5: names are unique), so another spelling would read back as that one:
        it raises UnrepresentableValue naming the property.
        """
        settled = self._settled
        new: dict[str, str] = {}
        for name, value in contact.properties.items():
            if name in settled:
                continue
            stored = self._by_lower.get(name.lower())
            if stored is not None:
                if stored != name:
                    raise UnrepresentableValue(f"the Mailjet account spells this property {stored!r}", field=name)
                settled[name] = self.types[stored]
                continue
            inferred = translate.infer_datatype(value)
            if inferred is not None:
                new[name] = inferred
        return ({**settled, **new} if new else settled), new

    def commit(self, new: Mapping[str, str]) -> None:
        """Remember definitions an encoded contact relies on; they are created before the next submit."""
        with self._lock:
            for name, datatype in new.items():
                self.types[name] = datatype
                self._by_lower[name.lower()] = name
                self.pending[name] = datatype

    def create_pending(self, provider: MailjetProvider) -> None:
        """Create the pending definitions in the account (every batch encoded so far may rely on them)."""
        with self._lock:
            if self.pending:
                definitions = [FieldDefinition(n, translate.DATATYPES[t]) for n, t in self.pending.items()]
                provider.ensure_fields(definitions)
                for definition in definitions:
                    del self.pending[definition.name]


class JsonRoute(ImportRoute):
    """managemanycontacts: ``/contactslist/{id}/...`` for one list, ``/contact/...`` for none or several."""

    name = "json"
    resubmit_safe = True  # upserts by email with list actions: a second job changes nothing

    def __init__(
        self,
        provider: MailjetProvider,
        subscriptions: tuple[ListSubscription, ...],
        extra: Mapping[str, Any] | None,
        limits: BatchLimits,
        types: PropertyTypes,
    ) -> None:
        self.provider = provider
        self.types = types
        self._json = jsonplan.JsonPlans(self._step, translate.json_record)
        if len(subscriptions) == 1:
            only = subscriptions[0]
            self.path = f"/v3/REST/contactslist/{path_segment(only.list_id)}/managemanycontacts"
            self.prefix = f"contactslist:{only.list_id}"
            head: dict[str, Any] = {"Action": only.action.value}
        else:
            self.path = "/v3/REST/contact/managemanycontacts"
            self.prefix = "contact"
            lists = [translate.unstructure(translate.subscription_to_wire(s)) for s in subscriptions]
            head = {"ContactsLists": lists} if lists else {}  # reference §1: ContactsLists is optional
        head = merge_extra(head, extra)
        head.pop("Contacts", None)
        self._open = _dumps(head)[:-1] + (b',"Contacts":[' if head else b'"Contacts":[')
        self._close = b"]}"
        super().__init__(
            BatchLimits(
                max_items=limits.max_items,
                max_bytes=limits.max_bytes,
                overhead=len(self._open) + len(self._close),
                separator=1,
            )
        )

    def encode(self, contact: Contact) -> bytes:
        encoded = self._json.encode(contact)
        if encoded is not None:
            return encoded
        types, new = self.types.resolve(contact)
        encoded = translate.contact_json(contact, types)
        if new:
            self.types.commit(new)
            self._json.forget()
        return encoded

    def _step(self, name: str, kind: type) -> tuple[str, jsonplan.Conversion] | None:
        conversion = translate.json_conversion(self.types.datatype(name), kind)
        return None if conversion is None else (name, conversion)

    def payload(self, batch: Batch) -> bytes:
        """The request body for ``batch``."""
        return self._open + b",".join(batch.items) + self._close

    def submit(self, batch: Batch) -> ImportJob:
        self.types.create_pending(self.provider)
        body = self.payload(batch)
        answer = self.provider.transport.json(
            "POST", self.path, data=body, headers={"Content-Type": "application/json"}
        )
        envelope = translate.structure(answer, wire.Envelope)
        created = translate.structure(envelope.data[0], wire.MjJobCreated)
        return ImportJob(
            provider=self.provider.name,
            id=f"{self.prefix}:{created.job_id}",
            status=ImportStatus.PENDING,
            provider_status="Allocated",
            requested=len(batch),
        )

    def describe(self, batch: Batch) -> Mapping[str, Any]:
        return {"route": self.name, "method": "POST", "url": self.path, "contacts": len(batch)}


class CsvRoute(ImportRoute):
    """CSVData upload then csvimport, for exactly one list (reference §4).

    A contact's Name cannot travel in the CSV, nor can a property be cleared or set to an
    empty text: those contacts raise :class:`~contactsync.errors.RouteCannotCarry`, and the
    import sends them by the JSON route. An import never repeats an address, so neither does a file.
    """

    name = "csv"
    resubmit_safe = True  # the same rows with the same list action: a second import changes nothing

    def __init__(
        self,
        provider: MailjetProvider,
        subscriptions: tuple[ListSubscription, ...],
        extra: Mapping[str, Any] | None,
        limits: BatchLimits,
        types: PropertyTypes,
    ) -> None:
        if len(subscriptions) != 1:
            raise UnsupportedAction(
                f"the Mailjet CSV route imports into exactly one list; got {len(subscriptions)}. Use route='json'"
            )
        self.provider = provider
        self.types = types
        self.subscription = subscriptions[0]
        self.extra = extra
        super().__init__(limits)

    def encode(self, contact: Contact) -> bytes:
        if contact.name is not None:
            raise RouteCannotCarry("the Mailjet CSV route cannot set a name", field="name")
        types, new = self.types.resolve(contact)
        # csv_cell refuses a property to clear or an empty text (RouteCannotCarry): such rows go by JSON.
        cells = {
            name: translate.csv_cell(name, value, types.get(name, "str")) for name, value in contact.properties.items()
        }
        encoded = _dumps([contact.email, cells])
        self.types.commit(new)
        return encoded

    def csv_text(self, batch: Batch) -> tuple[str, list[str]]:
        """The CSV for a batch and its column names; no header row when a datetime column needs ImportOptions."""
        rows = [json.loads(item) for item in batch.items]
        columns = sorted({name for _, cells in rows for name in cells})
        names = ["email", *columns]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        if not self._has_datetime(columns):
            writer.writerow(names)
        for email, cells in rows:
            writer.writerow([email, *(cells.get(c, "") for c in columns)])
        return out.getvalue(), names

    def _has_datetime(self, columns: list[str]) -> bool:
        return any(self.types.types.get(c) == "datetime" for c in columns)

    def submit(self, batch: Batch) -> ImportJob:
        self.types.create_pending(self.provider)
        text, names = self.csv_text(batch)
        list_id = self.subscription.list_id
        uploaded = self.provider.transport.json(
            "POST",
            f"/v3/DATA/contactslist/{path_segment(list_id)}/CSVData/text:plain",
            data=text.encode(),
            headers={"Content-Type": "text/plain"},
        )
        data_id = translate.structure(uploaded, wire.MjCsvData).id
        request = wire.MjCsvImport(
            contacts_list_id=wire.MjId(list_id), data_id=data_id, method=self.subscription.action.value
        )
        body: dict[str, Any] = {
            key: value
            for key, value in translate.unstructure(request).items()
            if key in ("ContactsListID", "DataID", "Method")
        }
        if self._has_datetime(names[1:]):
            options = wire.MjImportOptions(translate.CSV_DATETIME_FORMAT, 0, names)
            body["ImportOptions"] = json.dumps(translate.unstructure(options))  # a JSON *string* (reference §4)
        answer = self.provider.transport.json("POST", "/v3/REST/csvimport", json=merge_extra(body, self.extra))
        record = translate.structure(translate.structure(answer, wire.Envelope).data[0], wire.MjCsvImport)
        return self.provider.csvimport_job(record)

    def describe(self, batch: Batch) -> Mapping[str, Any]:
        text, names = self.csv_text(batch)
        return {
            "route": self.name,
            "method": "POST",
            "url": f"/v3/DATA/contactslist/{path_segment(self.subscription.list_id)}/CSVData/text:plain",
            "columns": names,
            "bytes": len(text.encode()),
            "contacts": len(batch),
        }
