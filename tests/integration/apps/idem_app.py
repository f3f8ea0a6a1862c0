"""A checkout that charges through an idempotency key checked by rea; `mode` picks the policy."""

from __future__ import annotations

from typing import Literal

import restate
from pydantic import BaseModel

import rea
from rea._idempotency import check_key, idempotency_key

CHARGE = "IdemPayments/charge"


class Pay(BaseModel):
    order: str
    key: Literal["business", "invocation", "uuid", "raw_uuid", "none"] = "business"
    mode: str = "strict"
    send: bool = False


payments = restate.Service("IdemPayments")


@payments.handler()
async def charge(ctx: restate.Context, order: str) -> str:
    """The callee: answers with its own invocation id, so callers see whether they shared it."""
    return ctx.request().id


checkout = restate.Service("IdemCheckout")


@checkout.handler()
async def pay(ctx: restate.Context, request: Pay) -> str:
    """Charge `request.order` once, with the kind of key the test asks for."""
    with rea.policy_override(request.mode):
        if request.key == "business":
            key: str | None = idempotency_key("order", request.order, "charge")
        elif request.key == "invocation":
            # Redundant on purpose: no other invocation can ever build the same key.
            key = idempotency_key(ctx.request().id, "charge")
        elif request.key == "uuid":
            key = str(rea.uuid(ctx))
        elif request.key == "raw_uuid":
            key = f"charge-{ctx.uuid()}"
        else:
            key = None
        sent = check_key(key, ctx=ctx, target=CHARGE)
        if request.send:
            handle = ctx.service_send(charge, request.order, idempotency_key=sent)
            return await handle.invocation_id()
        return await ctx.service_call(charge, request.order, idempotency_key=sent)


app = rea.app([payments, checkout])
