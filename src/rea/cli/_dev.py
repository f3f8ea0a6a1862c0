"""`rea dev module:attr`: local server + app with reload + registration, until Ctrl-C."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from rea._loader import load_app
from rea.admin import Deployment
from rea.cli._app_output import AppOutput
from rea.cli._output import EXIT_USAGE, console, err_console, fail
from rea.cli._register import services_table
from rea.cli._state import LocalServer
from rea.errors import AppStartError, ReaError
from rea.testing._harness import Harness
from rea.testing._server import ServerEndpoint


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
) -> None:
    """Serve APP on a local Restate server, register it, and reload it on change.

    The app's output (prints, logs, rea's warnings, failed attempts with their invocation ids
    and tracebacks) is shown live, each line prefixed with ``app │``.
    """
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
            console.print(f"Reusing the Restate server at {server.admin_url}")
            policy = "as the running server is configured"
        else:
            attempts = None if retries is None else retries + 1
            server = local.start(always_replay=always_replay, max_attempts=attempts)
            policy = _policy(retries)
        assert server is not None
        harness = Harness(
            app,
            server=server,
            app_output=output.writer,
            # Unbuffered: a print shows when it happens, not when a buffer fills.
            app_env={"PYTHONUNBUFFERED": "1"},
        )
        harness.start()
        console.print(f"Restate ingress  {harness.ingress_url}")
        console.print(f"Restate admin    {harness.admin_url}")
        console.print(f"Restate UI       {harness.admin_url}/ui/")
        console.print(f"App              {harness.app_url} (pid {harness.app_pid})")
        console.print(f"Retries          {policy}")
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
