"""Provider discovery: built-ins, a real throwaway plugin distribution, broken and shadowing plugins."""

from __future__ import annotations

import os
import pathlib

import pytest

import contactsync
from contactsync import registry
from contactsync.errors import ConfigurationError, PluginError
from contactsync.sandbox import Sandbox
from tests.toy import ToyEmulator, ToyProvider


@pytest.fixture
def plugin(toy_plugin: pathlib.Path) -> pathlib.Path:
    """The throwaway ``toyplugin`` distribution (tests/conftest.py) installed."""
    return toy_plugin


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


# -- emulators ---------------------------------------------------------------------------------


def test_an_installed_emulator_is_served_by_a_default_sandbox(plugin: pathlib.Path) -> None:
    assert {"toy", "broken", "mailjet"} <= set(registry.emulators())
    with Sandbox() as sandbox:
        assert type(sandbox.emulators["toy"]) is ToyEmulator
        with sandbox.connect("toy") as client:
            assert client.lists() == []


def test_a_broken_emulator_is_reported_and_the_others_are_served(plugin: pathlib.Path) -> None:
    sandbox = Sandbox()
    assert "broken" not in sandbox.emulators
    assert "ModuleNotFoundError" in sandbox.skipped["broken"]
    assert "broken" in registry.emulator_problems()
    assert {"mailjet", "sendgrid", "dotmailer", "toy"} <= set(sandbox.emulators)
    with pytest.raises(PluginError, match="emulator 'broken' failed to load"):
        Sandbox(["broken"])


def test_the_builtin_emulator_wins_over_a_plugin_of_the_same_name(plugin: pathlib.Path) -> None:
    assert registry.load_emulator("mailjet").__module__ == "contactsync.sandbox.mailjet"
    assert "shadowed" in registry.emulator_problems()["mailjet"]
    registry.register_emulator("mailjet", ToyEmulator, replace=True)
    assert registry.load_emulator("mailjet") is ToyEmulator


def test_registering_an_emulator_that_is_not_one_fails_on_load(plugin: pathlib.Path) -> None:
    registry.register_emulator("odd", ToyProvider)  # type: ignore[arg-type]
    with pytest.raises(PluginError, match=r"not a contactsync\.Emulator subclass"):
        registry.load_emulator("odd")


def test_emulators_are_listed_without_importing_them() -> None:
    assert {"dotmailer", "mailjet", "sendgrid"} <= set(registry.emulators())
    assert registry.emulators() == sorted(registry.emulators())


def test_the_old_name_of_the_builtin_emulators_still_imports() -> None:
    from contactsync.sandbox import EMULATORS

    assert set(EMULATORS) == {"mailjet", "sendgrid", "dotmailer"}


# -- settings from the environment -------------------------------------------------------------


def test_any_setting_may_come_from_the_environment_typed(plugin: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTACTSYNC_TOY_TOKEN", "t0ken-value")
    monkeypatch.setenv("CONTACTSYNC_TOY_POLL_INTERVAL", "0.05")
    monkeypatch.setenv("CONTACTSYNC_TOY_CONCURRENCY", "3")
    monkeypatch.setenv("CONTACTSYNC_TOY_ALLOW_INSECURE", "yes")
    client = contactsync.connect("toy", base_url="http://127.0.0.1:9/toy")
    assert (client.poll_interval, client.concurrency) == (0.05, 3)
    assert contactsync.connect("toy", poll_interval=1.5).poll_interval == 1.5  # an argument wins


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CONTACTSYNC_TOY_POLL_INTERVAL", "fast", "CONTACTSYNC_TOY_POLL_INTERVAL must be a number, got 'fast'"),
        ("CONTACTSYNC_TOY_CONCURRENCY", "2.5", "CONTACTSYNC_TOY_CONCURRENCY must be a whole number"),
        ("CONTACTSYNC_TOY_ALLOW_INSECURE", "maybe", "CONTACTSYNC_TOY_ALLOW_INSECURE must be true or false"),
        ("CONTACTSYNC_TOY_TIMEOUT", "-1", "timeout must be more than 0"),
    ],
)
def test_a_bad_value_in_the_environment_names_the_variable(
    plugin: pathlib.Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=message):
        contactsync.connect("toy", token="t0ken-value")


def test_a_secret_from_the_environment_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    from contactsync.settings import environment_settings

    class Odd(ToyProvider):
        def __init__(self, *, token: int = 0, **options: object) -> None:  # a credential typed oddly
            raise AssertionError("not constructed")

    monkeypatch.setenv("CONTACTSYNC_ODD_TOKEN", "s3cret-value")
    with pytest.raises(ConfigurationError, match="CONTACTSYNC_ODD_TOKEN must be a whole number") as refused:
        environment_settings(Odd, "odd", os.environ)
    assert "s3cret-value" not in str(refused.value)
