"""The sandbox is written from the references, not from our client nor our parsers: it imports neither."""

from __future__ import annotations

import ast
import pathlib

import pytest

import contactsync.sandbox

MODULES = sorted(pathlib.Path(contactsync.sandbox.__file__).parent.glob("*.py"))


def _imported(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    return names | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}


@pytest.mark.parametrize("path", MODULES, ids=[path.name for path in MODULES])
def test_no_sandbox_module_imports_the_providers_or_the_event_parsers(path: pathlib.Path) -> None:
    assert not any(name.startswith(("contactsync.providers", "contactsync.events")) for name in _imported(path))
