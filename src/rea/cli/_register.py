"""`rea register URL`: register an app's deployment and list its services and handlers.

Like Restate's CLI, it does not overwrite a deployment already registered at URL unless told
to (``--force``). Restate's admin API (1.7) answers a registration without ``force`` of a URL it
knows with 200 and the existing deployment, changing nothing (whether or not the app changed);
a new deployment is answered with 201. That status is how a refusal is told from a success.
"""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import typer
from rich.table import Table

from rea._http import Request, check_url
from rea.admin import AdminClient, AdminError, Deployment, ServiceInfo
from rea.admin import _core as admin_api
from rea.cli._endpoints import AdminOption, DataOption, admin_client, server_failure
from rea.cli._output import EXIT_USAGE, Column, console, fail, print_json, table

_COLUMNS = (Column("service", identifier=True), Column("type", 13), Column("handlers", 30))


def _handlers(service: ServiceInfo) -> str:
    return ", ".join(f"{h.name} ({h.type.lower()})" if h.type else h.name for h in service.handlers)


def services_table(services: tuple[ServiceInfo, ...] | list[ServiceInfo]) -> Table:
    """Services with their kinds and handlers (a handler's kind in brackets, when it has one)."""
    ordered = sorted(services, key=lambda s: s.name)
    return table(_COLUMNS, [[s.name, s.type, _handlers(s)] for s in ordered])


def _as_json(uri: str, deployment: Deployment) -> dict[str, Any]:
    return {
        "uri": uri,
        "deployment_id": deployment.id,
        "services": [
            {
                "name": service.name,
                "type": service.type,
                "handlers": [{"name": h.name, "type": h.type} for h in service.handlers],
            }
            for service in deployment.services
        ],
    }


def _register(
    client: AdminClient, uri: str, *, force: bool, http11: bool
) -> tuple[Deployment, bool]:
    """Register `uri`: the deployment, and whether the server created it (201) or had it (200).

    `AdminClient.register` returns the deployment only; the status is read with the same
    request through the client's own sending loop.
    """

    def parse(response: httpx.Response) -> tuple[Deployment, bool]:
        return Deployment.from_json(response.json()), response.status_code == 201

    r = admin_api.register(uri, force=force, use_http_11=http11)
    request = Request(
        r.method, r.path, r.operation, parse, headers=r.headers, body=r.body, safe_to_retry=False
    )
    answer: tuple[Deployment, bool] = client._perform(request)
    return answer


def register(
    url: Annotated[str, typer.Argument(help="The app's URL, as the Restate server reaches it.")],
    force: Annotated[
        bool,
        typer.Option(
            help="Overwrite a deployment already registered at this URL (refused without)."
        ),
    ] = False,
    http11: Annotated[
        bool,
        typer.Option("--http11", help="Talk HTTP/1.1 to the app (request-response mode)."),
    ] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the deployment as one JSON object instead.")
    ] = False,
    admin: AdminOption = None,
    data: DataOption = None,
) -> None:
    """Register the app at URL with the Restate server and list its services and handlers."""
    try:
        uri = check_url(url, what="app", example="http://127.0.0.1:9080")
    except ValueError as exc:
        fail(str(exc), code=EXIT_USAGE)
    with admin_client(admin, data) as client:
        try:
            deployment, created = _register(client, uri, force=force, http11=http11)
        except AdminError as exc:
            server_failure(exc)
    if not (created or force):
        fail(
            f"{uri} is already registered as deployment {deployment.id}; nothing was changed "
            "(--force overwrites it: invocations in flight on the old code may then fail)",
            code=EXIT_USAGE,
        )
    if json_output:
        print_json(_as_json(uri, deployment))
        return
    console.print(f"Registered {uri} as deployment {deployment.id}", markup=False)
    console.print(services_table(deployment.services))
