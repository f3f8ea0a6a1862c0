"""The sans-IO core that both ingress clients share: requests, results, retries and the guard.

A client method builds a `Request` (see `_protocol`), hands it to its client's ``_perform``,
and that loop is all the sync and async clients do differently: they send what `Exchange`
builds, give the response back to `Exchange.result`, and on a transport failure sleep for what
`Exchange.failed` says (or see it raise).
"""

from __future__ import annotations

import importlib.util
import random
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import urlencode

import httpx
from restate.extensions import current_context

from rea._invocation import current_state
from rea._policy import violation
from rea._version import __version__
from rea.ingress._errors import IngressError, IngressUnavailable

__all__ = [
    "RETRYABLE",
    "Async",
    "Exchange",
    "Output",
    "Request",
    "SendResult",
    "Sync",
    "check_outside_handler",
    "http_options",
    "pool_options",
]

T = TypeVar("T")

#: Failures after which a request may be sent again (when it is safe to repeat).
RETRYABLE = (httpx.TransportError, IngressUnavailable)

_FIRST_BACKOFF = 0.05  # seconds; doubles per retry: 50 ms, 100 ms, 200 ms ...
_MAX_BACKOFF = 1.0
_POOL_SIZE = 100  # connections kept alive too, so bursts above httpx's 20 do not reconnect


class Async:
    """Marks facades of `rea.IngressClient`: their methods return coroutines."""


class Sync:
    """Marks facades of `rea.SyncIngressClient`: their methods block and return values."""


@dataclass(frozen=True, slots=True)
class SendResult:
    """What Restate answered to a send (or a workflow submit).

    Attributes:
        invocation_id: The id of the invocation that was started, or found by its key.
        status: ``"Accepted"`` for a new invocation; ``"PreviouslyAccepted"`` when an
            invocation with the same idempotency key (or workflow id) already existed.
        execution_time: When a delayed send is due to run (None without a delay).
    """

    invocation_id: str
    status: Literal["Accepted", "PreviouslyAccepted"]
    execution_time: datetime | None = None

    @property
    def previously_accepted(self) -> bool:
        """Whether this send found an existing invocation instead of starting one."""
        return self.status == "PreviouslyAccepted"


