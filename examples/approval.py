"""An expense approval: ask a manager, escalate to finance if nobody answers, then time out.

Run it: `python examples/approval.py` (starts an embedded Restate server). `make demo` runs it.
The approver answers from outside Restate: here with `rea.SyncIngressClient`; from a shell,
`curl -X POST <ingress>/restate/awakeables/<id>/resolve --json '{"approved": true}'`.
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from pathlib import Path

import restate
from pydantic import BaseModel

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import rea
from rea.testing import Harness

INBOX: list[rea.ApprovalRequest] = []  # stands for mail: each request is sent once, durably


class Expense(BaseModel):
    employee: str
    amount: float


def ask_manager(request: rea.ApprovalRequest) -> None:
    INBOX.append(request)
    print(f"  mail to manager: approve {request.name}? answer {request.awakeable_id[:18]}...")


def ask_finance(request: rea.ApprovalRequest) -> None:
    INBOX.append(request)
    print(f"  mail to finance (escalation): {request.name} still open after the deadline")


expenses = rea.control_plane(restate.Workflow("ExpenseApproval"))


@expenses.main()
async def run(ctx: restate.WorkflowContext, expense: Expense) -> str:
    approval: rea.Approval = await rea.await_approval(
        ctx,
        f"expense of {expense.employee}",
        notify=ask_manager,
        escalate=ask_finance,
        timeout=timedelta(seconds=1),
    )
    if approval.approved:
        return f"{expense.amount:.2f} paid to {expense.employee} (approved by {approval.approver})"
    if approval.outcome == "rejected":
        return f"refused: {approval.reason}"
    return "nobody answered: the expense goes back to the employee"


app = rea.app([expenses])


def _wait_for_mail(count: int) -> rea.ApprovalRequest:
    deadline = time.monotonic() + 10
    while len(INBOX) < count:
        if time.monotonic() > deadline:
            raise TimeoutError("the approval request was not sent")
        time.sleep(0.02)
    return INBOX[-1]


def main() -> int:
    with Harness(app) as h, rea.SyncIngressClient(h.ingress_url) as client:
        flow = client.workflow(run)
        print("Expense 1: the manager approves")
        flow.submit("x1", Expense(employee="ada", amount=42.5))
        request = _wait_for_mail(1)
        client.resolve_awakeable(request.awakeable_id, {"approved": True, "approver": "grace"})
        first = flow.attach("x1")
        print(f"  -> {first}")

        print("Expense 2: nobody answers (1 s, then escalation, then 1 s more)")
        flow.submit("x2", Expense(employee="alan", amount=99.0))
        second = flow.attach("x2")
        print(f"  -> {second}")
    ok = first.startswith("42.50 paid to ada") and second.startswith("nobody answered")
    return 0 if ok and len(INBOX) == 3 else 1


if __name__ == "__main__":
    sys.exit(main())
