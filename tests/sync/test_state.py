"""The state stores behind one interface, each test run on SQLite and on PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from contactsync import ConfigurationError, ContactEvent, EventType, SyncLocked
from contactsync.sync import Partition, SyncMode, open_state
from contactsync.sync.postgres import redact_url
from contactsync.sync.state import StateStore
from tests.postgres import PostgresServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(state: str) -> StateStore:
    return open_state(state)


def test_a_sync_name_keeps_to_the_list_it_was_made_for(store: StateStore) -> None:
    store.open_sync("news", "", "mailjet", "1")
    assert store.open_sync("news", "", "mailjet", "1").list_id == "1"
    with pytest.raises(ConfigurationError, match="give this sync another name"):
        store.open_sync("news", "", "mailjet", "2")


def test_partitions_of_one_sync_are_syncs_of_their_own(store: StateStore) -> None:
    ids = {store.open_sync("news", part.label, "mailjet", "1").id for part in Partition.all(3)}
    assert len(ids) == 3


def test_a_state_of_another_schema_version_is_refused(state: str) -> None:
    store = open_state(state)
    store.execute("UPDATE contactsync_meta SET value = '99' WHERE key = 'schema'")
    store.commit()
    store.close()
    with pytest.raises(ConfigurationError, match="schema version 99"):
        open_state(state)


def test_a_held_lock_refuses_a_second_holder_at_once_and_frees_on_release(state: str) -> None:
    first, second = open_state(state), open_state(state)
    sync_id = first.open_sync("news", "", "mailjet", "1").id
    other_id = first.open_sync("other", "", "mailjet", "2").id
    with first.lock(sync_id, "news"):
        started = time.monotonic()
        with pytest.raises(SyncLocked, match="news"), second.lock(sync_id, "news"):
            pass
        assert time.monotonic() - started < 2
        with second.lock(other_id, "other"):  # another sync runs meanwhile
            pass
    with second.lock(sync_id, "news"):
        pass


def test_the_lock_of_a_killed_holder_is_free(state: str) -> None:
    store = open_state(state)
    sync_id = store.open_sync("news", "", "mailjet", "1").id
    holder = (
        "import sys, time; from contactsync.sync import open_state; s = open_state(sys.argv[1]); "
        "lock = s.lock(int(sys.argv[2])); lock.__enter__(); print('held', flush=True); time.sleep(60)"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", holder, state, str(sync_id)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "held"
        with pytest.raises(SyncLocked), store.lock(sync_id):
            pass
    finally:
        process.kill()
        process.wait(timeout=10)
    deadline = time.monotonic() + 10
    while True:  # the server notices the dropped connection within moments
        try:
            with store.lock(sync_id):
                break
        except SyncLocked:
            assert time.monotonic() < deadline
            time.sleep(0.05)


def test_an_event_is_recorded_once_however_often_it_is_reported(store: StateStore) -> None:
    sync_id = store.open_sync("news", "", "mailjet", "1").id
    at = datetime(2024, 5, 1, 12, tzinfo=timezone.utc)
    event = ContactEvent("mailjet", EventType.UNSUBSCRIBED, "a@example.com", at, "1", None, {"id": 7})
    same = ContactEvent("mailjet", EventType.UNSUBSCRIBED, "a@example.com", at + timedelta(0), "1", None, {"id": 7})
    bounce = ContactEvent("mailjet", EventType.BOUNCED, "a@example.com", at, None, "hard", {})
    assert store.record_events(sync_id, [event, bounce]) == [event, bounce]
    assert store.record_events(sync_id, [same]) == []
    store.commit()
    assert [(e.type, e.at) for e in store.events(sync_id)] == [(EventType.UNSUBSCRIBED, at), (EventType.BOUNCED, at)]


def test_runs_are_listed_newest_first_with_their_counts(store: StateStore) -> None:
    sync_id = store.open_sync("news", "", "mailjet", "1").id
    first, _ = store.start_run(sync_id, SyncMode.UPSERT, "addnoforce", "remove")
    second, _ = store.start_run(sync_id, SyncMode.MIRROR, "addnoforce", "remove")
    store.commit()
    assert [(r.id, r.mode) for r in store.runs([sync_id])] == [(second, SyncMode.MIRROR), (first, SyncMode.UPSERT)]


def test_a_postgresql_password_never_shows_in_messages_or_reprs(postgres: PostgresServer) -> None:
    secret = "hunter2-not-shown"
    url = f"postgresql://{postgres.user}:{secret}@{postgres.host}:{postgres.port}/postgres"
    store = open_state(url)
    assert secret not in repr(store) and secret not in store.url
    sync_id = store.open_sync("news", "", "mailjet", "1").id
    with store.lock(sync_id), pytest.raises(SyncLocked) as locked, open_state(url).lock(sync_id):
        pass
    assert secret not in str(locked.value)
    with pytest.raises(ConfigurationError) as refused:
        open_state(f"postgresql://{postgres.user}:{secret}@{postgres.host}:1/postgres")
    assert secret not in str(refused.value) and refused.value.__cause__ is None
    assert redact_url(url).endswith(f":***@{postgres.host}:{postgres.port}/postgres")


def test_a_file_that_is_not_a_state_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are not the tables you are looking for" * 100)
    with pytest.raises(ConfigurationError, match="not a sync state"):
        open_state(str(path))
