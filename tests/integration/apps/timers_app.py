"""Timers, races, loops, continue-as-new: the app of tests/integration/test_workflow_timers.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import restate
from pydantic import BaseModel

import rea
from rea.workflow import (
    PromiseRacer,
    continue_as_new,
    generation,
    loop,
    race,
    sleep_until,
)

# -- sleep_until ---------------------------------------------------------------------------------
timers = rea.control_plane(restate.Service("Timers"))


@timers.handler()
async def wait_for(ctx: restate.Context, seconds: float) -> dict[str, float]:
    """Sleep until `seconds` after the journaled start; the journaled times around it."""
    start = await rea.now(ctx)
    target = start + timedelta(seconds=seconds)
    await sleep_until(ctx, target)
    after = await rea.now(ctx)
    return {"start": start.timestamp(), "target": target.timestamp(), "after": after.timestamp()}


@timers.handler()
async def double(ctx: restate.Context, n: int) -> int:
    return 2 * n


@timers.handler()
async def race_kinds(ctx: restate.Context) -> list[Any]:
    """`race` over a call, a run, a sleep that wins and a sleep that loses."""
    results = [
        await race(ctx, ctx.service_call(double, 21), timeout=timedelta(seconds=30)),
        await race(ctx, rea.run_async(ctx, "seven", lambda: 7), timeout=30),
        await race(ctx, ctx.sleep(timedelta(milliseconds=10)), timeout=30),
        await race(ctx, ctx.sleep(timedelta(seconds=30)), timeout=0.05),
    ]
    return [[result.timed_out, result.value] for result in results]


# -- races with awakeables and promises ----------------------------------------------------------
class Race(BaseModel):
    timeout_ms: int
    racer: bool = False


flow = rea.control_plane(restate.Workflow("TimerFlow"))


@flow.main()
async def run(ctx: restate.WorkflowContext, req: Race) -> dict[str, Any]:
    timeout = timedelta(milliseconds=req.timeout_ms)
    if req.racer:
        racer = PromiseRacer(ctx, timeout=timeout)
        racer.promise("cancel", type_hint=str)
        ctx.set("awakeable", racer.awakeable("approve", type_hint=int))
        winner = await racer.wait()
        return {"name": winner.name, "value": winner.value, "timed_out": winner.timed_out}
    awakeable_id, answer = ctx.awakeable(type_hint=int)
    ctx.set("awakeable", awakeable_id)
    result = await race(ctx, answer, timeout=timeout)
    return {"value": result.value, "timed_out": result.timed_out}


@flow.handler()
async def awakeable(ctx: restate.WorkflowSharedContext) -> str | None:
    return await ctx.get("awakeable", type_hint=str)


@flow.handler()
async def cancel(ctx: restate.WorkflowSharedContext, reason: str) -> None:
    await ctx.promise("cancel", type_hint=str).resolve(reason)


# -- bounded loops and continue-as-new -----------------------------------------------------------
class Count(BaseModel):
    max_iterations: int
    stop_after: int


loops = rea.control_plane(restate.Service("Loops"))


@loops.handler()
async def count(ctx: restate.Context, req: Count) -> int:
    """Poll (a run per iteration) until `stop_after` iterations; the loop's bound may hit first."""
    async for i in loop(ctx, max_iterations=req.max_iterations):
        polled = await rea.run(ctx, "poll", lambda i=i: i + 1)
        if polled == req.stop_after:
            return polled
    raise AssertionError("unreachable: the loop raises past its bound")


class Poll(BaseModel):
    generations: int
    per_generation: int
    polled: int = 0


pollers = rea.control_plane(restate.VirtualObject("Poller"))


@pollers.handler()
async def poll(ctx: restate.ObjectContext, state: Poll) -> dict[str, Any]:
    """`per_generation` polls, then the next generation, until `generations` have run."""
    current = generation(ctx)
    async for _ in loop(
        ctx, max_iterations=state.per_generation, every=timedelta(milliseconds=10), on_limit="stop"
    ):
        state.polled = await rea.run(ctx, "poll", lambda n=state.polled: n + 1)
    else:
        if current + 1 < state.generations:
            following = await continue_as_new(ctx, state, delay=timedelta(milliseconds=50))
            return {"generation": current, "polled": state.polled, "next": following}
    return {"generation": current, "polled": state.polled, "next": None}


# -- a long workflow for scaled time -------------------------------------------------------------
class Long(BaseModel):
    sleep_s: float
    timeout_s: float


long_flow = rea.control_plane(restate.Workflow("LongFlow"))


@long_flow.main(name="run")
async def long_run(ctx: restate.WorkflowContext, req: Long) -> dict[str, Any]:
    """Sleep (half until a time, half for a duration), poll thrice, then race an awakeable."""
    start = await rea.now(ctx)
    half = timedelta(seconds=req.sleep_s / 2)
    await sleep_until(ctx, start + half)
    await ctx.sleep(half)  # rea's guarded context
    pauses = timedelta(seconds=req.sleep_s / 24)
    async for _ in loop(ctx, max_iterations=3, every=pauses, on_limit="stop"):
        pass
    _, answer = ctx.awakeable()
    result = await race(ctx, answer, timeout=req.timeout_s)
    end = await rea.now(ctx)
    return {"timed_out": result.timed_out, "elapsed": (end - start).total_seconds()}


# -- the data-plane guard ------------------------------------------------------------------------
work = rea.data_plane(restate.Service("TimersData"))


@work.handler()
async def orchestrate(ctx: restate.Context, helper: str) -> str:
    """Wrong on purpose: each helper is orchestration, refused in a data-plane service."""
    with rea.policy_override("strict"):
        if helper == "sleep_until":
            await sleep_until(ctx, await rea.now(ctx))
        elif helper == "race":
            await race(ctx, ctx.sleep(timedelta(0)), timeout=1)
        elif helper == "PromiseRacer":
            PromiseRacer(ctx, timeout=1)
        elif helper == "loop":
            loop(ctx, max_iterations=1)
        elif helper == "continue_as_new":
            await continue_as_new(ctx, helper)
    return "allowed"


app = rea.app([timers, flow, loops, pollers, long_flow, work])
