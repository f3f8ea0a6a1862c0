"""rea's in-handler core: typed state, durable runs, deterministic values, planes and guards.

Run it: `python examples/orders.py` (starts an embedded Restate server), or serve it with
`rea dev examples.orders:app`.
"""

from __future__ import annotations

import dataclasses
import sys
from datetime import datetime
from pathlib import Path

import restate
from pydantic import BaseModel

import rea


class Line(BaseModel):
    sku: str
    qty: int
    price: float


@dataclasses.dataclass
class Receipt:
    order_id: str
    total: float
    paid_at: datetime


LINES = rea.StateKey("lines", list[Line], default=[])
RECEIPT = rea.StateKey("receipt", Receipt)

# Data plane: does the work, orchestrates nothing.
payments = rea.data_plane(restate.Service("Payments"))


def charge_card(order_id: str, amount: float) -> str:
    # Stand-in for a payment provider call: a side effect, so it runs inside rea.run.
    return f"ch_{order_id}_{int(amount * 100)}"


@payments.handler()
async def charge(ctx: restate.Context, amount: float) -> str:
    order_id = str(rea.uuid(ctx))[:8]
    return await rea.run(
        ctx, "charge", charge_card, order_id, amount, retry=rea.RetryPolicy(max_attempts=5)
    )


# Control plane: coordinates the order.
orders = rea.control_plane(restate.VirtualObject("Orders"))


@orders.handler()
async def add_line(ctx: restate.ObjectContext, line: Line) -> int:
    lines = await LINES.bind(ctx).update(lambda current: [*current, line])
    return len(lines)


@orders.handler()
async def checkout(ctx: restate.ObjectContext) -> Receipt:
    lines = await LINES.bind(ctx).get()
    total = round(sum(line.qty * line.price for line in lines), 2)
    await ctx.service_call(charge, total)
    receipt = Receipt(order_id=ctx.key(), total=total, paid_at=await rea.now(ctx))
    RECEIPT.bind(ctx).set(receipt)
    return receipt


@orders.handler(kind="shared")
async def receipt(ctx: restate.ObjectSharedContext) -> Receipt | None:
    return await RECEIPT.bind(ctx).get()


@orders.handler(kind="shared")
async def sneaky_reset(ctx: restate.ObjectSharedContext) -> str:
    # Wrong on purpose: shared handlers cannot write state. rea catches it before the server.
    with rea.policy_override(rea.Policy.STRICT):
        LINES.bind(ctx).set([])
    return "reset"


app = rea.app([payments, orders])


def main() -> int:
    from rea.testing import Harness

    with Harness(app) as h:
        for line in ({"sku": "tea", "qty": 2, "price": 3.5}, {"sku": "cup", "qty": 1, "price": 9}):
            count = h.client.post("/Orders/o-1/add_line", json=line).json()
            print(f"add_line {line['sku']:<4} -> {count} line(s)")
        print("checkout          ->", h.client.post("/Orders/o-1/checkout").json())
        print("receipt (shared)  ->", h.client.post("/Orders/o-1/receipt").json())
        bad = h.client.post("/Orders/o-1/sneaky_reset")
        print(f"sneaky_reset      -> HTTP {bad.status_code}: {bad.json()['message'][:90]}...")
        ok = bad.status_code == 500 and "[state.write_in_shared]" in bad.text
    return 0 if ok else 1


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main())
