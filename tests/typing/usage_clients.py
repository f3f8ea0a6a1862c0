"""Typed usage of rea's clients: this file must pass mypy --strict."""

from __future__ import annotations

import restate
from pydantic import BaseModel

import rea


class Order(BaseModel):
    id: str


class Receipt(BaseModel):
    total: float


svc = restate.Service("TypedSvc")
obj = restate.VirtualObject("TypedObj")
flow = restate.Workflow("TypedFlow")


@svc.handler()
async def create(ctx: restate.Context, order: Order) -> Receipt:
    return Receipt(total=1.0)


@svc.handler()
async def health(ctx: restate.Context) -> str:
    return "ok"


@obj.handler()
async def add(ctx: restate.ObjectContext, n: int) -> int:
    return n


@flow.main()
async def run(ctx: restate.WorkflowContext, email: str) -> Receipt:
    return Receipt(total=0)


@flow.handler()
async def approve(ctx: restate.WorkflowSharedContext, note: str) -> bool:
    return True


async def caller(ctx: restate.Context) -> None:
    receipt: Receipt = await rea.ServiceClient(create).call(ctx, Order(id="1"))
    status: str = await rea.ServiceClient(health).call(ctx)
    total: int = await rea.ObjectClient(add).call(ctx, "key", 3)
    future = rea.ObjectClient(add).request_future(ctx, "key", 4)
    later: int = await future
    by_name = rea.ServiceClient[Order, Receipt]("Orders", "create")
    remote: Receipt = await by_name.call(ctx, Order(id="2"), idempotency_key="order-2")
    workflow = rea.WorkflowClient(run)
    workflow.submit(ctx, "wf-1", "a@b.c")
    done: Receipt = await workflow.attach(ctx, "wf-1")
    maybe: Receipt | None = await workflow.get_output(ctx, "wf-1")
    approved: bool = await workflow.signal(ctx, "wf-1", approve, "fine")
    print(receipt, status, total, later, remote, done, maybe, approved)
