"""Sphinx configuration; also writes the feature matrix from the providers' declared capabilities."""

from __future__ import annotations

import csv
import pathlib
import sys
from typing import Any

HERE = pathlib.Path(__file__).parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(1, str(HERE.parent / "plugins" / "contactsync-brevo"))  # documented whether or not it is installed

import contactsync  # noqa: E402
from contactsync.features import feature_matrix, installed, push_and_poll  # noqa: E402

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
_STDLIB += "|contextlib|array"
_THIRD_PARTY = (
    "werkzeug|requests|urllib3|attrs|cattrs|click|typing_extensions|cryptography|ec|hypothesis|pytest|_pytest"
)
_BARE = "Any|Callable|Iterator|Iterable|Mapping|Sequence|TextIO|IO|ClassVar|NoReturn|Retry|AuthBase|RequestHistory"
nitpick_ignore_regex = [
    (r"py:.*", rf"({_STDLIB}|{_THIRD_PARTY})(\..*)?"),
    (r"py:class", rf"({_BARE})(\[.*)?"),
    (r"py:class", r"contactsync\.[a-z.]+\.T"),  # a module's TypeVar in a signature
]

_generated = HERE / "_generated"
_generated.mkdir(exist_ok=True)
with open(_generated / "feature-matrix.csv", "w", newline="", encoding="utf-8") as out:
    csv.writer(out).writerows(feature_matrix(installed()))
with open(_generated / "push-and-poll.csv", "w", newline="", encoding="utf-8") as out:
    csv.writer(out).writerows(push_and_poll(installed()))


def _reexported(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """Resolve ``contactsync.Name`` (the package's re-export) to the module that defines and documents it."""
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or not target.startswith("contactsync.") or target.count(".") != 1:
        return None
    name = target.partition(".")[2]
    module = getattr(getattr(contactsync, name, None), "__module__", None)
    if not module or module == "contactsync":
        return None
    target = f"{module}.{name}"
    return env.get_domain("py").resolve_xref(env, node["refdoc"], app.builder, node["reftype"], target, node, contnode)


def setup(app: Any) -> None:
    """Sphinx's hook: resolve references to the names the package re-exports."""
    app.connect("missing-reference", _reexported)
