"""Sagas whose actions and compensations write to a sqlite ledger outside the app process.

The ledger plays an external system with idempotency keys: an entry is stored once per key,
however often the side effect is attempted; every attempt is counted separately.
"""

from __future__ import annotations

import os
import sqlite3
import time
from datetime import timedelta

import restate
from pydantic import BaseModel

import rea

FAST = rea.RetryPolicy(max_attempts=3, initial_interval=timedelta(milliseconds=10))


def _db() -> sqlite3.Connection:
    db = sqlite3.connect(os.environ["REA_LEDGER"], timeout=30, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE IF NOT EXISTS ledger (key TEXT PRIMARY KEY, kind TEXT, saga TEXT)")
    db.execute("CREATE TABLE IF NOT EXISTS attempts (key TEXT, kind TEXT)")
    db.execute("CREATE TABLE IF NOT EXISTS mended (key TEXT PRIMARY KEY)")
    return db


def _attempt(kind: str, key: str) -> int:
    with _db() as db:
        db.execute("INSERT INTO attempts VALUES (?, ?)", (key, kind))
        (count,) = db.execute("SELECT count(*) FROM attempts WHERE key = ?", (key,)).fetchone()
    return int(count)


def _record(kind: str, key: str, saga: str) -> None:
    with _db() as db:
        db.execute("INSERT OR IGNORE INTO ledger VALUES (?, ?, ?)", (key, kind, saga))


class Plan(BaseModel):
    """What goes wrong, and where."""

    strategy: str = "all"
    fail_at: str = ""  # the step whose action fails terminally
    transient_at: str = ""  # the step whose action fails transiently twice
    broken_compensation: str = ""  # the step whose compensation always fails
    flaky_compensation: str = ""  # the step whose compensation fails 4 times, then works
    pause_after: str = ""  # wait on a durable sleep after this step (for cancellation)
    slow_ms: int = 0


class Effect(BaseModel):
    saga: str
    step: str
    plan: Plan


def act(effect: Effect, key: str) -> str:
    attempts = _attempt(effect.step, key)
    if effect.plan.slow_ms:
        time.sleep(effect.plan.slow_ms / 1000)
    if effect.plan.fail_at == effect.step:
        raise restate.TerminalError(f"{effect.step} refused", status_code=422)
    if effect.plan.transient_at == effect.step and attempts <= 2:
        raise ConnectionError(f"{effect.step} flaked ({attempts})")
    _record(effect.step, key, effect.saga)
    return f"{effect.step} done"


def _mended(key: str) -> bool:
    """Whether an operator repaired what made this compensation fail (the test says so)."""
    with _db() as db:
        return db.execute("SELECT 1 FROM mended WHERE key = ?", (key,)).fetchone() is not None


@rea.compensation(name="order.undo")
def undo(effect: Effect, key: str) -> None:
    attempts = _attempt(f"undo {effect.step}", key)
    if effect.plan.broken_compensation == effect.step and not _mended(key):
        raise ConnectionError(f"undo {effect.step} is broken")
    if effect.plan.flaky_compensation == effect.step and attempts <= 4:
        raise ConnectionError(f"undo {effect.step} flaked ({attempts})")
    _record(f"undo {effect.step}", key, effect.saga)


STEPS = ("reserve", "charge", "ship")


async def run_saga(ctx: restate.Context, saga_id: str, plan: Plan) -> str:
    strategy = rea.CompensationStrategy(plan.strategy)
    async with rea.Saga(ctx, "order", strategy=strategy, retry=FAST) as saga:
        for step in STEPS:
            effect = Effect(saga=saga_id, step=step, plan=plan)
            await saga.step(
                step, act, effect, saga.key(step), compensation=undo, payload=effect, retry=FAST
            )
            if plan.pause_after == step:
                await ctx.sleep(timedelta(minutes=5))
    return "completed"


orders = rea.control_plane(restate.Workflow("SagaOrder"))


@orders.main()
async def run(ctx: restate.WorkflowContext, plan: Plan) -> str:
    return await run_saga(ctx, ctx.key(), plan)


service = restate.Service("SagaService")


@service.handler()
async def place(ctx: restate.Context, plan: Plan) -> str:
    return await run_saga(ctx, ctx.request().id, plan)


carts = restate.VirtualObject("SagaCart")


@carts.handler()
async def checkout(ctx: restate.ObjectContext, plan: Plan) -> str:
    return await run_saga(ctx, ctx.key(), plan)


def plain_act(step: str, key: str, fail: bool) -> str:
    if fail:
        raise restate.TerminalError(f"{step} refused", status_code=422)
    return step


def plain_undo(step: str, key: str) -> None:
    return None


hand = restate.Service("SagaJournal")


@hand.handler()
async def with_rea(ctx: restate.Context) -> str:
    async with rea.Saga(ctx, "j", retry=FAST) as saga:
        for i, step in enumerate(STEPS):
            await saga.step(
                step,
                plain_act,
                step,
                "k",
                i == 2,
                compensation=plain_undo,
                payload=step,
                retry=FAST,
            )
    return "unreachable"


@hand.handler()
async def by_hand(ctx: restate.Context) -> str:
    options = FAST.run_options()
    compensations = []
    try:
        for i, step in enumerate(STEPS):
            compensations.append(step)
            await ctx.run_typed(step, plain_act, options, step, "k", i == 2)
    except restate.TerminalError:
        for step in reversed(compensations):
            await ctx.run_typed(f"compensate {step}", plain_undo, options, step, "k")
        raise
    return "unreachable"


repeat = restate.Service("SagaRepeat")


@repeat.handler()
async def charges(ctx: restate.Context, plan: Plan) -> None:
    """The same step three times (a loop of charges), then a terminal failure."""
    strategy = rea.CompensationStrategy(plan.strategy)
    saga_id = ctx.request().id
    async with rea.Saga(ctx, "repeat", strategy=strategy, retry=FAST) as saga:
        for _ in range(3):
            effect = Effect(saga=saga_id, step="charge", plan=plan)
            await saga.step(
                "charge", act, effect, saga.key("charge"), compensation=undo, payload=effect
            )
        raise restate.TerminalError("the order was refused", status_code=422)


app = rea.app([orders, service, carts, hand, repeat])


misuse = restate.Service("SagaMisuse")


@misuse.handler()
async def unregistered(ctx: restate.Context, key: str) -> str:
    with rea.policy_override("strict"):
        async with rea.Saga(ctx, "misuse") as saga:
            saga.add("charge", key)  # wrong on purpose: no compensation registered
            effect = Effect(saga=key, step="charge", plan=Plan())
            await rea.run(ctx, "charge", act, effect, key)
    return "unreachable"


data_plane_sagas = rea.data_plane(restate.Service("SagaDataPlane"))


@data_plane_sagas.handler()
async def orchestrate(ctx: restate.Context) -> str:
    with rea.policy_override("strict"):
        async with rea.Saga(ctx, "wrong-plane"):
            pass
    return "unreachable"


misuse_app = rea.app([misuse, data_plane_sagas])
