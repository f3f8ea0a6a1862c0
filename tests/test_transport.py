"""rea's httpx transports: cheap readability checks, stale connections, TLS and ALPN."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl
from collections.abc import AsyncIterator
from typing import Any

import pytest
import trustme
from hypercorn.asyncio import serve
from hypercorn.config import Config

import rea._transport as transport_module
from rea._transport import _AsyncTransport, _SyncTransport, async_transport, sync_transport
from rea.admin import AdminClient, AsyncAdminClient
from rea.ingress import IngressClient, IngressUnavailable, SyncIngressClient
from rea.testing._ports import listening_socket


def test_readable_is_false_for_an_idle_open_socket() -> None:
    """A connected socket with nothing to read is not readable: the pool may reuse it."""
    left, right = socket.socketpair()
    with left, right:
        assert transport_module._readable(left) is False


def test_readable_when_the_peer_wrote_or_closed() -> None:
    """Pending bytes, or the peer's close (the read would give b""), make a socket readable."""
    left, right = socket.socketpair()
    with left, right:
        right.sendall(b"x")
        assert transport_module._readable(left) is True
    left, right = socket.socketpair()
    with left:
        right.close()
        assert transport_module._readable(left) is True


def test_a_missing_or_closed_socket_counts_as_readable() -> None:
    """As httpcore decides: no socket, or a closed one, is treated as closed by the server."""
    assert transport_module._readable(None) is True
    sock = socket.socket()
    sock.close()
    assert transport_module._readable(sock) is True


def test_the_clients_use_rea_transports() -> None:
    """Without a transport of the caller's, rea's clients run on rea's transports, and the async
    ones on rea's backend (this pins that httpx still sends through the pool rea builds)."""
    ingress = IngressClient("http://localhost:8080")
    pool = ingress._http._transport._pool  # type: ignore[attr-defined]
    assert isinstance(pool._network_backend, transport_module._Backend)
    assert isinstance(AsyncAdminClient("http://localhost:9070")._http._transport, _AsyncTransport)
    assert isinstance(SyncIngressClient("http://localhost:8080")._http._transport, _SyncTransport)
    assert isinstance(AdminClient("http://localhost:9070")._http._transport, _SyncTransport)


@pytest.mark.parametrize("build", [async_transport, sync_transport])
def test_the_ca_bundle_is_loaded_for_https_only(build: Any) -> None:
    """http:// builds no SSL context (httpcore makes its verifying default if TLS comes up);
    https:// gets httpx's, honouring `verify`."""
    assert build("http://localhost:8080")._pool._ssl_context is None
    checked = build("https://restate.example.com")._pool._ssl_context
    assert checked.verify_mode == ssl.CERT_REQUIRED
    unchecked = build("https://restate.example.com", verify=False)._pool._ssl_context
    assert unchecked.verify_mode == ssl.CERT_NONE


async def _http11_server(close_after: float) -> tuple[asyncio.Server, int, list[int]]:
    """A keep-alive HTTP/1.1 server answering ``2`` that drops each connection once idle."""
    connections: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
        await reader.readexactly(length)
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1\r\n\r\n2"
        )
        await writer.drain()
        await asyncio.sleep(close_after)
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], connections


async def test_a_connection_the_server_closed_while_idle_is_replaced() -> None:
    """A pooled connection the server closed is seen as readable and dropped: the next call
    (no idempotency key, so never retried) goes out on a new connection and succeeds."""
    server, port, connections = await _http11_server(close_after=0.05)
    async with server, IngressClient(f"http://127.0.0.1:{port}", retries=0) as client:
        add = client.service("Calc", "add", int, int)
        assert await add.call(1) == 2
        await asyncio.sleep(0.3)  # the server has closed the idle connection by now
        assert await add.call(1) == 2
    assert len(connections) == 2


async def test_without_the_check_the_stale_connection_fails_the_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The control for the test above: a pool that believes stale sockets are fine sends the
    call on the closed connection, which fails (and is not retried)."""
    monkeypatch.setattr(transport_module, "_readable", lambda sock: False)
    server, port, _ = await _http11_server(close_after=0.05)
    async with server, IngressClient(f"http://127.0.0.1:{port}", retries=0) as client:
        add = client.service("Calc", "add", int, int)
        assert await add.call(1) == 2
        await asyncio.sleep(0.3)
        with pytest.raises(IngressUnavailable):
            await add.call(1)


@contextlib.asynccontextmanager
async def _tls_app(ca: trustme.CA) -> AsyncIterator[tuple[str, list[str]]]:
    """Hypercorn over TLS (HTTP/2 and HTTP/1.1 by ALPN) answering ``2``; yields URL, versions."""
    versions: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        versions.append(scope["http_version"])
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"2"})

    cert = ca.issue_cert("localhost")
    with (
        listening_socket() as sock,
        cert.private_key_and_cert_chain_pem.tempfile() as pem,
    ):
        config = Config()
        config.bind = [f"fd://{os.dup(sock.fileno())}"]  # hypercorn closes what it gets
        config.certfile = config.keyfile = pem
        config.accesslog = None
        config.loglevel = "WARNING"
        stop = asyncio.Event()
        task = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))  # type: ignore[arg-type]
        try:
            yield f"https://localhost:{sock.getsockname()[1]}", versions
        finally:
            stop.set()
            await task


async def test_https_speaks_http2_by_alpn_and_checks_the_certificate() -> None:
    """Over TLS both clients offer HTTP/2 and get it, trusting the CA they are given; without
    that CA the certificate check fails and the call is not sent."""
    ca = trustme.CA()
    context = ssl.create_default_context()
    ca.configure_trust(context)
    async with _tls_app(ca) as (url, versions):
        async with IngressClient(url, verify=context) as client:
            assert await client.service("Calc", "add", int, int).call(1) == 2
        assert versions == ["2"]
        async with IngressClient(url, retries=0) as client:
            with pytest.raises(IngressUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
                await client.service("Calc", "add", int, int).call(1)
        assert versions == ["2"]

        def sync_call() -> int:
            with SyncIngressClient(url, verify=context) as client:
                return client.service("Calc", "add", int, int).call(1)

        assert await asyncio.to_thread(sync_call) == 2
        assert versions == ["2", "2"]
