"""The plugin stands on contactsync's documented API alone, and its emulator on the reference alone.

Documented means named by an autodoc directive of contactsync's docs (``docs/*.rst``): the API
reference and the pages that document a module with ``automodule``. The names are read from
the directives rather than from ``__all__``, because ``__all__`` also lists names the docs keep
private (``contactsync.model.field_type_of``, ``contactsync.importing.InputItem``...), and the
docs are the contract: "Anything not listed here may change without notice" (docs/api.rst).
"""

from __future__ import annotations

import ast
import importlib
import pathlib
import re
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

import contactsync_brevo

PACKAGE = pathlib.Path(contactsync_brevo.__file__).parent
DOCS = pathlib.Path(__file__).resolve().parents[3] / "docs"
_DIRECTIVE = re.compile(r"^\.\. auto(module|class|function|data|attribute|exception|method)::\s*(\S+)\s*$")
_OPTION = re.compile(r"^\s+:(\w[\w-]*):\s*(.*)$")


def _resolve(dotted: str) -> Any:
    """The object a dotted name stands for: the longest importable module prefix, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


def _module_members(module: ModuleType) -> list[str]:
    """What ``:members:`` with no list documents: ``__all__``, else the public names the module defines."""
    names = getattr(module, "__all__", None)
    if names is not None:
        return list(names)
    return [
        name
        for name, obj in vars(module).items()
        if not name.startswith("_") and getattr(obj, "__module__", None) == module.__name__
    ]


def _directives(text: str) -> Iterator[tuple[str, str, list[str] | None]]:
    """(kind, target, members) of each autodoc directive; members None unless ``:members:`` is given."""
    lines = text.splitlines()
    for at, line in enumerate(lines):
        found = _DIRECTIVE.match(line)
        if not found:
            continue
        members: list[str] | None = None
        option: str | None = None
        for follow in lines[at + 1 :]:
            if not follow.strip() or not follow.startswith(" "):
                break
            matched = _OPTION.match(follow)
            if matched:
                option = matched.group(1)
                if option == "members":
                    members = [m.strip() for m in matched.group(2).split(",") if m.strip()]
            elif option == "members" and members is not None:
                members.extend(m.strip() for m in follow.split(",") if m.strip())
        yield found.group(1), found.group(2), members


def documented() -> set[tuple[str, int]]:
    """(name, id of the object) of everything the docs' autodoc directives document."""
    pages = sorted(DOCS.rglob("*.rst"))
    if not pages:
        pytest.fail(f"no contactsync docs at {DOCS}: this test reads the API reference of the repository")
    found: set[tuple[str, int]] = set()
    for page in pages:
        for kind, target, members in _directives(page.read_text(encoding="utf-8")):
            obj = _resolve(target)
            found.add((target.rpartition(".")[2], id(obj)))
            if kind == "module":
                for name in members if members else _module_members(obj):
                    found.add((name, id(getattr(obj, name))))
            elif kind == "class" and members:
                for name in members:
                    if hasattr(obj, name):  # one declared by annotation alone (``provider: ClassVar``) has no value
                        found.add((name, id(getattr(obj, name))))
    return found


def core_names(source: pathlib.Path) -> Iterator[tuple[str, str, int]]:
    """(module, name, line) of each contactsync name a plugin module imports or reaches as a module's attribute."""
    tree = ast.parse(source.read_text(encoding="utf-8"))
    modules: dict[str, ModuleType] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and _is_core(node.module):
            for alias in node.names:
                obj = getattr(importlib.import_module(node.module), alias.name)
                if isinstance(obj, ModuleType):
                    modules[alias.asname or alias.name] = obj
                else:
                    yield node.module, alias.name, node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if _is_core(alias.name):  # ``import a.b`` binds ``a``; ``import a.b as c`` binds ``c`` to ``a.b``
                    bound = alias.asname or alias.name.partition(".")[0]
                    modules[bound] = importlib.import_module(alias.name if alias.asname else bound)
    seen: set[tuple[str, str, int]] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        chain: list[str] = []
        inner: ast.expr = node
        while isinstance(inner, ast.Attribute):
            chain.insert(0, inner.attr)
            inner = inner.value
        if not isinstance(inner, ast.Name) or inner.id not in modules:
            continue
        reached: Any = modules[inner.id]
        for attr in chain:
            parent, reached = reached, getattr(reached, attr)
            if not isinstance(reached, ModuleType):
                use = (parent.__name__, attr, node.lineno)
                if use not in seen:
                    seen.add(use)
                    yield use
                break


def _is_core(module: str) -> bool:
    return module == "contactsync" or module.startswith("contactsync.")


def _key(module: str, name: str) -> tuple[str, int]:
    return name, id(getattr(importlib.import_module(module), name))


def test_the_plugin_uses_only_names_the_api_reference_documents() -> None:
    public = documented()
    used = [
        (f"{source.name}:{line}", module, name)
        for source in sorted(PACKAGE.glob("*.py"))
        for module, name, line in core_names(source)
    ]
    assert len(used) > 20, "the plugin is expected to build on contactsync"
    assert [(where, f"{module}.{name}") for where, module, name in used if _key(module, name) not in public] == []


def test_the_check_catches_an_undocumented_name(tmp_path: pathlib.Path) -> None:
    source = tmp_path / "sneaky.py"
    source.write_text(
        "from contactsync.model import field_type_of\nimport contactsync.jsonplan as plans\nplans.AS_IS\n"
    )
    public = documented()
    names = [(module, name) for module, name, _ in core_names(source)]
    assert names == [("contactsync.model", "field_type_of"), ("contactsync.jsonplan", "AS_IS")]
    assert all(_key(module, name) not in public for module, name in names)


def test_the_emulator_is_written_apart_from_the_client() -> None:
    tree = ast.parse((PACKAGE / "emulator.py").read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not {name for name in imported if name.startswith("contactsync_brevo")}
    assert not {name for name in imported if name.startswith("contactsync.providers")}
