"""The apps `bench/observability.py` compares: one workflow-like service, observed or not."""

from __future__ import annotations

from datetime import timedelta

import restate

import rea

FAST = rea.RetryPolicy(max_attempts=3, initial_interval=timedelta(milliseconds=10))


def price(item: str) -> int:
    return len(item)


def _services(prefix: str) -> list[restate.Service]:
    # One set of names per variant: the variants share one server, which routes a service to
    # the deployment registered last.
    stock = restate.Service(f"{prefix}Stock")
    shop = restate.Service(f"{prefix}Shop")

    @stock.handler()
    async def reserve(ctx: restate.Context, item: str) -> str:
        return item

    @shop.handler()
    async def buy(ctx: restate.Context, item: str) -> int:
        reserved = await rea.ServiceClient(reserve).call(ctx, item)
        return await rea.run(ctx, "price", price, reserved, retry=FAST)

    return [shop, stock]


observed_app = rea.app(_services("Observed"), observability=rea.Observability())
plain_app = rea.app(_services("Plain"))
