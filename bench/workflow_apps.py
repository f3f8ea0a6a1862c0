"""The two apps `bench/workflow.py` compares: rea.race + rea.WorkflowStatus vs by hand."""

from __future__ import annotations

from datetime import timedelta

import restate
from pydantic import BaseModel

import rea

DEADLINE = timedelta(seconds=30)


class Progress(BaseModel):
    stage: str


def work(n: int) -> str:
    return f"done {n}"


rea_flow = restate.Workflow("ReaFlow")
STATUS = rea.WorkflowStatus(Progress, workflow=rea_flow)


@rea_flow.main()
async def run(ctx: restate.WorkflowContext, n: int) -> str:
    await STATUS.step(ctx, "started", stage="working")
    outcome = await rea.race(ctx, rea.run_async(ctx, "work", work, n), timeout=DEADLINE)
    await STATUS.step(ctx, "finished", stage="done")
    return outcome.unwrap()


bare_flow = restate.Workflow("BareFlow")


async def by_hand(ctx: restate.WorkflowContext, n: int) -> str:
    """The same workflow by hand: a timestamped status in state, a run raced against a timer."""
    options: restate.RunOptions[str] = rea.RetryPolicy().run_options()
    started = await ctx.time()
    steps = [{"name": "started", "at": started}]
    status = {"progress": {"stage": "working"}, "steps": steps, "started_at": started}
    ctx.set("status", {**status, "updated_at": started})
    future = ctx.run_typed("work", work, options, n)
    name, value = await restate.select(done=future, timeout=ctx.sleep(DEADLINE))
    if name != "done":
        raise restate.TerminalError("timed out", status_code=408)
    finished = await ctx.time()
    steps.append({"name": "finished", "at": finished})
    ctx.set("status", {**status, "progress": {"stage": "done"}, "updated_at": finished})
    result: str = value
    return result


@bare_flow.main(name="run")
async def run_by_hand(ctx: restate.WorkflowContext, n: int) -> str:
    return await by_hand(ctx, n)


hand_flow = restate.Workflow("HandFlow")


@hand_flow.main(name="run")
async def run_by_hand_on_rea(ctx: restate.WorkflowContext, n: int) -> str:
    return await by_hand(ctx, n)


# The run-output helpers are a feature of their own (rea.WorkflowClient.attach): off here, so
# that both sides do the same work and journal the same entries.
rea_app = rea.app([rea_flow], workflow_output=False)
bare_app = restate.app([bare_flow])
# The hand-written workflow under rea.app: what the helpers alone cost, rea.app's own per-attempt
# cost aside (bench/clients.py measures that one against the bare SDK).
hand_app = rea.app([hand_flow], workflow_output=False)
