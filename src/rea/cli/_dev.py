"""`rea dev module:attr`: local server + app with reload + registration, until Ctrl-C."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from rea._loader import load_app
from rea.admin import Deployment
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
) -> None:
    """Serve APP on a local Restate server, register it, and reload it on change."""
    try:
        load_app(app)
    except AppStartError as exc:
        fail(str(exc), code=EXIT_USAGE)

    local = LocalServer(data)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    harness: Harness | None = None
    try:
        server: ServerEndpoint | None = local.read()
        if server is not None:
            console.print(f"Reusing the Restate server at {server.admin_url}")
        else:
            server = local.start(always_replay=always_replay)
        assert server is not None
        # The app's output (its logs, rea's warnings, rejected inputs) goes to this terminal.
        harness = Harness(app, server=server, app_output=sys.stderr)
        harness.start()
        console.print(f"Restate ingress  {harness.ingress_url}")
        console.print(f"Restate admin    {harness.admin_url}")
        console.print(f"App              {harness.app_url} (pid {harness.app_pid})")
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
                continue
            console.print(services_table(Deployment.from_json(harness.deployment).services))
            console.print("Ready.")
    except ReaError as exc:
        fail(str(exc))
    finally:
        if harness is not None:
            harness.close()
        local.stop()
        console.print("Stopped.")
