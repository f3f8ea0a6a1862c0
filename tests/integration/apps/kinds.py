"""One Service, one VirtualObject and one Workflow, for the harness tests."""

from __future__ import annotations

from datetime import timedelta

import restate
from pydantic import BaseModel

greeter = restate.Service("KindsGreeter")


class Person(BaseModel):
    name: str
    age: int


@greeter.handler()
async def greet(ctx: restate.Context, person: Person) -> str:
    years = await ctx.run_typed("next-year", lambda: person.age + 1)
    return f"{person.name} turns {years}"


counter = restate.VirtualObject("KindsCounter")


@counter.handler()
async def add(ctx: restate.ObjectContext, amount: int) -> int:
    total = (await ctx.get("total", type_hint=int) or 0) + amount
    ctx.set("total", total)
    return total


@counter.handler(kind="shared")
async def current(ctx: restate.ObjectSharedContext) -> int:
    return await ctx.get("total", type_hint=int) or 0


approval = restate.Workflow("KindsApproval")


@approval.main()
async def run(ctx: restate.WorkflowContext, item: str) -> str:
    ctx.set("stage", "waiting")
    await ctx.sleep(timedelta(milliseconds=5))
    verdict = await ctx.promise("verdict", type_hint=str).value()
    ctx.set("stage", "done")
    return f"{item}: {verdict}"


@approval.handler()
async def decide(ctx: restate.WorkflowSharedContext, verdict: str) -> None:
    await ctx.promise("verdict", type_hint=str).resolve(verdict)


@approval.handler()
async def stage(ctx: restate.WorkflowSharedContext) -> str:
    return await ctx.get("stage", type_hint=str) or "not started"


app = restate.app([greeter, counter, approval])
