"""Serving an ASGI app with hypercorn, in this process (a thread) or as a child process.

Hypercorn runs over HTTP/2 cleartext (restate-server speaks h2 prior knowledge) on a socket that
the caller bound beforehand, so the port is known up front, cannot be stolen, and survives a
restart of the app process.

Run as ``python -m rea.testing._serve --fd N module:attr`` for the child-process form.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
from typing import Any

from hypercorn.asyncio import serve
from hypercorn.config import Config

from rea import _sdk
from rea._loader import ASGIApp, load_app
from rea.observability._logging import filter_root_handlers
from rea.observability._logging import install as install_log_context

# Hypercorn closes an HTTP/2 connection after 1000 requests (its default); restate-server's
# in-flight stream then stalls for 20-40 s until the invoker retries. Never close for that.
KEEP_ALIVE_MAX_REQUESTS = 1_000_000_000
KEEP_ALIVE_TIMEOUT = 600.0


def hypercorn_config(fd: int) -> Config:
    """The hypercorn configuration rea serves Restate apps with."""
    config = Config()
    config.bind = [f"fd://{fd}"]
    config.keep_alive_max_requests = KEEP_ALIVE_MAX_REQUESTS
    config.keep_alive_timeout = KEEP_ALIVE_TIMEOUT
    config.graceful_timeout = 1.0
    config.accesslog = None
    config.errorlog = "-"
    config.loglevel = "WARNING"
    return config


def with_lifespan(app: ASGIApp) -> ASGIApp:
    """`app`, answering ASGI lifespan events itself when it does not (the Restate app does not)."""

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    return wrapped


async def _serve(app: ASGIApp, fd: int, stop: asyncio.Event) -> None:
    config = hypercorn_config(fd)
    await serve(with_lifespan(app), config, shutdown_trigger=stop.wait, mode="asgi")


class ThreadServer:
    """Hypercorn serving `app` on a background thread with its own event loop."""

    def __init__(self, app: ASGIApp, fd: int) -> None:
        # Hypercorn takes ownership of (and closes) the fd it is given: hand it a duplicate.
        self._fd = os.dup(fd)
        self._app = app
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rea-app-server", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._started.wait(10)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._stop = asyncio.Event()
        self._started.set()
        try:
            loop.run_until_complete(_serve(self._app, self._fd, self._stop))
        finally:
            loop.close()

    def stop(self, timeout: float = 5.0) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)


def _watch_parent(stop: asyncio.Event, loop: asyncio.AbstractEventLoop) -> None:
    # Polled rather than relying only on the parent-death signal, which non-Linux lacks.
    parent = os.getppid()
    while not stop.is_set():
        if os.getppid() != parent:
            loop.call_soon_threadsafe(stop.set)
            return
        threading.Event().wait(0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rea.testing._serve")
    parser.add_argument("--fd", type=int, required=True, help="inherited listening socket")
    parser.add_argument("app", help="module:attr of the ASGI app")
    args = parser.parse_args(argv)
    if not logging.getLogger().handlers:
        # Without a handler Python prints only warnings, without their logger: the app's own
        # info logs and the name of what warned would be lost (rea dev and the harness's log).
        # Each line made in a handler ends with its invocation id and target; lines made while
        # the journal replays are left out (they were written the first time).
        install_log_context()
        logging.basicConfig(
            level=logging.INFO, format="%(levelname)s %(name)s: %(message)s%(rea_context)s"
        )
        filter_root_handlers()
    app = load_app(args.app)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, stop.set)
        _sdk.install_shutdown_hook(loop, stop.set, signal.SIGTERM)
        threading.Thread(target=_watch_parent, args=(stop, loop), daemon=True).start()
        await _serve(app, args.fd, stop)

    asyncio.run(run())
    return 0


def _entry() -> Any:
    try:
        return main()
    except Exception as exc:  # one line for the parent's error message
        print(f"rea: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(_entry())
