"""Provider discovery: built-ins, a real throwaway plugin distribution, broken and shadowing plugins."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pytest

import contactsync
from contactsync import registry
from contactsync.errors import ConfigurationError, PluginError
from contactsync.sandbox import Sandbox
from tests.toy import ToyEmulator, ToyProvider

ENTRY_POINTS = """\
[contactsync.providers]
toy = toyplugin:ToyProvider
broken = toyplugin_missing:Nothing
mailjet = toyplugin:ToyProvider
"""


@pytest.fixture
def plugin(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[pathlib.Path]:
    """Install a throwaway distribution: a module and a .dist-info with entry_points.txt, on sys.path."""
    (tmp_path / "toyplugin.py").write_text("from tests.toy import ToyProvider\n\n__all__ = ['ToyProvider']\n")
    info = tmp_path / "toyplugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toyplugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "_loaded", {})
    monkeypatch.setattr(registry, "_registered", {})
    yield tmp_path


def test_builtins_are_listed_sorted() -> None:
    names = contactsync.providers()
    assert {"dotmailer", "mailjet", "sendgrid"} <= set(names)
    assert names == sorted(names)


def test_an_installed_plugin_is_found_and_connected(plugin: pathlib.Path) -> None:
    assert "toy" in contactsync.providers()
    with Sandbox([ToyEmulator()]) as sandbox:
        client = contactsync.connect("toy", **sandbox.credentials("toy"), poll_interval=0.01)
        assert type(client).__name__ == "ToyProvider"
        job = client.wait(client.import_contacts([contactsync.Contact("a@example.com")]))
        assert job.status is contactsync.ImportStatus.COMPLETED


def test_a_broken_plugin_is_reported_and_does_not_break_the_others(plugin: pathlib.Path) -> None:
    with pytest.raises(PluginError, match="ModuleNotFoundError") as caught:
        contactsync.connect("broken")
    assert isinstance(caught.value.__cause__, ModuleNotFoundError)
    assert "broken" in registry.problems()
    assert registry.load("toy") is ToyProvider


def test_builtins_win_over_a_plugin_of_the_same_name(plugin: pathlib.Path) -> None:
    assert registry.load("mailjet").__module__ == "contactsync.providers.mailjet.provider"
    assert "shadowed" in registry.problems()["mailjet"]


def test_overriding_a_builtin_must_be_explicit(plugin: pathlib.Path) -> None:
    with pytest.raises(ConfigurationError, match="replace=True"):
        registry.register("mailjet", ToyProvider)
    registry.register("mailjet", "toyplugin:ToyProvider", replace=True)
    assert registry.load("mailjet") is ToyProvider


def test_registering_something_that_is_not_a_provider_fails_on_load(plugin: pathlib.Path) -> None:
    registry.register("odd", "pathlib:Path")
    with pytest.raises(PluginError, match=r"not a contactsync\.Provider subclass"):
        registry.load("odd")


def test_an_unknown_name_lists_what_is_installed() -> None:
    with pytest.raises(ConfigurationError, match=r"no provider named .nope.; installed: .*mailjet"):
        contactsync.connect("nope")


def test_base_url_may_come_from_the_environment(plugin: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTACTSYNC_TOY_BASE_URL", "http://127.0.0.1:9/toy")
    client = contactsync.connect("toy", token="t0ken-value")
    assert client.transport.base_url == "http://127.0.0.1:9/toy"
    assert "t0ken-value" not in repr(client)


def test_providers_still_answers_after_a_provider_module_is_imported() -> None:
    import contactsync.providers.dotmailer.translate as dotmailer_translate

    assert dotmailer_translate.__name__ == "contactsync.providers.dotmailer.translate"
    assert contactsync.providers() == registry.providers()
    assert "dotmailer" in contactsync.providers()
