"""Calling Restate from outside: rea.IngressClient (async) and rea.SyncIngressClient.

A backend process (a web view, a script, a cron job) calls handlers, sends with a delay,
deduplicates with idempotency keys, drives a workflow, completes an awakeable and cancels an
invocation. Run it: `python examples/ingress.py` (starts an embedded Restate server).
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import timedelta
from pathlib import Path

import restate
from pydantic import BaseModel

import rea
from rea.ingress import IngressClient, InvocationFailed, SyncIngressClient


class Order(BaseModel):
    id: str
    amount: float


class Receipt(BaseModel):
    order_id: str
    charged: float


payments = restate.Service("ExIngressPayments")


@payments.handler()
async def charge(ctx: restate.Context, order: Order) -> Receipt:
    if order.amount <= 0:
        raise restate.TerminalError(f"nothing to charge for {order.id}", status_code=422)
    return Receipt(order_id=order.id, charged=order.amount)


@payments.handler()
async def remind(ctx: restate.Context, order_id: str) -> str:
    return f"reminder for {order_id}"


@payments.handler()
async def approval(ctx: restate.Context, order_id: str) -> str:
    """Wait for a human: the awakeable id goes to the approvals inbox."""
    awakeable_id, decision = ctx.awakeable(type_hint=str)
    ctx.object_send(deliver, key="inbox", arg=awakeable_id)
    return f"{order_id}: {await decision}"


@payments.handler()
async def long_job(ctx: restate.Context) -> str:
    await ctx.sleep(timedelta(hours=1))
    return "done"


approvals = restate.VirtualObject("ExIngressApprovals")


@approvals.handler()
async def deliver(ctx: restate.ObjectContext, awakeable_id: str) -> None:
    rea.State(ctx, "pending", str, default="").set(awakeable_id)


@approvals.handler(kind="shared")
async def pending(ctx: restate.ObjectSharedContext) -> str:
    return await rea.State(ctx, "pending", str, default="").get()


signup = restate.Workflow("ExIngressSignup")


@signup.main()
async def run(ctx: restate.WorkflowContext, email: str) -> str:
    code = await ctx.promise("code", type_hint=int).value()
    return f"{email} verified with {code}"


@signup.handler()
async def verify(ctx: restate.WorkflowSharedContext, code: int) -> None:
    await ctx.promise("code", type_hint=int).resolve(code)


app = rea.app([payments, approvals, signup])


async def backend(ingress_url: str, admin_url: str) -> list[str]:
    """What an async web backend would do; every result is typed from the handlers."""
    seen: list[str] = []
    async with IngressClient(ingress_url, admin_url=admin_url) as client:
        billing = client.service(charge)
        # An idempotency key makes the call safe to retry and runs the charge only once.
        receipt = await billing.call(Order(id="A-1", amount=42.0), idempotency_key="A-1:charge")
        again = await billing.call(Order(id="A-1", amount=42.0), idempotency_key="A-1:charge")
        seen.append(f"charged {receipt.charged} (repeat: {again == receipt})")
        try:
            await billing.call(Order(id="A-2", amount=0))
        except InvocationFailed as error:
            seen.append(f"refused: [{error.code}] {error.message}")

        sent = await client.service(remind).send("A-1", delay="200ms")
        seen.append(f"reminder due at {sent.execution_time is not None}")
        seen.append(await client.attach(sent.invocation_id, str))

        flow = client.workflow(run)
        await flow.submit("user-7", "ann@example.com")
        seen.append(f"verified yet: {(await flow.output('user-7')).ready}")
        await flow.signal("user-7", verify, 4711)
        seen.append(await flow.attach("user-7"))

        job = await client.service(long_job).send()
        seen.append(f"cancelled: {await client.cancel(job.invocation_id)}")
    return seen


def approve(ingress_url: str) -> str:
    """What a blocking script would do: find the pending approval and approve it."""
    with SyncIngressClient(ingress_url) as client:
        waiting = client.service(approval).send("A-1")
        inbox = client.object(pending)
        awakeable_id = inbox.call("inbox")
        while not awakeable_id:  # the handler delivers it asynchronously
            time.sleep(0.05)
            awakeable_id = inbox.call("inbox")
        client.resolve_awakeable(awakeable_id, "approved")
        return str(client.attach(waiting.invocation_id, str))


def main() -> int:
    from rea.testing import Harness

    with Harness(app) as h:
        lines = asyncio.run(backend(h.ingress_url, h.admin_url))
        lines.append(approve(h.ingress_url))
    for line in lines:
        print(line)
    expected = [
        "charged 42.0 (repeat: True)",
        "refused: [422] nothing to charge for A-2",
        "reminder due at True",
        "reminder for A-1",
        "verified yet: False",
        "ann@example.com verified with 4711",
        "cancelled: True",
        "A-1: approved",
    ]
    return 0 if lines == expected else 1


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main())
