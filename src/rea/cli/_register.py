"""`rea register URL`, and how the CLI finds the Restate server and reports its errors.

The server's URLs come from, in this order: the ``--admin`` / ``--ingress`` option, the
``REA_ADMIN_URL`` / ``REA_INGRESS_URL`` variable, the server `rea dev` or `rea server start`
runs for the current directory (``.rea/server.json``), and Restate's defaults
(``http://127.0.0.1:9070`` and ``http://127.0.0.1:8080``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, NoReturn

import typer
from rich.table import Table

from rea.admin import DEFAULT_ADMIN_URL, AdminClient, AdminError, AdminUnavailable, ServiceInfo
from rea.admin._core import check_url
from rea.cli._output import EXIT_FAILURE, EXIT_USAGE, console, fail
from rea.cli._state import LocalServer

DEFAULT_INGRESS_URL = "http://127.0.0.1:8080"

AdminOption = Annotated[
    str | None,
    typer.Option(
        "--admin",
        envvar="REA_ADMIN_URL",
        metavar="URL",
        show_default=False,
        help="Restate admin API URL (default: the server `rea dev` or `rea server start` runs "
        f"for this directory, else {DEFAULT_ADMIN_URL}).",
    ),
]


def server_url(explicit: str | None, which: Literal["admin", "ingress"]) -> str:
    """The admin or ingress URL to use: `explicit` (option or env), `.rea/`'s server, default.

    Exits with status 2 when the URL is not an http(s) URL.
    """
    url = explicit
    if not url:
        local = LocalServer(Path(".rea")).read()
        if local is not None:
            url = local.admin_url if which == "admin" else local.ingress_url
    if not url:
        url = DEFAULT_ADMIN_URL if which == "admin" else DEFAULT_INGRESS_URL
    try:
        return check_url(url)
    except ValueError as exc:
        fail(f"--{which}: {exc}", code=EXIT_USAGE)


def admin_client(explicit: str | None) -> AdminClient:
    """An `AdminClient` on the resolved admin URL."""
    return AdminClient(server_url(explicit, "admin"))


def admin_failure(exc: AdminError) -> NoReturn:
    """Exit with one line: status 2 when the server refused our input (4xx), else 1."""
    if isinstance(exc, AdminUnavailable):
        fail(f"{exc} (is the server running? `rea server start` or `rea dev` start one)")
    status = exc.status or 0
    fail(str(exc), code=EXIT_USAGE if 400 <= status < 500 else EXIT_FAILURE)


def services_table(services: tuple[ServiceInfo, ...] | list[ServiceInfo]) -> Table:
    """Services with their kinds and handlers (a handler's kind in brackets, when it has one)."""
    table = Table("service", "type", "handlers", box=None, pad_edge=False)
    for service in services:
        names = [f"{h.name} ({h.type.lower()})" if h.type else h.name for h in service.handlers]
        table.add_row(service.name, service.type, ", ".join(names))
    return table


def register(
    url: Annotated[str, typer.Argument(help="The app's URL, as the Restate server reaches it.")],
    admin: AdminOption = None,
    force: Annotated[
        bool, typer.Option(help="Replace a deployment already registered at this URL.")
    ] = True,
    http11: Annotated[
        bool,
        typer.Option("--http11", help="Talk HTTP/1.1 to the app (request-response mode)."),
    ] = False,
) -> None:
    """Register the app at URL with the Restate server and list its services and handlers."""
    try:
        uri = check_url(url)
    except ValueError as exc:
        fail(str(exc), code=EXIT_USAGE)
    with admin_client(admin) as client:
        try:
            deployment = client.register(uri, force=force, use_http_11=http11)
        except AdminError as exc:
            admin_failure(exc)
    console.print(f"Registered {uri} as deployment {deployment.id}", markup=False)
    console.print(services_table(deployment.services))
