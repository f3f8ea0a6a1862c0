"""Hypercorn settings that fit Restate, and the worker process `rea serve` runs them in.

Restate keeps a few long-lived HTTP/2 connections to an app and sends every invocation as a
stream on them, so hypercorn's defaults, tuned for browsers, get in the way: it closes a
connection after 1,000 requests (Restate's next request on it stalls: 36-41 s measured),
closes idle connections after 5 s, and advertises 100 concurrent streams. `restate_config`
lifts those.

A worker is ``python -m rea._hypercorn --fd N --channel-fd M APP``: it serves the listening
socket `N` that its supervisor bound and reports ``ready URL`` (or ``error MESSAGE``) on the
socket `M`. When `M` reaches end of file (the supervisor shut its side, or died) it drains:
new requests get a 503 that Restate retries, in-flight ones get the graceful timeout, and
only then does hypercorn shut down (`DrainingApp` says why not hypercorn's own way).

A SIGTERM sent straight to a worker drains it too, but it also runs the SDK's shutdown hook,
which ends finished attempts' streams before Restate closes its side; with hypercorn 0.18 the
next frame from Restate on such a stream tears down the whole connection and cuts the other
attempts on it (Restate retries them). So the supervisor never signals a ready worker.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import Callable
from typing import Any

from hypercorn.asyncio import serve
from hypercorn.config import Config

from rea import _sdk
from rea._loader import ASGIApp, load_app
from rea.errors import AppStartError

#: Requests per connection before hypercorn closes it (its default is 1,000). Restate's docs
#: suggest 2**31 - 1, which one busy connection reaches in ~25 days at 1,000 requests/s.
KEEP_ALIVE_MAX_REQUESTS = sys.maxsize
#: Seconds an idle connection stays open (hypercorn: 5). Above restate-server's
#: ``http2-idle-connection-timeout`` (5 min), so the client closes idle connections, never
#: the app mid-way through Restate sending a new request on one.
KEEP_ALIVE_TIMEOUT = 600.0
#: Concurrent HTTP/2 streams per connection (hypercorn: 100), as Restate's docs set it.
#: Restate's invoker caps its own use at ``http2-streams-per-connection-limit`` (128) and
#: opens more connections beyond that. A low cap here made Restate open more connections but
#: also fail attempts ("stream closed because of a broken pipe"): keep it out of the way.
H2_MAX_CONCURRENT_STREAMS = 2**31 - 1
#: Default seconds in-flight requests get after SIGTERM before they are cut (Restate retries
#: what is cut). Below the 30 s that Kubernetes waits before it kills a pod.
GRACEFUL_TIMEOUT = 25.0

#: Seconds hypercorn gets to close connections once a worker has drained its requests.
CLOSE_TIMEOUT = 2.0
#: The body of the 503 a draining worker answers new requests with.
REFUSAL = b"rea serve: this worker is shutting down; Restate retries the attempt\n"

#: Exit status of a worker whose app cannot be loaded.
EXIT_APP_ERROR = 2


def restate_config(*, graceful_timeout: float = GRACEFUL_TIMEOUT) -> Config:
    """The hypercorn configuration rea serves Restate apps with (binds are the caller's).

    Args:
        graceful_timeout: Seconds in-flight requests get to finish once shutdown starts.

    Returns:
        A `hypercorn.config.Config` with HTTP/2 cleartext and HTTP/1.1 on the same socket (no
        TLS: h2 is detected from the client's preface), no per-connection request cap, idle
        connections left to Restate to close, no access log, and warnings and errors only.
    """
    config = Config()
    config.keep_alive_max_requests = KEEP_ALIVE_MAX_REQUESTS
    config.keep_alive_timeout = KEEP_ALIVE_TIMEOUT
    config.h2_max_concurrent_streams = H2_MAX_CONCURRENT_STREAMS
    config.graceful_timeout = graceful_timeout
    config.accesslog = None
    config.errorlog = "-"
    config.loglevel = "WARNING"
    return config


def url_of(sock: socket.socket, *, tls: bool = False) -> str:
    """The ``http(s)://host:port`` URL a listening TCP socket serves."""
    host, port = sock.getsockname()[:2]
    if sock.family == socket.AF_INET6:
        host = f"[{host}]"
    return f"{'https' if tls else 'http'}://{host}:{port}"


class DrainingApp:
    """`app` behind a gate that drains it: in-flight requests finish, new ones get 503.

    Hypercorn 0.18's own graceful shutdown resets HTTP/2 streams that arrive once it is
    shutting down, and the request body that Restate sends with each new stream then raises a
    KeyError in its HTTP/2 handler that tears down the whole connection, cancelling every
    attempt in flight on it. So the worker drains here first and lets hypercorn shut down only
    when nothing is in flight. Restate retries a 503 like any failed attempt.

    It also answers ASGI lifespan events (the Restate app rejects them, which hypercorn logs as
    a warning) and calls `on_startup` when hypercorn starts, right before it accepts.
    """

    def __init__(self, app: ASGIApp, on_startup: Callable[[], None]) -> None:
        self._app = app
        self._on_startup = on_startup
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._draining = False

    async def drain(self, timeout: float) -> int:
        """Refuse new requests and wait up to `timeout` s for those in flight; how many are left."""
        self._draining = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout)
        return self._in_flight

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif self._draining:
            await self._refuse(receive, send)
        else:
            self._in_flight += 1
            self._idle.clear()
            try:
                await self._app(scope, receive, send)
            finally:
                self._in_flight -= 1
                if not self._in_flight:
                    self._idle.set()

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._on_startup()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    @staticmethod
    async def _refuse(receive: Any, send: Any) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [(b"content-type", b"text/plain"), (b"retry-after", b"1")],
            }
        )
        await send({"type": "http.response.body", "body": REFUSAL, "more_body": True})
        # Like the SDK, end the response only once the client has ended its request: hypercorn
        # forgets a stream as soon as the response ends, and one more frame from the client on
        # a forgotten stream breaks the whole connection (see above).
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            if message["type"] == "http.request" and not message.get("more_body", False):
                break
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _tell(channel: socket.socket, line: str) -> None:
    # When the supervisor is gone there is no one to tell; the channel watch stops this worker.
    with contextlib.suppress(OSError):
        channel.sendall(line.encode() + b"\n")


