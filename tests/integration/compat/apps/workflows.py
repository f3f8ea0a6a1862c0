"""A workflow that blocks on a durable promise, as the SDK's BlockAndWaitWorkflow does."""

from __future__ import annotations

import restate


def build() -> list[restate.Workflow]:
    """The `CompatWorkflow` workflow."""
    workflow = restate.Workflow("CompatWorkflow")

    @workflow.main()
    async def run(ctx: restate.WorkflowContext, text: str) -> str:
        ctx.set("my-state", text)
        output = await ctx.promise("durable-promise").value()
        peek = await ctx.promise("durable-promise").peek()
        if peek is None:
            raise restate.TerminalError("Durable promise should be completed")
        return f"{text} -> {output}"

    @workflow.handler()
    async def unblock(ctx: restate.WorkflowSharedContext, output: str) -> None:
        await ctx.promise("durable-promise").resolve(output)

    @workflow.handler()
    async def reject(ctx: restate.WorkflowSharedContext, reason: str) -> None:
        await ctx.promise("durable-promise").reject(reason, code=422)

    @workflow.handler(name="getState")
    async def get_state(ctx: restate.WorkflowSharedContext, output: str) -> str | None:
        # Callers send no body: the parameter is there only because the SDK's service has it.
        return await ctx.get("my-state")

    @workflow.handler()
    async def peek(ctx: restate.WorkflowSharedContext) -> str | None:
        return await ctx.promise("durable-promise").peek()

    return [workflow]
