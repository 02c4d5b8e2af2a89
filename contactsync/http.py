"""The transport: one requests.Session per client, with auth, timeouts, retries, error mapping and redaction."""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import SplitResult, quote, urlsplit, urlunsplit

import orjson
import requests
from requests.auth import AuthBase
from typing_extensions import Self
from urllib3.exceptions import HTTPError as Urllib3Error
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
from contactsync.settings import check_credentials

__all__ = [
    "BasicAuth",
    "BearerAuth",
    "DEFAULT_MAX_RETRY_WAIT",
    "DEFAULT_RESET_HEADERS",
    "DEFAULT_TOTAL_TIMEOUT",
    "ErrorParser",
    "Gate",
    "HeaderAuth",
    "path_segment",
    "RateLimitRetry",
    "Redactor",
    "Transport",
    "without_credentials",
]

log = logging.getLogger("contactsync.http")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
"""Methods whose repetition cannot change the outcome (RFC 9110 §9.2.2)."""

ErrorParser = Callable[[requests.Response], tuple[str, str | None]]
"""Reads a provider's error body: returns (message, provider error code)."""

Gate = Callable[[], AbstractContextManager[object]]
"""Makes the context each try of a request is sent in: a lease of a cap shared with other processes."""

REDACTED = "[redacted]"

DEFAULT_TOTAL_TIMEOUT = 600.0
"""The longest one call of :meth:`Transport.request` takes by default, every retry and wait included."""
DEFAULT_MAX_RETRY_WAIT = 60.0
"""The longest wait a provider may ask for (``Retry-After``, a rate-limit reset) before the call gives up
with :class:`~contactsync.errors.RateLimited` instead of sleeping, by default."""
_BODY_CHUNK = 256 * 1024


def path_segment(value: object) -> str:
    """An id as one URL path segment: every character but letters, digits and ``-._~`` percent-encoded.

    ``/``, ``?`` and ``#`` cannot end the segment, and the dot segments ``.`` and ``..``
    (which a client resolves away) are encoded too, so an id can never reach another path.
    """
    text = quote(str(value), safe="")
    return text.replace(".", "%2E") if text in (".", "..") else text


