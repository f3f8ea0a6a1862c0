"""The async client's transport: httpx's own, on a network backend that checks sockets cheaply.

Before each request httpcore's pool asks every idle connection whether its socket is readable
(a server-side close). On asyncio the stock backend answers through anyio's typed attributes,
which rebuild a dict of lookups per question: with a pool of 16 connections that was about
1.5 ms of CPU per call, a third of the async client's cost (bench/ingress.py). This backend
keeps the raw socket at connect time and polls it directly; everything else is anyio's.
"""

from __future__ import annotations

import select
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

__all__ = ["async_transport"]


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


class _Transport(httpx.AsyncHTTPTransport):
    # httpx's transport takes no network backend, so this builds the same pool httpx would
    # (its request and exception mapping reads only `_pool`) and skips httpx's __init__,
    # which would load the CA bundle (~40 ms) for a pool thrown away at once.
    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | None,
        http1: bool,
        http2: bool,
        limits: httpx.Limits,
    ) -> None:
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=http1,
            http2=http2,
            network_backend=_Backend(),
        )


def async_transport(
    url: str,
    *,
    http1: bool,
    http2: bool,
    limits: httpx.Limits,
    verify: ssl.SSLContext | bool = True,
) -> httpx.AsyncHTTPTransport:
    """httpx's async transport for the ingress at `url`, on the cheap-readability backend.

    Args:
        url: The ingress URL; the CA bundle is loaded only for https.
        http1: Offer HTTP/1.1.
        http2: Offer HTTP/2 (alone: prior knowledge).
        limits: The pool's limits.
        verify: As httpx's: True, an ``ssl.SSLContext``, or False.
    """
    tls = httpx.URL(url).scheme == "https"
    return _Transport(
        ssl_context=httpx.create_ssl_context(verify=verify) if tls else None,
        http1=http1,
        http2=http2,
        limits=limits,
    )
