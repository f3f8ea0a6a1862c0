"""rea.State round trips, defaults and atomic updates, plus a bare-SDK twin for journal counts."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import restate
from pydantic import BaseModel

import rea


class Item(BaseModel):
    sku: str
    qty: int


@dataclasses.dataclass
class Address:
    street: str
    city: str


COUNT = rea.StateKey("count", int, default=0)
NAME = rea.StateKey("name", str, default="nobody")
ITEM = rea.StateKey("item", Item)
ADDRESS = rea.StateKey("address", Address)
CART = rea.StateKey("cart", list[Item], default=[])

store = restate.VirtualObject("Store")


class Everything(BaseModel):
    count: int
    name: str
    item: Item | None
    address: Address | None
    cart: list[Item]


@store.handler()
async def put(ctx: restate.ObjectContext, value: Everything) -> None:
    COUNT.bind(ctx).set(value.count)
    NAME.bind(ctx).set(value.name)
    if value.item is not None:
        ITEM.bind(ctx).set(value.item)
    if value.address is not None:
        ADDRESS.bind(ctx).set(value.address)
    CART.bind(ctx).set(value.cart)


@store.handler(kind="shared")
async def read(ctx: restate.ObjectSharedContext) -> dict[str, str]:
    # Report the Python types that came back, to prove they are rebuilt, not dicts.
    values = {
        "count": await COUNT.bind(ctx).get(),
        "name": await NAME.bind(ctx).get(),
        "item": await ITEM.bind(ctx).get(),
        "address": await ADDRESS.bind(ctx).get(),
        "cart": await CART.bind(ctx).get(),
    }
    return {key: f"{type(v).__name__}:{v!r}" for key, v in values.items()}


@store.handler()
async def add_to_cart(ctx: restate.ObjectContext, item: Item) -> int:
    cart = await CART.bind(ctx).update(lambda items: [*items, item])
    return len(cart)


@store.handler()
async def increment(ctx: restate.ObjectContext) -> int:
    return await COUNT.bind(ctx).update(lambda n: n + 1)


@store.handler()
async def wipe(ctx: restate.ObjectContext) -> None:
    COUNT.bind(ctx).clear()
    CART.bind(ctx).clear()


def make_item() -> Item:
    return Item(sku="R", qty=1)


def make_address() -> Address:
    return Address(street="2 Side St", city="Shelbyville")


async def make_items() -> list[Item]:
    return [Item(sku="L", qty=4)]


@store.handler()
async def run_types(ctx: restate.ObjectContext) -> str:
    item = await rea.run(ctx, "item", make_item)
    address = await rea.run(ctx, "address", make_address)
    items = await rea.run(ctx, "items", make_items)
    # Always-replay: after this sleep the handler runs again and the values come from the journal.
    await ctx.sleep(timedelta(milliseconds=1))
    return f"{type(item).__name__} {type(address).__name__} {type(items[0]).__name__}"


@store.handler()
async def untyped_run(ctx: restate.ObjectContext, mode: str) -> str:
    with rea.policy_override(mode):
        value = await rea.run(ctx, "untyped", lambda: Item(sku="U", qty=1))
    return type(value).__name__


def fee_for(amount: int) -> int:
    return amount // 10


ledger = restate.VirtualObject("JournalTwins")


@ledger.handler()
async def with_rea(ctx: restate.ObjectContext, amount: int) -> int:
    balance = rea.State(ctx, "balance", int, default=0)
    fee = await rea.run(ctx, "fee", fee_for, amount)
    total = await balance.get() + amount - fee
    balance.set(total)
    return total


@ledger.handler()
async def bare(ctx: restate.ObjectContext, amount: int) -> int:
    fee = await ctx.run_typed("fee", fee_for, restate.RunOptions(max_attempts=10), amount)
    total = (await ctx.get("balance", type_hint=int) or 0) + amount - fee
    ctx.set("balance", total)
    return total


app = rea.app([store, ledger])
