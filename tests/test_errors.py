"""The exception hierarchy."""

from __future__ import annotations

import pickle

import pytest

from contactsync import errors


def test_everything_descends_from_one_root() -> None:
    for name in dir(errors):
        obj = getattr(errors, name)
        if isinstance(obj, type) and issubclass(obj, Exception) and obj.__module__ == errors.__name__:
            assert issubclass(obj, errors.ContactSyncError), name


def test_input_errors_are_value_errors_and_name_row_and_field() -> None:
    error = errors.InvalidInput("not a number", row=12, field="age")
    assert isinstance(error, ValueError)
    assert str(error) == "row 12, field 'age': not a number"
    assert issubclass(errors.InvalidEmail, ValueError)
    assert issubclass(errors.UnrepresentableValue, ValueError)


def test_configuration_errors_are_apart_from_provider_and_input_errors() -> None:
    assert not issubclass(errors.ConfigurationError, (errors.ProviderError, ValueError))
    assert issubclass(errors.PluginError, errors.ConfigurationError)


def test_provider_errors_carry_provider_status_code_and_body() -> None:
    error = errors.RateLimited("slow down", retry_after=3.0, provider="mailjet", status=429, body='{"x":1}', code="E1")
    assert (error.provider, error.status, error.code, error.retry_after) == ("mailjet", 429, "E1", 3.0)
    assert str(error) == 'mailjet HTTP 429 [E1]: slow down: {"x":1}'
    for cls in (errors.AuthenticationError, errors.NotFound, errors.ServerError, errors.NetworkError):
        assert issubclass(cls, errors.ProviderError)


def test_provider_errors_survive_pickling() -> None:
    error = errors.NotFound("no such list", provider="sendgrid", status=404, body="{}")
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is errors.NotFound
    assert (again.provider, again.status, str(again)) == ("sendgrid", 404, str(error))


def test_import_timeout_keeps_the_job() -> None:
    with pytest.raises(errors.ImportTimeout) as caught:
        raise errors.ImportTimeout("still running", job="the job")
    assert caught.value.job == "the job"
