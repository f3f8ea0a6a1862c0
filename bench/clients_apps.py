"""The two apps `bench/clients.py` compares: 3 typed rea calls vs 3 bare-SDK calls."""

from __future__ import annotations

import restate
from pydantic import BaseModel

import rea


class Item(BaseModel):
    sku: str
    qty: int


def _services(prefix: str) -> tuple[restate.Service, restate.Service, object]:
    callee = restate.Service(f"{prefix}Callee")

    @callee.handler()
    async def price(ctx: restate.Context, item: Item) -> float:
        return item.qty * 2.5

    caller = restate.Service(f"{prefix}Caller")
    return callee, caller, price


rea_callee, rea_caller, rea_price = _services("Rea")
PRICE = rea.ServiceClient(rea_price)  # type: ignore[arg-type]


@rea_caller.handler()
async def three(ctx: restate.Context, item: Item) -> float:
    first = await PRICE.call(ctx, item)
    second = await PRICE.call(ctx, item)
    third = await PRICE.call(ctx, item)
    return first + second + third


bare_callee, bare_caller, bare_price = _services("Bare")


@bare_caller.handler()
async def three_bare(ctx: restate.Context, item: Item) -> float:
    first = await ctx.service_call(bare_price, item)  # type: ignore[arg-type]
    second = await ctx.service_call(bare_price, item)  # type: ignore[arg-type]
    third = await ctx.service_call(bare_price, item)  # type: ignore[arg-type]
    return float(first + second + third)


rea_app = rea.app([rea_callee, rea_caller])
bare_app = restate.app([bare_callee, bare_caller])
