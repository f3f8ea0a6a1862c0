"""`rea approve AWAKEABLE_ID`: answer a `rea.await_approval` from the command line."""

from __future__ import annotations

from typing import Annotated

import typer

from rea.cli._endpoints import DataOption, IngressOption, ingress_client, server_failure
from rea.cli._output import console
from rea.ingress import IngressError


def approve(
    awakeable_id: Annotated[
        str, typer.Argument(help="The id the approval request carries (sign_...).")
    ],
    reject: Annotated[bool, typer.Option("--reject", help="Answer no instead of yes.")] = False,
    approver: Annotated[
        str | None, typer.Option(help="Who decides (shown in the Approval).")
    ] = None,
    reason: Annotated[str | None, typer.Option(help="Why (shown in the Approval).")] = None,
    ingress: IngressOption = None,
    data: DataOption = None,
) -> None:
    """Approve (or --reject) a pending rea.await_approval by its awakeable id.

    The first answer wins; Restate accepts a later one and ignores it (also after a timeout).
    """
    decision = {"approved": not reject, "approver": approver, "reason": reason}
    with ingress_client(ingress, data) as client:
        try:
            client.resolve_awakeable(awakeable_id, decision)
        except IngressError as exc:
            server_failure(exc)
    console.print("rejected" if reject else "approved")
