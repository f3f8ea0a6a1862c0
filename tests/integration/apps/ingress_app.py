"""Services the ingress client integration tests call from outside Restate."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import restate
from pydantic import BaseModel

import rea
from rea.ingress import IngressClient, SyncIngressClient
from tests.integration.apps.clients_app import Order, Receipt

__all__ = ["Order", "Receipt", "app"]

shop = restate.Service("IngShop")


@shop.handler()
async def charge(ctx: restate.Context, order: Order) -> Receipt:
    return Receipt(order_id=order.id, charged=order.amount)


@shop.handler()
async def ping(ctx: restate.Context) -> str:
    return "pong"


@shop.handler()
async def receipts(ctx: restate.Context, orders: list[Order]) -> list[Receipt]:
    return [Receipt(order_id=o.id, charged=o.amount) for o in orders]


@shop.handler()
async def greet(ctx: restate.Context, name: str | None) -> str:
    return f"hello {name or 'stranger'}"


@shop.handler()
async def refuse(ctx: restate.Context, order: Order) -> Receipt:
    raise restate.TerminalError(
        f"order {order.id} refused", status_code=422, metadata={"reason": "limit"}
    )


@shop.handler()
async def slow(ctx: restate.Context, millis: int) -> int:
    await ctx.sleep(timedelta(milliseconds=millis))
    return millis


@shop.handler()
async def stamp(ctx: restate.Context) -> datetime:
    """When it ran (journaled, so replays agree)."""
    return await rea.now(ctx)


@shop.handler()
async def wait_for_awakeable(ctx: restate.Context, mailbox: str) -> str:
    """Publish an awakeable id to the mailbox object `mailbox`, then wait for its value."""
    awakeable_id, promise = ctx.awakeable(type_hint=str)
    ctx.object_send(post, key=mailbox, arg=awakeable_id)
    return await promise


mailboxes = restate.VirtualObject("IngMailbox")


@mailboxes.handler()
async def post(ctx: restate.ObjectContext, message: str) -> None:
    rea.State(ctx, "message", str, default="").set(message)


@mailboxes.handler(kind="shared")
async def read(ctx: restate.ObjectSharedContext) -> str:
    return await rea.State(ctx, "message", str, default="").get()


counters = restate.VirtualObject("IngCounter")


@counters.handler()
async def add(ctx: restate.ObjectContext, n: int) -> int:
    return await rea.State(ctx, "n", int, default=0).update(lambda total: total + n)


@counters.handler(kind="shared")
async def total(ctx: restate.ObjectSharedContext) -> int:
    return await rea.State(ctx, "n", int, default=0).get()


signup = restate.Workflow("IngSignup")


@signup.main()
async def run(ctx: restate.WorkflowContext, email: str) -> Receipt:
    code = await ctx.promise("code", type_hint=int).value()
    return Receipt(order_id=f"{email}:{code}", charged=0.0)


@signup.handler()
async def confirm(ctx: restate.WorkflowSharedContext, code: int) -> str:
    await ctx.promise("code", type_hint=int).resolve(code)
    return f"confirmed {code}"


@signup.handler()
async def status(ctx: restate.WorkflowSharedContext) -> str:
    code = await ctx.promise("code", type_hint=int).peek()
    return "waiting" if code is None else f"confirmed {code}"


hidden = restate.Service("IngHidden")


@hidden.handler(ingress_private=True)
async def secret(ctx: restate.Context) -> str:
    return "secret"


class Misuse(BaseModel):
    ingress_url: str
    sync: bool = False


misuse = restate.Service("IngMisuse")


@misuse.handler()
async def call_ingress(ctx: restate.Context, attempt: Misuse) -> str:
    """Use an ingress client from inside a handler, which the guard forbids under STRICT."""
    with rea.policy_override("strict"):
        if attempt.sync:
            with SyncIngressClient(attempt.ingress_url) as sync_client:
                # Run off the loop: the request never leaves (the guard raises first) anyway.
                return await asyncio.to_thread(sync_client.service(ping).call)
        async with IngressClient(attempt.ingress_url) as client:
            return await client.service(ping).call()


app = rea.app([shop, mailboxes, counters, signup, hidden, misuse])
