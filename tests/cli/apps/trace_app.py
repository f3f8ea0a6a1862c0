"""The app of tests/cli/test_trace.py: journals with the kinds of entries `rea trace` draws.

A saga that fails and compensates (one of its runs fails twice first); a workflow that uses
state, sleeps, calls, sends (now and delayed), and resolves a promise and an awakeable; a
handler that fails outside any run before it succeeds; one that sleeps for long.
"""

from __future__ import annotations

from datetime import timedelta

import restate
from pydantic import BaseModel

import rea

FAST = rea.RetryPolicy(max_attempts=5, initial_interval=timedelta(milliseconds=10))
_FLAKES: dict[str, int] = {}


class Order(BaseModel):
    id: str
    flaky: bool = False


def reserve(order: Order, key: str) -> str:
    return f"reserved {order.id}"


def charge(order: Order, key: str) -> str:
    if order.flaky:
        _FLAKES[key] = _FLAKES.get(key, 0) + 1
        if _FLAKES[key] <= 2:
            raise ConnectionError(f"card network flaked ({_FLAKES[key]})")
    return f"charged {order.id}"


def ship(order: Order, key: str) -> str:
    raise restate.TerminalError("no courier for this address", status_code=422)


@rea.compensation("trace-checkout", "reserve")
def release(order: Order, key: str) -> None:
    pass


@rea.compensation("trace-checkout", "charge")
def refund(order: Order, key: str) -> None:
    pass


@rea.compensation("trace-checkout", "ship")
def recall(order: Order, key: str) -> None:
    pass


shop = rea.control_plane(restate.Service("TraceShop"))


@shop.handler()
async def checkout(ctx: restate.Context, order: Order) -> str:
    async with rea.Saga[Order](ctx, "trace-checkout") as saga:
        await saga.step("reserve", reserve, order, saga.key("reserve"), payload=order)
        await saga.step("charge", charge, order, saga.key("charge"), payload=order, retry=FAST)
        return await saga.step("ship", ship, order, saga.key("ship"), payload=order)


helper = restate.Service("TraceHelper")


@helper.handler()
async def double(ctx: restate.Context, n: int) -> int:
    return 2 * n


@helper.handler()
async def note(ctx: restate.Context, text: str) -> None:
    return None


flow = rea.control_plane(restate.Workflow("TraceFlow"))


@flow.main()
async def run(ctx: restate.WorkflowContext, n: int) -> int:
    ctx.set("seen", n)
    await ctx.sleep(timedelta(milliseconds=200))
    doubled = await ctx.service_call(double, n)
    ctx.service_send(note, f"doubled {n}")
    ctx.service_send(note, "later", send_delay=timedelta(milliseconds=50))
    await ctx.promise("ready", type_hint=int).resolve(doubled)
    ready = await ctx.promise("ready", type_hint=int).value()
    name, awakened = ctx.awakeable(type_hint=int)
    ctx.resolve_awakeable(name, ready)
    seen = await ctx.get("seen", type_hint=int)
    return await awakened + (seen or 0)


_WOBBLES: dict[str, int] = {}


@shop.handler()
async def wobbly(ctx: restate.Context) -> str:
    """Fails outside any run until its third attempt."""
    count = _WOBBLES[ctx.request().id] = _WOBBLES.get(ctx.request().id, 0) + 1
    await rea.run(ctx, "before", lambda: "ok")
    if count <= 2:
        raise RuntimeError(f"wobbled {count}")
    return "steady"


@shop.handler()
async def nap(ctx: restate.Context) -> None:
    """Sleeps long enough to be traced while it waits."""
    await ctx.sleep(timedelta(minutes=10))


app = rea.app([shop, helper, flow])
