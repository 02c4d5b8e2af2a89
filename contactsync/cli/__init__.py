"""The ``contactsync`` command line: import contact files, follow jobs, manage subscriptions, run the sandbox.

Every provider command works the same way for every provider (built-in or plugin):
credentials come from flags, ``--setting KEY=VALUE``, the config file, or the
provider's own environment variables. Exit codes: 0 success, 1 finished with row
errors, 2 usage or configuration error, 3 provider failure, 4 unreadable input.

One module per command group; importing this package registers every command on
:data:`~contactsync.cli.app.cli`.
"""

from __future__ import annotations

from contactsync.cli import (  # noqa: F401 - registers the commands
    account,
    demo,
    events,
    export,
    imports,
    migrate,
    providers,
    sandbox,
    sync,
    webhooks,
)
from contactsync.cli.app import (
    EXIT_FAILED,
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_ROW_ERRORS,
    EXIT_USAGE,
    cli,
    exit_code_for,
    main,
)
from contactsync.cli.columns import fit_type
from contactsync.cli.demo import DEMO_DATA, DEMO_FIELDS

__all__ = [
    "DEMO_DATA",
    "DEMO_FIELDS",
    "EXIT_FAILED",
    "EXIT_INPUT",
    "EXIT_INTERNAL",
    "EXIT_OK",
    "EXIT_ROW_ERRORS",
    "EXIT_USAGE",
    "cli",
    "exit_code_for",
    "fit_type",
    "main",
]
