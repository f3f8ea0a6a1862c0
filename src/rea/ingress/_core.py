"""What is particular to the ingress clients: results, connection options and the guard.

Requests, retries and errors are `rea._http`'s, shared with the admin client: a client method
builds a `rea._http.Request` (see `_protocol`) and hands it to ``_perform``, and `api` below
adds the ingress's error classes and the ``ingress.inside_handler`` guard to every exchange.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import urlsplit

import httpx
from opentelemetry import propagate, trace

from rea._http import Api, Endpoint, Request, check_url, client_headers
from rea._invocation import current_state
from rea._policy import violation
from rea._sdk import in_handler
from rea.ingress._errors import ERRORS

__all__ = [
    "Async",
    "Output",
    "SendResult",
    "Sync",
    "api",
    "check_outside_handler",
    "http_options",
    "pool_options",
    "with_trace_context",
]

T = TypeVar("T")

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


def check_outside_handler(operation: str) -> None:
    """The guard ``ingress.inside_handler``: ingress requests do not belong in handlers.

    Raises:
        PolicyViolation: under STRICT, when called while a Restate handler runs.
    """
    # in_handler() reads the SDK's own context variable: bare SDK handlers count too.
    if current_state() is None and not in_handler():
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


def api(url: str, retries: int) -> Api:
    """The ingress at `url` as `rea._http` sees it: its errors, retries and guard."""
    return Api(Endpoint("ingress", url), ERRORS, retries, guard=check_outside_handler)


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
        ValueError: `url` is not an http(s) URL, `http2=True` without `h2` installed, or an
            empty `auth_token`.
    """
    base = check_url(url, what="ingress", example="http://127.0.0.1:8080")
    if http2 and not _h2_installed():
        raise ValueError("http2=True needs the h2 package: pip install 'httpx[http2]'")
    tls = urlsplit(base).scheme == "https"
    use_h2 = (_h2_installed() and tls) if http2 is None else http2
    return {
        "base_url": base,
        "headers": client_headers(headers, auth_token=auth_token),
        "timeout": timeout,
        "http2": use_h2,
        # Without HTTP/1.1 on offer, httpx speaks HTTP/2 from the first byte (prior knowledge).
        "http1": not (use_h2 and not tls),
        "limits": httpx.Limits(max_connections=_POOL_SIZE, max_keepalive_connections=_POOL_SIZE),
        "verify": verify,
    }


def pool_options(options: dict[str, Any]) -> dict[str, Any]:
    """Take the transport's settings out of `http_options`'s result: what `rea._transport` needs.

    They are taken out even for a transport of the caller's, which httpx would not apply them to.
    """
    return {key: options.pop(key) for key in ("http1", "http2", "limits", "verify")}


def with_trace_context(request: Request[T]) -> Request[T]:
    """`request` with the current OpenTelemetry context's headers (``traceparent``) added.

    Only when a span is current, so that the invocation's trace starts at the caller; headers
    the caller set themselves win. The global propagator decides the format (W3C by default).
    """
    if not trace.get_current_span().get_span_context().is_valid:
        return request
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    if not carrier:
        return request
    parent = carrier.get("traceparent")
    if parent is not None:
        carrier["traceparent"] = _level_one(parent)
    given = request.headers or {}
    lowered = {name.lower() for name in given}
    headers = {**{k: v for k, v in carrier.items() if k.lower() not in lowered}, **given}
    return dataclasses.replace(request, headers=headers)


def _level_one(traceparent: str) -> str:
    """`traceparent` with only the sampled flag: restate-server 1.7 drops one with more.

    OpenTelemetry's Python SDK sets W3C trace context level 2's random-trace-id flag (flags
    ``03``); restate-server's parser refuses version-00 flags above ``02`` and starts a new
    trace instead of joining the caller's (measured on 1.7.12).
    """
    parts = traceparent.split("-")
    if len(parts) != 4 or len(parts[3]) != 2:
        return traceparent
    try:
        flags = int(parts[3], 16) & 0x01
    except ValueError:
        return traceparent
    return f"{parts[0]}-{parts[1]}-{parts[2]}-{flags:02x}"
