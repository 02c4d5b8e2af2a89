"""The exception hierarchy: one root, input errors that are ValueErrors, provider errors with context."""

from __future__ import annotations

from typing import Any


class ContactSyncError(Exception):
    """Root of every error this library raises on purpose."""


class ConfigurationError(ContactSyncError):
    """The library is set up wrongly (missing credentials, unknown provider, bad base URL).

    Kept apart from provider and input errors so that a broad ``except ProviderError``
    never swallows a mistake the developer has to fix.
    """


class PluginError(ConfigurationError):
    """A provider plugin could not be loaded; carries the plugin's own error as ``__cause__``."""


class InvalidInput(ContactSyncError, ValueError):
    """Bad input from the caller: names the value, and the row and field when known."""

    def __init__(self, message: str, *, row: int | None = None, field: str | None = None) -> None:
        self.message = message
        self.row = row
        self.field = field
        where = []
        if row is not None:
            where.append(f"row {row}")
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class InvalidEmail(InvalidInput):
    """An email address that fails validation."""


class UnrepresentableValue(InvalidInput):
    """A domain value the provider's wire format cannot hold without losing data."""


class RouteCannotCarry(UnrepresentableValue):
    """A value the chosen import route cannot carry though the provider's first route can.

    Raised by an :class:`~contactsync.provider.ImportRoute`'s ``encode``; the import then
    sends that row by the provider's first route instead, so it is never lost to a route choice.
    """


class UnsupportedAction(ContactSyncError):
    """The provider has no exact equivalent of what was asked; the message names the alternative."""


class InvalidSignature(ContactSyncError):
    """A webhook request that does not prove it comes from the provider: a signature that does not
    verify, a timestamp outside the tolerance, or credentials that do not match.

    The message says which check failed and never shows a secret or the credentials received.
    """


class ProviderError(ContactSyncError):
    """The provider answered with an error (or could not be reached).

    ``body`` is the response text with every credential removed.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status: int | None = None,
        body: str = "",
        code: str | None = None,
    ) -> None:
        self.message = message
        self.provider = provider
        self.status = status
        self.body = body
        self.code = code
        super().__init__(self._describe())

    def _describe(self) -> str:
        status = f" HTTP {self.status}" if self.status is not None else ""
        code = f" [{self.code}]" if self.code else ""
        body = f": {self.body[:500]}" if self.body else ""
        return f"{self.provider}{status}{code}: {self.message}{body}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_provider_error, (type(self), self.__dict__))


def _rebuild_provider_error(cls: type[ProviderError], state: dict[str, Any]) -> ProviderError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    Exception.__init__(error, error._describe())
    return error


class AuthenticationError(ProviderError):
    """The provider refused the credentials (HTTP 401/403)."""


class NotFound(ProviderError):
    """The provider has no such object (HTTP 404)."""


class RateLimited(ProviderError):
    """The provider's rate limit was hit and retries ran out; ``retry_after`` is in seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class ServerError(ProviderError):
    """The provider failed (HTTP 5xx) and retries ran out, or the request could not be repeated safely."""


class NetworkError(ProviderError):
    """No answer: connection refused or dropped, or the timeout passed."""


class SyncRefused(ContactSyncError):
    """A sync guard refused the run before anything was sent (an empty source, too many removals).

    The message names the numbers; ``run`` is the refused run's record when there is one.
    """

    def __init__(self, message: str, *, run: Any = None) -> None:
        self.run = run
        super().__init__(message)


class SyncLocked(ContactSyncError):
    """Another run of the same sync holds its lock: this one refused at once, changing nothing."""


class ImportTimeout(ContactSyncError):
    """``wait`` gave up before the job reached a terminal status; ``job`` is the last state seen."""

    def __init__(self, message: str, job: Any) -> None:
        self.job = job
        super().__init__(message)
