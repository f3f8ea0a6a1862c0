"""The one HTTP core of rea's clients of Restate (ingress, admin API, the test harness).

An operation is a `Request`: what to send, how to read the answer, and whether sending it twice
is safe. `Exchange` (sans-IO) turns it into attempts, types the errors and decides on retries;
`SyncClient` and `AsyncClient` are the only code that sends, each in one small loop, and the
ingress and admin clients derive from them. The helpers below check URLs, escape path segments
and build the headers (user agent, bearer token) the same way for every client.

Retries: a request that got no answer is sent again (up to the client's ``retries``, backoff
from 50 ms, doubling, with jitter) when nothing reached the server (`httpx.ConnectError`,
`httpx.ConnectTimeout`: no connection was made), or when the request is safe to repeat (reads,
anything with an idempotency key). Any other failure of an unsafe request (a read error or a
timeout after sending, a broken connection, a gateway's 502/503/504) is raised at once: the
server may have acted on it.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, ParamSpec, Self, TypeVar, cast
from urllib.parse import quote, urlencode, urlsplit

import httpx

from rea._http_errors import ErrorKinds
from rea._transport import async_transport, sync_transport
from rea._version import __version__
from rea.errors import RestateError, RestateUnavailable

__all__ = [
    "RETRYABLE",
    "USER_AGENT",
    "Api",
    "AsyncClient",
    "Client",
    "Endpoint",
    "Exchange",
    "Options",
    "Request",
    "SyncClient",
    "check_url",
    "client_headers",
    "segment",
]

T = TypeVar("T")
P = ParamSpec("P")

#: Sent as User-Agent by every client (a caller's own User-Agent header replaces it).
USER_AGENT = f"rea/{__version__} python-httpx/{httpx.__version__}"
#: Failures after which a request may be sent again (when `Exchange.failed` says so).
RETRYABLE = (httpx.TransportError, RestateUnavailable)
#: Failures after which nothing reached the server: no connection was made.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout)
_FIRST_BACKOFF = 0.05  # seconds; doubles per retry: 50 ms, 100 ms, 200 ms ...
_MAX_BACKOFF = 1.0
_MAX_QUOTED = 200  # characters of an unreadable answer quoted in its error


def check_url(url: str, *, what: str, example: str) -> str:
    """`url` without a trailing slash, once it is known to be an http(s) URL with a host.

    Args:
        url: The URL to check.
        what: Whose URL it is, for the message (``"ingress"``, ``"admin API"``).
        example: A good URL of that kind, for the message.

    Raises:
        ValueError: it is not an http(s) URL with a host.
    """
    stripped = url.strip()
    try:
        parts = urlsplit(stripped)
        scheme, host = parts.scheme, parts.hostname
    except ValueError:  # a malformed IPv6 host
        scheme, host = "", None
    if scheme not in ("http", "https") or not host:
        raise ValueError(f"not an http(s) URL: {url!r} (the {what} URL looks like {example})")
    return stripped.rstrip("/")


def segment(text: str, what: str) -> str:
    """`text` escaped as one path segment (keys may hold ``/``, spaces, anything).

    Raises:
        ValueError: `text` is empty (`what` names it in the message).
    """
    if not text:
        raise ValueError(f"{what} must not be empty")
    return quote(text, safe="")


def client_headers(
    headers: Mapping[str, str] | None,
    *,
    auth_token: str | None,
    defaults: Mapping[str, str] | None = None,
) -> httpx.Headers:
    """The headers a client sends with every request: rea's, then the caller's, then the token.

    Args:
        headers: The caller's headers; one named like a default (any case) replaces it.
        auth_token: Sent as ``Authorization: Bearer <token>``.
        defaults: The client's own headers besides the user agent.

    Raises:
        ValueError: `auth_token` is empty or blank.
    """
    # httpx.Headers: a caller's "User-Agent" replaces ours instead of being sent beside it.
    merged = httpx.Headers({"user-agent": USER_AGENT, **(defaults or {})})
    merged.update(headers or {})
    if auth_token is not None:
        if not auth_token.strip():
            raise ValueError("auth_token must not be empty")
        merged["authorization"] = f"Bearer {auth_token}"
    return merged


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One of the server's APIs: its name for messages (``"ingress"``) and its base URL."""

    name: str
    url: str


