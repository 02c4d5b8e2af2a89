"""Sources: records with a field map, SQL streamed on SQLite and PostgreSQL, files keyed before parsing."""

from __future__ import annotations

import decimal
import itertools
import math
import sqlite3
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import attrs
import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from contactsync import Contact, FieldType, InvalidInput, RowError
from contactsync.sandbox import Sandbox
from contactsync.sources import read_file, read_records, read_sql
from contactsync.sync import Sync, SyncCounts


def test_a_field_map_picks_and_renames_the_keys_read() -> None:
    records = [{"mail": "A@Example.com", "first": "Ann", "plan": "pro", "secret": "x"}]
    items = list(read_records(records, fields={"mail": "email", "first": "name", "plan": "tier"}))
    assert items == [Contact("a@example.com", "Ann", {"tier": "pro"})]


def test_without_a_map_the_email_and_name_are_found_by_their_usual_names() -> None:
    items = list(read_records([{"E-mail": "a@example.com", "Full Name": "Ann", "age": 30}]))
    assert items == [Contact("a@example.com", "Ann", {"age": 30})]


def test_values_keep_their_types_and_missing_ones_are_left_out() -> None:
    when = datetime(2024, 1, 2, 3, 4, tzinfo=timezone.utc)
    record = {
        "email": "a@example.com",
        "n": decimal.Decimal("3"),
        "x": decimal.Decimal("2.5"),
        "on": date(2024, 1, 2),
        "at": when,
        "vip": True,
        "gone": None,
        "nan": math.nan,
    }
    (item,) = read_records([record])
    assert isinstance(item, Contact)
    assert dict(item.properties) == {"n": 3, "x": 2.5, "on": date(2024, 1, 2), "at": when, "vip": True}
    assert type(item.properties["n"]) is int


def test_text_is_parsed_by_the_field_types() -> None:
    (item,) = read_records(
        [{"email": "a@example.com", "age": "41", "joined": "2020-02-03"}],
        field_types={
            "age": FieldType.INTEGER,
            "joined": FieldType.DATE,
        },
    )
    assert item == Contact("a@example.com", None, {"age": 41, "joined": date(2020, 2, 3)})


def test_a_bad_record_is_a_row_error_naming_its_row_and_field() -> None:
    records: list[dict[str, Any]] = [
        {"email": "a@example.com"},
        {"email": "b@example.com", "tags": ["x"]},
        {"email": "not an address"},
        {"name": "No Email"},
        {"email": "c@example.com", "age": "many"},
    ]
    items = list(read_records(records, field_types={"age": FieldType.INTEGER}))
    errors = [(i.row, i.field) for i in items if isinstance(i, RowError)]
    assert errors == [(2, "tags"), (3, "email"), (4, "email"), (5, "age")]


def test_objects_are_read_by_attribute_through_the_field_map() -> None:
    @attrs.frozen
    class User:
        address: str
        nickname: str

    items = list(read_records([User("a@example.com", "Al")], fields={"address": "email", "nickname": "name"}))
    assert items == [Contact("a@example.com", "Al")]
    with pytest.raises(InvalidInput, match="needs a field map"):
        list(read_records([User("a@example.com", "Al")]))


@given(records=st.lists(st.dictionaries(st.sampled_from(["email", "name", "k"]), st.text(max_size=12)), max_size=20))
def test_every_record_gives_one_item_numbered_in_order(records: list[dict[str, str]]) -> None:
    items = list(read_records(records))
    assert len(items) == len(records)
    assert all(item.row == at for at, item in enumerate(items, start=1) if isinstance(item, RowError))


def _users(tmp_path: Path) -> str:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE users (mail TEXT, first TEXT, age INTEGER)")
        db.executemany("INSERT INTO users VALUES (?, ?, ?)", [("a@example.com", "Ann", 30), ("broken", "B", 1)])
    return f"sqlite:///{path}"


def test_sql_rows_become_contacts_and_row_errors_with_row_numbers(tmp_path: Path) -> None:
    items = list(read_sql(_users(tmp_path), "SELECT mail AS email, first AS name, age FROM users ORDER BY rowid"))
    assert items[0] == Contact("a@example.com", "Ann", {"age": 30})
    assert isinstance(items[1], RowError) and (items[1].row, items[1].field) == (2, "email")


def test_a_failing_query_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no such table"):
        list(read_sql(_users(tmp_path), "SELECT * FROM nobody"))


