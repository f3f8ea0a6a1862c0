"""Handlers with dataclass, list[Model], TypedDict and Optional types, served with rea's serdes.

`app` has `install_serdes` applied to each service; `bare_app` serves look-alike handlers with the
SDK alone, to show what rea changes.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta

import restate
from pydantic import BaseModel
from restate.extensions import current_context
from typing_extensions import TypedDict

from rea._serde import install_serdes, serde_for

#: Attempts per invocation id; the harness serves the app on a thread of the test process.
ATTEMPTS: collections.Counter[str] = collections.Counter()


@contextlib.asynccontextmanager
async def count_attempt() -> AsyncIterator[None]:
    """Count every attempt of every invocation, before rea's validation runs."""
    ctx = current_context()
    assert ctx is not None
    ATTEMPTS[ctx.request().id] += 1
    yield


class Item(BaseModel):
    sku: str
    price: float


@dataclasses.dataclass
class Order:
    customer: str
    items: list[Item]
    note: str | None = None


class Point(TypedDict):
    x: int
    y: int


class Receipt(BaseModel):
    customer: str
    total: float
    input_type: str


shop = restate.Service("SerdeShop", invocation_context_managers=[count_attempt])


@shop.handler()
async def lines(ctx: restate.Context, order: Order) -> list[Item]:
    """Dataclass in, list[Model] out."""
    return [Item(sku=f"{type(order).__name__}:{i.sku}", price=i.price) for i in order.items]


@shop.handler()
async def receipt(ctx: restate.Context, order: Order) -> Receipt:
    """Dataclass in, pydantic model out."""
    total = sum(i.price for i in order.items)
    return Receipt(customer=order.customer, total=total, input_type=type(order).__name__)


@shop.handler()
async def normalize(ctx: restate.Context, order: Order) -> Order:
    """Dataclass in and out; the SDK alone cannot return one."""
    return dataclasses.replace(order, customer=order.customer.title())


@shop.handler()
async def shift(ctx: restate.Context, point: Point) -> Point:
    """TypedDict in and out."""
    return {"x": point["x"] + 1, "y": point["y"] + 1}


@shop.handler()
async def echo(ctx: restate.Context, item: Item | None) -> Item | None:
    """Optional model in and out; an empty body is None."""
    return item


@shop.handler()
async def first_line(ctx: restate.Context, order: Order) -> Item | None:
    """Calls `lines` through the SDK: the typed argument and result cross the wire."""
    items = await ctx.service_call(lines, order)
    assert all(isinstance(i, Item) for i in items)
    return items[0] if items else None


@shop.handler()
async def broken(ctx: restate.Context) -> int:
    """Returns a value that does not fit its declared type."""
    return "not a number"  # type: ignore[return-value]


cart = restate.VirtualObject("SerdeCart", invocation_context_managers=[count_attempt])
_ITEMS = serde_for(list[Item])


@cart.handler()
async def add(ctx: restate.ObjectContext, item: Item) -> list[Item]:
    """Pydantic model in, list[Model] out, kept in state with rea's serde."""
    items: list[Item] = await ctx.get("items", serde=_ITEMS) or []
    items.append(item)
    ctx.set("items", items, serde=_ITEMS)
    return items


@cart.handler(kind="shared")
async def last(ctx: restate.ObjectSharedContext) -> Item | None:
    """Optional model out: an empty cart answers with an empty body."""
    items: list[Item] = await ctx.get("items", serde=_ITEMS) or []
    return items[-1] if items else None


for _service in (shop, cart):
    # Strict: TypedDicts are validated too (the default reads them as the SDK does).
    install_serdes(_service, validation="strict")

app = restate.app([shop, cart])


bare = restate.Service("SerdeBare", invocation_context_managers=[count_attempt])


@bare.handler()
async def bare_add(ctx: restate.Context, item: Item) -> str:
    """The SDK's own pydantic serde: bad input is a 500."""
    return item.sku


@bare.handler()
async def bare_lines(ctx: restate.Context, order: Order) -> str:
    """The SDK hands a dataclass parameter over as a dict."""
    return type(order).__name__


# Explicit, so the test does not depend on the server's default retry policy.
_THREE_QUICK_ATTEMPTS = restate.InvocationRetryPolicy(
    initial_interval=timedelta(milliseconds=10), max_attempts=3, on_max_attempts="kill"
)


@bare.handler(invocation_retry_policy=_THREE_QUICK_ATTEMPTS)
async def bare_normalize(ctx: restate.Context, order: Order) -> Order:
    """The SDK cannot serialize a dataclass result, and retries the attempt."""
    return Order(customer=order["customer"], items=[])  # type: ignore[index]


bare_app = restate.app([bare])
