"""The Provider pipeline, written once: routes, batching, aggregation, polling and error reports."""

from __future__ import annotations

import itertools
import time
import warnings
import weakref
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any, ClassVar

import pytest

from contactsync import (
    AuthenticationError,
    Contact,
    FieldDefinition,
    FieldType,
    ImportStatus,
    ImportTimeout,
    ListSubscription,
    RowError,
    SubscriptionAction,
    UnsupportedAction,
)
from contactsync.batching import Batch
from contactsync.provider import ImportRoute, poll_delays
from contactsync.sandbox import Sandbox
from tests.toy import REFUSED_BATCH_MARK, REJECTED_DOMAIN, ToyEmulator, ToyProvider


@pytest.fixture
def toy() -> Iterator[tuple[Sandbox, ToyProvider]]:
    emulator = ToyEmulator()
    with Sandbox([emulator]) as sandbox:
        client = ToyProvider(**sandbox.credentials("toy"), poll_interval=0.01)
        yield sandbox, client


def _contacts(n: int, *, bad_every: int = 0) -> list[Contact]:
    return [
        Contact(f"user{i}{REJECTED_DOMAIN if bad_every and i % bad_every == 0 else '@example.com'}", name=f"User {i}")
        for i in range(1, n + 1)
    ]


def test_small_import_uses_the_first_route_in_batches_and_aggregates(toy: tuple[Sandbox, ToyProvider]) -> None:
    sandbox, client = toy
    job = client.import_contacts(_contacts(7))
    assert len(job.parts) == 3  # three per JSON request
    assert [len(p.rows) for p in job.parts] == [3, 3, 1]
    assert job.id == ",".join(p.id for p in job.parts)
    assert job.status is ImportStatus.PENDING
    assert job.requested == 7
    bodies = sandbox.emulators["toy"].state["bodies"]  # two batches are in flight at once: any order
    assert sorted(c["email"] for body in bodies for c in body["contacts"]) == sorted(
        f"user{i}@example.com" for i in range(1, 8)
    )


def test_large_import_takes_the_file_route(toy: tuple[Sandbox, ToyProvider]) -> None:
    sandbox, client = toy
    job = client.wait(client.import_contacts(_contacts(30)))
    assert len(job.parts) == 2  # 25 per file
    assert job.status is ImportStatus.COMPLETED
    assert job.created == 30
    assert sandbox.emulators["toy"].state["bodies"] == []  # nothing went through the JSON route


def test_wait_polls_to_terminal_and_reports_progress(toy: tuple[Sandbox, ToyProvider]) -> None:
    _, client = toy
    seen: list[ImportStatus] = []
    job = client.wait(client.import_contacts(_contacts(4)), on_progress=lambda j: seen.append(j.status))
    assert job.status is ImportStatus.COMPLETED
    assert seen[0] is ImportStatus.PENDING
    assert ImportStatus.RUNNING in seen
    assert seen[-1] is ImportStatus.COMPLETED
    assert (job.created, job.updated, job.errored) == (4, 0, 0)


def test_second_import_counts_updates(toy: tuple[Sandbox, ToyProvider]) -> None:
    _, client = toy
    client.wait(client.import_contacts(_contacts(2)))
    job = client.wait(client.import_contacts(_contacts(3)))
    assert (job.created, job.updated) == (1, 2)


def test_provider_row_errors_are_traced_to_input_rows(toy: tuple[Sandbox, ToyProvider]) -> None:
    _, client = toy
    job = client.wait(client.import_contacts(_contacts(8, bad_every=3)))
    assert job.status is ImportStatus.COMPLETED_WITH_ERRORS
    errors = list(client.import_errors(job))
    assert [(e.row, e.email) for e in errors] == [(3, f"user3{REJECTED_DOMAIN}"), (6, f"user6{REJECTED_DOMAIN}")]
    assert all(e.message == "domain refused" for e in errors)


def test_rows_rejected_locally_keep_their_numbers_and_nothing_is_lost(toy: tuple[Sandbox, ToyProvider]) -> None:
    _, client = toy
    items: list[Contact | RowError] = [
        Contact("a@example.com"),
        RowError("not-an-email", None, "email", "invalid email"),
        Contact("b@example.com", properties={"born": date(1990, 1, 2)}),  # the toy route has no date type
        Contact(f"c{REJECTED_DOMAIN}"),
        Contact("d@example.com", properties={"seen": datetime(2024, 5, 1, 12, 0)}),  # nor a date-time one
        Contact("e@example.com", properties={"score": 1.5}),
    ]
    job = client.wait(client.import_contacts(items))
    errors = sorted(client.import_errors(job), key=lambda e: e.row or 0)
    assert [(e.row, e.field) for e in errors] == [(2, "email"), (3, "born"), (4, None), (5, "seen")]
    assert job.status is ImportStatus.COMPLETED_WITH_ERRORS
    assert job.accepted + len(errors) == len(items)