def test_sql_on_postgresql_streams_through_a_server_side_cursor(postgres_url: str) -> None:
    query = "SELECT 'u' || g || '@example.com' AS email, g AS n FROM generate_series(1, 1000000) AS g"
    rows = read_sql(postgres_url, query, chunk=500)
    first = list(itertools.islice(rows, 3))
    assert first == [Contact(f"u{n}@example.com", None, {"n": n}) for n in (1, 2, 3)]
    with psycopg.connect(postgres_url, autocommit=True) as probe:
        running = probe.execute(
            "SELECT query FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
            "AND (query LIKE '%generate_series%' OR query LIKE 'FETCH%')"
        ).fetchall()
    assert any("FETCH" in query or "DECLARE" in query for (query,) in running), running
    rows.close()


def test_a_sync_from_sql_sends_only_what_changed(postgres_url: str, tmp_path: Path) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as db:
        db.execute("CREATE TABLE users (email TEXT, plan TEXT)")
        db.execute("INSERT INTO users SELECT 's' || g || '@example.com', 'free' FROM generate_series(1, 30) AS g")
        with Sandbox(["mailjet"]) as sandbox:
            client = sandbox.connect("mailjet")
            with Sync(client, client.create_list("SQL"), state=postgres_url, journal_dir=tmp_path) as sync:
                query = "SELECT email, plan FROM users ORDER BY email"
                assert sync.run(read_sql(postgres_url, query)).counts.accepted == 30
                db.execute("UPDATE users SET plan = 'pro' WHERE email = 's7@example.com'")
                run = sync.run(read_sql(postgres_url, query))
    assert run.counts == SyncCounts(update=1, unchanged=29, accepted=1)


def test_a_file_resynced_after_one_cell_changed_sends_that_row_only(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    rows = [f"f{n}@example.com,F {n},{n}" for n in range(50)]
    path.write_text("email,name,n\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with Sandbox(["mailjet"]) as sandbox:
        client = sandbox.connect("mailjet")
        with Sync(client, client.create_list("File"), state=str(tmp_path / "s.db")) as sync:
            sync.run(read_file(path))
            rows[20] = "f20@example.com,F Twenty,20"
            path.write_text("email,name,n\n" + "\n".join(rows) + "\n", encoding="utf-8")
            run = sync.run(read_file(path))
            assert run.counts == SyncCounts(update=1, unchanged=49, accepted=1)
            assert [o.row for o in sync.outcomes(run.id)] == [21]


def test_a_file_read_another_way_to_the_same_contacts_is_compared_by_fingerprint(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("email,name,note\n" + "".join(f"g{n}@example.com,G {n},\n" for n in range(20)), "utf-8")
    with Sandbox(["mailjet"]) as sandbox:
        client = sandbox.connect("mailjet")
        with Sync(client, client.create_list("File"), state=str(tmp_path / "s.db")) as sync:
            sync.run(read_file(path))
            skipped = sync.run(read_file(path, mapping={"note": ""}))  # another layout, the same contacts
            assert skipped.counts == SyncCounts(unchanged=20)
            assert sync.run(read_file(path, mapping={"note": ""})).counts == SyncCounts(unchanged=20)
            assert sync.plan(read_file(path)).unchanged.count == 20


def test_a_file_and_the_same_contacts_as_a_list_plan_alike(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("email,name\n" + "".join(f"h{n}@example.com,H {n}\n" for n in range(12)) + "bad,B\n", "utf-8")
    with Sandbox(["mailjet"]) as sandbox:
        client = sandbox.connect("mailjet")
        with Sync(client, client.create_list("File"), state=str(tmp_path / "s.db")) as sync:
            sync.run([Contact(f"h{n}@example.com", f"H {n}") for n in range(6)])
            from_file = sync.plan(read_file(path))
            from_list = sync.plan(list(read_file(path)))
    for kind in ("create", "update", "unchanged", "retry", "remove", "rejected"):
        assert getattr(from_file, kind).count == getattr(from_list, kind).count, kind
    assert (from_file.create.count, from_file.unchanged.count, from_file.rejected.count) == (6, 6, 1)


def test_a_file_row_repeated_word_for_word_is_synced_once(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    rows = [f"d{n}@example.com,D {n}" for n in range(30)]
    path.write_text("email,name\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with Sandbox(["mailjet"]) as sandbox:
        client = sandbox.connect("mailjet")
        with Sync(client, client.create_list("File"), state=str(tmp_path / "s.db")) as sync:
            sync.run(read_file(path))
            path.write_text("email,name\n" + "\n".join([*rows, rows[4], rows[17]]) + "\n", encoding="utf-8")
            run = sync.run(read_file(path))
    assert (run.counts.unchanged, run.counts.rejected, run.counts.sent) == (30, 2, 0)
    assert [(e.row, e.email) for e in run.errors] == [(31, "d4@example.com"), (32, "d17@example.com")]
