"""A durable saga: reserve inventory, charge the card, ship; undo in reverse on failure.

Run it: `python examples/saga.py` (starts an embedded Restate server). `make demo` runs it too.
"""

from __future__ import annotations

import sys
from pathlib import Path

import restate
from pydantic import BaseModel

import rea

LEDGER: list[str] = []  # stands in for the external systems (each call is idempotent by key)


class Order(BaseModel):
    id: str
    amount: float
    address: str


def reserve_inventory(order: Order, key: str) -> str:
    LEDGER.append(f"reserve {order.id}")
    return f"hold-{order.id}"


def release_inventory(order: Order, key: str) -> None:
    LEDGER.append(f"release {order.id}")


def charge_card(order: Order, key: str) -> str:
    LEDGER.append(f"charge {order.amount}")
    return f"ch-{order.id}"


def refund_card(order: Order, key: str) -> None:
    LEDGER.append(f"refund {order.amount}")


def ship(order: Order, key: str) -> str:
    if not order.address:
        raise restate.TerminalError("no shipping address", status_code=422)
    LEDGER.append(f"ship to {order.address}")
    return f"parcel-{order.id}"


def cancel_shipment(order: Order, key: str) -> None:
    LEDGER.append(f"cancel shipment {order.id}")


checkout = rea.control_plane(restate.Workflow("Checkout"))


@checkout.main()
async def run(ctx: restate.WorkflowContext, order: Order) -> str:
    async with rea.Saga(ctx, "checkout") as saga:
        # Each step: its compensation is registered and the step added BEFORE the action runs.
        await saga.step(
            "reserve",
            reserve_inventory,
            order,
            saga.key("reserve"),
            compensation=release_inventory,
            payload=order,
        )
        await saga.step(
            "charge",
            charge_card,
            order,
            saga.key("charge"),
            compensation=refund_card,
            payload=order,
        )
        return await saga.step(
            "ship", ship, order, saga.key("ship"), compensation=cancel_shipment, payload=order
        )


app = rea.app([checkout])


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