def test_a_failed_job_reports_every_row_it_carried(toy: tuple[Sandbox, ToyProvider]) -> None:
    _, client = toy
    job = client.wait(client.import_contacts(_contacts(4), extra={"fail": True}))
    assert job.status is ImportStatus.FAILED
    errors = list(client.import_errors(job))
    assert sorted(e.row for e in errors if e.row is not None) == [1, 2, 3, 4]
    assert all("broken" in e.message for e in errors)


def test_a_failed_job_reports_the_providers_own_reasons_where_it_has_them(toy: tuple[Sandbox, ToyProvider]) -> None:
    _, client = toy
    job = client.wait(client.import_contacts(_contacts(3, bad_every=2), extra={"fail": True}))
    errors = {e.row: e.message for e in client.import_errors(job)}
    assert errors == {1: "the toy job 1 ended broken", 2: "domain refused", 3: "the toy job 1 ended broken"}


def test_extra_fields_are_merged_last_into_the_body(toy: tuple[Sandbox, ToyProvider]) -> None:
    sandbox, client = toy
    client.import_contacts(_contacts(1), extra={"lists": ["override"], "campaign": {"tag": "x"}})
    body = sandbox.emulators["toy"].state["bodies"][0]
    assert body["lists"] == ["override"]
    assert body["campaign"] == {"tag": "x"}


def test_unsupported_action_is_refused_with_the_alternative(toy: tuple[Sandbox, ToyProvider]) -> None:
    sandbox, client = toy
    with pytest.raises(UnsupportedAction, match="remove the contact instead"):
        client.import_contacts(_contacts(1), [ListSubscription("1", SubscriptionAction.UNSUBSCRIBE)])
    assert sandbox.requests == type(sandbox.requests)(maxlen=sandbox.requests.maxlen)  # nothing was sent


def test_refresh_accepts_a_job_id_string(toy: tuple[Sandbox, ToyProvider]) -> None:
    _, client = toy
    job = client.wait(client.import_contacts(_contacts(5)))
    again = client.refresh(job.id)
    assert again.status is ImportStatus.COMPLETED
    assert again.created == 5
    assert [p.id for p in again.parts] == [p.id for p in job.parts]


def test_wait_times_out_with_the_last_state(toy: tuple[Sandbox, ToyProvider]) -> None:
    _, client = toy
    job = client.import_contacts(_contacts(1))
    with pytest.raises(ImportTimeout) as caught:
        client.wait(job, timeout=0.001, poll_interval=0.05)
    assert not caught.value.job.status.is_terminal


def test_plan_import_sends_nothing(toy: tuple[Sandbox, ToyProvider]) -> None:
    sandbox, client = toy
    route, described, rejected = client.plan_import([*_contacts(4), RowError(None, None, "email", "missing email")])
    assert route == "json"
    assert [d["contacts"] for d in described] == [3, 1]
    assert [e.row for e in rejected] == [5]
    assert len(sandbox.requests) == 0


def test_on_batch_sees_each_submitted_batch(toy: tuple[Sandbox, ToyProvider]) -> None:
    _, client = toy
    seen: list[int] = []
    client.import_contacts(_contacts(7), on_batch=lambda job: seen.append(job.requested))
    assert seen == [3, 6, 7]


def _gone(ref: weakref.ref[Batch]) -> bool:
    """Whether the batch is freed, allowing its worker thread a moment to drop its last reference."""
    deadline = time.monotonic() + 2
    while ref() is not None and time.monotonic() < deadline:
        time.sleep(0.001)
    return ref() is None


