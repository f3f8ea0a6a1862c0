"""The two apps `bench/saga.py` compares: a 3-step rea.Saga vs the hand-written pattern."""

from __future__ import annotations

import restate

import rea

STEPS = ("reserve", "charge", "ship")


def act(step: str, order_id: str) -> str:
    return f"{step}:{order_id}"


def undo(payload: str, key: str) -> None:
    return None


def undo_plain(step: str, order_id: str) -> None:
    return None


rea_sagas = restate.Service("ReaSagas")


@rea_sagas.handler()
async def place(ctx: restate.Context, order_id: str) -> str:
    async with rea.Saga(ctx, "order") as saga:
        for step in STEPS:
            await saga.step(step, act, step, order_id, compensation=undo, payload=order_id)
    return "ok"


hand_sagas = restate.Service("HandSagas")


@hand_sagas.handler()
async def place_by_hand(ctx: restate.Context, order_id: str) -> str:
    options: restate.RunOptions[str] = restate.RunOptions(max_attempts=10)
    compensations: list[str] = []
    try:
        for step in STEPS:
            compensations.append(step)
            await ctx.run_typed(step, act, options, step, order_id)
    except restate.TerminalError:
        for step in reversed(compensations):
            await ctx.run_typed(
                f"compensate {step}", undo_plain, restate.RunOptions(), step, order_id
            )
        raise
    return "ok"


rea_app = rea.app([rea_sagas])
bare_app = restate.app([hand_sagas])
