"""A sign-up workflow with rea's workflow helpers: status, a race, a bounded poll, a deadline.

Run it: `python examples/workflow.py` (starts an embedded Restate server, with test time scaled
so that the day-long waits below take a few seconds). The tests run it too.
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from pathlib import Path

import restate
from pydantic import BaseModel

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import rea
from rea.testing import Harness


class Progress(BaseModel):
    stage: str = "new"
    checks: int = 0


signup = rea.control_plane(restate.Workflow("Onboarding"))
PROGRESS = rea.WorkflowStatus(Progress, workflow=signup)  # rea.app adds a `status` handler


def account_ready(email: str, attempt: int) -> bool:
    return attempt >= 2  # stands for polling another system: ready on the third look


@signup.main()
async def run(ctx: restate.WorkflowContext, email: str) -> str:
    await PROGRESS.step(ctx, "started", stage="waiting for the click")
    clicked = await rea.race(ctx, ctx.promise("clicked", type_hint=str).value(),
                             timeout=timedelta(days=3))  # fmt: skip
    if clicked.timed_out:
        await PROGRESS.step(ctx, "expired", stage="expired")
        return f"{email}: the link expired"
    async for attempt in rea.loop(ctx, max_iterations=10, every=timedelta(hours=1)):
        ready = await rea.run(ctx, "account ready?", account_ready, email, attempt)
        await PROGRESS.update(ctx, checks=attempt + 1)
        if ready:
            break
    await rea.sleep_until(ctx, await rea.now(ctx) + timedelta(days=1))  # the welcome mail
    await PROGRESS.step(ctx, "welcomed", stage="done")
    return f"{email}: welcome"


@signup.handler()
async def click(ctx: restate.WorkflowSharedContext, code: str) -> None:
    await ctx.promise("clicked", type_hint=str).resolve(code)


app = rea.app(
    [signup], workflows={signup: rea.WorkflowConfig(workflow_retention=timedelta(days=7))}
)


def main() -> int:
    # Test time: a day of waiting is a second here (durations are scaled before they are journaled).
    with Harness(app, time_scale=1 / 86_400) as h, rea.SyncIngressClient(h.ingress_url) as client:
        flow = client.workflow(run)
        flow.submit("ada", "ada@example.com")
        deadline = time.monotonic() + 10
        while (status := flow.status("ada", PROGRESS)).progress is None:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        print(f"status: {status.progress.stage if status.progress else None}")
        flow.signal("ada", click, "4711")
        result = flow.attach("ada")
        final = flow.status("ada", PROGRESS)
        assert final.progress is not None
        print(f"result: {result}")
        print(f"status: {final.progress.stage}, {final.progress.checks} checks, steps "
              f"{[s.name for s in final.steps]}")  # fmt: skip
        flow.submit("bob", "bob@example.com")  # nobody clicks: 3 days pass in 3 seconds
        late = flow.attach("bob")
        print(f"result: {late}")
    ok = result == "ada@example.com: welcome" and late == "bob@example.com: the link expired"
    return 0 if ok and final.progress.checks == 3 else 1


if __name__ == "__main__":
    sys.exit(main())
