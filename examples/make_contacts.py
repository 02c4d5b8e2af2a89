"""Write the demo contacts file: about 3,000 realistic rows and a few dozen bad ones, the same every run.

The output is package data (``contactsync/data/contacts.csv``, which
``examples/contacts.csv`` links to), so ``contactsync demo`` finds it in any install.
Run ``python examples/make_contacts.py`` after changing this script.
"""

from __future__ import annotations

import argparse
import csv
import random
import unicodedata
from datetime import date, timedelta
from pathlib import Path

SEED = 20260101
ROWS = 3_000
BAD_EVERY = 75
"""One row in this many is deliberately wrong (40 rows out of 3,000)."""
OUTPUT = Path(__file__).resolve().parent.parent / "contactsync" / "data" / "contacts.csv"
HEADER = ("email", "name", "company", "age", "score", "vip", "signup_date")

FIRST = (
    "Amélie", "Björn", "Chloé", "Dmitri", "Élodie", "François", "Gülsen", "Håkon", "Inés", "Jürgen",
    "Katarzyna", "Łukasz", "Maël", "Nuño", "Océane", "Paweł", "Quentin", "Renée", "Søren", "Tomás",
    "Ümit", "Valérie", "Wojciech", "Xóchitl", "Yannick", "Zoë", "Aiko", "Chidi", "Priya", "Mateo",
    "Olumide", "Sinéad", "Ngozi", "Kwame", "Leilani", "Ravi", "Mei", "Hiroshi", "Fatima", "Youssef",
)  # fmt: skip
LAST = (
    "Müller", "Øster", "García", "Nowak", "Dubois", "Kowalski", "Søndergaard", "Rodríguez", "Łęcki", "Y\u0131lmaz",
    "O'Brien", "Van der Berg", "Ñúñez", "Björklund", "Żukowski", "Smith", "Okafor", "Tanaka", "Nguyễn", "Singh",
    "Papadopoulos", "Horváth", "Černý", "Fernández", "Ólafsson", "Kim", "Haddad", "Mensah", "Rossi", "Novák",
)  # fmt: skip
COMPANIES = (
    "Acme Corp", "Globex", "Initech", "Umbrella", "Stark Industries", "Wayne Enterprises", "Société Générale",
    "Müller & Söhne GmbH", "Zürich Analytics", "Nordisk Ål", "東京データ", "Café Olé", "Piñata Partners", "",
)  # fmt: skip
DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com", "post.example.org")
FIRST_DAY = date(2015, 1, 1)
DAYS = (date(2025, 12, 31) - FIRST_DAY).days

# Each bad row breaks one thing: (column, value).
BAD = (
    ("email", "not-an-email"),
    ("email", "jane.doe@"),
    ("email", "@example.com"),
    ("email", "john..smith@example.com"),
    ("email", "anna@localhost"),
    ("email", "bob@exa mple.com"),
    ("email", "carl@@example.com"),
    ("email", "dora@example..com"),
    ("email", ""),
    ("email", "eve@-example.com"),
    ("age", "forty"),
    ("age", "3.5"),
    ("score", "n/a"),
    ("vip", "maybe"),
    ("signup_date", "2023-02-30"),
    ("signup_date", "31/12/2020"),
)


def ascii_handle(text: str) -> str:
    """A lower-case ASCII form of a name for an email local part (accents dropped)."""
    folded = unicodedata.normalize("NFKD", text.replace("ł", "l").replace("Ł", "L").replace("ø", "o").replace("Ø", "O"))
    kept = "".join(c for c in folded if c.isascii() and (c.isalnum() or c in " -'"))
    return "".join(c for c in kept.lower() if c.isalnum())


def rows(count: int = ROWS, seed: int = SEED) -> list[tuple[str, ...]]:
    """The demo rows, header first."""
    rng = random.Random(seed)
    out: list[tuple[str, ...]] = [HEADER]
    for number in range(1, count + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{ascii_handle(first)}.{ascii_handle(last)}{number}@{rng.choice(DOMAINS)}"
        row = {
            "email": email,
            "name": f"{first} {last}",
            "company": rng.choice(COMPANIES),
            "age": str(rng.randint(18, 90)) if rng.random() > 0.1 else "",
            "score": f"{rng.uniform(0, 100):.2f}",
            "vip": rng.choice(("true", "false", "false", "yes", "no")),
            "signup_date": (FIRST_DAY + timedelta(days=rng.randrange(DAYS))).isoformat(),
        }
        if number % BAD_EVERY == 0:
            column, value = BAD[(number // BAD_EVERY - 1) % len(BAD)]
            row[column] = value
        out.append(tuple(row[c] for c in HEADER))
    return out


def write(path: Path, count: int = ROWS) -> None:
    """Write ``count`` rows (UTF-8, no BOM, LF line ends) to ``path``."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows(count))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    write(args.output, args.rows)


if __name__ == "__main__":
    main()
