"""Workflows reporting progress with rea.WorkflowStatus, a hand-written twin, a configured one."""

from __future__ import annotations

from datetime import timedelta

import restate
from pydantic import BaseModel

import rea
from rea.workflow._config import WorkflowConfig
from rea.workflow._status import StatusReport, StatusStep, WorkflowStatus


class Progress(BaseModel):
    stage: str = "new"
    items: int = 0


# -- a sign-up whose run waits on a promise, reporting progress -----------------------------------
signup = restate.Workflow("StatusSignup")
PROGRESS = WorkflowStatus(Progress, workflow=signup)


@signup.main()
async def run(ctx: restate.WorkflowContext, email: str) -> str:
    await PROGRESS.set(ctx, Progress(stage="started"))
    await PROGRESS.step(ctx, "email_sent", stage="waiting", items=1)
    clicked = await ctx.promise("click", type_hint=str).value()
    await PROGRESS.step(ctx, "confirmed", stage="done", items=2)
    return f"{email} confirmed by {clicked}"


@signup.handler()
async def click(ctx: restate.WorkflowSharedContext, who: str) -> None:
    await ctx.promise("click", type_hint=str).resolve(who)


@signup.handler()
async def stage(ctx: restate.WorkflowSharedContext) -> str:
    """The workflow's own shared handler reads the status too."""
    report = await PROGRESS.get(ctx)
    return "none" if report.progress is None else report.progress.stage


# -- the same run, with the status written by hand -------------------------------------------------
twin = restate.Workflow("StatusTwin")
_KEY = "_rea.status"
Report = StatusReport[Progress]


@twin.main(name="run")
async def twin_run(ctx: restate.WorkflowContext, email: str) -> str:
    started = await rea.now(ctx)
    ctx.set(
        _KEY, Report(progress=Progress(stage="started"), started_at=started, updated_at=started)
    )
    at = await rea.now(ctx)
    steps = [StatusStep(name="email_sent", at=at)]
    waiting = Progress(stage="waiting", items=1)
    ctx.set(_KEY, Report(progress=waiting, steps=steps, started_at=started, updated_at=at))
    clicked = await ctx.promise("click", type_hint=str).value()
    at = await rea.now(ctx)
    steps = [*steps, StatusStep(name="confirmed", at=at)]
    done = Progress(stage="done", items=2)
    ctx.set(_KEY, Report(progress=done, steps=steps, started_at=started, updated_at=at))
    return f"{email} confirmed by {clicked}"


@twin.handler(name="click")
async def twin_click(ctx: restate.WorkflowSharedContext, who: str) -> None:
    await ctx.promise("click", type_hint=str).resolve(who)


# -- a configured workflow: retention, timeouts, state-size warning --------------------------------
class Note(BaseModel):
    text: str = ""


class Blob(BaseModel):
    size: int
    strict: bool = False


configured = restate.Workflow("StatusConfigured")
BLOB = rea.StateKey("blob", str, default="")
NOTE = WorkflowStatus(Note, workflow=configured)
CONFIG = WorkflowConfig(
    workflow_retention=timedelta(seconds=2),
    journal_retention=timedelta(hours=2),
    idempotency_retention=timedelta(hours=3),
    inactivity_timeout=timedelta(seconds=30),
    abort_timeout=timedelta(minutes=1),
    state_size_warning=200,
)


@configured.main()
async def configured_run(ctx: restate.WorkflowContext, blob: Blob) -> int:
    state = BLOB.bind(ctx)
    if blob.strict:
        with rea.policy_override("strict"):
            state.set("x" * blob.size)
        return blob.size
    # WARN explicitly: under CI the default policy is STRICT.
    with rea.policy_override("warn"):
        state.set("x" * blob.size)
        await state.update(lambda value: value + "y")  # the same key again: no second warning
        await NOTE.update(ctx, text="n" * blob.size)
    return len(await state.get())


app = rea.app([signup, twin, configured], workflows={configured: CONFIG})
