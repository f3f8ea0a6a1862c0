"""Side effects with ``ctx.run_typed``, and non-determinism that always-replay must detect."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import restate

from tests.integration.compat.apps.models import Quote

#: Executions per object key in this process: the non-deterministic handlers branch on it.
_TICKS: dict[str, int] = {}


def _tick(key: str) -> int:
    _TICKS[key] = _TICKS.get(key, 0) + 1
    return _TICKS[key]


def _square(number: int) -> int:
    return number * number


def _fail(message: str) -> str:
    raise restate.TerminalError(message, status_code=418)


def _flaky() -> str:
    raise ValueError("boom")


def build() -> list[restate.Service | restate.VirtualObject]:
    """The `CompatEffects` service and the `CompatNondet` object."""
    effects = restate.Service("CompatEffects")

    @effects.handler()
    async def squares(ctx: restate.Context, count: int) -> list[int]:
        return [await ctx.run_typed(f"square-{i}", _square, number=i) for i in range(count)]

    @effects.handler()
    async def record(ctx: restate.Context) -> dict[str, Any]:
        def make() -> dict[str, Any]:
            return {"city": "Zürich", "temps": [1.5, -0.25, 1e-07], "ok": True}

        return await ctx.run_typed("record", make)

    @effects.handler()
    async def model(ctx: restate.Context) -> Quote:
        def make() -> Quote:
            return Quote(item="ünïcode", total=2.5)

        return await ctx.run_typed("model", make)

    @effects.handler(name="terminalCaught")
    async def terminal_caught(ctx: restate.Context, message: str) -> str:
        try:
            return await ctx.run_typed("fail", _fail, message=message)
        except restate.TerminalError as exc:
            return f"caught {exc.status_code}: {exc.message}"

    @effects.handler(name="terminalRaised")
    async def terminal_raised(ctx: restate.Context, message: str) -> str:
        return await ctx.run_typed("fail", _fail, message=message)

    @effects.handler(name="retriesExhausted")
    async def retries_exhausted(ctx: restate.Context) -> str:
        options: restate.RunOptions[str] = restate.RunOptions(
            max_attempts=2, initial_retry_interval=timedelta(milliseconds=1)
        )
        try:
            return await ctx.run_typed("flaky", _flaky, options)
        except restate.TerminalError as exc:
            return f"gave up ({exc.status_code}): {exc.message}"

    nondet = restate.VirtualObject("CompatNondet")

    @nondet.handler(name="setDifferentKey")
    async def set_different_key(ctx: restate.ObjectContext) -> str:
        ctx.set("a" if _tick(ctx.key()) % 2 else "b", "my-state")
        await ctx.sleep(timedelta(milliseconds=1))
        return "done"

    @nondet.handler(name="changingPayload")
    async def changing_payload(ctx: restate.ObjectContext) -> str:
        ctx.set("tick", _tick(ctx.key()))
        await ctx.sleep(timedelta(milliseconds=1))
        return "done"

    @nondet.handler(name="eitherSleepOrRun")
    async def either_sleep_or_run(ctx: restate.ObjectContext) -> str:
        if _tick(ctx.key()) % 2:
            await ctx.sleep(timedelta(milliseconds=1))
        else:
            await ctx.run_typed("run", _square, number=2)
        await ctx.sleep(timedelta(milliseconds=1))
        return "done"

    return [effects, nondet]
