"""Sphinx configuration; also writes the feature matrix from the providers' declared capabilities."""

from __future__ import annotations

import csv
import pathlib
import sys

HERE = pathlib.Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

import contactsync  # noqa: E402
from contactsync import registry  # noqa: E402
from contactsync.features import feature_matrix  # noqa: E402

project = "contactsync"
author = "the contactsync developers"
copyright = "2026, the contactsync developers"
release = contactsync.__version__
extensions = ["sphinx.ext.autodoc"]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
exclude_patterns = ["_build"]
html_theme = "alabaster"
nitpicky = True
# The build has no network, so no intersphinx: names of the standard library and of the
# libraries we build on are left unlinked rather than reported as broken.
_STDLIB = "datetime|collections\\.abc|typing|os|io|csv|enum|types|pathlib|sqlite3|tomllib|concurrent\\.futures"
_THIRD_PARTY = "werkzeug|requests|urllib3|attrs|cattrs|click|typing_extensions"
_BARE = "Any|Callable|Iterator|Iterable|Mapping|Sequence|TextIO|IO|ClassVar|NoReturn|Retry|AuthBase|RequestHistory"
nitpick_ignore_regex = [
    (r"py:.*", rf"({_STDLIB}|{_THIRD_PARTY})(\..*)?"),
    (r"py:class", rf"({_BARE})(\[.*)?"),
    (r"py:class", r"contactsync\.[a-z.]+\.T"),  # a module's TypeVar in a signature
]

_generated = HERE / "_generated"
_generated.mkdir(exist_ok=True)
with open(_generated / "feature-matrix.csv", "w", newline="", encoding="utf-8") as out:
    csv.writer(out).writerows(feature_matrix([registry.load(name) for name in sorted(registry.BUILTINS)]))
