"""Typed usage of rea's in-handler API: this file must pass mypy --strict."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from uuid import UUID

import restate
from pydantic import BaseModel

import rea


class Order(BaseModel):
    id: str
    total: float


@dataclasses.dataclass
class Address:
    city: str


COUNT = rea.StateKey("count", int, default=0)
LAST_ORDER = rea.StateKey("last_order", Order)


def price(order_id: str) -> float:
    return 9.5


async def fetch(order_id: str) -> Order:
    return Order(id=order_id, total=price(order_id))


async def handler(ctx: restate.ObjectContext, order_id: str) -> str:
    count: int = await COUNT.bind(ctx).get()
    last: Order | None = await LAST_ORDER.bind(ctx).get()
    address = rea.State(ctx, "address", Address)
    where: Address | None = await address.get()
    cities = rea.State(ctx, "cities", list[str], default=[])
    names: list[str] = await cities.get()
    new_count: int = await COUNT.bind(ctx).update(lambda n: n + 1)

    total: float = await rea.run(ctx, "price", price, order_id)
    order: Order = await rea.run(
        ctx, "fetch", fetch, order_id, retry=rea.RetryPolicy(max_attempts=3)
    )
    future = rea.run_async(ctx, "fetch-later", fetch, order_id)
    later: Order = await future
    await rea.run_void(ctx, "notify", print, "done")

    when: datetime = await rea.now(ctx)
    token: UUID = rea.uuid(ctx)
    roll: float = rea.random(ctx)

    with rea.policy_override(rea.Policy.WARN):
        LAST_ORDER.bind(ctx).set(order)
    return f"{count} {last} {where} {names} {new_count} {total} {later} {when} {token} {roll}"
