"""The converter reads and writes every SendGrid wire record exactly, and reads loose answers leniently."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contactsync.providers.sendgrid.translate import converter
from contactsync.providers.sendgrid.wire import (
    ContactDetails,
    ErrorBody,
    ImportRequest,
    ImportResults,
    JobRecord,
    JobType,
    ListPage,
    UploadHeader,
)
from tests.sendgrid.strategies import WIRE_RECORDS


@pytest.mark.parametrize("cls", list(WIRE_RECORDS), ids=lambda c: c.__name__)
@given(data=st.data())
def test_every_wire_record_round_trips_through_json(cls: type[Any], data: st.DataObject) -> None:
    record = data.draw(WIRE_RECORDS[cls])
    text = json.dumps(converter.unstructure(record))
    assert converter.structure(json.loads(text), cls) == record


def test_job_counts_are_absent_when_zero_and_default_to_zero() -> None:
    record = converter.structure(
        {"id": "j", "status": "pending", "job_type": "upsert_contacts", "results": {"requested_count": 1}}, JobRecord
    )
    assert record.results == ImportResults(requested_count=1)
    assert converter.unstructure(record)["results"] == {"requested_count": 1}


def test_job_type_keeps_unknown_values_raw() -> None:
    assert (
        converter.structure({"id": "j", "status": "pending", "job_type": "upsert"}, JobRecord).job_type
        is JobType.UPSERT
    )
    assert converter.structure({"id": "j", "status": "x", "job_type": "export"}, JobRecord).job_type == "export"


def test_counts_and_timestamps_are_read_leniently() -> None:
    record = converter.structure(
        {
            "id": "j",
            "status": "completed",
            "results": {"created_count": "3", "errored_count": 2.0},
            "started_at": "2021-02-11T23:03:03.000Z",
            "finished_at": "2021-02-11T23:04:03Z",
        },
        JobRecord,
    )
    assert (record.results.created_count, record.results.errored_count) == (3, 2)
    assert record.started_at == datetime(2021, 2, 11, 23, 3, 3, tzinfo=timezone.utc)
    assert converter.unstructure(record)["finished_at"] == "2021-02-11T23:04:03Z"


def test_import_request_always_carries_file_type_and_omits_absent_lists() -> None:
    assert converter.unstructure(ImportRequest(["_rf2_T", None, "e1_T"])) == {
        "field_mappings": ["_rf2_T", None, "e1_T"],
        "file_type": "csv",
    }


def test_upload_headers_are_header_value_pairs() -> None:
    assert converter.unstructure(UploadHeader("x-amz-server-side-encryption", "aws:kms")) == {
        "header": "x-amz-server-side-encryption",
        "value": "aws:kms",
    }


def test_error_body_may_be_a_lone_object() -> None:
    body = converter.structure({"errors": {"field": "f", "message": "m"}}, ErrorBody)
    assert [(e.field, e.message) for e in body.errors] == [("f", "m")]


def test_contact_details_accept_null_segment_ids() -> None:
    details = converter.structure(
        {"id": "c", "email": "a@b.co", "segment_ids": None, "first_name": None}, ContactDetails
    )
    assert details.segment_ids == [] and details.first_name == ""


def test_list_page_reads_metadata_next() -> None:
    page = converter.structure(
        {"result": [{"id": "l", "name": "N"}], "_metadata": {"self": "s", "next": "https://x/next", "count": 3}},
        ListPage,
    )
    assert page.metadata.next == "https://x/next" and page.metadata.self_url == "s"
