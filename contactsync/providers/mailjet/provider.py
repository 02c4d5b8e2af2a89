"""MailjetProvider: the Mailjet Email API v3 contacts endpoints behind the one API of DESIGN.md."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

from typing_extensions import Unpack

from contactsync.batching import BatchLimits
from contactsync.errors import ConfigurationError, InvalidInput, NotFound
from contactsync.http import BasicAuth, path_segment
from contactsync.model import (
    Contact,
    ContactEvent,
    ContactList,
    EventType,
    FieldDefinition,
    FieldType,
    ImportJob,
    ListMember,
    ListSubscription,
    Membership,
    SubscriptionAction,
)
from contactsync.provider import Capabilities, ImportRoute, InputItem, Provider, ProviderOptions, ReportedError
from contactsync.providers.mailjet import errorfiles, readback, translate, wire
from contactsync.providers.mailjet.routes import CsvRoute, JsonRoute, PropertyTypes
from contactsync.settings import check_credentials

__all__ = ["MailjetProvider"]


class MailjetProvider(Provider):
    """Mailjet, over HTTPS Basic auth (API key and secret key; reference §7)."""

    name = "mailjet"
    default_base_url = "https://api.mailjet.com"
    regions: Mapping[str, str] = {"us": "https://api.us.mailjet.com"}  # reference §7: US architecture accounts
    capabilities = Capabilities(
        actions=frozenset(SubscriptionAction),
        field_types=frozenset(
            {FieldType.TEXT, FieldType.INTEGER, FieldType.NUMBER, FieldType.BOOLEAN, FieldType.DATE, FieldType.DATETIME}
        ),
        dates_at_midnight=True,
        routes={
            # reference §1: no documented maximum; <= 5000 contacts a request is the safe reading. 4 MiB keeps
            # a request well under what failed in practice (node issue #292).
            "json": BatchLimits(max_items=5000, max_bytes=4 * 1024 * 1024),
            # reference §4: CSV size and row limits UNCONFIRMED; 25,000 rows or 8 MiB a file is our choice.
            "csv": BatchLimits(max_items=25_000, max_bytes=8 * 1024 * 1024),
        },
        file_route_from=10_000,
        notes={
            "addforce": "Mailjet's own addforce: adds and resubscribes.",
            "addnoforce": "Mailjet's own addnoforce: adds; an unsubscribed contact stays unsubscribed.",
            "remove": "Mailjet's own remove: the membership is deleted.",
            "unsub": "Mailjet's own unsub: the contact stays on the list, marked unsubscribed.",
            "csv": "Only for exactly one list; a row with a name, an empty text or a property to clear goes by JSON.",
            "date": "Stored in datetime properties at 00:00:00 UTC and read back as dates.",
            "events": "No time filter (reference §10): events_since scans the memberships and compares "
            "UnsubscribedAt/SubscribedAt; bounces, complaints and blocks carry no time and come only by webhook.",
        },
        reads_members=True,
        member_dates=frozenset({"subscribed_at", "unsubscribed_at"}),
        event_types=frozenset({EventType.SUBSCRIBED, EventType.UNSUBSCRIBED}),
        events_by_list=True,
        deletes=frozenset({"contacts", "lists"}),
    )

    def __init__(
        self,
        api_key: str | None = None,
        secret_key: str | None = None,
        *,
        region: str | None = None,
        base_url: str | None = None,
        **options: Unpack[ProviderOptions],
    ) -> None:
        api_key = api_key or os.environ.get("MJ_APIKEY_PUBLIC")
        secret_key = secret_key or os.environ.get("MJ_APIKEY_PRIVATE")
        if not api_key or not secret_key:
            raise ConfigurationError(
                "mailjet needs api_key and secret_key (or MJ_APIKEY_PUBLIC and MJ_APIKEY_PRIVATE in the environment)"
            )
        check_credentials(self.name, api_key=api_key, secret_key=secret_key)
        if region is not None and (not isinstance(region, str) or region not in self.regions):
            raise ConfigurationError(f"mailjet has no region {region!r}; known: {', '.join(self.regions)}")
        if base_url is None:
            base_url = self.regions[region] if region is not None else self.default_base_url
        super().__init__(
            base_url=base_url,
            auth=BasicAuth(api_key, secret_key),
            secrets=[api_key, secret_key],
            **options,
        )

    # -- errors ----------------------------------------------------------------------------------

    @staticmethod
    def parse_error(response: Any) -> tuple[str, str | None]:
        """Mailjet's ``{"ErrorInfo", "ErrorMessage", "StatusCode"}`` body, either field a string or an object."""
        try:
            return translate.error_text(translate.structure(response.json(), wire.MjError))
        except Exception as exc:
            raise ValueError("not a Mailjet error body") from exc

    # -- imports ----------------------------------------------------------------------------------

    def choose_route(self, head: Sequence[InputItem], large: bool, subscriptions: tuple[ListSubscription, ...]) -> str:
        """The CSV route for ``file_route_from`` contacts or more into exactly one list, else JSON.

        The CSV cannot carry a name or clear a property, so a head of contacts (the first
        ``file_route_from``) with any of those keeps the import on the JSON route.
        """
        csv = large and len(subscriptions) == 1 and all(_fits_csv(item) for item in head)
        return "csv" if csv else "json"

    def import_route(
        self, subscriptions: tuple[ListSubscription, ...], route: str, extra: Mapping[str, Any] | None
    ) -> ImportRoute:
        types = PropertyTypes(self._datatypes(static_only=True))
        limits = self.capabilities.routes[route]
        if route == "csv":
            return CsvRoute(self, subscriptions, extra, limits, types)
        return JsonRoute(self, subscriptions, extra, limits, types)

    def fetch_status(self, job_id: str) -> ImportJob:
        """One status GET; the part id says which URL (``contact:J``, ``contactslist:L:J``, ``csvimport:I``).

        A bare number is taken for a ``/contact/managemanycontacts`` job.
        """
        parts = job_id.strip().split(":")
        if parts[0] == "csvimport" and len(parts) == 2:
            answer = self.transport.json("GET", f"/v3/REST/csvimport/{path_segment(parts[1])}")
            record = translate.structure(translate.structure(answer, wire.Envelope).data[0], wire.MjCsvImport)
            return self.csvimport_job(record, parts[1])
        if parts[0] == "contactslist" and len(parts) == 3:
            part_id, rest = job_id.strip(), parts[2]
            path = f"/v3/REST/contactslist/{path_segment(parts[1])}/managemanycontacts/{path_segment(rest)}"
        elif len(parts) == 1 or (parts[0] == "contact" and len(parts) == 2):
            rest = parts[-1]
            part_id, path = f"contact:{rest}", f"/v3/REST/contact/managemanycontacts/{path_segment(rest)}"
        else:
            raise InvalidInput(f"{job_id!r} is not a Mailjet job id", field="job_id")
        answer = self.transport.json("GET", path)
        job = translate.structure(translate.structure(answer, wire.Envelope).data[0], wire.MjJob)
        errors = 0
        if job.status == "Completed" and job.error_file:
            errors = sum(1 for _ in self._json_errors(rest))
        return ImportJob(
            provider=self.name,
            id=part_id,
            # An ErrorFile means errors even when its entries cannot be read (reference §2: format UNCONFIRMED).
            status=translate.status_of(job.status, max(errors, 1) if job.error_file else 0),
            provider_status=job.status,
            # Mailjet does not tell created from updated: created and updated stay None (not reported).
            accepted=max(job.count - errors, 0) if job.status == "Completed" else 0,
            errored=errors,
            started_at=job.job_start,
            finished_at=job.job_end,
            extra={"processed": job.count, **({"error": job.error} if job.error else {})},
        )

    def csvimport_job(self, record: wire.MjCsvImport, import_id: str | None = None) -> ImportJob:
        """A csvimport record as a part; Mailjet does not tell created from updated, so only ``accepted`` is set."""
        done = record.status == "Completed"
        return ImportJob(
            provider=self.name,
            id=f"csvimport:{import_id or record.id}",
            status=translate.status_of(record.status, record.errcount),
            provider_status=record.status,
            accepted=max(record.current - record.errcount, 0) if done else 0,
            errored=record.errcount,
            started_at=record.job_start,
            finished_at=record.job_end,
            extra={"processed": record.current, "rows": record.count},
        )

    def part_errors(self, part: ImportJob) -> Iterator[ReportedError]:
        job = part.id.rsplit(":", 1)[-1]
        if part.id.startswith("csvimport:"):
            response = self.transport.request("GET", f"/v3/DATA/BatchJob/{path_segment(job)}/CSVError/text:csv")
            yield from errorfiles.csv_errors(response.content.decode("utf-8", errors="replace"))
        elif part.errored:
            yield from self._json_errors(job)

    def _json_errors(self, job: str) -> Iterator[ReportedError]:
        try:
            payload = self.transport.json(
                "GET", f"/v3/DATA/batchjob/{path_segment(job)}/JSONError/application:json/LAST"
            )
        except NotFound:
            return
        yield from errorfiles.json_errors(payload)

    # -- lists, fields, contacts ---------------------------------------------------------------------

    def _pages(self, path: str) -> Iterator[Any]:
        for page in readback.pages(self.transport, path):
            yield from page

    def iter_lists(self) -> Iterator[ContactList]:
        for item in self._pages("/v3/REST/contactslist"):
            record = translate.structure(item, wire.MjContactsList)
            if not record.is_deleted:
                yield translate.list_from_wire(record)

    def check_list(self, list_id: str) -> None:
        """``GET /v3/REST/contactslist/{id}`` (an id or a list address; reference §1b): 404 raises NotFound."""
        self.transport.json("GET", f"/v3/REST/contactslist/{path_segment(list_id)}")

    def create_list(self, name: str) -> str:
        answer = self.transport.json("POST", "/v3/REST/contactslist", json={"Name": name})
        record = translate.structure(translate.structure(answer, wire.Envelope).data[0], wire.MjContactsList)
        return str(record.id)

    def _metadata(self) -> Iterator[wire.MjContactMetadata]:
        for item in self._pages("/v3/REST/contactmetadata"):
            yield translate.structure(item, wire.MjContactMetadata)

    def _datatypes(self, *, static_only: bool = False) -> dict[str, str]:
        return {m.name: m.datatype for m in self._metadata() if not static_only or m.namespace == "static"}

    def fields(self) -> list[FieldDefinition]:
        """The static contact properties (the only ones managemanycontacts may set; reference §1)."""
        return [translate.field_from_wire(m) for m in self._metadata() if m.namespace == "static"]

    def define_field(self, definition: FieldDefinition) -> FieldDefinition:
        record = translate.field_to_wire(definition)
        body = {k: v for k, v in translate.unstructure(record).items() if v is not None}
        answer = self.transport.json("POST", "/v3/REST/contactmetadata", json=body)
        return translate.field_from_wire(
            translate.structure(translate.structure(answer, wire.Envelope).data[0], wire.MjContactMetadata)
        )

    def same_field_type(self, stored: FieldType, wanted: FieldType) -> bool:
        """A date field is a Mailjet datetime property."""
        return stored is wanted or (stored is FieldType.DATETIME and wanted is FieldType.DATE)

    def get_contact(self, email: str) -> Contact | None:
        """The contact and its property values, typed by the account's property definitions."""
        ref = quote(Contact(email).email, safe="@")
        try:
            answer = self.transport.json("GET", f"/v3/REST/contact/{ref}")
        except NotFound:
            return None
        stored = translate.structure(translate.structure(answer, wire.Envelope).data[0], wire.MjStoredContact)
        answer = self.transport.json("GET", f"/v3/REST/contactdata/{path_segment(stored.id)}")
        data = translate.structure(translate.structure(answer, wire.Envelope).data[0], wire.MjContactData)
        return translate.stored_contact(stored, data, self._datatypes())

    def get_subscriptions(self, email: str) -> list[Membership]:
        ref = quote(Contact(email).email, safe="@")
        try:
            answer = self.transport.json("GET", f"/v3/REST/contact/{ref}/getcontactslists")
        except NotFound:
            return []
        envelope = translate.structure(answer, wire.Envelope)
        return [translate.membership_from_wire(translate.structure(i, wire.MjListMembership)) for i in envelope.data]

    def apply_subscriptions(self, email: str, subscriptions: tuple[ListSubscription, ...]) -> None:
        """POST managecontactslists; a contact Mailjet does not know yet is created first."""
        if not subscriptions:
            return
        body = {"ContactsLists": [translate.unstructure(translate.subscription_to_wire(s)) for s in subscriptions]}
        path = f"/v3/REST/contact/{quote(email, safe='@')}/managecontactslists"
        try:
            self.transport.json("POST", path, json=body)
        except NotFound:
            self.transport.json("POST", "/v3/REST/contact", json={"Email": email})
            self.transport.json("POST", path, json=body)

    # -- read-back and deletes --------------------------------------------------------------------------

    def _live_list(self, list_id: str) -> None:
        """Raise NotFound unless ``list_id`` is a list (not deleted)."""
        self.transport.json("GET", f"/v3/REST/contactslist/{quote(str(list_id), safe='')}")

    def members(self, list_id: str) -> Iterator[ListMember]:
        """The list's members, in membership order (Mailjet's default order of ``/listrecipient``).

        ``subscribed`` is the membership's own standing (active and not unsubscribed), with
        its ``SubscribedAt``/``UnsubscribedAt``; GDPR-deleted contacts are left out.
        """
        self._live_list(list_id)
        return readback.read_members(self.transport, str(list_id), self._datatypes())

    def fetch_events(self, since: datetime, list_id: str | None) -> Iterator[ContactEvent]:
        """UNSUBSCRIBED and SUBSCRIBED events of memberships, in membership order (a scan: reference §10)."""
        if list_id is not None:
            self._live_list(list_id)
        live = {item.id for item in self.iter_lists()}
        return readback.read_events(self.transport, since, None if list_id is None else str(list_id), live)

    def erase_contacts(self, emails: Sequence[str]) -> None:
        """The GDPR delete of v4, by contact id looked up by email (reference §11); unknown addresses are skipped.

        Mailjet anonymises the contact at once and purges it after 30 days; the address can be used again.
        """
        for email in emails:
            try:
                answer = self.transport.json("GET", f"/v3/REST/contact/{quote(email, safe='')}")
                stored = translate.structure(translate.structure(answer, wire.Envelope).data[0], wire.MjStoredContact)
                self.transport.request("DELETE", f"/v4/contacts/{quote(str(stored.id), safe='')}")
            except NotFound:  # not in the account, or deleted meanwhile
                continue

    def delete_list(self, list_id: str) -> None:
        """``DELETE /v3/REST/contactslist/{id}`` (204); the contacts stay in the account (reference §11)."""
        self.transport.request("DELETE", f"/v3/REST/contactslist/{quote(str(list_id), safe='')}")


def _fits_csv(item: InputItem) -> bool:
    """Whether the CSV route can carry this input (no name, no property to clear)."""
    if not isinstance(item, Contact):
        return True
    return item.name is None and all(v is not None and v != "" for v in item.properties.values())