@dataclass(frozen=True, slots=True)
class Output(Generic[T]):
    """The output of an invocation, which may not have finished yet.

    Attributes:
        ready: Whether the invocation finished (successfully: a failure raises instead).
        value: Its result when ready, else None.
    """

    ready: bool
    value: T | None = None


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request of an ingress operation, and how to read its response.

    Attributes:
        method: The HTTP method.
        url: A path below the ingress URL, or an absolute URL (admin API).
        operation: What it does, for messages: ``"call to Orders/create"``.
        parse: Turns the response into the operation's result, or raises `IngressError`.
        params: Query parameters.
        headers: Headers beside the client's own.
        body: The body; None sends none (and no content type).
        safe_to_retry: Whether sending it twice does no more than sending it once.
    """

    method: str
    url: str
    operation: str
    parse: Callable[[httpx.Response], Any]
    params: Mapping[str, str] | None = None
    headers: Mapping[str, str] | None = None
    body: bytes | None = None
    safe_to_retry: bool = False


def check_outside_handler(operation: str) -> None:
    """The guard ``ingress.inside_handler``: ingress requests do not belong in handlers.

    Raises:
        PolicyViolation: under STRICT, when called while a Restate handler runs.
    """
    if current_state() is None:
        try:
            current_context()  # the SDK's own context variable: bare SDK handlers count too
        except LookupError:
            return
    violation(
        "ingress.inside_handler",
        f"rea's ingress client used for a {operation} inside a handler; the request bypasses "
        "the journal, so every retry or replay of the handler sends it again, and a call back "
        "into a busy virtual object deadlocks",
        fix="inside handlers call through the context: rea.ServiceClient, rea.ObjectClient, "
        "rea.WorkflowClient (or ctx.service_call and friends); keep rea.IngressClient for "
        "code outside Restate",
    )


class Exchange:
    """One operation's attempts: checks the guard, builds each attempt, decides on retries."""

    __slots__ = ("_attempt", "_retries", "request", "url")

    def __init__(self, request: Request, retries: int, base_url: str) -> None:
        check_outside_handler(request.operation)
        self.request = request
        self._retries = retries
        self._attempt = 0
        # An absolute URL string is parsed once; a relative one with params, three times.
        url = request.url if "://" in request.url else base_url + request.url
        self.url = f"{url}?{urlencode(request.params)}" if request.params else url

    def build(self, http: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        """The next attempt as an httpx request on `http` (its headers and timeouts)."""
        r = self.request
        return http.build_request(r.method, self.url, headers=r.headers, content=r.body)

    def result(self, response: httpx.Response) -> Any:
        """The operation's result from `response`; raises its typed error."""
        return self.request.parse(response)

    def failed(self, exc: Exception) -> float:
        """Seconds to wait before the next attempt after `exc` (one of `RETRYABLE`).

        Raises:
            IngressUnavailable: the request is not safe to repeat, or retries are used up.
        """
        safe = self.request.safe_to_retry
        if safe and self._attempt < self._retries:
            self._attempt += 1
            pause = min(_FIRST_BACKOFF * 2.0 ** (self._attempt - 1), _MAX_BACKOFF)
            return pause * random.uniform(0.5, 1.0)  # jitter: retrying clients do not align
        if isinstance(exc, IngressError):
            raise exc
        detail = str(exc) or "no response"
        if not safe:
            note = "not retried: it may have reached Restate; an idempotency key makes it safe"
        else:
            note = f"after {self._attempt + 1} attempts"
        raise IngressUnavailable(
            f"{type(exc).__name__}: {detail} ({note})",
            source="transport",
            operation=self.request.operation,
        ) from exc


def _h2_installed() -> bool:
    return importlib.util.find_spec("h2") is not None


def http_options(
    url: str,
    *,
    headers: Mapping[str, str] | None,
    auth_token: str | None,
    timeout: float | httpx.Timeout | None,
    http2: bool | None,
    verify: ssl.SSLContext | bool = True,
) -> dict[str, Any]:
    """Keyword arguments for ``httpx.Client`` / ``httpx.AsyncClient`` on the ingress at `url`.

    By default (``http2=None``): HTTP/2 over TLS when the `h2` package is installed (ALPN
    settles it), and a pool of HTTP/1.1 connections over cleartext. Measured on loopback
    (bench/ingress.py), cleartext HTTP/2 with prior knowledge costs the client less CPU but
    gives fewer calls per second than the pool, since every call shares one connection.
    ``http2=True`` forces HTTP/2 (prior knowledge over cleartext, which Restate's ingress
    accepts); ``http2=False`` forces HTTP/1.1. `verify` is httpx's: how to check TLS certificates.

    Raises:
        ValueError: `url` is not an http(s) URL, or `http2=True` without `h2` installed.
    """
    parsed = httpx.URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"the ingress URL must be http(s)://host[:port], got {url!r}")
    if http2 and not _h2_installed():
        raise ValueError("http2=True needs the h2 package: pip install 'httpx[http2]'")
    use_h2 = (_h2_installed() and parsed.scheme == "https") if http2 is None else http2
    # httpx.Headers: a caller's "User-Agent" replaces ours instead of being sent beside it.
    merged = httpx.Headers({"user-agent": f"rea/{__version__} python-httpx/{httpx.__version__}"})
    merged.update(headers or {})
    if auth_token is not None:
        if not auth_token.strip():
            raise ValueError("auth_token must not be empty")
        merged["authorization"] = f"Bearer {auth_token}"
    return {
        "base_url": url.rstrip("/"),
        "headers": merged,
        "timeout": timeout,
        "http2": use_h2,
        # Without HTTP/1.1 on offer, httpx speaks HTTP/2 from the first byte (prior knowledge).
        "http1": not (use_h2 and parsed.scheme == "http"),
        "limits": httpx.Limits(max_connections=_POOL_SIZE, max_keepalive_connections=_POOL_SIZE),
        "verify": verify,
    }


def pool_options(options: dict[str, Any]) -> dict[str, Any]:
    """Take the transport's settings out of `http_options`'s result: what `rea._transport` needs.

    They are taken out even for a transport of the caller's, which httpx would not apply them to.
    """
    keys = ("http1", "http2", "limits", "verify")
    return {"url": options["base_url"], **{key: options.pop(key) for key in keys}}
