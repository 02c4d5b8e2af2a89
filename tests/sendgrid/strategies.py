"""Hypothesis strategies for SendGrid wire records and for contacts SendGrid can hold."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from hypothesis import strategies as st

from contactsync.model import Contact
from contactsync.providers.sendgrid.translate import FieldBook
from contactsync.providers.sendgrid.wire import (
    RESERVED_TEXT_FIELDS,
    ContactDetails,
    ContactRequest,
    CreateField,
    CreateList,
    ErrorBody,
    ErrorDetail,
    FieldDefinitions,
    FieldRecord,
    ImportRequest,
    ImportResponse,
    ImportResults,
    JobRecord,
    JobType,
    ListPage,
    ListRecord,
    PageMetadata,
    RecipientEmails,
    SearchEmails,
    SearchHit,
    SearchResponse,
    UploadHeader,
    UpsertRequest,
    UpsertResponse,
    WireFieldType,
)

ids = st.text("abcdef0123456789-", min_size=1, max_size=36)
texts = st.text(max_size=30)
maybe_text = st.none() | texts
counts = st.integers(min_value=0, max_value=10**7)
moments = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(timezone.utc)
).map(lambda d: d.replace(microsecond=0))
emails = st.from_regex(r"[a-z0-9]{1,12}(\.[a-z0-9]{1,5})?@[a-z]{1,10}\.(com|org|io)", fullmatch=True)
json_scalars = st.one_of(texts, st.integers(-(2**53), 2**53), st.floats(allow_nan=False, allow_infinity=False))

upload_headers = st.builds(UploadHeader, texts, texts)
import_requests = st.builds(
    ImportRequest, st.lists(st.none() | ids, min_size=1), st.just("csv"), st.none() | st.lists(ids)
)
import_responses = st.builds(ImportResponse, ids, texts, st.lists(upload_headers))
results = st.builds(ImportResults, counts, counts, counts, counts, counts, st.none() | texts.filter(bool))
job_types = st.none() | st.sampled_from(list(JobType)) | texts.filter(lambda t: t not in {j.value for j in JobType})
jobs = st.builds(
    JobRecord,
    ids,
    st.sampled_from(["pending", "completed", "errored", "failed", "archived"]),
    job_types,
    results,
    st.none() | moments,
    st.none() | moments,
)
contact_requests = st.builds(
    ContactRequest,
    email=st.none() | emails,
    first_name=maybe_text,
    last_name=maybe_text,
    city=maybe_text,
    phone_number=maybe_text,
    external_id=maybe_text,
    alternate_emails=st.none() | st.lists(emails, max_size=5),
    custom_fields=st.none() | st.dictionaries(ids, json_scalars, min_size=1),
)
upserts = st.builds(UpsertRequest, st.lists(contact_requests, min_size=1, max_size=5), st.none() | st.lists(ids))
upsert_responses = st.builds(UpsertResponse, ids)
field_records = st.builds(FieldRecord, ids, texts, st.sampled_from(list(WireFieldType)), st.booleans())
field_definitions = st.builds(
    FieldDefinitions, st.lists(field_records, max_size=5), st.lists(field_records, max_size=5)
)
create_fields = st.builds(CreateField, texts, st.sampled_from(list(WireFieldType)))
details = st.builds(
    ContactDetails,
    id=ids,
    email=st.none() | emails,
    first_name=texts,
    last_name=texts,
    city=texts,
    postal_code=texts,
    alternate_emails=st.lists(emails, max_size=3),
    list_ids=st.lists(ids, max_size=3),
    segment_ids=st.lists(ids, max_size=3),
    custom_fields=st.dictionaries(texts, json_scalars, max_size=3),
    created_at=st.none() | moments,
    updated_at=st.none() | moments,
)
search_responses = st.builds(
    SearchResponse,
    st.dictionaries(emails, st.builds(SearchHit, st.none() | details, st.none() | texts), max_size=3),
)
search_requests = st.builds(SearchEmails, st.lists(emails, min_size=1, max_size=100))
metadata = st.builds(PageMetadata, maybe_text, maybe_text, maybe_text, st.none() | counts)
list_records = st.builds(ListRecord, ids, texts, counts)
list_pages = st.builds(ListPage, st.lists(list_records, max_size=4), metadata)
create_lists = st.builds(CreateList, texts)
recipients = st.builds(RecipientEmails, st.lists(emails, max_size=5))
error_details = st.builds(ErrorDetail, texts, maybe_text, maybe_text, maybe_text)
error_bodies = st.builds(ErrorBody, st.lists(error_details, max_size=3))

WIRE_RECORDS = {
    ImportRequest: import_requests,
    ImportResponse: import_responses,
    ImportResults: results,
    JobRecord: jobs,
    ContactRequest: contact_requests,
    UpsertRequest: upserts,
    UpsertResponse: upsert_responses,
    FieldRecord: field_records,
    FieldDefinitions: field_definitions,
    CreateField: create_fields,
    ContactDetails: details,
    SearchEmails: search_requests,
    SearchResponse: search_responses,
    PageMetadata: metadata,
    ListRecord: list_records,
    ListPage: list_pages,
    CreateList: create_lists,
    RecipientEmails: recipients,
    ErrorDetail: error_details,
    ErrorBody: error_bodies,
    UploadHeader: upload_headers,
}

# -- contacts SendGrid can hold, given an account with one custom field of each type -------------

BOOK = FieldBook(
    [
        FieldRecord("e1_T", "note", WireFieldType.TEXT),
        FieldRecord("e2_N", "age", WireFieldType.NUMBER),
        FieldRecord("e3_D", "joined", WireFieldType.DATE),
    ]
)

_letters = st.text("abcdefghijklmnopqrstuvwxyzÀÉîøü'-", max_size=20)
names = st.builds(
    lambda first, last: first + (" " + last if last else ""),
    _letters,
    st.text("abcdefghijklmnopqrstuvwxyz -", max_size=30).filter(lambda s: not s.endswith(" ")),
).filter(
    lambda n: bool(n) and not n.endswith(" ") and len(n.partition(" ")[0]) <= 50 and len(n.partition(" ")[2]) <= 50
)
_reserved_values = st.text(min_size=1, max_size=50).filter(lambda s: s.strip() == s and s != "")
_not_midnight = moments.filter(lambda d: (d.hour, d.minute, d.second) != (0, 0, 0))
_offsets = st.sampled_from([timezone.utc, timezone(timedelta(hours=2)), timezone(timedelta(hours=-7, minutes=-30))])
_dates = st.one_of(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)),
    st.builds(lambda d, tz: d.astimezone(tz), _not_midnight, _offsets),
)
_custom = st.fixed_dictionaries(
    {},
    optional={
        "note": st.text(min_size=1, max_size=40),
        "age": st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False),
        "joined": _dates,
    },
)
_reserved = st.dictionaries(st.sampled_from(RESERVED_TEXT_FIELDS), _reserved_values, max_size=4)
representable_contacts = st.builds(
    lambda email, name, reserved, custom: Contact(email, name=name, properties={**reserved, **custom}),
    emails,
    st.none() | names,
    _reserved,
    _custom,
)
