"""`rea dev module:attr`: local server + app with reload + registration, until Ctrl-C."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import typer

from rea._loader import load_app
from rea.admin import Deployment
from rea.cli._app_output import AppOutput
from rea.cli._output import EXIT_USAGE, console, err_console, fail
from rea.cli._register import services_table
from rea.cli._state import LocalServer
from rea.errors import AppStartError, ReaError, UsageValueError
from rea.security._keys import generate_key_pair, public_key_from_pem, write_private_key
from rea.testing._harness import Harness, security_env
from rea.testing._server import RemoteServer, ServerEndpoint

#: The dev key pair's private key, under the data directory.
DEV_KEY = Path("keys") / "dev.pem"


class _DevKey(NamedTuple):
    path: Path  # the private key, which the server signs with
    public_key: str  # what the app accepts


def _watch(paths: list[Path], stop: threading.Event) -> Any:
    from watchfiles import PythonFilter, watch

    return watch(
        *paths, watch_filter=PythonFilter(), stop_event=stop, debounce=300, rust_timeout=500
    )


def dev(
    app: Annotated[str, typer.Argument(help="The app to serve, as 'package.module:app'.")],
    data: Annotated[Path, typer.Option(help="Directory for the local server's data.")] = Path(
        ".rea"
    ),
    reload: Annotated[bool, typer.Option(help="Restart and re-register on source changes.")] = True,
    always_replay: Annotated[
        bool, typer.Option(help="Suspend and replay at every await (catches non-determinism).")
    ] = False,
    retries: Annotated[
        int | None,
        typer.Option(
            min=0,
            show_default=False,
            help="Retry a failing invocation N times (from 50 ms), then kill it: fast failure "
            "while developing. Default: Restate's own policy (500 ms doubling to 1 m, 70 "
            "attempts, then pause), as in production.",
        ),
    ] = None,
    secure: Annotated[
        bool,
        typer.Option(
            help="Security on: the server signs every request with a dev key (made once, "
            "kept in DATA/keys/dev.pem) and the app runs with REA_SECURITY_MODE=strict and "
            "that key in REA_IDENTITY_KEYS.",
        ),
    ] = False,
    tracing_endpoint: Annotated[
        str | None,
        typer.Option(
            help="Send the local server's traces (OTLP over gRPC) here, e.g. "
            "http://localhost:4317: the collector your app's tracer_provider exports to, so one "
            "trace holds both.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve APP on a local Restate server, register it, and reload it on change.

    The app's output (prints, logs, rea's warnings, failed attempts with their invocation ids
    and tracebacks) is shown live, each line prefixed with ``app │``.
    """
    key = _dev_key(data) if secure else None
    if key is not None:
        # The app is imported here to check it, and in its process later: same environment.
        os.environ.update(security_env(key.public_key))
    try:
        load_app(app)
    except AppStartError as exc:
        fail(str(exc), code=EXIT_USAGE)

    local = LocalServer(data)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    harness: Harness | None = None
    output = AppOutput(err_console)
    try:
        server: ServerEndpoint | None = local.read()
        if server is not None:
            if key is not None:
                server = _signing_remote(local, server, key.public_key)
            console.print(f"Reusing the Restate server at {server.admin_url}")
            policy = "as the running server is configured"
        else:
            attempts = None if retries is None else retries + 1
            server = local.start(
                always_replay=always_replay,
                max_attempts=attempts,
                signing_key=None if key is None else key.path,
                tracing_endpoint=tracing_endpoint,
            )
            policy = _policy(retries)
        assert server is not None
        harness = Harness(
            app,
            server=server,
            app_output=output.writer,
            # Unbuffered: a print shows when it happens, not when a buffer fills.
            app_env={"PYTHONUNBUFFERED": "1"},
            signing=key is not None,
        )
        harness.start()
        console.print(f"Restate ingress  {harness.ingress_url}")
        console.print(f"Restate admin    {harness.admin_url}")
        console.print(f"Restate UI       {harness.admin_url}/ui/")
        console.print(f"App              {harness.app_url} (pid {harness.app_pid})")
        console.print(f"Retries          {policy}")
        if key is not None:
            console.print(
                f"Security         on (strict): the server signs with {key.path}, the app "
                f"accepts only {key.public_key}",
                markup=False,
            )
        console.print(services_table(Deployment.from_json(harness.deployment).services))
        console.print("Ready. Ctrl-C stops everything.")
        if not reload:
            stop.wait()
            return
        for _changes in _watch([Path.cwd()], stop):
            console.print("Change detected: restarting the app")
            try:
                harness.restart()
                harness.register(force=True)
            except ReaError as exc:
                err_console.print(f"rea: error: {exc}", markup=False)
                # `rea invoke` quotes it while calls to the app go unanswered.
                local.record_app_error(f"{exc}\n{output.recent()}")
                continue
            local.record_app_error(None)
            console.print(services_table(Deployment.from_json(harness.deployment).services))
            console.print("Ready.")
    except ReaError as exc:
        fail(str(exc))
    finally:
        if harness is not None:
            harness.close()
        output.close()
        local.record_app_error(None)
        local.stop()
        console.print("Stopped.")


def _policy(retries: int | None) -> str:
    if retries is None:
        return "Restate's default policy: 500 ms doubling to 1 m, 70 attempts, then pause"
    return f"{retries} retries from 50 ms, then kill (--retries)"


def _dev_key(data: Path) -> _DevKey:
    """The dev key pair of `data`, made if missing (exit 2 if its file is not a key)."""
    path = (data / DEV_KEY).absolute()
    try:
        if path.exists():
            return _DevKey(path, public_key_from_pem(path.read_bytes()))
        LocalServer(data).ensure_root()
        pair = generate_key_pair()
        return _DevKey(write_private_key(path, pair.private_pem), pair.public_key)
    except UsageValueError as exc:
        fail(f"{path}: {exc} (delete it, and rea dev --secure makes a new one)", code=EXIT_USAGE)
    except OSError as exc:
        fail(f"{path}: {exc.strerror or exc}")


def _signing_remote(local: LocalServer, server: ServerEndpoint, public_key: str) -> RemoteServer:
    """The running server of `local`, if it signs with the dev key (else exit 2)."""
    if getattr(server, "identity_key", None) != public_key:
        fail(
            f"the Restate server running for {local.root} does not sign requests with the dev "
            "key (it was started without --secure): stop it, or run rea dev without --secure",
            code=EXIT_USAGE,
        )
    return RemoteServer(server.ingress_url, server.admin_url, identity_key=public_key)
