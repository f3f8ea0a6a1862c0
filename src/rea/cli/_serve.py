"""`rea serve APP`: serve a Restate app for production, with hypercorn in N worker processes.

The command binds the socket once, with hypercorn's own `Config.create_sockets`, and starts
each worker as ``python -m rea._hypercorn`` on it (settings: `rea._hypercorn.restate_config`).
The kernel hands each new connection to one worker. A worker reports ``ready`` or a load error
over a socket pair; end of file on it tells the supervisor that the worker exited, and tells
the worker (when the supervisor shuts its side) to drain and stop. A worker that dies after it
was ready is reported and replaced; one that cannot start stops everything. SIGTERM or SIGINT
drains every worker within ``--graceful-timeout``; a second one kills them.

Ready workers are stopped through the socket pair, never with SIGTERM: a SIGTERM in a worker
runs the SDK's shutdown hook, which ends finished attempts' streams before Restate has closed
its side; Restate's next frame on such a stream then makes hypercorn 0.18 tear down the whole
connection (KeyError in its HTTP/2 handler), cutting every other attempt on it. Workers run in
their own session, so a terminal's Ctrl-C or a process-group signal reaches the supervisor only.
"""

from __future__ import annotations

import contextlib
import selectors
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from rea._hypercorn import CLOSE_TIMEOUT, EXIT_APP_ERROR, GRACEFUL_TIMEOUT, restate_config
from rea.cli._output import EXIT_FAILURE, EXIT_USAGE, console, err_console, fail

#: Restate's conventional port for SDK services.
DEFAULT_BIND = "0.0.0.0:9080"
#: Seconds a worker gets past the graceful timeout before it is killed: a drained worker still
#: gives hypercorn up to `CLOSE_TIMEOUT` to close its connections, then exits.
KILL_MARGIN = CLOSE_TIMEOUT + 3.0
#: A dead worker's replacement starts at least this long after the dead one started, so that a
#: worker that keeps crashing cannot spin the supervisor.
RESTART_INTERVAL = 1.0


def _check_bind(bind: str) -> str:
    host, sep, port = bind.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        fail(f"--bind {bind!r} must look like HOST:PORT, e.g. {DEFAULT_BIND}", code=EXIT_USAGE)
    return bind


def _check_tls(certfile: Path | None, keyfile: Path | None) -> tuple[Path, Path] | None:
    if certfile is None and keyfile is None:
        return None
    if certfile is None or keyfile is None:
        fail("--certfile and --keyfile go together: give both to serve HTTPS", code=EXIT_USAGE)
    for option, path in (("--certfile", certfile), ("--keyfile", keyfile)):
        if not path.is_file():
            fail(f"{option} {str(path)!r}: no such file", code=EXIT_USAGE)
    # Workers start elsewhere in time, never elsewhere on disk: absolute paths.
    return certfile.resolve(), keyfile.resolve()


def _listen(bind: str) -> socket.socket:
    """Bind `bind` with hypercorn's socket code (listening starts in the first worker)."""
    config = restate_config()
    config.bind = [bind]
    try:
        sockets = config.create_sockets()
    except OSError as exc:
        fail(f"cannot listen on {bind}: {exc.strerror or exc}")
    listener: socket.socket = sockets.insecure_sockets[0]
    return listener


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


@dataclass
class _Worker:
    proc: subprocess.Popen[bytes]
    channel: socket.socket
    started: float
    ready: bool = False
    error: str | None = None
    pending: bytes = field(default=b"", repr=False)

    @property
    def pid(self) -> int:
        return self.proc.pid


