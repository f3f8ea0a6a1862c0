"""Typed clients calling services, objects and workflows (and a service of another app)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import restate
from pydantic import BaseModel

import rea


class Order(BaseModel):
    id: str
    amount: float


@dataclasses.dataclass
class Receipt:
    order_id: str
    charged: float


class Payload(BaseModel):
    n: int


class Doubled(BaseModel):
    n: int
    doubled: int


billing = restate.Service("CBilling")


@billing.handler()
async def charge(ctx: restate.Context, order: Order) -> Receipt:
    return Receipt(order_id=order.id, charged=order.amount)


@billing.handler()
async def ping(ctx: restate.Context) -> str:
    return "pong"


@billing.handler()
async def refuse(ctx: restate.Context, order: Order) -> Receipt:
    raise restate.TerminalError(f"order {order.id} refused", status_code=422)


counter = restate.VirtualObject("CCounter")


@counter.handler()
async def add(ctx: restate.ObjectContext, n: int) -> int:
    return await rea.State(ctx, "n", int, default=0).update(lambda total: total + n)


@counter.handler()
async def stamp(ctx: restate.ObjectContext) -> None:
    rea.State(ctx, "at", str).set((await rea.now(ctx)).isoformat())


@counter.handler(kind="shared")
async def stamped(ctx: restate.ObjectSharedContext) -> str | None:
    return await rea.State(ctx, "at", str).get()


signup = restate.Workflow("CSignup")


@signup.main()
async def run(ctx: restate.WorkflowContext, email: str) -> Receipt:
    code = await ctx.promise("code", type_hint=str).value()
    return Receipt(order_id=f"{email}:{code}", charged=0.0)


@signup.handler()
async def confirm(ctx: restate.WorkflowSharedContext, code: str) -> str:
    await ctx.promise("code", type_hint=str).resolve(code)
    return f"confirmed {code}"


@signup.handler()
async def resolve(ctx: restate.WorkflowSharedContext, name: str) -> None:
    """Careless on purpose: resolves whichever promise the caller names."""
    await ctx.promise(name, type_hint=str).resolve("from the caller")


BILLING = rea.ServiceClient(charge)
PING = rea.ServiceClient(ping)
REFUSE = rea.ServiceClient(refuse)
COUNTER = rea.ObjectClient(add)
STAMP = rea.ObjectClient(stamp)
SIGNUP = rea.WorkflowClient(run)
REMOTE = rea.ServiceClient[Payload, Doubled]("CRemote", "double")

caller = restate.Service("CCaller")


@caller.handler()
async def by_name_without_types(ctx: restate.Context, workflow_id: str) -> list[Any]:
    """Untyped clients by name: no input means no body (a handler without one)."""
    pong = await rea.ServiceClient("CBilling", "ping").call(ctx)
    confirmed = await rea.WorkflowClient("CSignup").signal(ctx, workflow_id, "confirm", "4711")
    return [pong, confirmed]


FORGOT_KEY_ATTEMPTS: list[str] = []


@caller.handler()
async def forgot_key(ctx: restate.Context) -> list[int]:
    """Wrong on purpose: the object key is missing (3 is taken as the key)."""
    FORGOT_KEY_ATTEMPTS.append(ctx.request().id)
    return [await COUNTER.call(ctx, 3)]  # type: ignore[call-arg]


@caller.handler()
async def call_service(ctx: restate.Context, order: Order) -> Receipt:
    return await BILLING.call(ctx, order)


@caller.handler()
async def call_service_bare(ctx: restate.Context, order: Order) -> Receipt:
    """The bare-SDK twin of call_service, for comparing journals."""
    receipt: Receipt = await ctx.service_call(charge, order)
    return receipt


@caller.handler()
async def futures(ctx: restate.Context) -> list[str]:
    first = BILLING.request_future(ctx, Order(id="f1", amount=1.5))
    second = PING.request_future(ctx)
    receipt = await first
    return [type(receipt).__name__, receipt.order_id, await second]


@caller.handler()
async def send_service(ctx: restate.Context, order: Order) -> str:
    return await BILLING.send(ctx, order).invocation_id()


@caller.handler()
async def refused(ctx: restate.Context) -> str:
    try:
        await REFUSE.call(ctx, Order(id="r1", amount=1))
    except restate.TerminalError as exc:
        return f"{exc.status_code} {exc.message}"
    return "unreachable"


@caller.handler()
async def call_object(ctx: restate.Context, key: str) -> list[int]:
    first = await COUNTER.call(ctx, key, 5)
    second = await COUNTER.request_future(ctx, key, 7)
    COUNTER.send(ctx, key, 100)
    return [first, second]


@caller.handler()
async def delayed(ctx: restate.Context, key: str) -> str:
    sent_at = await rea.now(ctx)
    STAMP.send(ctx, key, delay=timedelta(milliseconds=500))
    return sent_at.isoformat()


@caller.handler()
async def submit(ctx: restate.Context, workflow_id: str) -> str:
    return await SIGNUP.submit(ctx, workflow_id, f"{workflow_id}@example.com").invocation_id()


@caller.handler()
async def signal(ctx: restate.Context, workflow_id: str) -> str:
    return await SIGNUP.signal(ctx, workflow_id, confirm, "4711")


@caller.handler()
async def keyed(ctx: restate.Context, workflow_id: str) -> list[str]:
    """Submit and signal with business idempotency keys; the signal is sent twice."""
    key = rea.idempotency_key("signup", workflow_id)
    submitted = SIGNUP.submit(ctx, workflow_id, f"{workflow_id}@example.com", idempotency_key=key)
    confirm_key = rea.idempotency_key("confirm", workflow_id)
    first = await SIGNUP.signal(ctx, workflow_id, confirm, "4711", idempotency_key=confirm_key)
    second = await SIGNUP.signal(ctx, workflow_id, confirm, "4711", idempotency_key=confirm_key)
    return [await submitted.invocation_id(), first, second]


@caller.handler()
async def attach(ctx: restate.Context, workflow_id: str) -> Receipt:
    return await SIGNUP.attach(ctx, workflow_id)


@caller.handler()
async def output(ctx: restate.Context, workflow_id: str) -> Receipt | None:
    return await SIGNUP.get_output(ctx, workflow_id)


@caller.handler()
async def attach_or_timeout(ctx: restate.Context, workflow_id: str) -> str:
    winner = await restate.select(
        done=SIGNUP.attach_future(ctx, workflow_id), timeout=ctx.sleep(timedelta(milliseconds=300))
    )
    return str(winner[0])


@caller.handler()
async def remote(ctx: restate.Context, n: int) -> str:
    result = await REMOTE.call(ctx, Payload(n=n))
    return f"{type(result).__name__} {result.doubled}"


app = rea.app([billing, counter, signup, caller])


remote_service = restate.Service("CRemote")


@remote_service.handler()
async def double(ctx: restate.Context, payload: Payload) -> Doubled:
    return Doubled(n=payload.n, doubled=payload.n * 2)


remote_app = rea.app([remote_service])