def without_credentials(url: str) -> str:
    """``url`` without the ``user:password@`` it may carry, fit for messages and logs."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


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
        check_credentials("Basic auth", username=username, password=password)
        self._header = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self._header
        return request

    def __repr__(self) -> str:
        return f"BasicAuth({REDACTED})"


class BearerAuth(AuthBase):
    """A bearer token that never shows in a repr."""

    def __init__(self, token: str) -> None:
        check_credentials("Bearer auth", token=token)
        self._header = f"Bearer {token}"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self._header
        return request

    def __repr__(self) -> str:
        return f"BearerAuth({REDACTED})"


class HeaderAuth(AuthBase):
    """A key sent in a header the provider names (Brevo's ``api-key``, for one); never shown in a repr.

    Give the key to the transport's ``secrets`` too, so that it is redacted from error text.
    """

    def __init__(self, header: str, key: str) -> None:
        self.header = header
        self._key = key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers[self.header] = self._key
        return request

    def __repr__(self) -> str:
        return f"HeaderAuth({self.header!r}, {REDACTED})"


DEFAULT_RESET_HEADERS: tuple[str, ...] = ("X-RateLimit-Reset",)
"""The rate-limit reset header of SendGrid and dotmailer (reference/sendgrid.md §7; reference/dotmailer.md §7)."""


class RateLimitRetry(Retry):
    """urllib3's retry policy, also honouring the rate-limit reset headers the providers send.

    On a 429 without ``Retry-After``, the first of ``reset_headers`` present is read as an
    epoch when it is larger than 1e9 and as seconds otherwise (reference/sendgrid.md §7;
    reference/dotmailer.md §7 for ``X-RateLimit-Reset``). A provider with headers of its own
    declares them (:attr:`Provider.reset_headers <contactsync.provider.Provider.reset_headers>`)
    rather than subclassing this policy. :meth:`get_retry_after` gives the wait asked for as
    it is; the :class:`Transport` decides whether to wait that long (``max_retry_wait``).
    Used by urllib3 directly, the policy sleeps at most ``MAX_WAIT`` seconds.
    """

    MAX_WAIT = 300.0
    RETRY_AFTER_STATUS_CODES = frozenset({413, 429, 503})

    def __init__(self, *args: Any, reset_headers: Sequence[str] = DEFAULT_RESET_HEADERS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reset_headers = tuple(reset_headers)
        """The headers that say when the rate limit resets, in the order they are tried."""

    def new(self, **kw: Any) -> Self:
        """A copy with ``kw`` changed (urllib3 makes one per attempt); the reset headers carry over."""
        kw.setdefault("reset_headers", self.reset_headers)
        return super().new(**kw)

    def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
        try:
            seconds = super().get_retry_after(response)
        except InvalidHeader:
            seconds = None
        if seconds is None and response.status == 429:
            seconds = self._reset_seconds(response)
        return None if seconds is None else max(seconds, 0.0)

    def _reset_seconds(self, response: BaseHTTPResponse) -> float | None:
        """Seconds until the rate limit resets, from the first readable reset header."""
        for header in self.reset_headers:
            reset = response.headers.get(header)
            try:
                value = float(reset) if reset is not None else None
            except ValueError:
                value = None
            if value is not None:
                return value - time.time() if value > 1e9 else value
        return None

    def sleep_for_retry(self, response: BaseHTTPResponse) -> bool:
        seconds = self.get_retry_after(response)
        if seconds is None:
            return False
        time.sleep(min(seconds, self.MAX_WAIT))
        return True


def default_retry(
    total: int = 5, backoff_factor: float = 0.5, *, reset_headers: Sequence[str] = DEFAULT_RESET_HEADERS
) -> RateLimitRetry:
    """The policy used unless the caller passes ``retry=``: five retries, 0.5 s doubling, jitter."""
    return RateLimitRetry(
        reset_headers=reset_headers,
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
    ``reset_headers`` names the provider's rate-limit reset headers; they replace those
    of the retry policy when it is a :class:`RateLimitRetry` (the default one, or the caller's).

    Time is bounded three ways: ``timeout`` for connecting and for each wait on the
    answer, and for the whole body once its headers are in (so an answer trickled a
    byte at a time cannot stretch it); ``total_timeout`` for one call, every retry and
    wait included; and ``max_retry_wait``, the longest wait a provider may ask for
    before the call fails fast with :class:`~contactsync.errors.RateLimited` (its
    ``retry_after`` set) instead of sleeping.

    ``gate``, when set, is entered around each try (sending it and reading its answer),
    never around the waits between tries: a cap on the requests in flight that several
    clients share, such as :mod:`contactsync.dask`'s cap across a cluster's workers.
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
        reset_headers: Sequence[str] | None = None,
        total_timeout: float = DEFAULT_TOTAL_TIMEOUT,
        max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT,
        gate: Gate | None = None,
    ) -> None:
        parts = _checked_url(provider, base_url)
        hostname = parts.hostname or ""
        if parts.scheme == "http" and not (_is_loopback(hostname) or allow_insecure):
            raise ConfigurationError(
                f"{provider}: base_url {base_url!r} is plain http to a non-loopback host; "
                "use https, or pass allow_insecure=True"
            )
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.total_timeout = total_timeout
        self.max_retry_wait = max_retry_wait
        self.gate = gate
        """Entered around each try of a request (see above); ``None`` sends without one."""
        self._secrets = tuple(secrets)
        self._allow_insecure = allow_insecure
        self._headers = dict(headers or {})
        self.redact = Redactor(self._secrets)
        self._origin = (parts.scheme, hostname, parts.port)
        self._prefix = parts.path.rstrip("/") + "/"
        self._auth = auth
        self._retry = retry if retry is not None else default_retry()
        if reset_headers is not None and isinstance(self._retry, RateLimitRetry):
            self._retry = self._retry.new(reset_headers=tuple(reset_headers))
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
        """A transport like this one (auth, secrets, timeouts, retries, error parsing) for another base URL."""
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
            total_timeout=self.total_timeout,
            max_retry_wait=self.max_retry_wait,
            gate=self.gate,
        )

    def url(self, path_or_url: str) -> str:
        """An absolute URL: paths are taken relative to the base URL."""
        if "://" in path_or_url:
            return path_or_url
        return self.base_url + "/" + path_or_url.lstrip("/")

    def is_api_url(self, url: str) -> bool:
        """True for URLs under the provider API's base URL: the only ones that get credentials."""
        try:
            parts = urlsplit(url)
            origin = (parts.scheme, parts.hostname or "", parts.port)
        except ValueError:
            return False
        return origin == self._origin and (parts.path.rstrip("/") + "/").startswith(self._prefix)

    def request(self, method: str, path_or_url: str, *, safe: bool | None = None, **kwargs: Any) -> requests.Response:
        """Send one request, retrying as the policy allows; raise a typed error on failure.

        Every error is raised outside the handler of the error that caused it, so that no
        exception the library raises holds the prepared request (and its Authorization
        header) in its ``__context__``. The body is read before this returns (by ``timeout``,
        however slowly it comes), unless ``stream=True`` leaves it to the caller to read as it
        comes, each read bounded by ``timeout``: for downloads too large to hold.
        """
        method = method.upper()
        url = self.url(path_or_url)
        own = self.is_api_url(url)
        safe = method in SAFE_METHODS if safe is None else safe
        kwargs.setdefault("allow_redirects", not own)
        deadline = time.monotonic() + self.total_timeout
        retry = self._retry
        while True:
            started = time.monotonic()
            answer = self._attempt(method, url, own, deadline, kwargs)
            if isinstance(answer, requests.RequestException):
                log.debug("%s %s failed: %s", method, url, type(answer).__name__)
                if not (safe or _never_sent(answer)):
                    raise self._network_error(answer, "the request may have been applied; not repeated")
                retry, wait = self._next_try(retry, method, url, error=answer)
                if wait is None or time.monotonic() + wait > deadline:
                    raise self._network_error(answer, "retries exhausted" if wait is None else "out of time")
                time.sleep(wait)
                continue
            response = answer
            log.debug("%s %s -> %s (%.0f ms)", method, url, response.status_code, (time.monotonic() - started) * 1000)
            status = response.status_code
            if status < 400:
                return response
            may_repeat = status == 429 or safe
            if not (may_repeat and retry.is_retry(method, status, "Retry-After" in response.headers)):
                raise self.error_for(response)
            asked = self._asked_wait(retry, response)
            if asked is not None and asked > self.max_retry_wait:
                raise self.error_for(response)  # a RateLimited carrying retry_after, for a 429
            retry, wait = self._next_try(retry, method, url, response=response, asked=asked)
            if wait is None or time.monotonic() + wait > deadline:
                raise self.error_for(response)
            time.sleep(wait)

    def _attempt(
        self, method: str, url: str, own: bool, deadline: float, kwargs: dict[str, Any]
    ) -> requests.Response | requests.RequestException:
        """One try: the response with its body read (unless streamed), or the error that stopped it (returned)."""
        options = dict(kwargs)
        streamed = bool(options.pop("stream", False))
        remaining = max(deadline - time.monotonic(), 0.001)
        limit = min(self.timeout, remaining)
        options.setdefault("timeout", limit)
        try:
            with self.gate() if self.gate is not None else contextlib.nullcontext():
                response = self._session.request(method, url, auth=self._auth if own else None, stream=True, **options)
                if not streamed or response.status_code >= 400:
                    self._read_body(response, time.monotonic() + limit)
        except requests.RequestException as exc:
            return exc
        return response

    @staticmethod
    def _read_body(response: requests.Response, deadline: float) -> None:
        """Read the whole body by the deadline, a chunk at a time, so a trickled answer cannot stretch the wait."""
        chunks: list[bytes] = []
        failure: str | None = None
        try:
            while True:
                chunk = response.raw.read1(_BODY_CHUNK)
                if not chunk:
                    break
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    failure = "the answer was still arriving when the timeout passed"
                    break
        except (Urllib3Error, OSError) as exc:
            failure = f"the answer broke off ({type(exc).__name__})"
        if failure is not None:
            response.close()
            raise _SlowAnswer(failure)
        response._content = b"".join(chunks)  # what requests itself fills in when it reads the body
        response._content_consumed = True  # type: ignore[attr-defined]

    def _asked_wait(self, retry: Retry, response: requests.Response) -> float | None:
        """The wait the provider asked for (``Retry-After``, a rate-limit reset), in seconds, if any."""
        if not retry.respect_retry_after_header or response.raw is None:
            return None
        try:
            return retry.get_retry_after(response.raw)
        except InvalidHeader:
            return None

    @staticmethod
    def _next_try(
        retry: Retry,
        method: str,
        url: str,
        *,
        error: requests.RequestException | None = None,
        response: requests.Response | None = None,
        asked: float | None = None,
    ) -> tuple[Retry, float | None]:
        """The policy after this failure, and how long to wait first; None when retries ran out."""
        try:
            retry = retry.increment(method, url, response=None if response is None else response.raw, error=error)
        except MaxRetryError:
            return retry, None
        if response is not None:
            response.close()
        return retry, asked if asked is not None else retry.get_backoff_time()

    def _network_error(self, exc: requests.RequestException, why: str) -> NetworkError:
        if isinstance(exc, _SlowAnswer):
            return NetworkError(f"ReadTimeout: {exc}; {why}", provider=self.provider)
        return NetworkError(f"{type(exc).__name__}: {why}", provider=self.provider)

    def error_for(self, response: requests.Response) -> ProviderError:
        """The typed error for a failed response, its body redacted."""
        status = response.status_code
        body = self.redact(response.text[:2000])
        message, code = response.reason or "error", None
        with contextlib.suppress(Exception):  # an unreadable error body: the status line says enough
            message, code = self._error_parser(response)
        fields: dict[str, Any] = {"provider": self.provider, "status": status, "body": body, "code": code}
        message = self.redact(str(message))
        if status in (401, 403):
            return AuthenticationError(message, **fields)
        if status == 404:
            return NotFound(message, **fields)
        if status == 429:
            return RateLimited(message, retry_after=self._asked_wait(self._retry, response), **fields)
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
            pass  # the error is raised below, outside this handler: requests' error holds the request
        raise ProviderError(
            "the response is not JSON",
            provider=self.provider,
            status=response.status_code,
            body=self.redact(response.text[:500]),
        )


class _SlowAnswer(requests.ReadTimeout):
    """A body that did not arrive in time, or broke off, while :meth:`Transport._read_body` read it."""


def _checked_url(provider: str, base_url: object) -> SplitResult:
    """The parts of a base URL, or a ConfigurationError saying what is wrong with it."""
    if not isinstance(base_url, str):
        raise ConfigurationError(f"{provider}: base_url must be a string, not {type(base_url).__name__}")
    shown = re.sub(r"//[^/@]*@", "//", base_url)  # never echo a user:password written into the URL
    try:
        parts = urlsplit(base_url)
        parts.port  # noqa: B018 - a port out of range raises here
    except ValueError as exc:
        raise ConfigurationError(f"{provider}: base_url {shown!r} is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"{provider}: base_url {shown!r} is not an http(s) URL")
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError(f"{provider}: base_url must not carry credentials; pass them as settings")
    return parts


def _plain_error(response: requests.Response) -> tuple[str, str | None]:
    return response.reason or f"HTTP {response.status_code}", None
