"""The transport: one requests.Session per client, with auth, timeouts, retries, error mapping and redaction."""

from __future__ import annotations

import base64
import ipaddress
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import orjson
import requests
from requests.auth import AuthBase
from urllib3.exceptions import InvalidHeader, MaxRetryError, NewConnectionError
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from contactsync import __version__
from contactsync.errors import (
    AuthenticationError,
    ConfigurationError,
    NetworkError,
    NotFound,
    ProviderError,
    RateLimited,
    ServerError,
)

__all__ = ["BasicAuth", "BearerAuth", "ErrorParser", "Redactor", "RateLimitRetry", "Transport"]

log = logging.getLogger("contactsync.http")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
"""Methods whose repetition cannot change the outcome (RFC 9110 §9.2.2)."""

ErrorParser = Callable[[requests.Response], tuple[str, str | None]]
"""Reads a provider's error body: returns (message, provider error code)."""

REDACTED = "[redacted]"


class Redactor:
    """Removes every credential (and its Basic-auth and Bearer encodings) from text."""

    def __init__(self, secrets: Iterable[str]) -> None:
        values = {s for s in secrets if s and len(s) >= 4}
        forms = set(values)
        for user in values:
            for password in values:
                forms.add(base64.b64encode(f"{user}:{password}".encode()).decode())
        self._forms = sorted(forms, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, REDACTED)
        return text

    def __repr__(self) -> str:
        return f"Redactor({len(self._forms)} forms)"


class BasicAuth(AuthBase):
    """HTTP Basic credentials that never show in a repr."""

    def __init__(self, username: str, password: str) -> None:
        self._header = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self._header
        return request

    def __repr__(self) -> str:
        return f"BasicAuth({REDACTED})"


class BearerAuth(AuthBase):
    """A bearer token that never shows in a repr."""

    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self._header
        return request

    def __repr__(self) -> str:
        return f"BearerAuth({REDACTED})"


class RateLimitRetry(Retry):
    """urllib3's retry policy, also honouring the rate-limit reset headers the providers send.

    ``X-RateLimit-Reset`` is read as an epoch when it is larger than 1e9 and as
    seconds otherwise (reference/sendgrid.md §7; reference/dotmailer.md §7).
    """

    MAX_WAIT = 300.0
    RETRY_AFTER_STATUS_CODES = frozenset({413, 429, 503})

    def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
        try:
            seconds = super().get_retry_after(response)
        except InvalidHeader:
            seconds = None
        if seconds is None and response.status == 429:
            reset = response.headers.get("X-RateLimit-Reset")
            try:
                value = float(reset) if reset is not None else None
            except ValueError:
                value = None
            if value is not None:
                seconds = value - time.time() if value > 1e9 else value
        return None if seconds is None else min(max(seconds, 0.0), self.MAX_WAIT)

    def sleep_for_retry(self, response: BaseHTTPResponse) -> bool:
        seconds = self.get_retry_after(response)
        if seconds is None:
            return False
        time.sleep(seconds)
        return True


def default_retry(total: int = 5, backoff_factor: float = 0.5) -> RateLimitRetry:
    """The policy used unless the caller passes ``retry=``: five retries, 0.5 s doubling, jitter."""
    return RateLimitRetry(
        total=total,
        backoff_factor=backoff_factor,
        backoff_jitter=backoff_factor,
        backoff_max=60.0,
        status_forcelist=frozenset({429, 500, 502, 503, 504}),
        allowed_methods=None,
        respect_retry_after_header=True,
        raise_on_status=False,
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the request cannot have reached the server (refused, or connect timeout)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError)


