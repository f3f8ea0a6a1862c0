"""Expense approvals: notify through a sqlite ledger outside the app process, then wait."""

from __future__ import annotations

import os
import sqlite3
from datetime import timedelta

import restate
from pydantic import BaseModel

import rea


class Expense(BaseModel):
    amount: float
    timeout_ms: int = 1000
    escalate: bool = False
    sleep_ms: int = 0


def _db() -> sqlite3.Connection:
    db = sqlite3.connect(os.environ["REA_LEDGER"], timeout=30, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(
        "CREATE TABLE IF NOT EXISTS asked (invocation TEXT, awakeable TEXT, escalation INTEGER)"
    )
    return db


def ask(request: rea.ApprovalRequest) -> None:
    """Stands for a mail to the approver: every call is a row."""
    with _db() as db:
        db.execute(
            "INSERT INTO asked VALUES (?, ?, ?)",
            (request.invocation_id, request.awakeable_id, int(request.escalation)),
        )


expenses = rea.control_plane(restate.Workflow("Expenses"))


@expenses.main()
async def run(ctx: restate.WorkflowContext, expense: Expense) -> rea.Approval:
    if expense.sleep_ms:
        await ctx.sleep(timedelta(milliseconds=expense.sleep_ms))  # e.g. wait for Monday
    return await rea.await_approval(
        ctx,
        "expense",
        notify=ask,
        timeout=timedelta(milliseconds=expense.timeout_ms),
        escalate=ask if expense.escalate else None,
    )


petty = rea.data_plane(restate.Service("PettyCash"))


@petty.handler()
async def spend(ctx: restate.Context) -> rea.Approval:
    """Wrong on purpose: waiting for a person is orchestration, not data-plane work."""
    with rea.policy_override("strict"):
        return await rea.await_approval(ctx, "petty", notify=ask, timeout=timedelta(seconds=1))


app = rea.app([expenses, petty])
