"""`rea dlq list | show | retry | discard`: saga dead letters in `SagaDeadLetters`.

`list` and `show` read the letters with SQL on the admin API, so they work whether or not
`SagaDeadLetters` is public on the ingress; `retry` and `discard` call its handlers through the
ingress (a compensation runs in the app, not here).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from rea.admin import AdminError
from rea.admin._core import sql_string
from rea.cli._endpoints import (
    AdminOption,
    DataOption,
    IngressOption,
    admin_client,
    ingress_client,
    server_failure,
)
from rea.cli._output import EXIT_FAILURE, EXIT_USAGE, Column, console, fail, print_json, table
from rea.ingress import IngressError, InvocationFailed, UnknownTarget

app = typer.Typer(help="Saga dead letters: compensations that could not complete.")

SERVICE = "SagaDeadLetters"

# The saga and the id are what `show`, `retry` and `discard` take: printed whole.
_COLUMNS = (
    Column("saga", identifier=True),
    Column("id", identifier=True),
    Column("step", 12, floor=8),
    Column("error", 30),
    Column("cause", 30),
    Column("retries", 7),
)


def _call(
    ingress: str | None, data: Path | None, saga: str, handler: str, value: Any = None
) -> Any:
    with ingress_client(ingress, data) as client:
        try:
            if value is None:  # the handler takes no input: send no body at all
                return client.object(SERVICE, handler, type(None), Any).call(saga)
            return client.object(SERVICE, handler, str, Any).call(saga, value)
        except UnknownTarget:
            fail(f"no {SERVICE} service on the server (is the app served by rea.app?)",
                 code=EXIT_USAGE)  # fmt: skip
        except InvocationFailed as exc:
            if exc.code in (404, 409):  # no such letter; no compensation declared under its name
                fail(exc.message, code=EXIT_USAGE)
            server_failure(exc)
        except IngressError as exc:
            server_failure(exc)


def _letters(
    admin: str | None, data: Path | None, saga: str | None = None
) -> dict[str, list[dict[str, Any]]]:
    """The dead letters of every saga (or of `saga`), oldest first, read from the state table."""
    sql = f"SELECT service_key, value_utf8 FROM state WHERE service_name = {sql_string(SERVICE)}"
    sql += " AND key = 'letters'"
    if saga is not None:
        sql += f" AND service_key = {sql_string(saga)}"
    try:
        with admin_client(admin, data) as client:
            rows = client.query(sql)
    except AdminError as exc:
        server_failure(exc)
    found: dict[str, list[dict[str, Any]]] = {}
    for row in sorted(rows, key=lambda r: str(r["service_key"])):
        letters = json.loads(row.get("value_utf8") or "{}")
        found[str(row["service_key"])] = list(letters.values())
    return found


@app.command("list")
def list_letters(
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON array of the letters instead.")
    ] = False,
    admin: AdminOption = None,
    data: DataOption = None,
) -> None:
    """List every dead letter of every saga."""
    found = _letters(admin, data)
    if json_output:
        print_json([letter for letters in found.values() for letter in letters])
        return
    rows = [
        [saga, str(x["id"]), str(x["step"]), x.get("error") or "(parked)", str(x["cause"]),
         str(x.get("retries", 0))]
        for saga, letters in found.items()
        for x in letters
    ]  # fmt: skip
    if rows:
        console.print(table(_COLUMNS, rows))
    console.print(f"{len(rows)} dead letter(s)")


@app.command("show")
def show(saga: str, letter_id: str, admin: AdminOption = None, data: DataOption = None) -> None:
    """Print one dead letter as JSON."""
    found = [x for x in _letters(admin, data, saga).get(saga, []) if x.get("id") == letter_id]
    if not found:
        fail(f"no dead letter {letter_id!r} in saga {saga!r}", code=EXIT_USAGE)
    print_json(found[0])


@app.command("retry")
def retry(
    saga: str, letter_id: str, ingress: IngressOption = None, data: DataOption = None
) -> None:
    """Run the compensation again; the letter is removed when it succeeds."""
    outcome = _call(ingress, data, saga, "retry", letter_id)
    console.print(outcome, markup=False)
    if outcome != "compensated":
        raise typer.Exit(EXIT_FAILURE)


@app.command("discard")
def discard(
    saga: str, letter_id: str, ingress: IngressOption = None, data: DataOption = None
) -> None:
    """Forget a dead letter without compensating."""
    if not _call(ingress, data, saga, "discard", letter_id):
        fail(f"no dead letter {letter_id!r} in saga {saga!r}", code=EXIT_USAGE)
    console.print("discarded")
