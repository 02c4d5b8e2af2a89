"""Email validation cost: contactsync's fast path against email-validator on every address.

python benchmarks/emails.py --n 100000
"""

from __future__ import annotations

import argparse
import random
import string
import time
from collections.abc import Callable

from email_validator import validate_email

from contactsync.emails import is_valid, normalize_email

DOMAINS = ["gmail.com", "example.org", "mail.co.uk", "Company-Name.io", "post.example.net"]


def ascii_addresses(n: int, seed: int = 7) -> list[str]:
    """``n`` ordinary ASCII addresses, deterministic."""
    rng = random.Random(seed)
    alphabet = string.ascii_letters + string.digits
    return [f"{''.join(rng.choices(alphabet, k=rng.randint(3, 12)))}.{i}@{rng.choice(DOMAINS)}" for i in range(n)]


def seconds(check: Callable[[str], object], addresses: list[str]) -> float:
    """Best of three runs."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for address in addresses:
            check(address)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    n = parser.parse_args().n
    addresses = ascii_addresses(n)
    print(f"{n:,} ASCII addresses; each row against email-validator doing the same job")
    print(f"{'check':<30}{'seconds':>9}{'addresses/s':>14}{'email-validator s':>19}{'speed-up':>10}")
    pairs: list[tuple[str, Callable[[str], object], Callable[[str], object]]] = [
        ("is_valid (verdict)", is_valid, lambda a: validate_email(a, check_deliverability=False)),
        (
            "normalize_email (Contact)",
            normalize_email,
            lambda a: validate_email(a.strip(), check_deliverability=False).normalized.lower(),
        ),
    ]
    for label, ours, theirs in pairs:
        took, floor = seconds(ours, addresses), seconds(theirs, addresses)
        print(f"{label:<30}{took:>9.3f}{n / took:>14,.0f}{floor:>19.3f}{floor / took:>9.1f}x")


if __name__ == "__main__":
    main()
