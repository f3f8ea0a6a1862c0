"""Human approvals: ask someone, durably, and wait for the answer with a deadline.

`await_approval` creates an awakeable, hands its id to the user's `notify` inside a durable
run (so a crash never loses the request and never sends it twice once it was sent), then waits
for the awakeable against a durable timer. When the timer wins and an `escalate` callable is
given, it asks again (a second durable run) and waits once more. Whoever decides completes the
awakeable from outside Restate: with `rea.IngressClient.resolve_awakeable`, `rea approve`, or a
plain HTTP POST to the ingress (docs/workflow.md).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Literal

import restate
from pydantic import BaseModel
from restate import TerminalError

from rea._idempotency import idempotency_key
from rea._invocation import base_method, checked, require_control_plane
from rea._run import now, run_void
from rea._serde import serde_for
from rea.errors import UsageTypeError, UsageValueError

__all__ = ["Approval", "ApprovalRequest", "Decision", "await_approval"]

Outcome = Literal["approved", "rejected", "timed_out"]


class ApprovalRequest(BaseModel):
    """What `notify` (and `escalate`) receive: enough to ask a person and to let them answer.

    Attributes:
        name: The approval's name, e.g. ``"expense"``.
        awakeable_id: What the answer completes (``sign_...``): put it in the link or message.
        invocation_id: The invocation waiting for the answer.
        deadline: When this round of waiting ends (journaled time plus the timeout).
        escalation: True for the call to `escalate`, after the first deadline passed.
        key: An idempotency key for the notification itself (one per request and round).
    """

    name: str
    awakeable_id: str
    invocation_id: str
    deadline: datetime
    escalation: bool = False
    key: str


class Decision(BaseModel):
    """The answer an approver sends: resolve the awakeable with this JSON.

    ``{"approved": true, "approver": "ann@example.com", "reason": "within budget"}``
    """

    approved: bool
    approver: str | None = None
    reason: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Approval:
    """How an approval ended.

    Attributes:
        outcome: ``"approved"``, ``"rejected"`` or ``"timed_out"``.
        approver: Who decided, as the approver said (None when timed out or not given).
        reason: Why, as the approver said; for a rejected awakeable, its failure message.
        escalated: Whether `escalate` was called.
    """

    outcome: Outcome
    approver: str | None = None
    reason: str | None = None
    escalated: bool = False

    @property
    def approved(self) -> bool:
        """Whether the answer was yes."""
        return self.outcome == "approved"


Notify = Callable[[ApprovalRequest], Awaitable[None] | None]

_DECISION = serde_for(Decision)


async def await_approval(
    ctx: restate.Context,
    name: str,
    *,
    notify: Notify,
    timeout: timedelta,
    escalate: Notify | None = None,
) -> Approval:
    """Ask for an approval through `notify` and wait for the answer, at most `timeout`.

    Args:
        ctx: The handler's context (a control-plane handler: a workflow, or a service or
            object that orchestrates).
        name: The approval's name (part of its run names and keys: stable across deployments).
        notify: Called once, in a durable run, with the `ApprovalRequest`; sends it to a
            person (mail, chat, a ticket). Sync functions run on a worker thread.
        timeout: How long to wait for an answer (and again after `escalate`).
        escalate: Called once more, in its own durable run, when the first wait timed out.

    Returns:
        The `Approval`: approved or rejected (with approver and reason), or timed out.

    Raises:
        UsageValueError: an empty name or a timeout that is not positive.
        TerminalError: the invocation was cancelled (or `notify` failed for good).
    """
    if not name:
        raise UsageValueError("rea.await_approval() needs a name, e.g. 'expense'")
    if not isinstance(timeout, timedelta) or timeout <= timedelta(0):
        raise UsageTypeError(
            f"rea.await_approval(): timeout must be a positive timedelta, not {timeout!r}"
        )
    checked(ctx, f"rea.await_approval({name!r})")
    require_control_plane(f"rea.await_approval({name!r})")
    awakeable_id, answer = base_method(ctx, "awakeable")(serde=_DECISION)
    request = ApprovalRequest(
        name=name,
        awakeable_id=awakeable_id,
        invocation_id=ctx.request().id,
        deadline=await now(ctx) + timeout,
        key=idempotency_key("approval", name, awakeable_id),
    )
    await run_void(ctx, f"notify {name}", _checked(notify), request)
    decided = await _wait(ctx, answer, timeout)
    if decided is not None or escalate is None:
        return decided or Approval("timed_out")
    second = request.model_copy(
        update={
            "escalation": True,
            "deadline": await now(ctx) + timeout,
            "key": idempotency_key("approval", name, awakeable_id, "escalation"),
        }
    )
    await run_void(ctx, f"escalate {name}", _checked(escalate), second)
    decided = await _wait(ctx, answer, timeout)
    return dataclasses.replace(decided or Approval("timed_out"), escalated=True)


async def _wait(
    ctx: restate.Context, answer: restate.RestateDurableFuture[Decision], timeout: timedelta
) -> Approval | None:
    """The answer if it comes within `timeout`, else None (the awakeable stays open)."""
    timer = ctx.sleep(timeout)  # through rea's guarded context: scaled in tests
    # wait_completed records which completed in the journal order: the same on every replay.
    completed, _ = await restate.wait_completed(answer, timer)
    if not any(future is answer for future in completed):
        return None
    try:
        decision: Decision = await answer
    except TerminalError as rejected:
        # A rejected awakeable (reject_awakeable(id, reason)) is a no with that reason.
        return Approval("rejected", reason=rejected.message)
    outcome: Outcome = "approved" if decision.approved else "rejected"
    return Approval(outcome, approver=decision.approver, reason=decision.reason)


def _checked(notify: Notify) -> Notify:
    """`notify`, once it is known to be callable (a terminal usage error otherwise)."""
    if not callable(notify):
        raise UsageTypeError(f"notify and escalate must be callables, not {notify!r}")
    return notify
