"""Time `contactsync import big.csv --provider sendgrid --sandbox` on a generated file (a million rows by default).

Runs the real console command in a subprocess and reports wall time, contacts per
second and the command's peak memory. ``--n`` makes the file smaller for a smoke run.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def write_file(path: Path, n: int) -> None:
    """``n`` contacts with a name and three typed properties; every 10,000th email is invalid."""
    with path.open("w", encoding="utf-8") as out:
        out.write("email,name,plan,visits,joined\n")
        for i in range(1, n + 1):
            email = f"user{i}@example.com" if i % 10_000 else f"broken{i}"
            out.write(f"{email},User {i},{('free', 'pro', 'team')[i % 3]},{i % 97},2024-{i % 12 + 1:02d}-15\n")


def run(n: int, provider: str) -> dict[str, object]:
    """Generate, import, and measure; return the figures."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.csv"
        write_file(path, n)
        command = [sys.executable, "-m", "contactsync.cli", "import", str(path), "--provider", provider, "--sandbox"]
        command += ["--create-fields", "--type", "visits=integer", "--type", "joined=date", "--json"]
        command += ["--poll-interval", "0.05", "--errors-out", str(Path(tmp) / "errors.csv")]
        started = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
    if result.returncode not in (0, 1):
        raise SystemExit(f"import failed ({result.returncode}): {result.stderr.strip()}")
    record = json.loads(result.stdout)
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "contacts": n,
        "provider": provider,
        "status": record["status"],
        "accepted": record["accepted"],
        "errored": record["errored"],
        "parts": record["parts"],
        "seconds": round(seconds, 1),
        "contacts_per_second": round(n / seconds),
        "peak_rss_mib": round(peak_mib),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--provider", default="sendgrid")
    args = parser.parse_args()
    print(json.dumps(run(args.n, args.provider)))


if __name__ == "__main__":
    main()