async def _serve(
    app: ASGIApp,
    listener: socket.socket,
    channel: socket.socket,
    grace: float,
    tls: tuple[str, str] | None = None,
) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    # The Restate app takes over the loop's SIGTERM handler on its first request; the SDK's
    # hook registry is the one way to have a SIGTERM sent to this worker stop it too.
    _sdk.install_shutdown_hook(loop, stop.set, signal.SIGTERM)

    def supervisor_gone() -> None:
        try:
            if channel.recv(1):
                return
        except BlockingIOError:
            return
        except OSError:
            pass
        loop.remove_reader(channel.fileno())
        stop.set()

    channel.setblocking(False)
    loop.add_reader(channel.fileno(), supervisor_gone)

    url = url_of(listener, tls=tls is not None)
    gate = DrainingApp(app, lambda: _tell(channel, f"ready {url}"))

    # Hypercorn's own graceful period only has to close connections that are idle by now.
    config = restate_config(graceful_timeout=CLOSE_TIMEOUT)
    if tls is not None:
        # With a certificate, hypercorn serves `bind` with TLS, offering h2 then http/1.1
        # over ALPN (Restate speaks HTTP/2 to an https deployment).
        config.certfile, config.keyfile = tls
    # Hypercorn takes ownership of (and closes) the descriptor it is given.
    config.bind = [f"fd://{listener.detach()}"]

    async def drained() -> None:
        await stop.wait()
        left = await gate.drain(grace)
        if left:
            print(
                f"rea serve: worker {os.getpid()}: {left} request(s) still in flight after "
                f"{grace:g} s: cut (Restate retries them)",
                file=sys.stderr,
                flush=True,
            )
            sys.stdout.flush()
            # Exiting closes the connections, which is all a cut needs; hypercorn's own
            # cancellation of in-flight requests would print a page of tracebacks.
            os._exit(0)

    await serve(gate, config, shutdown_trigger=drained, mode="asgi")


def main(argv: list[str] | None = None) -> int:
    """Run one worker: load the app, serve the inherited socket until told to stop.

    Args:
        argv: ``--fd N --channel-fd M [--graceful-timeout S] [--certfile C --keyfile K]
            module:attr``.

    Returns:
        0 after a graceful stop, `EXIT_APP_ERROR` when the app cannot be loaded.
    """
    parser = argparse.ArgumentParser(prog="python -m rea._hypercorn")
    parser.add_argument("--fd", type=int, required=True, help="inherited listening socket")
    parser.add_argument("--channel-fd", type=int, required=True, help="socket to the supervisor")
    parser.add_argument("--graceful-timeout", type=float, default=GRACEFUL_TIMEOUT)
    parser.add_argument("--certfile", help="TLS certificate chain (PEM); needs --keyfile")
    parser.add_argument("--keyfile", help="TLS private key (PEM) of --certfile")
    parser.add_argument("app", help="module:attr of the ASGI app")
    args = parser.parse_args(argv)
    # Ctrl-C reaches the whole process group; the supervisor turns it into one SIGTERM each.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    channel = socket.socket(fileno=args.channel_fd)
    listener = socket.socket(fileno=args.fd)
    # Neither descriptor may leak into processes the app starts: the channel's end of file is
    # how each side learns that the other one has gone.
    os.set_inheritable(channel.fileno(), False)
    os.set_inheritable(listener.fileno(), False)
    try:
        app = load_app(args.app)
    except AppStartError as exc:
        _tell(channel, f"error {exc}")
        return EXIT_APP_ERROR
    tls = (args.certfile, args.keyfile) if args.certfile else None
    asyncio.run(_serve(app, listener, channel, args.graceful_timeout, tls))
    return 0


if __name__ == "__main__":
    sys.exit(main())
