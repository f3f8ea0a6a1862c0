"""`rea invocations`: the newest invocations on the Restate server, as a table or as JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from rea.admin import INVOCATION_STATUSES, AdminError, InvocationInfo
from rea.cli._endpoints import AdminOption, DataOption, admin_client, server_failure
from rea.cli._output import EXIT_USAGE, Column, console, fail, print_json, table

_COLUMNS = (
    Column("id", identifier=True),
    Column("target", comfortable=20, floor=12),
    Column("status", comfortable=19, floor=11),  # "backing-off" whole
    # Left out on a narrow terminal (modified first); `--json` has every field.
    Column("created", comfortable=20, optional=True),
    Column("modified", comfortable=20, optional=True),
    Column("retries", comfortable=7),
    Column("failure", comfortable=30),
)
_MAX_FAILURE = 80  # characters of a failure in the table (--json has it whole)


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


def _outcome(info: InvocationInfo) -> str:
    """How it ended, or why its last attempt failed: the first line, shortened."""
    text = (info.completion_failure or info.last_failure or "").strip()
    text = text.splitlines()[0] if text else ""
    return text if len(text) <= _MAX_FAILURE else text[: _MAX_FAILURE - 1] + "…"


def _status(info: InvocationInfo) -> str:
    return f"{info.status} ({info.completion_result})" if info.completion_result else info.status


def _row(info: InvocationInfo) -> list[str]:
    retries = "" if info.retries is None else str(info.retries)
    return [
        info.id,
        info.target,
        _status(info),
        _when(info.created_at),
        _when(info.modified_at),
        retries,
        _outcome(info),
    ]


def as_json(info: InvocationInfo) -> dict[str, Any]:
    """One invocation for ``--json``: stable keys, null where Restate has no value.

    ``attempts`` counts attempts (the running one included) and ``retries`` those after the
    first; both are null once the invocation completed (Restate keeps no count then).
    """
    return {
        "id": info.id,
        "target": info.target,
        "service": info.service,
        "key": info.key,
        "handler": info.handler,
        "status": info.status,
        "completion_result": info.completion_result,
        "completion_failure": info.completion_failure,
        "attempts": info.attempts,
        "retries": info.retries,
        "last_failure": info.last_failure,
        "last_failure_code": info.last_failure_code,
        "next_retry_at": _iso(info.next_retry_at),
        "created_at": _iso(info.created_at),
        "modified_at": _iso(info.modified_at),
        "scheduled_at": _iso(info.scheduled_at),
        "completed_at": _iso(info.completed_at),
        "idempotency_key": info.idempotency_key,
        "invoked_by": info.invoked_by,
        "invoked_by_id": info.invoked_by_id,
        "deployment_id": info.deployment_id,
    }


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
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON array (every field) instead.")
    ] = False,
    admin: AdminOption = None,
    data: DataOption = None,
) -> None:
    """List the newest invocations: id, target, status, times, retries and failures."""
    if status is not None and status not in INVOCATION_STATUSES:
        fail(
            f"unknown status {status!r}: use one of {', '.join(INVOCATION_STATUSES)}",
            code=EXIT_USAGE,
        )
    if limit < 1:
        fail(f"--limit must be at least 1, not {limit}", code=EXIT_USAGE)
    with admin_client(admin, data) as client:
        try:
            rows = client.invocations(status=status, service=service, limit=limit)
        except AdminError as exc:
            server_failure(exc)
    if json_output:
        print_json([as_json(info) for info in rows])
    elif not rows:
        console.print("No invocations.")
    else:
        console.print(table(_COLUMNS, [_row(info) for info in rows]))
