"""Partitioned syncs as Dask tasks against a shared PostgreSQL state, the account's requests capped across workers.

``sync_dataframe(frame, provider=..., settings=..., list_id=..., name=..., state="postgresql://...",
partitions=8, max_concurrency=4)`` runs one :class:`~contactsync.sync.Sync` per partition
on the current Dask cluster and returns one :class:`PartitionedRun`. :func:`sync_partition`
is one partition for any engine (Spark's ``foreachPartition``); it needs no Dask. Install
the extra for the rest: ``pip install 'contactsync[dask]'``. See the "Scaling out" page.
"""

from contactsync.dask.cap import Cap
from contactsync.dask.frame import sync_dataframe
from contactsync.dask.partition import LOCK_WAIT, Account, PartitionRun, partition_of, sync_partition
from contactsync.dask.summary import PartitionedRun

__all__ = [
    "LOCK_WAIT",
    "Account",
    "Cap",
    "PartitionRun",
    "PartitionedRun",
    "partition_of",
    "sync_dataframe",
    "sync_partition",
]
