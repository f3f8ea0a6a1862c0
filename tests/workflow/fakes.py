"""A stand-in handler context for the workflow helpers' unit tests (no server, no SDK VM).

Its futures are real `ServerDurableFuture`s (so rea's checks accept them) whose values come from
plain coroutines; `restate.wait_completed` is replaced by one that reports the futures whose
handles the test marked done, in argument order, as the SDK does.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import restate
from restate import DurablePromise, TerminalError
from restate.server_context import ServerDurableFuture

import rea
from rea import _invocation
from rea._invocation import InvocationState


class FakePromise(DurablePromise[Any]):
    """A workflow promise whose value future is given."""

    def __init__(self, name: str, future: ServerDurableFuture[Any]) -> None:
        super().__init__(name)
        self.future = future

    def value(self) -> ServerDurableFuture[Any]:  # type: ignore[override]
        return self.future


class FakeContext:
    """Records timers, hands out futures, and decides which of them are complete."""

    def __init__(self, *, headers: dict[str, str] | None = None) -> None:
        self.sleeps: list[timedelta] = []
        self.done: set[int] = set()
        self.headers = dict(headers or {})
        self._handles = 0

    def future(
        self, value: Any = None, *, error: TerminalError | None = None, done: bool = False
    ) -> ServerDurableFuture[Any]:
        """A future of this context with `value` (or failing with `error`)."""
        self._handles += 1
        handle = self._handles

        async def result() -> Any:
            if error is not None:
                raise error
            return value

        if done:
            self.done.add(handle)
        return ServerDurableFuture(self, handle, result)  # type: ignore[arg-type]

    def complete(self, *futures: ServerDurableFuture[Any]) -> None:
        self.done.update(future.handle for future in futures)

    # -- what the helpers call -------------------------------------------------------------------
    def sleep(self, delta: timedelta, name: str | None = None) -> ServerDurableFuture[Any]:
        self.sleeps.append(delta)
        return self.future()

    def promise(self, name: str, serde: Any = None) -> FakePromise:
        return FakePromise(name, self.future(f"promise {name}"))

    def awakeable(self, serde: Any = None) -> tuple[str, ServerDurableFuture[Any]]:
        future = self.future("awakened")
        return f"sign_{future.handle}", future

    def key(self) -> str:
        return "the-key"

    def request(self) -> SimpleNamespace:
        return SimpleNamespace(id="inv_1first", headers=self.headers)


def fake_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replace `restate.wait_completed` for `FakeContext` futures: the marked ones, in order."""

    async def wait_completed(
        *futures: ServerDurableFuture[Any],
    ) -> tuple[list[ServerDurableFuture[Any]], list[ServerDurableFuture[Any]]]:
        done: set[int] = futures[0].context.done  # type: ignore[attr-defined]
        completed = [f for f in futures if f.handle in done]
        assert completed, "the test completes no future: a real wait would block forever"
        return completed, [f for f in futures if f.handle not in done]

    monkeypatch.setattr(restate, "wait_completed", wait_completed)


@contextlib.contextmanager
def data_plane() -> Iterator[None]:
    """Run as a handler of a service tagged data plane, under the STRICT policy."""
    state = InvocationState("Work", "service", "handle", None, "data")
    token = _invocation._current.set(state)
    try:
        with rea.policy_override("strict"):
            yield
    finally:
        _invocation._current.reset(token)


def tiny_workflow(name: str, **options: Any) -> restate.Workflow:
    """A workflow with a run handler and one shared handler (`peek`), both doing nothing."""
    wf = restate.Workflow(name, **options)

    @wf.main()
    async def run(ctx: restate.WorkflowContext) -> None:
        return None

    @wf.handler()
    async def peek(ctx: restate.WorkflowSharedContext) -> None:
        return None

    return wf
