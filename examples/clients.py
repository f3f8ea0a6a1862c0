"""Typed clients: a service, a virtual object and a workflow called from another handler.

Run it: `python examples/clients.py` (starts an embedded Restate server).
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import restate
from pydantic import BaseModel

import rea


class Order(BaseModel):
    id: str
    amount: float


class Receipt(BaseModel):
    order_id: str
    charged: float


payments = rea.data_plane(restate.Service("ExPayments"))


@payments.handler()
async def charge(ctx: restate.Context, order: Order) -> Receipt:
    return Receipt(order_id=order.id, charged=order.amount)


loyalty = restate.VirtualObject("ExLoyalty")


@loyalty.handler()
async def earn(ctx: restate.ObjectContext, points: int) -> int:
    return await rea.State(ctx, "points", int, default=0).update(lambda p: p + points)


shipping = restate.Workflow("ExShipping")


@shipping.main()
async def ship(ctx: restate.WorkflowContext, order_id: str) -> str:
    await ctx.sleep(timedelta(milliseconds=50))  # the truck, durably
    return f"{order_id} delivered"


PAYMENTS = rea.ServiceClient(charge)
LOYALTY = rea.ObjectClient(earn)
SHIPPING = rea.WorkflowClient(ship)

shop = rea.control_plane(restate.Service("ExShop"))


@shop.handler()
async def checkout(ctx: restate.Context, order: Order) -> str:
    receipt = await PAYMENTS.call(
        ctx, order, idempotency_key=rea.idempotency_key("order", order.id, "charge")
    )
    points = await LOYALTY.call(ctx, "customer-7", int(receipt.charged))
    SHIPPING.submit(ctx, order.id, order.id)
    delivered = await SHIPPING.attach(ctx, order.id)
    return f"charged {receipt.charged}, {points} points, {delivered}"


app = rea.app([payments, loyalty, shipping, shop])


def main() -> int:
    from rea.testing import Harness

    with Harness(app) as h:
        result = h.client.post("/ExShop/checkout", json={"id": "A-17", "amount": 42.0}).json()
        print("checkout ->", result)
    return 0 if result == "charged 42.0, 42 points, A-17 delivered" else 1


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main())
