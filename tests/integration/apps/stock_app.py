"""Sagas whose compensation releases stock held in a virtual object: a durable call, not a run.

`Stock` is a virtual object per SKU. An order reserves stock through a call (journaled in the
saga's handler), then charges a card in a durable run that may refuse; the compensation of the
reservation calls `Stock/release` through the context, which only the context form can do.
"""

from __future__ import annotations

import time

import restate
from pydantic import BaseModel

import rea

INITIAL_STOCK = 100

stock = restate.VirtualObject("Stock")


@stock.handler()
async def reserve(ctx: restate.ObjectContext, qty: int) -> int:
    """Take `qty` units; the units left."""
    available = rea.State(ctx, "available", int, default=INITIAL_STOCK)
    left = await available.get() - qty
    if left < 0:
        raise restate.TerminalError(f"only {left + qty} left", status_code=409)
    available.set(left)
    return left


@stock.handler()
async def release(ctx: restate.ObjectContext, qty: int) -> int:
    """Give `qty` units back; the units left. Refused while the SKU is frozen."""
    if await rea.State(ctx, "frozen", bool, default=False).get():
        raise restate.TerminalError("the stock is frozen", status_code=423)
    return await rea.State(ctx, "available", int, default=INITIAL_STOCK).update(
        lambda units: units + qty
    )


@stock.handler()
async def freeze(ctx: restate.ObjectContext, frozen: bool) -> None:
    """Refuse releases (an outage of the stock system, for the dead-letter test) or stop it."""
    rea.State(ctx, "frozen", bool, default=False).set(frozen)


@stock.handler(kind="shared")
async def available(ctx: restate.ObjectSharedContext) -> int:
    """The units left."""
    return await rea.State(ctx, "available", int, default=INITIAL_STOCK).get()


class Order(BaseModel):
    sku: str
    qty: int
    amount: float
    slow_ms: int = 0


class Hold(BaseModel):
    sku: str
    qty: int


@rea.compensation("stock-order", "reserve")
async def release_stock(ctx: restate.Context, hold: Hold, key: str) -> None:
    """Give the held units back: a call to the object, journaled in the saga's handler."""
    await rea.ObjectClient(release).call(ctx, hold.sku, hold.qty)


def charge(order: Order) -> str:
    if order.slow_ms:
        time.sleep(order.slow_ms / 1000)
    if order.amount > 100:
        raise restate.TerminalError("card declined", status_code=402)
    return "charged"


def refund(order: Order, key: str) -> None:
    return None


orders = rea.control_plane(restate.Service("StockOrders"))


@orders.handler()
async def place(ctx: restate.Context, order: Order) -> str:
    async with rea.Saga(ctx, "stock-order") as saga:
        saga.add("reserve", Hold(sku=order.sku, qty=order.qty))
        await rea.ObjectClient(reserve).call(ctx, order.sku, order.qty)
        await saga.step("charge", charge, order, compensation=refund, payload=order)
    return "placed"


@orders.handler()
async def place_by_hand(ctx: restate.Context, order: Order) -> str:
    """The hand-written Restate saga that `place` stands for (compared journal to journal)."""
    options: restate.RunOptions[str] = rea.RetryPolicy().run_options()
    await ctx.object_call(reserve, order.sku, order.qty)
    try:
        await ctx.run_typed("charge", charge, options, order)
    except restate.TerminalError:
        await ctx.run_typed(
            "compensate charge", refund, rea.RetryPolicy().run_options(), order, "k"
        )
        await ctx.object_call(release, order.sku, order.qty)
        raise
    return "placed"


@orders.handler()
async def place_with_plain_release(ctx: restate.Context, order: Order) -> str:
    """Wrong on purpose: a plain (run) compensation that uses the context it closed over."""

    def release_in_a_run(hold: Hold, key: str) -> None:
        rea.ObjectClient(release).send(ctx, hold.sku, hold.qty)

    async with rea.Saga(ctx, "plain-release") as saga:
        saga.register("reserve", release_in_a_run)
        saga.add("reserve", Hold(sku=order.sku, qty=order.qty))
        await rea.ObjectClient(reserve).call(ctx, order.sku, order.qty)
        await saga.step("charge", charge, order, compensation=refund, payload=order)
    return "placed"


app = rea.app([stock, orders])
