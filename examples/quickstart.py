"""A Service, a VirtualObject and a Workflow: the smallest app that shows all three kinds.

Serve it with `rea dev examples.quickstart:app`, or run `python examples/demo.py`.
"""

from __future__ import annotations

from datetime import timedelta

import restate
from pydantic import BaseModel

greeter = restate.Service("Greeter")


class Greeting(BaseModel):
    name: str
    excited: bool = False


@greeter.handler()
async def greet(ctx: restate.Context, greeting: Greeting) -> str:
    # Side effects go through ctx.run so that a retry replays the result instead of redoing it.
    suffix = await ctx.run_typed("punctuation", lambda: "!" if greeting.excited else ".")
    return f"Hello, {greeting.name}{suffix}"


counter = restate.VirtualObject("Counter")


@counter.handler()
async def add(ctx: restate.ObjectContext, amount: int) -> int:
    total = (await ctx.get("total", type_hint=int) or 0) + amount
    ctx.set("total", total)
    return total


@counter.handler(kind="shared")
async def current(ctx: restate.ObjectSharedContext) -> int:
    return await ctx.get("total", type_hint=int) or 0


signup = restate.Workflow("Signup")


@signup.main()
async def run(ctx: restate.WorkflowContext, email: str) -> str:
    ctx.set("status", "waiting for confirmation")
    # A durable timer and a durable promise: the workflow survives restarts while it waits.
    await ctx.sleep(timedelta(milliseconds=10))
    code = await ctx.promise("confirmation", type_hint=str).value()
    ctx.set("status", "confirmed")
    return f"{email} confirmed with code {code}"


@signup.handler()
async def confirm(ctx: restate.WorkflowSharedContext, code: str) -> None:
    await ctx.promise("confirmation", type_hint=str).resolve(code)


@signup.handler()
async def status(ctx: restate.WorkflowSharedContext) -> str:
    return await ctx.get("status", type_hint=str) or "not started"


app = restate.app([greeter, counter, signup])
