"""`rea server install | path | start`."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from rea._engine import RESTATE_SERVER_VERSION, find_server, install_server
from rea.cli._output import EXIT_USAGE, console, err_console, fail
from rea.cli._state import LocalServer
from rea.errors import ReaError

app = typer.Typer(help="Install and run the Restate server.", no_args_is_help=True)


@app.command("install")
def install(
    force: Annotated[bool, typer.Option(help="Reinstall even if already cached.")] = False,
) -> None:
    """Install restate-server (pinned version) from npm into the per-user cache."""
    try:
        path = install_server(
            force=force, progress=lambda msg: err_console.print(msg, markup=False, soft_wrap=True)
        )
    except ReaError as exc:
        fail(str(exc))
    console.print(str(path), markup=False)


@app.command("path")
def path() -> None:
    """Print the restate-server binary rea would use."""
    try:
        found = find_server()
    except ReaError as exc:
        fail(str(exc), code=EXIT_USAGE)
    if found is None:
        fail(f"restate-server {RESTATE_SERVER_VERSION} is not installed; run `rea server install`")
    console.print(str(found), markup=False)


@app.command("start")
def start(
    data: Annotated[Path, typer.Option(help="Data directory.")] = Path(".rea"),
    always_replay: Annotated[bool, typer.Option(help="Suspend and replay at every await.")] = False,
) -> None:
    """Run a local Restate server in the foreground (data under .rea/); Ctrl-C stops it."""
    local = LocalServer(data)
    try:
        server = local.start(always_replay=always_replay)
    except ReaError as exc:
        fail(str(exc))
    if server is None:
        fail(f"a Restate server already runs for {data}; `rea dev` and others can use it")
    console.print(f"Restate ingress  {server.ingress_url}\nRestate admin    {server.admin_url}")
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    try:
        stopped.wait()
    finally:
        local.stop()
