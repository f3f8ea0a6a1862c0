"""Hooks on a real server (the app on a thread of the test process, always-replay on)."""

from __future__ import annotations

import threading
from datetime import timedelta

import restate

import rea
from rea.observability import AttemptFinished, CallSent, Hooks, Observability, RunFinished
from rea.testing import Harness, RestateServer


class Recorder(Hooks):
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.attempts: list[AttemptFinished] = []
        self.runs: list[RunFinished] = []
        self.calls: list[CallSent] = []

    def attempt_finished(self, event: AttemptFinished) -> None:
        with self.lock:
            self.attempts.append(event)

    def run_finished(self, event: RunFinished) -> None:
        with self.lock:
            self.runs.append(event)

    def call_sent(self, event: CallSent) -> None:
        with self.lock:
            self.calls.append(event)


class Broken(Hooks):
    def attempt_finished(self, event: AttemptFinished) -> None:
        raise RuntimeError("a bug in a hook")

    def run_finished(self, event: RunFinished) -> None:
        raise RuntimeError("a bug in a hook")


hooked = restate.Service("Hooked")
echo = restate.Service("HookedEcho")


@echo.handler()
async def say(ctx: restate.Context, text: str) -> str:
    return text


@hooked.handler()
async def work(ctx: restate.Context, text: str) -> str:
    said = await rea.ServiceClient(say).call(ctx, text)
    await ctx.sleep(timedelta(milliseconds=1))
    return await rea.run(ctx, "upper", str.upper, said)


def test_hooks_see_each_real_execution_once_and_a_broken_hook_changes_nothing() -> None:
    """Three invocations: one run and one call each, however many replays; attempts end in
    success once per invocation; a hook that raises neither fails nor retries anything."""
    recorder = Recorder()
    app = rea.app(
        [hooked, echo], observability=Observability(metrics=False, hooks=[Broken(), recorder])
    )
    with RestateServer(always_replay=True) as server, Harness(app, server=server) as h:
        for word in ("a", "b", "c"):
            assert h.client.post("/Hooked/work", json=word).json() == word.upper()
    work_attempts = [e for e in recorder.attempts if e.handler == "work"]
    assert [e.outcome for e in work_attempts].count("success") == 3
    assert {e.outcome for e in work_attempts} <= {"success", "suspended"}
    assert all(e.invocation_id.startswith("inv_") for e in work_attempts)
    assert [(e.name, e.outcome) for e in recorder.runs] == [("upper", "success")] * 3
    assert [(e.target_service, e.target_handler, e.kind) for e in recorder.calls] == [
        ("HookedEcho", "say", "call")
    ] * 3