def test_a_batch_is_let_go_once_sent_so_memory_is_bounded_by_the_batches_in_flight(
    toy: tuple[Sandbox, ToyProvider], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, client = toy
    sent: list[weakref.ref[Batch]] = []
    build = client.import_route

    def recording_route(*args: Any) -> ImportRoute:
        route = build(*args)
        submit = route.submit

        def recording(batch: Batch) -> Any:
            sent.append(weakref.ref(batch))
            return submit(batch)

        monkeypatch.setattr(route, "submit", recording)
        return route

    monkeypatch.setattr(client, "import_route", recording_route)
    settled_and_gone: list[bool] = []
    job = client.import_contacts(
        _contacts(12),
        route="json",
        on_batch=lambda job: settled_and_gone.append(all(_gone(ref) for ref in sent[: len(job.parts)])),
    )
    assert settled_and_gone == [True] * 4  # each batch, by the time its part is settled, is freed
    assert [p.rows.row_at(0) for p in job.parts] == [1, 4, 7, 10]  # its row index lives on, on disk


def test_a_refused_batch_becomes_a_failed_part_and_the_others_go_through(toy: tuple[Sandbox, ToyProvider]) -> None:
    _, client = toy
    contacts = _contacts(7)
    contacts[4] = Contact(f"{REFUSED_BATCH_MARK}@example.com")  # the second batch: rows 4-6
    job = client.wait(client.import_contacts(contacts))
    assert [p.status for p in job.parts] == [ImportStatus.COMPLETED, ImportStatus.FAILED, ImportStatus.COMPLETED]
    assert job.status is ImportStatus.FAILED
    errors = list(client.import_errors(job))
    assert sorted(e.row for e in errors if e.row is not None) == [4, 5, 6]
    assert all("this batch is refused" in e.message for e in errors)
    assert job.created == 4


def test_a_contact_larger_than_any_request_is_a_row_error(toy: tuple[Sandbox, ToyProvider]) -> None:
    _, client = toy
    huge = Contact("big@example.com", properties={"notes": "x" * 5_000})
    job = client.wait(client.import_contacts([Contact("a@example.com"), huge]))
    (error,) = client.import_errors(job)
    assert (error.row, error.email) == (2, "big@example.com")
    assert "request limit" in error.message
    assert job.created == 1


def test_wrong_credentials_stop_the_import(toy: tuple[Sandbox, ToyProvider]) -> None:
    sandbox, _ = toy
    client = ToyProvider(token="wrong-token", base_url=sandbox.base_url("toy"))
    with pytest.raises(AuthenticationError, match="bad token"):
        client.import_contacts(_contacts(7))


@pytest.mark.parametrize("concurrency", [1, 4])
def test_parts_keep_input_order_whatever_the_concurrency(toy: tuple[Sandbox, ToyProvider], concurrency: int) -> None:
    sandbox, _ = toy
    client = ToyProvider(**sandbox.credentials("toy"), poll_interval=0.01, concurrency=concurrency)
    job = client.wait(client.import_contacts(_contacts(9, bad_every=4)))
    assert [p.rows.row_at(0) for p in job.parts] == [1, 4, 7]
    assert [e.row for e in client.import_errors(job)] == [4, 8]


def test_an_import_whose_every_row_is_rejected_sends_nothing_reports_them_and_fails(
    toy: tuple[Sandbox, ToyProvider],
) -> None:
    sandbox, client = toy
    job = client.wait(client.import_contacts([RowError(None, None, "email", "missing email")] * 2))
    assert job.provider_jobs == ()
    assert job.status is ImportStatus.FAILED  # nothing accepted: not a success (issue 12, item 7)
    assert not job.status.is_success
    assert (job.accepted, job.errored, job.requested) == (0, 2, 2)
    assert [e.row for e in client.import_errors(job)] == [1, 2]
    assert len(sandbox.requests) == 0


@pytest.mark.parametrize(("first", "longest"), [(0.05, 0.5), (2.0, 20.0), (5.0, 30.0), (60.0, 60.0)])
def test_polls_back_off_by_half_up_to_ten_times_the_first_pause(first: float, longest: float) -> None:
    delays = list(itertools.islice(poll_delays(first), 40))
    grown = [first, first * 1.5, first * 2.25] if first < longest else [first] * 3
    assert delays[:3] == pytest.approx(grown)
    assert max(delays) == delays[-1] == longest
    assert all(later >= earlier for earlier, later in itertools.pairwise(delays))


def test_a_plugin_overriding_the_old_create_field_hook_keeps_working_with_a_warning() -> None:
    with pytest.warns(DeprecationWarning, match="overrides create_field, the hook now named define_field"):

        class OldStyle(ToyProvider):
            """A plugin written when ``create_field`` was the hook creating one field."""

            created: ClassVar[list[FieldDefinition]] = []

            def fields(self) -> list[FieldDefinition]:
                return list(self.created)

            def create_field(self, definition: FieldDefinition) -> FieldDefinition:
                self.created.append(definition)
                return definition

    client = OldStyle(token="t0ken", base_url="http://127.0.0.1:9/toy")
    wanted = FieldDefinition("plan", FieldType.TEXT)
    assert client.ensure_fields([wanted]) == [wanted]
    assert client.create_field(wanted) == wanted  # the core's race-safe call: read back, not created twice
    assert OldStyle.created == [wanted]


def test_a_provider_with_the_new_hook_gets_no_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")

        class NewStyle(ToyProvider):
            def define_field(self, definition: FieldDefinition) -> FieldDefinition:
                return definition

    assert NewStyle.create_field is ToyProvider.create_field
