"""How the CLI finds the Restate server, and how it reports the server's errors.

The server's URLs come from, in this order: the ``--admin`` / ``--ingress`` option, the
``REA_ADMIN_URL`` / ``REA_INGRESS_URL`` variable, the server `rea dev` or `rea server start`
runs for the current directory (``.rea/server.json``), and Restate's defaults
(``http://127.0.0.1:9070`` and ``http://127.0.0.1:8080``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, NoReturn

import typer

from rea._http import check_url
from rea.admin import DEFAULT_ADMIN_URL, AdminClient
from rea.cli._output import EXIT_FAILURE, EXIT_USAGE, fail
from rea.cli._state import LocalServer
from rea.errors import RestateError, RestateUnavailable
from rea.ingress import InvocationFailed

DEFAULT_INGRESS_URL = "http://127.0.0.1:8080"

_NAMES = {"admin": "admin API", "ingress": "ingress"}
_FOUND = "the server `rea dev` or `rea server start` runs for this directory"
_START = "is the server running? `rea server start` or `rea dev` start one"

AdminOption = Annotated[
    str | None,
    typer.Option("--admin", envvar="REA_ADMIN_URL", metavar="URL", show_default=False,
                 help=f"Restate admin API URL (default: {_FOUND}, else {DEFAULT_ADMIN_URL})."),
]  # fmt: skip

IngressOption = Annotated[
    str | None,
    typer.Option("--ingress", envvar="REA_INGRESS_URL", metavar="URL", show_default=False,
                 help=f"Restate ingress URL (default: {_FOUND}, else {DEFAULT_INGRESS_URL})."),
]  # fmt: skip


def server_url(explicit: str | None, which: Literal["admin", "ingress"]) -> str:
    """The admin or ingress URL to use: `explicit` (option or env), `.rea/`'s server, default.

    Exits with status 2 when the URL is not an http(s) URL.
    """
    url = explicit
    if not url:
        local = LocalServer(Path(".rea")).read()
        if local is not None:
            url = local.admin_url if which == "admin" else local.ingress_url
    default = DEFAULT_ADMIN_URL if which == "admin" else DEFAULT_INGRESS_URL
    try:
        return check_url(url or default, what=_NAMES[which], example=default)
    except ValueError as exc:
        fail(f"--{which}: {exc}", code=EXIT_USAGE)


def admin_client(explicit: str | None) -> AdminClient:
    """An `AdminClient` on the resolved admin URL."""
    return AdminClient(server_url(explicit, "admin"))


def server_failure(exc: RestateError) -> NoReturn:
    """Exit with one line: status 2 when the server refused our input (4xx), else 1.

    A handler's own 4xx is a refusal of our input only when it is 400 (rea's validation); any
    other status a handler chose (a 422 "refused", say) is its failure: 1.
    """
    if isinstance(exc, RestateUnavailable):
        fail(f"{exc} ({_START})")
    status = exc.status or 0
    refused = 400 <= status < 500 and (not isinstance(exc, InvocationFailed) or exc.code == 400)
    fail(str(exc), code=EXIT_USAGE if refused else EXIT_FAILURE)
