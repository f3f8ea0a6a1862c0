"""`rea invoke Service/handler [KEY] [JSON]`: call a handler through the ingress.

How the arguments are read (the CLI cannot tell a service from a virtual object by its name):

- ``Service/handler`` and ``Service/handler JSON``: a service call, JSON being the input;
- ``Object/handler KEY JSON``: a keyed call (``POST /Object/KEY/handler``), for virtual objects
  and workflows;
- ``Object/KEY/handler [JSON]``: the ingress's own path form, also a keyed call; the way to call
  a keyed handler that takes no input.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from rea.admin import AdminClient
from rea.cli._diagnosis import Call, Watcher, wait_for
from rea.cli._endpoints import (
    AdminOption,
    DataOption,
    IngressOption,
    auth_token,
    ingress_client,
    server_failure,
    server_url,
)
from rea.cli._output import EXIT_USAGE, console, fail, print_json
from rea.cli._state import LocalServer
from rea.errors import PolicyViolation
from rea.ingress import IngressError, SendResult
from rea.ingress._protocol import NO_INPUT

_TARGET_FORMS = "Service/handler or Object/key/handler"
#: Seconds `rea invoke` waits for a result by default; a failing invocation is reported sooner.
DEFAULT_TIMEOUT = 10.0
#: Seconds each admin API lookup may take while the call waits.
_LOOKUP_TIMEOUT = 2.0
#: The call's own HTTP timeouts: connecting is bounded, the wait for the answer is ours.
_CALL_TIMEOUT = httpx.Timeout(None, connect=5.0)


def _target(target: str, args: list[str]) -> tuple[str, str | None, str, str | None]:
    """(service, key or None, handler, JSON text or None) from the command's arguments."""
    parts = target.split("/")
    if len(parts) < 2 or not all(parts):
        fail(f"target {target!r} must look like {_TARGET_FORMS}", code=EXIT_USAGE)
    service, handler = parts[0], parts[-1]
    key = "/".join(parts[1:-1]) or None
    if key is not None and len(args) > 1:
        fail(f"{target!r} names the key already; give only the JSON input", code=EXIT_USAGE)
    if key is None and len(args) == 2:
        key = args.pop(0)
    if len(args) > 1:
        fail("too many arguments: give at most a KEY and a JSON input", code=EXIT_USAGE)
    return service, key, handler, args[0] if args else None


def _input(text: str | None, *, keyed_path: str | None = None) -> Any:
    """The JSON input; `keyed_path` is the path form to suggest if `text` was meant as a key."""
    if text is None:
        return NO_INPUT
    try:
        return json.loads(text)
    except ValueError as exc:
        hint = f"; if {text!r} is an object key or workflow id: rea invoke {keyed_path}"
        fail(
            f"the input {text!r} is not valid JSON ({exc}); quote strings: '\"text\"'"
            + (hint if keyed_path else ""),
            code=EXIT_USAGE,
        )


def _print_sent(sent: SendResult) -> None:
    line = f"{sent.invocation_id} {sent.status}"
    if sent.execution_time is not None:
        line += f" (runs at {sent.execution_time.isoformat()})"
    console.print(line, markup=False)


def _watcher(admin: str | None, data: Path | None, call: Call) -> Watcher:
    url = server_url(admin, "admin", data)
    client = AdminClient(url, auth_token=auth_token(), timeout=_LOOKUP_TIMEOUT, retries=0)
    # The dev server's directory: why `rea dev` could not start the app, when it could not.
    local = LocalServer(data if data is not None else Path(".rea"))
    return Watcher(client, call, app_error=local.app_error)


def _timeout(seconds: float) -> float | None:
    if seconds < 0:
        fail(f"--timeout must be 0 (no limit) or more, not {seconds:g}", code=EXIT_USAGE)
    return seconds or None


def invoke(
    target: Annotated[str, typer.Argument(help=f"The handler: {_TARGET_FORMS}.")],
    args: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[KEY] [JSON]",
            help="The object key (keyed calls), then the input as JSON ('\"Ada\"', 42, "
            "'{\"id\": 1}'). One argument alone is the input.",
            show_default=False,
        ),
    ] = None,
    send: Annotated[
        bool, typer.Option("--send", help="Do not wait: print the invocation id and status.")
    ] = False,
    delay: Annotated[
        str | None,
        typer.Option(
            help="With --send: start it later ('10s', '1m 30s', '500ms', 'PT1M').",
            show_default=False,
        ),
    ] = None,
    idempotency_key: Annotated[
        str | None,
        typer.Option(
            help="Deduplicate: the same key gives the same invocation.", show_default=False
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(
            metavar="SECONDS",
            help="Wait this long for the result, then say where the invocation stands (0: no "
            "limit). A failing invocation is reported as soon as the admin API shows it.",
        ),
    ] = DEFAULT_TIMEOUT,
    ingress: IngressOption = None,
    admin: AdminOption = None,
    data: DataOption = None,
) -> None:
    """Call a handler through the Restate ingress and print its JSON result."""
    service, key, handler, text = _target(target, list(args or []))
    value = _input(text, keyed_path=None if key or text is None else f"{service}/{text}/{handler}")
    if idempotency_key is not None and not idempotency_key.strip():
        fail("--idempotency-key must not be empty", code=EXIT_USAGE)
    if delay is not None and not send:
        fail("--delay needs --send (a call waits for its result)", code=EXIT_USAGE)
    limit = _timeout(timeout)
    with ingress_client(ingress, data, timeout=30.0 if send else _CALL_TIMEOUT) as client:
        if key is None:
            facade: Any = client.service(service, handler)
            call_args: tuple[Any, ...] = (value,)
        else:
            facade = client.object(service, handler)
            call_args = (key, value)
        try:
            if send:
                _print_sent(facade.send(*call_args, delay=delay, idempotency_key=idempotency_key))
                return
            watcher = _watcher(admin, data, Call(service, key, handler, idempotency_key))
            result = wait_for(
                lambda: facade.call(*call_args, idempotency_key=idempotency_key),
                watcher,
                limit,
                client.url,
            )
        except IngressError as exc:
            server_failure(exc)
        except (ValueError, TypeError, PolicyViolation) as exc:
            fail(str(exc), code=EXIT_USAGE)
    print_json(result)
