"""Every handler kind's context works where rea takes one: this file must pass mypy --strict."""

from __future__ import annotations

from datetime import timedelta

import restate

import rea

COUNT = rea.StateKey("count", int, default=0)

svc = restate.Service("CtxSvc")
obj = restate.VirtualObject("CtxObj")
flow = restate.Workflow("CtxFlow")


@svc.handler()
async def ping(ctx: restate.Context, n: int) -> int:
    return n


@obj.handler()
async def bump(ctx: restate.ObjectContext, n: int) -> int:
    return n


async def service_handler(ctx: restate.Context) -> None:
    """A plain `restate.Context` (a service handler) takes every API but state."""
    one: int = await rea.run(ctx, "one", lambda: 1)
    await rea.run_void(ctx, "log", print, "x")
    later = rea.run_async(ctx, "later", lambda: 2)
    values: list[int] = await rea.gather(ctx, later, rea.ServiceClient(ping).request_future(ctx, 1))
    outcomes = await rea.fan_out(
        ctx, [1, 2], lambda n: rea.ServiceClient(ping).request_future(ctx, n)
    )
    mapped: list[int] = await rea.map_concurrent(
        ctx, [1, 2], lambda n: rea.ObjectClient(bump).request_future(ctx, "k", n), limit=1
    )
    winner = await rea.select(ctx, done=rea.ServiceClient(ping).request_future(ctx, 3))
    print(one, values, outcomes, mapped, winner, await rea.now(ctx), rea.uuid(ctx), rea.random(ctx))
    rea.ObjectClient(bump).send(ctx, "k", 1, delay=timedelta(seconds=1))


async def exclusive(ctx: restate.ObjectContext) -> None:
    """An exclusive handler reads and writes state."""
    await COUNT.bind(ctx).update(lambda n: n + 1)
    rea.State(ctx, "name", str).clear()
    await rea.ServiceClient(ping).call(ctx, 1)


async def shared(ctx: restate.ObjectSharedContext) -> None:
    """A shared handler reads state (writing it is a mypy error, see tests/test_typing.py)."""
    count: int = await COUNT.bind(ctx).get()
    name: str | None = await rea.State(ctx, "name", str).get()
    print(count, name, await rea.now(ctx))


@flow.main()
async def run(ctx: restate.WorkflowContext) -> int:
    """A workflow's run handler writes state like an exclusive handler."""
    COUNT.bind(ctx).set(await rea.run(ctx, "n", lambda: 3))
    return await COUNT.bind(ctx).get()


@flow.handler()
async def peek(ctx: restate.WorkflowSharedContext) -> int:
    """A workflow's shared handler reads state."""
    return await COUNT.bind(ctx).get()


def bound_anywhere(state: rea.State[int]) -> rea.State[int]:
    """`State[int]` (any keyed context) stays a valid annotation."""
    return state
