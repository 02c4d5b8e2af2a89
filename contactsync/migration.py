"""Moving a list from one provider to another: every member, with its properties and its subscription state.

:func:`migrate` reads the source list's members once into a local snapshot (so a resumed
run sends the same input in the same order), then imports the subscribed members with
``addnoforce`` and, after them, the unsubscribed ones so that they arrive unsubscribed:
with ``unsub`` in one import where the target applies it in bulk, else (dotmailer) as a
plain import followed by the target's per-contact unsubscribe. Nothing is sent before the
checks pass: a target that cannot hold "unsubscribed" without a setting is refused, the
error naming the setting. Both imports keep journals, so an interrupted migration resumes.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import tempfile
from array import array
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import attrs

from contactsync.errors import (
    AuthenticationError,
    NetworkError,
    NotFound,
    ProviderError,
    RateLimited,
    ServerError,
    UnsupportedAction,
)
from contactsync.model import Contact, ImportJob, ListSubscription, RowError, SubscriptionAction
from contactsync.provider import Provider

__all__ = ["Migration", "MigrationProgress", "migrate"]

MigrationProgress = Callable[[str, int], None]
"""Called with a stage (``reading``, ``subscribed``, ``unsubscribed``, ``unsubscribing``) and a count so far."""

_GLOBAL_FAILURES = (AuthenticationError, NetworkError, RateLimited, ServerError)
_END = "end"
"""The record closing a complete snapshot."""


@attrs.frozen
class Migration:
    """What a migration did: members read, the target's import jobs, and every member that did not make it.

    ``errors`` name the member by its position in the source read (1-based) in ``row``.
    """

    source: str
    source_list: str
    target: str
    target_list: str
    members: int
    subscribed: int
    unsubscribed: int
    jobs: tuple[ImportJob, ...]
    errors: tuple[RowError, ...]

    @property
    def accepted(self) -> int:
        """Members the target accepted."""
        return self.members - len({e.row for e in self.errors})


def migrate(
    source: Provider,
    source_list: str,
    target: Provider,
    target_list: str,
    *,
    journal: str | os.PathLike[str] | None = None,
    on_progress: MigrationProgress | None = None,
    timeout: float = 3600,
) -> Migration:
    """Copy every member of ``source_list`` at ``source`` into ``target_list`` at ``target``.

    ``journal`` names the files that let an interrupted migration resume (``JOURNAL.members``,
    the snapshot, and the two imports' journals ``JOURNAL.subscribed``/``JOURNAL.unsubscribed``):
    run it again with the same arguments. Without it, the snapshot is a temporary file.
    Every job is waited for (``timeout`` each); the files are removed once all have ended.
    Raises UnsupportedAction before anything is sent when the source cannot list members or the
    target cannot hold an unsubscribe, and NotFound when the target list does not exist.
    """
    progress = on_progress or (lambda stage, count: None)
    bulk = _check(source, target, target_list)
    with _files(journal) as base:
        snapshot = Path(f"{base}.members")
        if not _complete(snapshot):
            _write_snapshot(source.members(source_list), snapshot, progress)
        jobs, errors = [], []
        counts = {}
        for subscribed in (True, False):
            stage = "subscribed" if subscribed else "unsubscribed"
            positions = _positions(snapshot, subscribed)
            contacts = _read_snapshot(snapshot, subscribed)
            action = SubscriptionAction.ADD_NO_FORCE if subscribed else SubscriptionAction.UNSUBSCRIBE
            subscriptions = [ListSubscription(target_list, action)] if subscribed or bulk else []
            job = target.import_contacts(
                _counted(contacts, stage, progress), subscriptions, journal=Path(f"{base}.{stage}")
            )
            job = target.wait(job, timeout=timeout)
            counts[stage] = len(positions)
            failed = list(target.import_errors(job))
            if not subscribed and not bulk:
                failed += _unsubscribe_each(target, target_list, snapshot, {e.row for e in failed}, progress)
            jobs.append(job)
            errors += [_renumbered(error, positions) for error in failed]
        for done in _journal_files(base):  # every job ended: nothing is left to resume
            done.unlink(missing_ok=True)
    return Migration(
        source=source.name,
        source_list=str(source_list),
        target=target.name,
        target_list=str(target_list),
        members=counts["subscribed"] + counts["unsubscribed"],
        subscribed=counts["subscribed"],
        unsubscribed=counts["unsubscribed"],
        jobs=tuple(jobs),
        errors=tuple(errors),
    )


def _check(source: Provider, target: Provider, target_list: str) -> bool:
    """Refuse what cannot be done before anything is sent; return whether ``unsub`` goes in bulk."""
    if not source.capabilities.reads_members:
        raise UnsupportedAction(f"{source.name} cannot list a list's members, so nothing can be migrated from it")
    if str(target_list) not in {item.id for item in target.lists()}:
        raise NotFound(f"there is no list {target_list}", provider=target.name, status=404)
    target.check_actions([ListSubscription(target_list, SubscriptionAction.ADD_NO_FORCE)])
    unsubscribe = [ListSubscription(target_list, SubscriptionAction.UNSUBSCRIBE)]
    try:
        target.check_actions(unsubscribe)
        return True
    except UnsupportedAction:
        # an unsubscribed member must arrive unsubscribed: this raises, naming the setting, when it cannot
        target.check_actions(unsubscribe, bulk=False)
        return False


@contextlib.contextmanager
def _files(journal: str | os.PathLike[str] | None) -> Iterator[str]:
    """The base path of the migration's files: the journal, or a temporary directory's."""
    if journal is not None:
        yield os.fspath(journal)
        return
    with tempfile.TemporaryDirectory(prefix="contactsync-migrate-") as folder:
        yield os.path.join(folder, "migration")


def _journal_files(base: str) -> Iterator[Path]:
    for name in ("members", "subscribed", "unsubscribed"):
        for suffix in ("", "-wal", "-shm"):
            yield Path(f"{base}.{name}{suffix}")


def _write_snapshot(members: Iterator[Any], path: Path, progress: MigrationProgress) -> None:
    """Write every member (email, name, properties, subscribed) to ``path``, closed by an end record."""
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as out:
        count = 0
        for count, member in enumerate(members, start=1):
            contact = member.contact
            pickle.dump((contact.email, contact.name, dict(contact.properties), member.subscribed), out)
            if count % 1000 == 0:
                progress("reading", count)
        pickle.dump(_END, out)
        progress("reading", count)
    partial.replace(path)


def _records(stream: IO[bytes]) -> Iterator[Any]:
    while True:
        try:
            record = pickle.load(stream)  # our own snapshot, written before
        except EOFError:
            return
        if record == _END:
            return
        yield record


def _complete(path: Path) -> bool:
    """Whether a snapshot from an earlier run is there in full (its end record written)."""
    if not path.exists():
        return False
    with path.open("rb") as stream:
        try:
            while (record := pickle.load(stream)) != _END:
                del record
        except (EOFError, pickle.UnpicklingError):
            return False
    return True


def _positions(path: Path, subscribed: bool) -> array[int]:
    """The places in the source read (1-based) of the snapshot's members of one standing, in order."""
    with path.open("rb") as stream:
        return array("q", (n for n, record in enumerate(_records(stream), start=1) if record[3] is subscribed))


def _read_snapshot(path: Path, subscribed: bool) -> Iterator[Contact]:
    """The snapshot's members of one standing, as contacts (read lazily: an import resumed may skip them)."""
    with path.open("rb") as stream:
        for email, name, properties, standing in _records(stream):
            if standing is subscribed:
                yield Contact(email, name=name, properties=properties)


def _counted(contacts: Iterator[Contact], stage: str, progress: MigrationProgress) -> Iterator[Contact]:
    count = 0
    for count, contact in enumerate(contacts, start=1):
        if count % 1000 == 0:
            progress(stage, count)
        yield contact
    progress(stage, count)


def _unsubscribe_each(
    target: Provider, target_list: str, snapshot: Path, failed_rows: set[int | None], progress: MigrationProgress
) -> list[RowError]:
    """The per-contact unsubscribe, for a target whose imports cannot unsubscribe; its failures as row errors."""
    errors = []
    unsubscribe = [ListSubscription(target_list, SubscriptionAction.UNSUBSCRIBE)]
    with snapshot.open("rb") as stream:
        row = 0
        for email, _, _, standing in _records(stream):
            if standing:
                continue
            row += 1
            if row in failed_rows:
                continue  # the import did not take it: already reported
            try:
                target.manage_subscriptions(email, unsubscribe)
            except ProviderError as exc:
                if isinstance(exc, _GLOBAL_FAILURES):
                    raise  # not this contact's fault: stop, and resume later
                errors.append(RowError(email, row, None, f"not unsubscribed at {target.name}: {exc}", exc.code))
            if row % 100 == 0:
                progress("unsubscribing", row)
    return errors


def _renumbered(error: RowError, positions: array[int]) -> RowError:
    """A row error of one import, its row made the member's position in the source read."""
    if error.row is None or not 1 <= error.row <= len(positions):
        return error
    return attrs.evolve(error, row=positions[error.row - 1])
