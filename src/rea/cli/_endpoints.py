"""How the CLI finds the Restate server, authenticates, and reports the server's errors.

Each URL (admin API, ingress) comes from the first of:

1. the ``--admin`` / ``--ingress`` option;
2. ``--data DIR``: the server `rea dev --data DIR` or `rea server start --data DIR` runs;
3. rea's variables ``REA_ADMIN_URL`` / ``REA_INGRESS_URL``;
4. Restate's CLI's variables ``RESTATE_ADMIN_URL`` / ``RESTATE_INGRESS_URL``, then
   ``RESTATE_HOST`` (with ``RESTATE_HOST_SCHEME``, default ``http``) on Restate's ports;
5. the server `rea dev` or `rea server start` runs for the current directory
   (``.rea/server.json``, used while that server is up);
6. Restate's defaults, ``http://127.0.0.1:9070`` and ``http://127.0.0.1:8080``.

``RESTATE_AUTH_TOKEN``, as for Restate's CLI, is sent as ``Authorization: Bearer`` to both.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Annotated, Literal, NoReturn

import httpx
import typer

from rea._http import check_url
from rea.admin import DEFAULT_ADMIN_URL, AdminClient
from rea.cli._output import EXIT_FAILURE, EXIT_USAGE, fail
from rea.cli._state import LocalServer
from rea.errors import RestateError, RestateUnavailable
from rea.ingress import InvocationFailed, SyncIngressClient
from rea.testing._server import RemoteServer

DEFAULT_INGRESS_URL = "http://127.0.0.1:8080"
#: Restate's CLI's variable for a bearer token, sent to the admin API and the ingress.
AUTH_TOKEN_ENV = "RESTATE_AUTH_TOKEN"

Which = Literal["admin", "ingress"]

_NAMES: dict[Which, str] = {"admin": "admin API", "ingress": "ingress"}
_DEFAULTS: dict[Which, str] = {"admin": DEFAULT_ADMIN_URL, "ingress": DEFAULT_INGRESS_URL}
#: The variables naming each URL, rea's before Restate's CLI's.
_URL_ENV: dict[Which, tuple[str, ...]] = {
    "admin": ("REA_ADMIN_URL", "RESTATE_ADMIN_URL"),
    "ingress": ("REA_INGRESS_URL", "RESTATE_INGRESS_URL"),
}
#: Restate's ports, which ``RESTATE_HOST`` is combined with (as Restate's CLI does).
_PORTS: dict[Which, int] = {"admin": 9070, "ingress": 8080}
_LOCAL = Path(".rea")
_START = "is the server running? `rea server start` or `rea dev` start one"


def _help(which: Which) -> str:
    env = ", ".join(f"${name}" for name in _URL_ENV[which])
    return (
        f"Restate {_NAMES[which]} URL (default: --data's server, {env}, $RESTATE_HOST, "
        f"the server `rea dev` runs here, else {_DEFAULTS[which]})."
    )


AdminOption = Annotated[
    str | None,
    typer.Option("--admin", metavar="URL", show_default=False, help=_help("admin")),
]
IngressOption = Annotated[
    str | None,
    typer.Option("--ingress", metavar="URL", show_default=False, help=_help("ingress")),
]
DataOption = Annotated[
    Path | None,
    typer.Option(
        "--data",
        metavar="DIR",
        show_default=False,
        help="Use the server that `rea dev --data DIR` or `rea server start --data DIR` runs.",
    ),
]


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


@functools.cache
def _running(root: Path) -> RemoteServer | None:
    """The server of `root`/server.json if it is up (read once: it asks the server's health)."""
    return LocalServer(root).read()


def _data_server(data: Path) -> RemoteServer:
    """The server `rea dev` / `rea server start` runs with its data in `data`; exits if none."""
    if not data.is_dir():
        fail(f"--data {data}: no such directory", code=EXIT_USAGE)
    server = _running(data.resolve())
    if server is None:
        fail(
            f"--data {data}: no Restate server runs for {data} (its server.json names none that "
            f"is up); start one with `rea server start --data {data}` or `rea dev APP --data "
            f"{data}`",
            code=EXIT_FAILURE,
        )
    return server


def _pick(server: RemoteServer, which: Which) -> str:
    return server.admin_url if which == "admin" else server.ingress_url


def _configured(which: Which) -> tuple[str, str] | None:
    """(source, URL) from the environment: the URL variables, then ``RESTATE_HOST``."""
    for name in _URL_ENV[which]:
        url = _env(name)
        if url is not None:
            return name, url
    host = _env("RESTATE_HOST")
    if host is not None:
        scheme = _env("RESTATE_HOST_SCHEME") or "http"
        return "RESTATE_HOST", f"{scheme}://{host}:{_PORTS[which]}"
    return None


def server_url(explicit: str | None, which: Which, data: Path | None = None) -> str:
    """The admin or ingress URL to use, in the order of this module's docstring.

    Args:
        explicit: The ``--admin`` / ``--ingress`` option's value.
        which: Which URL.
        data: The ``--data`` option's directory.

    Exits with status 2 when the URL is not an http(s) URL (the message names where it came
    from), and with status 1 when ``--data`` names a directory whose server is not running.
    """
    found: tuple[str, str] | None = None
    if explicit:
        found = f"--{which}", explicit
    elif data is not None:
        found = f"--data {data}", _pick(_data_server(data), which)
    else:
        found = _configured(which)
    if found is None:
        local = _running(_LOCAL.resolve())
        found = ("the server of .rea/", _pick(local, which)) if local else None
    source, url = found or ("default", _DEFAULTS[which])
    try:
        return check_url(url, what=_NAMES[which], example=_DEFAULTS[which])
    except ValueError as exc:
        fail(f"{source}: {exc}", code=EXIT_USAGE)


def auth_token() -> str | None:
    """``RESTATE_AUTH_TOKEN``, when it is set and not blank."""
    return _env(AUTH_TOKEN_ENV)


def admin_client(explicit: str | None, data: Path | None = None) -> AdminClient:
    """An `AdminClient` on the resolved admin URL, with the bearer token if there is one."""
    return AdminClient(server_url(explicit, "admin", data), auth_token=auth_token())


def ingress_client(
    explicit: str | None,
    data: Path | None = None,
    *,
    timeout: float | httpx.Timeout | None = 30.0,
) -> SyncIngressClient:
    """A `SyncIngressClient` on the resolved ingress URL, with the bearer token if there is one."""
    url = server_url(explicit, "ingress", data)
    return SyncIngressClient(url, auth_token=auth_token(), timeout=timeout)


def _refused(exc: RestateUnavailable) -> bool:
    """Whether no connection could be made at all (the server is down or elsewhere)."""
    return isinstance(exc.__cause__, httpx.ConnectError)


def server_failure(exc: RestateError) -> NoReturn:
    """Exit with one line: status 2 when the server refused our input (4xx), else 1.

    A handler's own 4xx is a refusal of our input only when it is 400 (rea's validation); any
    other status a handler chose (a 422 "refused", say) is its failure: 1. Only a refused
    connection suggests that the server is not running: a timeout or a reset does not say so.
    """
    if isinstance(exc, RestateUnavailable):
        fail(f"{exc} ({_START})" if _refused(exc) else str(exc))
    status = exc.status or 0
    refused = 400 <= status < 500 and (not isinstance(exc, InvocationFailed) or exc.code == 400)
    fail(str(exc), code=EXIT_USAGE if refused else EXIT_FAILURE)
