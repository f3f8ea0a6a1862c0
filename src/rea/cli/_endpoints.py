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

from rea.admin import DEFAULT_ADMIN_URL, AdminClient, AdminError, AdminUnavailable
from rea.admin._core import check_url
from rea.cli._output import EXIT_FAILURE, EXIT_USAGE, fail
from rea.cli._state import LocalServer
from rea.ingress import IngressError, IngressRejected, IngressUnavailable, InvocationFailed

DEFAULT_INGRESS_URL = "http://127.0.0.1:8080"

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
        fail(f"{exc} ({_START})")
    status = exc.status or 0
    fail(str(exc), code=EXIT_USAGE if 400 <= status < 500 else EXIT_FAILURE)


def ingress_failure(exc: IngressError, url: str) -> NoReturn:
    """One line; exit 2 when the ingress refused the request or the handler its input, else 1."""
    if isinstance(exc, IngressUnavailable):
        fail(f"cannot reach the Restate ingress at {url}: {exc} ({_START})")
    status = exc.status or 0
    refused = isinstance(exc, IngressRejected) and 400 <= status < 500
    bad_input = isinstance(exc, InvocationFailed) and exc.code == 400
    fail(str(exc), code=EXIT_USAGE if refused or bad_input else EXIT_FAILURE)
