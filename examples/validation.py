"""Validated handler input: a dataclass in, ``list[Model]`` out, and a 400 for bad input.

Serve it with `rea dev examples.validation:app`, or run `python examples/validation.py` to call
it on an embedded Restate server.
"""

from __future__ import annotations

import dataclasses
import sys

import restate
from pydantic import BaseModel, Field

import rea
from rea.testing import Harness


@dataclasses.dataclass
class OrderLine:
    sku: str
    quantity: int
    unit_price: float


@dataclasses.dataclass
class Order:
    customer: str
    lines: list[OrderLine]


class Invoice(BaseModel):
    sku: str
    amount: float = Field(ge=0)


billing = restate.Service("Billing")


@billing.handler()
async def invoice(ctx: restate.Context, order: Order) -> list[Invoice]:
    # `order` is an Order (not a dict) whose fields were validated before this line ran.
    return [Invoice(sku=line.sku, amount=line.quantity * line.unit_price) for line in order.lines]


app = rea.app([billing])


def main() -> int:
    """Call the handler once with good input and once with bad input."""
    good = {"customer": "Ada", "lines": [{"sku": "tea", "quantity": 2, "unit_price": 3.5}]}
    bad = {"customer": "Ada", "lines": [{"sku": "tea", "quantity": "two", "unit_price": 3.5}]}
    with Harness(app) as h:
        ok = h.client.post("/Billing/invoice", json=good)
        print(f"good input -> HTTP {ok.status_code}: {ok.json()}")
        rejected = h.client.post("/Billing/invoice", json=bad)
        print(f"bad input  -> HTTP {rejected.status_code}: {rejected.json()['message']}")
    return 0 if (ok.status_code, rejected.status_code) == (200, 400) else 1


if __name__ == "__main__":
    sys.exit(main())
