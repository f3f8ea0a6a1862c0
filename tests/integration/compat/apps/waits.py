"""Awakeables resolved through the ingress, cancellation and kill of blocked invocations.

A blocked handler hands its awakeable id to `CompatHolder` (same key), so a test knows when it
is waiting and can resolve it from outside.
"""

from __future__ import annotations

from typing import Any

import restate


def build() -> list[restate.VirtualObject]:
    """`CompatHolder`, `CompatWaiter`, `CompatBlocker` and the two runners that call it."""
    holder = restate.VirtualObject("CompatHolder")

    @holder.handler()
    async def hold(ctx: restate.ObjectContext, awakeable_id: str) -> None:
        ctx.set("id", awakeable_id)

    @holder.handler(name="get", kind="shared")
    async def get_id(ctx: restate.ObjectSharedContext) -> str | None:
        return await ctx.get("id")

    @holder.handler()
    async def unlock(ctx: restate.ObjectContext, payload: str) -> None:
        awakeable_id = await ctx.get("id")
        if awakeable_id is None:
            raise restate.TerminalError("No awakeable is registered")
        ctx.resolve_awakeable(awakeable_id, payload)

    waiter = restate.VirtualObject("CompatWaiter")

    @waiter.handler(name="waitDict")
    async def wait_dict(ctx: restate.ObjectContext) -> dict[str, Any]:
        awakeable_id, value = ctx.awakeable()
        await ctx.object_call(hold, key=ctx.key(), arg=awakeable_id)
        return await value

    @waiter.handler(name="waitText")
    async def wait_text(ctx: restate.ObjectContext) -> str:
        awakeable_id, value = ctx.awakeable(type_hint=str)
        ctx.object_send(hold, key=ctx.key(), arg=awakeable_id)
        try:
            return await value
        except restate.TerminalError as exc:
            return f"rejected ({exc.status_code}): {exc.message}"

    blocker = restate.VirtualObject("CompatBlocker")

    @blocker.handler()
    async def block(ctx: restate.ObjectContext) -> str:
        awakeable_id, never = ctx.awakeable()
        ctx.object_send(hold, key=ctx.key(), arg=awakeable_id)
        try:
            await never
        except restate.TerminalError as exc:
            status = exc.status_code
            done = await ctx.run_typed("cleanup", lambda: f"cleaned up after {status}")
            ctx.set("cleanup", done)
            raise
        return "unblocked"

    @blocker.handler(name="isUnlocked")
    async def is_unlocked(ctx: restate.ObjectContext) -> None:
        return None

    @blocker.handler(kind="shared")
    async def cleanup(ctx: restate.ObjectSharedContext) -> str | None:
        return await ctx.get("cleanup")

    cancel_runner = restate.VirtualObject("CompatCancelRunner")

    @cancel_runner.handler()
    async def start(ctx: restate.ObjectContext) -> str:
        try:
            return await ctx.object_call(block, key=ctx.key(), arg=None)
        except restate.TerminalError as exc:
            ctx.set("state", exc.status_code)
            return f"caught {exc.status_code}: {exc.message}"

    kill_runner = restate.VirtualObject("CompatKillRunner")

    @kill_runner.handler(name="startCallTree")
    async def start_call_tree(ctx: restate.ObjectContext) -> None:
        await ctx.object_call(block, key=ctx.key(), arg=None)

    return [holder, waiter, blocker, cancel_runner, kill_runner]
