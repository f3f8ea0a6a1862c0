"""Pydantic models and dataclasses in and out, and a typed call between handlers."""

from __future__ import annotations

import dataclasses
import datetime

import restate
from pydantic import BaseModel


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


class Quote(BaseModel):
    item: str
    total: float
    note: str | None = None
    at: datetime.date = datetime.date(2024, 2, 29)


@dataclasses.dataclass
class Parcel:
    sender: str
    weight: float
    fragile: bool = False


def build() -> list[restate.Service]:
    """The `CompatModels` service."""
    shop = restate.Service("CompatModels")

    @shop.handler()
    async def quote(ctx: restate.Context, item: Item) -> Quote:
        note = "✓ " + ", ".join(item.tags) if item.tags else None
        return Quote(item=item.name, total=round(item.price * 1.2, 2), note=note)

    @shop.handler(name="maybeQuote")
    async def maybe_quote(ctx: restate.Context, item: Item | None) -> Quote | None:
        return None if item is None else Quote(item=item.name, total=item.price)

    @shop.handler(name="echoItem")
    async def echo_item(ctx: restate.Context, item: Item) -> Item:
        return item

    @shop.handler(name="callQuote")
    async def call_quote(ctx: restate.Context, item: Item) -> Quote:
        # The argument and the result cross the wire with the target's serdes.
        return await ctx.service_call(quote, item)

    @shop.handler()
    async def weigh(ctx: restate.Context, parcel: Parcel) -> str:
        return f"{parcel.sender}: {parcel.weight} kg{' (fragile)' if parcel.fragile else ''}"

    @shop.handler(name="weighDict")
    async def weigh_dict(ctx: restate.Context, parcel: Parcel) -> str:
        # The SDK hands a dataclass parameter over as a dict; code written against it does this.
        return f"{parcel['sender']}: {parcel['weight']} kg"  # type: ignore[index]

    @shop.handler()
    async def label(ctx: restate.Context, sender: str) -> Parcel:
        return Parcel(sender=sender, weight=1.5)

    @shop.handler()
    async def catalog(ctx: restate.Context) -> list[Item]:
        return [Item(name="ä", price=1.0), Item(name="b", price=2.5, tags=["x"])]

    return [shop]
