"""`rea invocations`: the newest invocations on the Restate server, as a table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from rea.admin import INVOCATION_STATUSES, AdminError, InvocationInfo
from rea.cli._endpoints import AdminOption, admin_client, server_failure
from rea.cli._output import EXIT_USAGE, console, fail


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _outcome(info: InvocationInfo) -> str:
    """How it ended, or why its last attempt failed."""
    text = info.completion_failure or info.last_failure or ""
    return text if len(text) <= 80 else text[:79] + "…"


def _table(rows: list[InvocationInfo]) -> Table:
    table = Table(
        "id", "target", "status", "created", "modified", "retries", "failure", box=None,
        pad_edge=False,
    )  # fmt: skip
    for info in rows:
        status = info.status
        if info.completion_result:
            status += f" ({info.completion_result})"
        table.add_row(
            info.id,
            info.target,
            status,
            _when(info.created_at),
            _when(info.modified_at),
            str(info.retry_count),
            _outcome(info),
        )
    return table


def invocations(
    status: Annotated[
        str | None,
        typer.Option(
            help=f"Only this status: {', '.join(INVOCATION_STATUSES)}.", show_default=False
        ),
    ] = None,
    service: Annotated[
        str | None, typer.Option(help="Only this service, object or workflow.", show_default=False)
    ] = None,
    limit: Annotated[int, typer.Option(help="Show at most this many, newest first.")] = 20,
    admin: AdminOption = None,
) -> None:
    """List the newest invocations: id, target, status, times, retries and failures."""
    if status is not None and status not in INVOCATION_STATUSES:
        fail(
            f"unknown status {status!r}: use one of {', '.join(INVOCATION_STATUSES)}",
            code=EXIT_USAGE,
        )
    if limit < 1:
        fail(f"--limit must be at least 1, not {limit}", code=EXIT_USAGE)
    with admin_client(admin) as client:
        try:
            rows = client.invocations(status=status, service=service, limit=limit)
        except AdminError as exc:
            server_failure(exc)
    if not rows:
        console.print("No invocations.")
        return
    console.print(_table(rows))
