"""A partitioned sync on a LocalCluster against one process on the same machine: wall clock and peak RSS.

    python benchmarks/dask_sync.py --n 2000000
    python benchmarks/dask_sync.py --n 200000 --partitions 8 --workers 2 --cap 4

Both sync N contacts to a Mailjet list of the sandbox, served from its own process
(``contactsync sandbox``), with the state in a throwaway PostgreSQL server:

``one``    :func:`~contactsync.dask.sync_partition` as one partition in one fresh process,
           the rows streamed from a generator (peak RSS: that process's VmHWM);
``dask``   :func:`~contactsync.dask.sync_dataframe` with ``--partitions`` partitions on a
           fresh LocalCluster of ``--workers`` worker processes, the frame made on the workers
           (``dask.dataframe.from_map``); peak RSS: each worker's VmHWM.

Then each is re-synced unchanged (nothing sent). Events are off, as in benchmarks/sync.py.
The sandbox's own CPU time is read from /proc, to tell which bound was hit.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.run import sandbox
from benchmarks.sync import states
from contactsync import connect

CHUNK = 100_000
POLL = 0.05


def rows(start: int, stop: int) -> Iterator[dict[str, Any]]:
    """Contacts ``start`` to ``stop - 1``: email, name and two properties."""
    for i in range(start, stop):
        yield {"email": f"user{i:08d}@example.com", "name": f"User {i}", "company": "Acme", "age": i % 90}


def chunk(index: int, n: int) -> Any:
    """Piece ``index`` of the frame, made where it is computed."""
    import pandas as pd

    return pd.DataFrame(list(rows(index * CHUNK, min((index + 1) * CHUNK, n))))


def peak_rss_mib() -> float:
    """This process's peak resident set (VmHWM), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def step_one(settings: dict[str, Any]) -> dict[str, Any]:
    from contactsync.dask import sync_partition

    started = time.perf_counter()
    done = sync_partition(
        rows(0, settings["n"]),
        0,
        1,
        provider="mailjet",
        settings={**settings["connect"], "poll_interval": POLL},
        list_id=settings["list_id"],
        name="one",
        state=settings["state"],
        journal_dir=settings["journals"],
        events=False,
        reconcile=False,
        timeout=7200,
    )
    return {
        "seconds": time.perf_counter() - started,
        "status": done.status.value,
        "sent": done.counts.sent,
        "accepted": done.counts.accepted,
        "rss_mib": peak_rss_mib(),
    }


def step_dask(settings: dict[str, Any]) -> dict[str, Any]:
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    from contactsync.dask import sync_dataframe

    n = settings["n"]
    with (
        LocalCluster(n_workers=settings["workers"], threads_per_worker=2, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        figures: list[dict[str, Any]] = []
        for _ in range(2):  # the first sync, then the same frame unchanged
            frame = dd.from_map(chunk, range((n + CHUNK - 1) // CHUNK), n=n)
            started = time.perf_counter()
            done = sync_dataframe(
                frame,
                provider="mailjet",
                settings={**settings["connect"], "poll_interval": POLL},
                list_id=settings["list_id"],
                name="dask",
                state=settings["state"],
                partitions=settings["partitions"],
                max_concurrency=settings["cap"],
                client=client,
                journal_dir=settings["journals"],
                events=False,
                reconcile=False,
                timeout=7200,
            )
            figures.append(
                {
                    "seconds": time.perf_counter() - started,
                    "status": done.status.value,
                    "sent": done.counts.sent,
                    "accepted": done.counts.accepted,
                }
            )
        workers = client.run(peak_rss_mib)
    return {"first": figures[0], "again": figures[1], "worker_rss_mib": sorted(workers.values())}


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _step(name: str, settings: dict[str, Any]) -> dict[str, Any]:
    command = [sys.executable, __file__, "--step", name, "--settings", json.dumps(settings)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"step {name} failed: {done.stderr[-3000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def measure(n: int, partitions: int, workers: int, cap: int | None) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="contactsync-dask-bench-") as tmp, states("postgresql", Path(tmp)) as state:
        for how in ("one", "dask"):
            with sandbox("mailjet") as account:
                with connect("mailjet", **account) as client:
                    list_id = client.create_list(how)
                pid = _sandbox_pid(account["base_url"])
                cpu = _cpu_seconds(pid) if pid else 0.0
                settings = {
                    "n": n,
                    "connect": account,
                    "list_id": list_id,
                    "state": state,
                    "journals": str(Path(tmp) / "journals"),
                    "partitions": partitions,
                    "workers": workers,
                    "cap": cap,
                }
                if how == "one":
                    first, again = _step("one", settings), _step("one", settings)
                    results["one"] = {"first": first, "again": again}
                else:
                    results["dask"] = _step("dask", settings)
                results[how]["sandbox_cpu_seconds"] = (_cpu_seconds(pid) - cpu) if pid else None
    return results


def _sandbox_pid(base_url: str) -> int | None:
    """The process listening on the sandbox's port (it is this script's child)."""
    port = base_url.rsplit(":", 1)[1].split("/", maxsplit=1)[0]
    done = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True, check=False)
    text = done.stdout
    if "pid=" not in text:
        return None
    return int(text.split("pid=", 1)[1].split(",", 1)[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2_000_000)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cap", type=int, default=None, help="max_concurrency (default: no cap)")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--settings", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        settings = json.loads(args.settings)
        print(json.dumps(step_one(settings) if args.step == "one" else step_dask(settings)))
        return
    results = measure(args.n, args.partitions, args.workers, args.cap)
    one, spread = results["one"], results["dask"]
    print(f"{os.cpu_count()} CPUs; {args.n:,} contacts; mailjet sandbox in its own process; PostgreSQL state")
    print(f"{'run':<34} {'seconds':>8} {'contacts/s':>11} {'sent':>9}  peak RSS MiB")
    for label, figures, rss in (
        ("one process, first sync", one["first"], f"{one['first']['rss_mib']:.0f}"),
        ("one process, unchanged", one["again"], f"{one['again']['rss_mib']:.0f}"),
        (f"dask {args.partitions}x{args.workers}w, first sync", spread["first"], ""),
        (f"dask {args.partitions}x{args.workers}w, unchanged", spread["again"], ""),
    ):
        seconds = figures["seconds"]
        print(f"{label:<34} {seconds:>8.1f} {args.n / seconds:>11,.0f} {figures['sent']:>9,}  {rss}")
    print(f"dask workers' peak RSS (MiB): {', '.join(f'{r:.0f}' for r in spread['worker_rss_mib'])}")
    print(f"first sync: dask / one process = {spread['first']['seconds'] / one['first']['seconds']:.2f}")
    print(f"unchanged:  dask / one process = {spread['again']['seconds'] / one['again']['seconds']:.2f}")
    for how in ("one", "dask"):
        cpu = results[how]["sandbox_cpu_seconds"]
        if cpu is not None:
            print(f"sandbox CPU during {how}: {cpu:.1f} s")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
