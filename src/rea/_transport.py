"""httpx transports for rea's clients of Restate: httpx's own, built a little cheaper.

- The CA bundle is loaded only for ``https://`` URLs: httpx loads it for every client (about
  40-50 ms of CPU), which a CLI call or a test harness starting up pays for nothing.
- Async transports run on a network backend that checks idle sockets cheaply. Before each
  request httpcore's pool asks every idle connection whether its socket is readable (a
  server-side close); on asyncio the stock backend answers through anyio's typed attributes,
  which rebuild a dict of lookups per question: with a pool of 16 connections that was about
  1.5 ms of CPU per call, a third of the async ingress client's cost (bench/ingress.py). This
  backend keeps the raw socket at connect time and polls it directly; the rest is anyio's.
"""

from __future__ import annotations

import select
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

__all__ = ["DEFAULT_LIMITS", "async_transport", "sync_transport"]

#: httpx's own default limits.
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)


class _Stream(httpcore.AsyncNetworkStream):
    """An anyio stream whose ``is_readable`` is one ``poll`` on the socket kept at connect."""

    __slots__ = ("_socket", "_stream")

    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream
        self._socket: socket.socket | None = stream.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._stream.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return _readable(self._socket)
        return self._stream.get_extra_info(info)


def _readable(sock: socket.socket | None) -> bool:
    # As httpcore decides: a socket that is gone counts as readable (its next read is b"").
    fd = -1 if sock is None else sock.fileno()
    if fd < 0:
        return True
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(0))
    return bool(select.select([fd], [], [], 0)[0])  # pragma: no cover - Windows


class _Backend(httpcore.AsyncNetworkBackend):
    """httpcore's anyio backend, handing out `_Stream` wrappers."""

    def __init__(self) -> None:
        self._backend = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._backend.connect_tcp(
            host, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )
        return _Stream(stream)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:  # pragma: no cover - rea speaks TCP to the ingress
        stream = await self._backend.connect_unix_socket(
            path, timeout=timeout, socket_options=socket_options
        )
        return _Stream(stream)

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


class _AsyncTransport(httpx.AsyncHTTPTransport):
    # httpx's transports take no network backend, so these build the pool httpx would (its
    # request and exception mapping reads only `_pool`) and skip httpx's __init__, which
    # would load the CA bundle for a pool thrown away at once.
    def __init__(self, pool: httpcore.AsyncConnectionPool) -> None:
        self._pool = pool


class _SyncTransport(httpx.HTTPTransport):
    def __init__(self, pool: httpcore.ConnectionPool) -> None:
        self._pool = pool


def _pool_options(
    url: str, *, verify: ssl.SSLContext | bool, http1: bool, http2: bool, limits: httpx.Limits
) -> dict[str, Any]:
    # ssl_context=None: httpcore makes its default (verifying) context if a TLS connection is
    # ever opened after all, so nothing is left unchecked.
    tls = httpx.URL(url).scheme == "https"
    return {
        "ssl_context": httpx.create_ssl_context(verify=verify) if tls else None,
        "max_connections": limits.max_connections,
        "max_keepalive_connections": limits.max_keepalive_connections,
        "keepalive_expiry": limits.keepalive_expiry,
        "http1": http1,
        "http2": http2,
    }


def async_transport(
    url: str,
    *,
    verify: ssl.SSLContext | bool = True,
    http1: bool = True,
    http2: bool = False,
    limits: httpx.Limits = DEFAULT_LIMITS,
) -> httpx.AsyncHTTPTransport:
    """httpx's async transport for a server at `url`, on the cheap-readability backend.

    Args:
        url: The server's URL; the CA bundle is loaded only for https.
        verify: As httpx's: True, an ``ssl.SSLContext``, or False.
        http1: Offer HTTP/1.1.
        http2: Offer HTTP/2 (alone: prior knowledge).
        limits: The pool's limits.
    """
    options = _pool_options(url, verify=verify, http1=http1, http2=http2, limits=limits)
    return _AsyncTransport(httpcore.AsyncConnectionPool(**options, network_backend=_Backend()))


def sync_transport(
    url: str,
    *,
    verify: ssl.SSLContext | bool = True,
    http1: bool = True,
    http2: bool = False,
    limits: httpx.Limits = DEFAULT_LIMITS,
) -> httpx.HTTPTransport:
    """httpx's transport for a server at `url`; the same arguments as `async_transport`."""
    options = _pool_options(url, verify=verify, http1=http1, http2=http2, limits=limits)
    return _SyncTransport(httpcore.ConnectionPool(**options))
