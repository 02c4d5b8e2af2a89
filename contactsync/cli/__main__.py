"""``python -m contactsync.cli``: the console script."""

from contactsync.cli import main

main()