class Transport:
    """Sends a provider's requests: base URL, auth for the API's own URLs only, timeouts, retries.

    A request is repeated after a 5xx, a dropped connection or a timeout only when it
    is ``safe`` (by default: its method is idempotent); a 429 or a refused
    connection is always repeated, since the provider applied nothing.
    """

    def __init__(
        self,
        provider: str,
        base_url: str,
        *,
        auth: AuthBase | None,
        secrets: Iterable[str] = (),
        timeout: float = 60.0,
        retry: Retry | None = None,
        error_parser: ErrorParser | None = None,
        allow_insecure: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(f"{provider}: base_url {base_url!r} is not an http(s) URL")
        if parts.scheme == "http" and not (_is_loopback(parts.hostname) or allow_insecure):
            raise ConfigurationError(
                f"{provider}: base_url {base_url!r} is plain http to a non-loopback host; "
                "use https, or pass allow_insecure=True"
            )
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._secrets = tuple(secrets)
        self._allow_insecure = allow_insecure
        self._headers = dict(headers or {})
        self.redact = Redactor(self._secrets)
        self._origin = (parts.scheme, parts.hostname, parts.port)
        self._prefix = parts.path.rstrip("/") + "/"
        self._auth = auth
        self._retry = retry if retry is not None else default_retry()
        self._error_parser = error_parser or _plain_error
        self._session = requests.Session()
        self._session.headers["User-Agent"] = f"contactsync/{__version__}"
        self._session.headers.update(headers or {})

    def __repr__(self) -> str:
        return f"Transport({self.provider!r}, {self.base_url!r})"

    def close(self) -> None:
        """Release pooled connections."""
        self._session.close()

    def with_base_url(self, base_url: str) -> Transport:
        """A transport like this one (auth, secrets, timeout, retries, error parsing) for another base URL."""
        return Transport(
            self.provider,
            base_url,
            auth=self._auth,
            secrets=self._secrets,
            timeout=self.timeout,
            retry=self._retry,
            error_parser=self._error_parser,
            allow_insecure=self._allow_insecure,
            headers=self._headers,
        )

    def url(self, path_or_url: str) -> str:
        """An absolute URL: paths are taken relative to the base URL."""
        if "://" in path_or_url:
            return path_or_url
        return self.base_url + "/" + path_or_url.lstrip("/")

    def is_api_url(self, url: str) -> bool:
        """True for URLs under the provider API's base URL: the only ones that get credentials."""
        parts = urlsplit(url)
        return (parts.scheme, parts.hostname, parts.port) == self._origin and (parts.path.rstrip("/") + "/").startswith(
            self._prefix
        )

    def request(self, method: str, path_or_url: str, *, safe: bool | None = None, **kwargs: Any) -> requests.Response:
        """Send one request, retrying as the policy allows; raise a typed error on failure."""
        method = method.upper()
        url = self.url(path_or_url)
        own = self.is_api_url(url)
        safe = method in SAFE_METHODS if safe is None else safe
        kwargs.setdefault("timeout", self.timeout)
        kwargs.setdefault("allow_redirects", not own)
        retry = self._retry
        while True:
            started = time.monotonic()
            try:
                response = self._session.request(method, url, auth=self._auth if own else None, **kwargs)
            except requests.RequestException as exc:
                log.debug("%s %s failed: %s", method, url, type(exc).__name__)
                if not (safe or _never_sent(exc)):
                    raise self._network_error(exc, "the request may have been applied; not repeated") from None
                try:
                    retry = retry.increment(method, url, error=exc)
                except MaxRetryError:
                    raise self._network_error(exc, "retries exhausted") from None
                retry.sleep()
                continue
            log.debug("%s %s -> %s (%.0f ms)", method, url, response.status_code, (time.monotonic() - started) * 1000)
            if response.status_code < 400:
                return response
            status = response.status_code
            may_repeat = status == 429 or safe
            if may_repeat and retry.is_retry(method, status, "Retry-After" in response.headers):
                try:
                    retry = retry.increment(method, url, response=response.raw)
                except MaxRetryError:
                    raise self.error_for(response) from None
                response.close()
                retry.sleep(response.raw)
                continue
            raise self.error_for(response)

    def _network_error(self, exc: requests.RequestException, why: str) -> NetworkError:
        return NetworkError(f"{type(exc).__name__}: {why}", provider=self.provider)

    def error_for(self, response: requests.Response) -> ProviderError:
        """The typed error for a failed response, its body redacted."""
        status = response.status_code
        body = self.redact(response.text[:2000])
        try:
            message, code = self._error_parser(response)
        except ValueError:
            message, code = response.reason or "error", None
        fields: dict[str, Any] = {"provider": self.provider, "status": status, "body": body, "code": code}
        message = self.redact(message)
        if status in (401, 403):
            return AuthenticationError(message, **fields)
        if status == 404:
            return NotFound(message, **fields)
        if status == 429:
            retry_after = self._retry.get_retry_after(response.raw) if response.raw is not None else None
            return RateLimited(message, retry_after=retry_after, **fields)
        if status >= 500:
            return ServerError(message, **fields)
        return ProviderError(message, **fields)

    def json(self, method: str, path_or_url: str, **kwargs: Any) -> Any:
        """Send a request and return its decoded JSON body (None when the body is empty)."""
        response = self.request(method, path_or_url, **kwargs)
        if not response.content:
            return None
        try:  # orjson first: a list read is thousands of records a page, and it decodes them in a third of the time
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            pass  # not UTF-8, or an integer beyond 64 bits: the standard decoder decides
        try:
            return response.json()
        except ValueError:
            raise ProviderError(
                "the response is not JSON",
                provider=self.provider,
                status=response.status_code,
                body=self.redact(response.text[:500]),
            ) from None


def _plain_error(response: requests.Response) -> tuple[str, str | None]:
    return response.reason or f"HTTP {response.status_code}", None
