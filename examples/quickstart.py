"""A small shop on `rea.app`: typed state, validated input, a guard, typed calls, a workflow.

Serve it with `rea dev examples.quickstart:app`, or run `python examples/demo.py`, which also
adds the saga of `examples/saga.py` and drives everything with `rea.SyncIngressClient`.
"""

from __future__ import annotations

from datetime import timedelta

import restate
from pydantic import BaseModel, Field

import rea


class Greeting(BaseModel):
    name: str = Field(min_length=1)
    excited: bool = False


greeter = rea.data_plane(restate.Service("Greeter"))


@greeter.handler()
async def greet(ctx: restate.Context, greeting: Greeting) -> str:
    # A bad Greeting never gets here: rea answers 400 naming the field, after one attempt.
    suffix = await rea.run(ctx, "punctuation", lambda: "!" if greeting.excited else ".")
    return f"Hello, {greeting.name}{suffix}"


TOTAL = rea.StateKey("total", int, default=0)  # typed state, declared once
counter = restate.VirtualObject("Counter")


@counter.handler()
async def add(ctx: restate.ObjectContext, amount: int) -> int:
    return await TOTAL.bind(ctx).update(lambda total: total + amount)


@counter.handler(kind="shared")
async def current(ctx: restate.ObjectSharedContext) -> int:
    return await TOTAL.bind(ctx).get()


@counter.handler(kind="shared")
async def reset(ctx: restate.ObjectSharedContext) -> None:
    # Wrong on purpose: a shared handler cannot write state. mypy reports it; at run time
    # the state.write_in_shared guard does (STRICT: a 500 naming the fix; WARN: a warning).
    TOTAL.bind(ctx).set(0)


GREET = rea.ServiceClient(greet)  # typed from the handler: Greeting in, str out
ADD = rea.ObjectClient(add)

signup = rea.control_plane(restate.Workflow("Signup"))


@signup.main()
async def run(ctx: restate.WorkflowContext, email: str) -> str:
    welcome = await GREET.call(ctx, Greeting(name=email.split("@")[0]))  # a typed call
    await ADD.call(ctx, "signups", 1)
    await ctx.sleep(timedelta(milliseconds=10))  # a durable timer
    code = await ctx.promise("confirmation", type_hint=str).value()  # a durable promise
    return f"{welcome} {email} confirmed with code {code}"


@signup.handler()
async def confirm(ctx: restate.WorkflowSharedContext, code: str) -> None:
    await ctx.promise("confirmation", type_hint=str).resolve(code)


app = rea.app([greeter, counter, signup])
