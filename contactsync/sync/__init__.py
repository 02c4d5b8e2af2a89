"""The sync engine: keep a provider list in step with a source, sending only what changed.

``Sync(client, list_id, name=..., state="sync.db")``; ``plan(contacts)`` is a dry run,
``run(contacts, mode=SyncMode.MIRROR, max_removals=0.1)`` a run; ``runs()`` and
``outcomes(run_id)`` read the history and the changelog. See the "Syncing" page of the docs.
"""

from contactsync.sync.engine import EVENTS_OVERLAP, Sync, fan_out
from contactsync.sync.fingerprint import canonical, fingerprint
from contactsync.sync.records import (
    Operation,
    Outcome,
    Partition,
    Planned,
    ProgressCallback,
    Result,
    RunRecord,
    SyncCounts,
    SyncMode,
    SyncPlan,
    SyncProgress,
    SyncRun,
    SyncStatus,
)
from contactsync.sync.state import StateStore, open_state

__all__ = [
    "EVENTS_OVERLAP",
    "Operation",
    "Outcome",
    "Partition",
    "Planned",
    "ProgressCallback",
    "Result",
    "RunRecord",
    "StateStore",
    "Sync",
    "SyncCounts",
    "SyncMode",
    "SyncPlan",
    "SyncProgress",
    "SyncRun",
    "SyncStatus",
    "canonical",
    "fan_out",
    "fingerprint",
    "open_state",
]
