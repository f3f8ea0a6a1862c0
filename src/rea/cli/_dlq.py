"""`rea dlq list | show | retry | discard`: saga dead letters in `SagaDeadLetters`."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.table import Table

from rea.admin import AdminError
from rea.cli._endpoints import (
    AdminOption,
    IngressOption,
    admin_client,
    server_failure,
    server_url,
)
from rea.cli._output import EXIT_FAILURE, EXIT_USAGE, console, fail
from rea.ingress import IngressError, SyncIngressClient, UnknownTarget

app = typer.Typer(help="Saga dead letters: compensations that could not complete.")

SERVICE = "SagaDeadLetters"


def _call(ingress: str | None, saga: str, handler: str, value: Any = None) -> Any:
    url = server_url(ingress, "ingress")
    with SyncIngressClient(url) as client:
        try:
            if value is None:  # the handler takes no input: send no body at all
                return client.object(SERVICE, handler, type(None), Any).call(saga)
            return client.object(SERVICE, handler, str, Any).call(saga, value)
        except UnknownTarget:
            fail(f"no {SERVICE} service on the server (is the app served by rea.app?)",
                 code=EXIT_USAGE)  # fmt: skip
        except IngressError as exc:
            server_failure(exc)


def _sagas(admin: str | None) -> list[str]:
    sql = f"SELECT DISTINCT service_key FROM state WHERE service_name = '{SERVICE}'"
    try:
        with admin_client(admin) as client:
            rows = client.query(sql)
    except AdminError as exc:
        server_failure(exc)
    return sorted(str(row["service_key"]) for row in rows)


@app.command("list")
def list_letters(admin: AdminOption = None, ingress: IngressOption = None) -> None:
    """List every dead letter of every saga."""
    table = Table("saga", "id", "step", "error", "cause", "retries", box=None, pad_edge=False)
    count = 0
    for saga in _sagas(admin):
        for letter in _call(ingress, saga, "list") or []:
            count += 1
            table.add_row(saga, letter["id"], letter["step"], letter.get("error") or "(parked)",
                          letter["cause"], str(letter.get("retries", 0)))  # fmt: skip
    if count:
        console.print(table)
    console.print(f"{count} dead letter(s)")


@app.command("show")
def show(saga: str, letter_id: str, ingress: IngressOption = None) -> None:
    """Print one dead letter as JSON."""
    letter = _call(ingress, saga, "show", letter_id)
    if letter is None:
        fail(f"no dead letter {letter_id!r} in saga {saga!r}", code=EXIT_USAGE)
    console.print(json.dumps(letter, indent=2), markup=False)


@app.command("retry")
def retry(saga: str, letter_id: str, ingress: IngressOption = None) -> None:
    """Run the compensation again; the letter is removed when it succeeds."""
    outcome = _call(ingress, saga, "retry", letter_id)
    console.print(outcome, markup=False)
    if outcome != "compensated":
        raise typer.Exit(EXIT_FAILURE)


@app.command("discard")
def discard(saga: str, letter_id: str, ingress: IngressOption = None) -> None:
    """Forget a dead letter without compensating."""
    if not _call(ingress, saga, "discard", letter_id):
        fail(f"no dead letter {letter_id!r} in saga {saga!r}", code=EXIT_USAGE)
    console.print("discarded")
