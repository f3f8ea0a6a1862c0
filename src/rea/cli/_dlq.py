"""`rea dlq list | show | retry | discard`: saga dead letters in `SagaDeadLetters`.

`list` and `show` read the letters with SQL on the admin API, so they work whether or not
`SagaDeadLetters` is public on the ingress; `retry` and `discard` call its handlers through the
ingress (a compensation runs in the app, not here).
"""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.table import Table

from rea.admin import AdminError
from rea.admin._core import sql_string
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


def _letters(admin: str | None, saga: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """The dead letters of every saga (or of `saga`), oldest first, read from the state table."""
    sql = f"SELECT service_key, value_utf8 FROM state WHERE service_name = {sql_string(SERVICE)}"
    sql += " AND key = 'letters'"
    if saga is not None:
        sql += f" AND service_key = {sql_string(saga)}"
    try:
        with admin_client(admin) as client:
            rows = client.query(sql)
    except AdminError as exc:
        server_failure(exc)
    found: dict[str, list[dict[str, Any]]] = {}
    for row in sorted(rows, key=lambda r: str(r["service_key"])):
        letters = json.loads(row.get("value_utf8") or "{}")
        found[str(row["service_key"])] = list(letters.values())
    return found


@app.command("list")
def list_letters(admin: AdminOption = None) -> None:
    """List every dead letter of every saga."""
    table = Table("saga", "id", "step", "error", "cause", "retries", box=None, pad_edge=False)
    count = 0
    for saga, letters in _letters(admin).items():
        for letter in letters:
            count += 1
            table.add_row(saga, letter["id"], letter["step"], letter.get("error") or "(parked)",
                          letter["cause"], str(letter.get("retries", 0)))  # fmt: skip
    if count:
        console.print(table)
    console.print(f"{count} dead letter(s)")


@app.command("show")
def show(saga: str, letter_id: str, admin: AdminOption = None) -> None:
    """Print one dead letter as JSON."""
    found = [x for x in _letters(admin, saga).get(saga, []) if x.get("id") == letter_id]
    if not found:
        fail(f"no dead letter {letter_id!r} in saga {saga!r}", code=EXIT_USAGE)
    console.print(json.dumps(found[0], indent=2), markup=False)


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