class _Supervisor:
    """Starts, watches and stops the worker processes of one `rea serve`."""

    def __init__(
        self,
        app: str,
        listener: socket.socket,
        workers: int,
        grace: float,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        self._app = app
        self._tls = tls
        self._listener = listener
        self._count = workers
        self._grace = grace
        self._workers: list[_Worker] = []
        self._restarts: list[float] = []
        self._selector = selectors.DefaultSelector()
        self._signals = 0
        self._stopping = False
        self._fatal: tuple[str, int] | None = None
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)

    # -- signals ---------------------------------------------------------------------------
    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._signals += 1

    def _install_signals(self) -> None:
        # The wake-up descriptor makes select() return on a signal instead of resuming.
        signal.set_wakeup_fd(self._wake_w.fileno(), warn_on_full_buffer=False)
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)

    def _drain_wakeups(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while self._wake_r.recv(256):
                pass

    # -- workers ---------------------------------------------------------------------------
    def _start(self) -> None:
        ours, theirs = socket.socketpair()
        argv = [
            sys.executable,
            "-m",
            "rea._hypercorn",
            "--fd",
            str(self._listener.fileno()),
            "--channel-fd",
            str(theirs.fileno()),
            "--graceful-timeout",
            repr(self._grace),
        ]
        if self._tls is not None:
            argv += ["--certfile", str(self._tls[0]), "--keyfile", str(self._tls[1])]
        argv.append(self._app)
        try:
            proc = subprocess.Popen(
                argv, pass_fds=(self._listener.fileno(), theirs.fileno()), start_new_session=True
            )
        finally:
            theirs.close()
        ours.setblocking(False)
        worker = _Worker(proc=proc, channel=ours, started=time.monotonic())
        self._workers.append(worker)
        self._selector.register(ours, selectors.EVENT_READ, worker)

    def _read(self, worker: _Worker) -> None:
        try:
            data = worker.channel.recv(4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._reap(worker)
            return
        worker.pending += data
        while b"\n" in worker.pending:
            raw, worker.pending = worker.pending.split(b"\n", 1)
            kind, _, text = raw.decode(errors="replace").partition(" ")
            if kind == "ready" and not worker.ready:
                worker.ready = True
                console.print(f"rea serve: worker {worker.pid} ready on {text}", markup=False)
            elif kind == "error":
                worker.error = text

    def _reap(self, worker: _Worker) -> None:
        self._selector.unregister(worker.channel)
        worker.channel.close()
        self._workers.remove(worker)
        try:
            code = worker.proc.wait(timeout=KILL_MARGIN)
        except subprocess.TimeoutExpired:  # closed its channel but lingers: not a worker
            worker.proc.kill()
            code = worker.proc.wait()
        if self._stopping or self._signals:
            return  # it was told to stop (a group-wide SIGTERM may reach it first)
        if worker.error is not None:
            self._fatal = (worker.error, EXIT_USAGE if code == EXIT_APP_ERROR else EXIT_FAILURE)
        elif not worker.ready:
            message = f"worker {worker.pid} exited ({_describe_exit(code)}) before it was ready"
            self._fatal = (message, EXIT_FAILURE)
        else:
            err_console.print(
                f"rea serve: worker {worker.pid} died ({_describe_exit(code)}); starting another",
                markup=False,
            )
            self._restarts.append(max(time.monotonic(), worker.started + RESTART_INTERVAL))

    def _restart_due(self) -> float | None:
        """Start the replacements that are due; seconds until the next one, if any."""
        now = time.monotonic()
        for due in sorted(self._restarts):
            if due <= now:
                self._restarts.remove(due)
                self._start()
        return min(self._restarts) - now if self._restarts else None

    def _wait(self, timeout: float | None) -> None:
        for key, _ in self._selector.select(timeout):
            if key.data is None:
                self._drain_wakeups()
            else:
                self._read(key.data)

    # -- the whole run ---------------------------------------------------------------------
    def run(self) -> int:
        """Serve until a signal or a fatal worker failure; the exit status."""
        self._install_signals()
        try:
            for _ in range(self._count):
                self._start()
            while not self._signals and self._fatal is None:
                self._wait(self._restart_due())
            self._stop()
        finally:
            signal.set_wakeup_fd(-1)
            self._selector.close()
            self._wake_r.close()
            self._wake_w.close()
        if self._fatal is not None:
            message, code = self._fatal
            fail(message, code=code)
        console.print("rea serve: stopped", markup=False)
        return 0

    def _stop(self) -> None:
        # Closing this copy of the listening socket leaves the workers' copies as the last:
        # once they close theirs, new connections are refused and Restate retries them later.
        self._stopping = True
        self._listener.close()
        if not self._workers:
            return
        if self._fatal is None:
            console.print(
                f"rea serve: stopping {len(self._workers)} worker(s), in-flight requests get "
                f"up to {self._grace:g} s",
                markup=False,
            )
        for worker in self._workers:
            # End of file on the channel is the worker's cue to stop accepting and drain.
            with contextlib.suppress(OSError):
                worker.channel.shutdown(socket.SHUT_WR)
            if not worker.ready:  # still importing the app: nothing in flight to wait for
                with contextlib.suppress(ProcessLookupError):
                    worker.proc.send_signal(signal.SIGTERM)
        signals = self._signals
        deadline = time.monotonic() + self._grace + KILL_MARGIN
        while self._workers and self._signals <= signals:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self._wait(left)
        why = "on a second signal" if self._signals > signals else "after the graceful timeout"
        for worker in list(self._workers):
            err_console.print(f"rea serve: worker {worker.pid} killed {why}", markup=False)
            worker.proc.kill()
            self._reap(worker)


def serve(
    app: Annotated[str, typer.Argument(help="The app to serve, as 'package.module:app'.")],
    bind: Annotated[
        str,
        typer.Option(
            help="HOST:PORT to listen on: HTTP/2 and HTTP/1.1, cleartext or (with --certfile) TLS."
        ),
    ] = DEFAULT_BIND,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes sharing the listening socket.")
    ] = 1,
    graceful_timeout: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="Seconds in-flight requests get after SIGTERM/SIGINT; then they are cut "
            "and Restate retries them.",
        ),
    ] = GRACEFUL_TIMEOUT,
    certfile: Annotated[
        Path | None,
        typer.Option(
            help="Serve HTTPS with this certificate chain (PEM); needs --keyfile.",
            show_default=False,
        ),
    ] = None,
    keyfile: Annotated[
        Path | None,
        typer.Option(help="The private key (PEM) of --certfile.", show_default=False),
    ] = None,
) -> None:
    """Serve APP for Restate in production: hypercorn with settings that fit Restate."""
    tls = _check_tls(certfile, keyfile)
    listener = _listen(_check_bind(bind))
    code = _Supervisor(app, listener, workers, graceful_timeout, tls).run()
    raise typer.Exit(code)
