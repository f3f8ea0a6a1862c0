"""`rea register URL`: register an app's deployment and list its services and handlers."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from rea._http import check_url
from rea.admin import AdminError, ServiceInfo
from rea.cli._endpoints import AdminOption, admin_client, server_failure
from rea.cli._output import EXIT_USAGE, console, fail


def services_table(services: tuple[ServiceInfo, ...] | list[ServiceInfo]) -> Table:
    """Services with their kinds and handlers (a handler's kind in brackets, when it has one)."""
    table = Table("service", "type", "handlers", box=None, pad_edge=False)
    for service in sorted(services, key=lambda s: s.name):
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
        uri = check_url(url, what="app", example="http://127.0.0.1:9080")
    except ValueError as exc:
        fail(str(exc), code=EXIT_USAGE)
    with admin_client(admin) as client:
        try:
            deployment = client.register(uri, force=force, use_http_11=http11)
        except AdminError as exc:
            server_failure(exc)
    console.print(f"Registered {uri} as deployment {deployment.id}", markup=False)
    console.print(services_table(deployment.services))
