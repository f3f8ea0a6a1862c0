"""Handlers that break Restate's rules on purpose, one per guard; `mode` picks the policy."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import restate
from pydantic import BaseModel
from restate.exceptions import RetryableError

import rea

#: Outcomes of leaked tasks, keyed by invocation id (the app runs in the test's process).
LEAKED: dict[str, str] = {}


class Attempt(BaseModel):
    mode: str
    how: str = "rea"


counters = restate.VirtualObject("GuardCounter")


@counters.handler(kind="shared")
async def shared_write(ctx: restate.ObjectSharedContext, attempt: Attempt) -> str:
    with rea.policy_override(attempt.mode):
        if attempt.how == "raw":
            ctx.set("n", 1)  # type: ignore[attr-defined]
        else:
            rea.State(ctx, "n", int, default=0).set(1)
        await rea.run(ctx, "after", lambda: "ok")
    return "proceeded"


@counters.handler()
async def bump(ctx: restate.ObjectContext) -> int:
    return await rea.State(ctx, "n", int, default=0).update(lambda n: n + 1)


@counters.handler(kind="shared")
async def peek(ctx: restate.ObjectSharedContext) -> int:
    return await rea.State(ctx, "n", int, default=0).get()


service = restate.Service("GuardService")


@service.handler()
async def stateless_write(ctx: restate.Context, mode: str) -> str:
    with rea.policy_override(mode):
        ctx.set("n", 1)  # type: ignore[attr-defined]
        await rea.run(ctx, "after", lambda: "ok")
    return "proceeded"


@service.handler()
async def ctx_in_run(ctx: restate.Context, mode: str) -> str:
    with rea.policy_override(mode):
        # Wrong on purpose: the action uses ctx, which a replay would never see.
        drawn = await rea.run(ctx, "draw", lambda: ctx.random().random())
        await ctx.sleep(timedelta(milliseconds=1))
    return f"proceeded {0 <= drawn < 1}"


@service.handler()
async def rea_api_in_run(ctx: restate.Context, mode: str) -> str:
    with rea.policy_override(mode):

        async def action() -> str:
            return str(rea.uuid(ctx))

        await rea.run(ctx, "nested", action)
    return "proceeded"


@service.handler()
async def after_return(ctx: restate.Context, mode: str) -> str:
    invocation = ctx.request().id
    with rea.policy_override(mode):

        async def leaked() -> None:
            await asyncio.sleep(0.2)
            try:
                ctx.random()
            except rea.PolicyViolation as exc:
                LEAKED[invocation] = f"PolicyViolation {exc.rule}"
            else:
                LEAKED[invocation] = "proceeded"

        # Wrong on purpose: the task outlives the handler.
        asyncio.get_running_loop().create_task(leaked())
    return invocation


@service.handler()
async def retry_storm(ctx: restate.Context, mode: str) -> str:
    def always_later() -> str:
        raise RetryableError("try later", retry_after=timedelta(milliseconds=10))

    with rea.policy_override(mode):
        await ctx.run_typed("storm", always_later, restate.RunOptions())
    return "unreachable"


data = rea.data_plane(restate.Service("GuardData"))


@data.handler()
async def orchestrate(ctx: restate.Context, mode: str) -> str:
    with rea.policy_override(mode):
        awakeable_id, _ = ctx.awakeable()
    return "proceeded" if awakeable_id else "no id"


control = rea.control_plane(restate.Service("GuardControl"))


@control.handler()
async def coordinate(ctx: restate.Context) -> str:
    awakeable_id, _ = ctx.awakeable()
    return "proceeded" if awakeable_id else "no id"


app = rea.app([counters, service, data, control])