@dataclass(frozen=True, slots=True)
class Api:
    """What a client knows about the API it talks to.

    Attributes:
        endpoint: Its name and base URL.
        errors: The error classes the client raises.
        retries: How often a request that got no answer is sent again, when that is allowed.
        guard: Called with each operation before anything is sent (may raise).

    Raises:
        ValueError: negative `retries`.
    """

    endpoint: Endpoint
    errors: ErrorKinds
    retries: int
    guard: Callable[[str], None] | None = None

    def __post_init__(self) -> None:
        if self.retries < 0:
            raise ValueError(f"retries must be 0 or more, got {self.retries}")


def _success(response: httpx.Response) -> bool:
    return response.is_success


@dataclass(frozen=True, slots=True)
class Request(Generic[T]):
    """One HTTP request of an operation, and how to read its answer.

    Attributes:
        method: The HTTP method.
        path: The path below the API's base URL (segments already escaped).
        operation: What it does, for messages: ``"call to Orders/create"``.
        parse: Turns an answer `reads` accepts into the operation's result.
        params: Query parameters.
        headers: Headers beside the client's own.
        body: The body; None sends none (and no content type).
        safe_to_retry: Whether sending it twice does no more than sending it once.
        retry_hint: When it is not, what would make it so (for the message).
        reads: Which answers `parse` reads (default: 2xx); any other is the API's error.
        endpoint: An API of the same server other than the client's own (the ingress
            client's `cancel` goes to the admin API).
    """

    method: str
    path: str
    operation: str
    parse: Callable[[httpx.Response], T]
    params: Mapping[str, str] | None = None
    headers: Mapping[str, str] | None = None
    body: bytes | None = None
    safe_to_retry: bool = False
    retry_hint: str = ""
    reads: Callable[[httpx.Response], bool] = field(default=_success)
    endpoint: Endpoint | None = None


