"""A durable saga: reserve inventory, charge the card, ship; undo in reverse on failure.

The inventory is a virtual object, so its compensation is a call through the context; the card
and the parcel are external systems, undone by plain compensations in durable runs.

Run it: `python examples/saga.py` (starts an embedded Restate server). `make demo` runs it too.
"""

from __future__ import annotations

import sys
from pathlib import Path

import restate
from pydantic import BaseModel, Field

import rea

LEDGER: list[str] = []  # stands in for the external systems (each call is idempotent by key)


class Order(BaseModel):
    id: str = Field(min_length=1)  # an object key: "" is a 400 here, not a failed call later
    amount: float
    address: str


# Stock lives in a virtual object (one per SKU): reserving and releasing are handler calls.
inventory = restate.VirtualObject("Inventory")


@inventory.handler()
async def reserve(ctx: restate.ObjectContext, qty: int) -> int:
    held = rea.State(ctx, "held", int, default=0)
    held.set(await held.get() + qty)
    LEDGER.append(f"reserve {ctx.key()}")
    return qty


@inventory.handler()
async def release(ctx: restate.ObjectContext, qty: int) -> int:
    held = rea.State(ctx, "held", int, default=0)
    held.set(max(0, await held.get() - qty))
    LEDGER.append(f"release {ctx.key()}")
    return qty


# Compensations are declared at module level, so that a dead letter can be retried later,
# even by a restarted app. This one takes the context: it calls a handler, journaled like any
# call in the saga's handler (a plain compensation runs in a durable run, where ctx is off limits).
@rea.compensation("checkout", "reserve")
async def release_inventory(ctx: restate.Context, order: Order, key: str) -> None:
    await rea.ObjectClient(release).call(ctx, order.id, 1)


def charge_card(order: Order, key: str) -> str:
    LEDGER.append(f"charge {order.amount}")
    return f"ch-{order.id}"


@rea.compensation("checkout", "charge")
def refund_card(order: Order, key: str) -> None:
    LEDGER.append(f"refund {order.amount}")


def ship(order: Order, key: str) -> str:
    if not order.address:
        raise restate.TerminalError("no shipping address", status_code=422)
    LEDGER.append(f"ship to {order.address}")
    return f"parcel-{order.id}"


@rea.compensation("checkout", "ship")
def cancel_shipment(order: Order, key: str) -> None:
    LEDGER.append(f"cancel shipment {order.id}")


checkout = rea.control_plane(restate.Workflow("Checkout"))


@checkout.main()
async def run(ctx: restate.WorkflowContext, order: Order) -> str:
    async with rea.Saga(ctx, "checkout") as saga:
        # Each step is added (with the payload its compensation gets) BEFORE its action runs.
        saga.add("reserve", order)
        await rea.ObjectClient(reserve).call(ctx, order.id, 1)
        await saga.step("charge", charge_card, order, saga.key("charge"), payload=order)
        return await saga.step("ship", ship, order, saga.key("ship"), payload=order)


services = [checkout, inventory]
app = rea.app(services)


def main() -> int:
    from rea.testing import Harness

    with Harness(app) as h:
        good = {"id": "A1", "amount": 30.0, "address": "1 Main St"}
        response = h.client.post("/Checkout/A1/run", json=good)
        print(f"order A1 -> HTTP {response.status_code} {response.json()}")
        print("  ledger:", LEDGER)
        LEDGER.clear()
        bad = {"id": "B2", "amount": 12.5, "address": ""}
        response = h.client.post("/Checkout/B2/run", json=bad)
        print(f"order B2 -> HTTP {response.status_code} {response.json()['message']}")
        print("  ledger:", LEDGER)
        ok = LEDGER == [
            "reserve B2", "charge 12.5", "cancel shipment B2", "refund 12.5", "release B2",
        ]  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main())
