"""One partition without Dask: the partition function, the hidden settings, sync_partition, the summary."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contactsync.dask import Account, PartitionedRun, PartitionRun, partition_of, sync_dataframe, sync_partition
from contactsync.emails import normalize_email
from contactsync.errors import ConfigurationError
from contactsync.model import RowError
from contactsync.sandbox import Sandbox
from contactsync.sync import Partition, SyncCounts, SyncStatus

ADDRESSES = st.from_regex(r"[A-Za-z0-9._%+-]{1,20}@[A-Za-z0-9-]{1,15}\.(com|org|net)", fullmatch=True)


@given(ADDRESSES, st.integers(1, 64), st.sampled_from(["", " ", "\t"]))
def test_one_contact_one_partition_however_written(address: str, count: int, pad: str) -> None:
    chosen = partition_of(f"{pad}{address.upper()}{pad}", count)
    assert 0 <= chosen < count
    assert chosen == partition_of(address.lower(), count)
    try:
        normal = normalize_email(address)
    except ValueError:
        return
    assert Partition(chosen, count).holds(normal)


@given(st.one_of(st.none(), st.integers(), st.text(max_size=30)), st.integers(1, 16))
def test_any_source_value_has_a_partition(value: object, count: int) -> None:
    assert 0 <= partition_of(value, count) < count


def test_the_partition_hash_is_stable_across_processes() -> None:
    code = "from contactsync.dask import partition_of; print(partition_of('Someone@Example.com', 97))"
    seen = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout}
    seen.add(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert seen == {f"{partition_of('someone@example.com', 97)}\n"}


def test_an_account_never_shows_its_settings() -> None:
    account = Account("mailjet", {"api_key": "public-7f3a", "secret_key": "private-91bc"})
    assert "7f3a" not in repr(account) and "91bc" not in repr(account)
    assert account.cap_name == f"contactsync-mailjet-{account.label}"
    assert Account("mailjet", {"api_key": "public-7f3a", "secret_key": "other"}).label != account.label
    assert Account("mailjet", {}, label="agency-42").cap_name == "contactsync-mailjet-agency-42"


def test_sync_partition_numbers_row_errors_as_the_source(postgres_url: str) -> None:
    with Sandbox(["mailjet"]) as sandbox:
        list_id = sandbox.connect("mailjet").create_list("Newsletter")
        rows = [{"email": f"p{i}@example.com", "team": "Blue"} for i in range(300)]
        rows = [row for row in rows if partition_of(row["email"], 3) == 1]
        rows.insert(2, {"email": "broken", "team": "Blue"})
        numbers = [10 * (at + 1) for at in range(len(rows))]
        settings = {**sandbox.credentials("mailjet"), "poll_interval": 0.02}
        common: dict[str, Any] = {
            "provider": "mailjet",
            "settings": settings,
            "list_id": list_id,
            "name": "n",
            "state": postgres_url,
        }
        done = sync_partition(rows, 1, 3, numbers=numbers, events=False, **common)
        assert (done.status, done.partition) == (SyncStatus.COMPLETED_WITH_ERRORS, Partition(1, 3))
        assert [(error.row, error.field) for error in done.errors] == [(30, "email")]
        assert done.counts.accepted == len(rows) - 1
        assert len(sandbox.contacts("mailjet", list_id)) == len(rows) - 1
        strays = sync_partition([{"email": "p0@example.com"}], (partition_of("p0@example.com", 3) + 1) % 3, 3, **common)
        assert [error.message.startswith("belongs to partition") for error in strays.errors] == [True]


def test_the_summary_adds_up_and_keeps_the_worst_status() -> None:
    ok = PartitionRun(Partition(1, 2), SyncStatus.COMPLETED, SyncCounts(create=3, accepted=3))
    bad = PartitionRun(
        Partition(0, 2),
        SyncStatus.COMPLETED_WITH_ERRORS,
        SyncCounts(create=2, rejected=1, accepted=2),
        errors=(RowError("x", 7, "email", "bad"), RowError(None, None, None, "gone"), RowError("y", 2, None, "no")),
    )
    summary = PartitionedRun.combine("n", [ok, bad])
    assert summary.status is SyncStatus.COMPLETED_WITH_ERRORS
    assert (summary.counts.create, summary.counts.accepted, summary.counts.rejected) == (5, 5, 1)
    assert [error.row for error in summary.errors] == [2, 7, None]
    assert [part.partition.index for part in summary.partitions] == [0, 1]
    failed = PartitionRun(Partition(2, 3), SyncStatus.FAILED, message="SyncLocked: held")
    assert PartitionedRun.combine("n", [ok, failed]).failed == (failed,)
    assert PartitionedRun.combine("n", [ok, failed]).status is SyncStatus.FAILED


def test_without_a_dask_client_the_error_says_how_to_start_one() -> None:
    import pandas as pd

    with pytest.raises(ConfigurationError, match="no Dask client"):
        sync_dataframe(pd.DataFrame({"email": ["a@example.com"]}), provider="mailjet", list_id="1", name="n", state="x")


def test_without_dask_the_module_imports_and_names_the_extra() -> None:
    code = (
        "import sys; sys.modules['distributed'] = None\n"
        "from contactsync.dask import sync_dataframe, sync_partition\n"
        "from contactsync.errors import ConfigurationError\n"
        "try:\n"
        "    sync_dataframe(None, provider='mailjet', list_id='1', name='n', state='x')\n"
        "except ConfigurationError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'contactsync[dask]'" in done.stdout


def test_a_frame_without_an_email_column_is_refused_naming_its_columns() -> None:
    import pandas as pd
    from distributed import Client

    from contactsync.errors import InvalidInput

    with (
        Client(processes=False, dashboard_address=None) as client,
        pytest.raises(InvalidInput, match=r"no email column .*columns: mail_to, team"),
    ):
        sync_dataframe(
            pd.DataFrame({"mail_to": ["a@example.com"], "team": ["x"]}),
            provider="mailjet",
            list_id="1",
            name="n",
            state="x",
            client=client,
        )