class Exchange:
    """One operation's attempts: runs the guard, builds each attempt, types errors, retries."""

    __slots__ = ("_attempt", "_errors", "_retries", "endpoint", "request", "url")

    def __init__(self, request: Request[Any], api: Api) -> None:
        if api.guard is not None:
            api.guard(request.operation)
        self.request = request
        self.endpoint = request.endpoint or api.endpoint
        self._errors = api.errors
        self._retries = api.retries
        self._attempt = 0
        url = self.endpoint.url + request.path
        self.url = f"{url}?{urlencode(request.params)}" if request.params else url

    def build(self, http: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        """The next attempt as an httpx request on `http` (its headers and timeouts)."""
        r = self.request
        return http.build_request(r.method, self.url, headers=r.headers, content=r.body)

    def result(self, response: httpx.Response) -> Any:
        """The operation's result from `response`.

        Raises:
            RestateError: the API's error for it (its `RestateUnavailable` for a gateway's
                502/503/504, which `failed` may retry), or its invalid-answer error.
        """
        r = self.request
        if not r.reads(response):
            raise self._errors.from_response(response, r.operation)
        try:
            return r.parse(response)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            detail = (
                f"unexpected answer to {r.method} {r.path}: {type(exc).__name__}: {exc} "
                f"(body {response.text[:_MAX_QUOTED]!r})"
            )
            raise self._errors.unreadable(response, r.operation, detail) from exc

    def failed(self, exc: Exception) -> float:
        """Seconds to wait before the next attempt after `exc` (one of `RETRYABLE`).

        Raises:
            RestateUnavailable: the client's own, when it may not or cannot try again.
        """
        allowed = self.request.safe_to_retry or isinstance(exc, _NOT_SENT)
        if allowed and self._attempt < self._retries:
            self._attempt += 1
            pause = min(_FIRST_BACKOFF * 2.0 ** (self._attempt - 1), _MAX_BACKOFF)
            return pause * random.uniform(0.5, 1.0)  # jitter: retrying clients do not align
        if isinstance(exc, RestateError):
            raise exc
        if allowed:
            note = f"after {self._attempt + 1} attempts"
        else:
            hint = self.request.retry_hint
            note = "not retried: it may have reached Restate" + (f"; {hint}" if hint else "")
        reason = str(exc) or "no response"
        if isinstance(exc, httpx.TimeoutException):
            reason = f"no answer in time ({reason})"
        raise self._errors.unavailable(
            f"cannot reach the Restate {self.endpoint.name} at {self.endpoint.url}: "
            f"{type(exc).__name__}: {reason} ({note})",
            source="transport",
            operation=self.request.operation,
        ) from exc


Transport = httpx.BaseTransport | httpx.AsyncBaseTransport


@dataclass(frozen=True, slots=True)
class Options:
    """How a client connects.

    Attributes:
        headers: Sent with every request (`client_headers`).
        timeout: Seconds per request (or an ``httpx.Timeout``); None: no limit.
        transport: An httpx transport of the caller's (tests: ``httpx.MockTransport``).
        pool: Options of `rea._transport`'s transports (``verify``, ``http2``, ``limits``...),
            for the pool built when `transport` is None.
    """

    headers: httpx.Headers
    timeout: float | httpx.Timeout | None
    transport: Transport | None = None
    pool: Mapping[str, Any] = field(default_factory=dict)


class Client:
    """What every client of Restate has: its API, its URL, and the hooks its half provides."""

    #: The kind of httpx transport the half sends on.
    _transport_kind: ClassVar[type[Any]] = object
    url: str
    _api: Api

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    def _connect(self, api: Api, options: Options) -> None:
        """Open the client's connection pool, or use the transport `options` names.

        Raises:
            TypeError: a transport of the other half's kind.
        """
        kind = self._transport_kind
        if options.transport is not None and not isinstance(options.transport, kind):
            raise TypeError(f"{type(self).__name__} needs an httpx.{kind.__name__}")
        self.url = api.endpoint.url
        self._api = api
        self._open(options)

    def _open(self, options: Options) -> None:
        """Create the httpx client, on `options`' transport or a new pool for `url`."""
        raise NotImplementedError

    def _perform(self, request: Request[Any]) -> Any:
        """Send `request` until it has a result (awaitable on the async half)."""
        raise NotImplementedError

    def _bind(self, build: Callable[..., Request[Any]]) -> Callable[..., Any]:
        """A method that builds a request with `build` and performs it."""
        raise NotImplementedError


class SyncClient(Client):
    """The blocking half: an `httpx.Client` and the loop that sends."""

    _transport_kind = httpx.BaseTransport
    _http: httpx.Client

    def _open(self, options: Options) -> None:
        mine = cast("httpx.BaseTransport | None", options.transport)  # checked by _connect
        transport = mine or sync_transport(self.url, **options.pool)
        self._http = httpx.Client(
            headers=options.headers, timeout=options.timeout, transport=transport
        )

    def _perform(self, request: Request[T]) -> T:
        exchange = Exchange(request, self._api)
        while True:
            try:
                result: T = exchange.result(self._http.send(exchange.build(self._http)))
                return result
            except RETRYABLE as exc:
                time.sleep(exchange.failed(exc))

    def _bind(self, build: Callable[P, Request[T]]) -> Callable[P, T]:
        def method(*args: P.args, **kwargs: P.kwargs) -> T:
            return self._perform(build(*args, **kwargs))

        return method

    def close(self) -> None:
        """Close the pooled connections."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncClient(Client):
    """The asyncio half: an `httpx.AsyncClient` and the loop that sends."""

    _transport_kind = httpx.AsyncBaseTransport
    _http: httpx.AsyncClient

    def _open(self, options: Options) -> None:
        mine = cast("httpx.AsyncBaseTransport | None", options.transport)  # checked by _connect
        transport = mine or async_transport(self.url, **options.pool)
        self._http = httpx.AsyncClient(
            headers=options.headers, timeout=options.timeout, transport=transport
        )

    async def _perform(self, request: Request[T]) -> T:
        exchange = Exchange(request, self._api)
        while True:
            try:
                result: T = exchange.result(await self._http.send(exchange.build(self._http)))
                return result
            except RETRYABLE as exc:
                await asyncio.sleep(exchange.failed(exc))

    def _bind(self, build: Callable[P, Request[T]]) -> Callable[P, Coroutine[Any, Any, T]]:
        async def method(*args: P.args, **kwargs: P.kwargs) -> T:
            return await self._perform(build(*args, **kwargs))

        return method

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
